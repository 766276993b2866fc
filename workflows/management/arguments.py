"""What the designer commands share: turning their arguments into program folders and definitions."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, OutputWrapper

import engine
from engine.loading import PROGRAM_FILE
from workflows import programs


def folders_under(roots: list[Path]) -> list[Path]:
    """Every program folder in or under ``roots`` (default: definitions/); a clear error otherwise."""
    folders: list[Path] = []
    for root in roots or [Path(settings.CIVICFLOW_DEFINITIONS)]:
        if not root.is_dir():
            raise CommandError(f"{root}: not a folder")
        found = programs.program_folders(root)
        if not found:
            raise CommandError(f"{root}: no program.yaml here or in any folder inside")
        folders.extend(found)
    return folders


def folders_named(names: list[str]) -> list[Path]:
    """Program folders for ids (looked up in definitions/) or paths; every program when none are named."""
    root = Path(settings.CIVICFLOW_DEFINITIONS)
    if not names:
        return programs.program_folders(root)
    found = []
    for name in names:
        path = Path(name) if Path(name).is_dir() else root / name
        if not (path / PROGRAM_FILE).is_file():
            raise CommandError(f"{name}: no such program (looked for {path}/{PROGRAM_FILE})")
        found.append(path)
    return found


def checked_definition(name: str, stderr: OutputWrapper) -> engine.Definition:
    """The program's Definition from disk; its problems on ``stderr`` and a CommandError if it has errors."""
    (folder,) = folders_named([name])
    definition, problems = programs.check(programs.read_folder(folder), folder=str(folder))
    if definition is None:
        for problem in problems:
            stderr.write(str(problem))
        raise CommandError("the program has errors; fix them first (civicflow check)")
    return definition
