"""What the designer's tools share, on the command line and in the API: checking a program's
files with the one checker (``programs.check``) and comparing a definition with a published one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

import engine
from engine import diff as definition_diff
from workflows import programs
from workflows.models import Case, DefinitionVersion, Program


@dataclass(frozen=True)
class Comparison:
    """What changes from ``old`` to ``new``, and which running cases on ``old`` it touches."""

    changes: definition_diff.DefinitionDiff
    running: tuple[Case, ...]
    affected: tuple[tuple[Case, str], ...]


def compare(slug: str, old: engine.Definition, new: engine.Definition) -> Comparison:
    """``civicflow diff``'s answer: the changes, and the running cases on ``old`` they affect (with why)."""
    changes = definition_diff.diff(old, new)
    running = tuple(
        Case.objects.filter(program__slug=slug, status=Case.Status.RUNNING, version__content_hash=old.content_hash)
        .only("reference", "state")
        .order_by("pk")
    )
    affected = definition_diff.affected(changes, [engine.CaseState.from_json(case.state) for case in running])
    return Comparison(changes, running, tuple((running[index], reason) for index, reason in affected))


@dataclass(frozen=True)
class CheckReport:
    """The checker's verdict on a set of files, and how they differ from the program's current version."""

    files: dict[str, str]
    """The files as checked: the upload, with the shared calendar it names filled in."""
    program: str | None
    agency: str | None
    definition: engine.Definition | None
    problems: list[engine.Problem]
    current: DefinitionVersion | None
    comparison: Comparison | None

    @property
    def ok(self) -> bool:
        return self.definition is not None


def check_files(files: dict[str, str]) -> CheckReport:
    """Check a program's files (paths relative to its folder) exactly as ``civicflow check`` does.

    A workflow naming a shared calendar the files do not carry gets it from the shared
    ``calendars`` folder beside the programs, as when the folder is read from disk.
    """
    files = programs.with_shared_calendar(
        files, Path(settings.CIVICFLOW_DEFINITIONS) / programs.CALENDARS_FOLDER, replace_own=False
    )
    definition, problems = programs.check(files, folder="")
    program_id, agency = programs.declared_program(files)
    current: DefinitionVersion | None = None
    if program_id is not None:
        found = Program.objects.filter(slug=program_id).select_related("current_version").first()
        current = found.current_version if found is not None else None
    comparison = None
    if definition is not None and current is not None:
        comparison = compare(definition.program.id, programs.definition_of(current), definition)
    return CheckReport(files, program_id, agency, definition, problems, current, comparison)
