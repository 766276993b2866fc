"""Loading a program's definition files into a frozen, hashed ``Definition``.

The loader is handed text, never paths to open: the caller does the I/O. It
collects every problem it can find before raising, so an author fixes a file
in one pass instead of one error at a time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.problems import DefinitionError, Problem
from engine.source import Document, Pointer, parse_json, parse_yaml

PROGRAM_FILE = "program.yaml"
FORM_FILE = "form.schema.json"
WORKFLOW_FILE = "workflow.yaml"
REQUIRED_FILES = (PROGRAM_FILE, FORM_FILE, WORKFLOW_FILE)

HUMAN_STEP_KINDS = frozenset({"task", "approval"})
STEP_KINDS = HUMAN_STEP_KINDS | {"end"}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PROGRAM_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_PREFIX = re.compile(r"^[A-Z]{1,6}$")

Text = Mapping[str, str]
"""Text in several languages: language code (``en``, ``zh-Hans``) -> words."""


@dataclass(frozen=True)
class Program:
    """What ``program.yaml`` says about the program."""

    id: str
    title: Text
    summary: Text
    agency: str
    reference_prefix: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One step of a workflow.

    Human steps (``task``, ``approval``) wait for someone in ``role`` to choose one
    of ``outcomes``, each naming the next step. ``end`` steps close the case with
    ``outcome``.
    """

    name: str
    kind: str
    title: Text
    role: str | None = None
    outcomes: Mapping[str, str] = MappingProxyType({})
    outcome: str | None = None

    @property
    def is_human(self) -> bool:
        return self.kind in HUMAN_STEP_KINDS


@dataclass(frozen=True)
class Definition:
    """A program's definition, frozen and identified by the hash of its files."""

    program: Program
    form_schema: Mapping[str, Any]
    start: str
    steps: Mapping[str, Step]
    content_hash: str


def content_hash(files: Mapping[str, str]) -> str:
    """SHA-256 over every file's name and text, in name order: the version's identity."""
    digest = hashlib.sha256()
    for name in sorted(files):
        encoded_name = name.encode("utf-8")
        encoded_text = files[name].encode("utf-8")
        digest.update(len(encoded_name).to_bytes(8, "big") + encoded_name)
        digest.update(len(encoded_text).to_bytes(8, "big") + encoded_text)
    return digest.hexdigest()


def load(files: Mapping[str, str], *, folder: str = "") -> Definition:
    """Build a ``Definition`` from a program's files (name -> text).

    ``folder`` prefixes file names in problem locations. Raises ``DefinitionError``
    carrying every problem found.
    """
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    problems: list[Problem] = []
    for name in REQUIRED_FILES:
        if name not in files:
            problems.append(Problem(prefix + name, 0, 0, "missing_file", f"the program has no {name}"))
    if problems:
        raise DefinitionError(problems)

    documents: dict[str, Document] = {}
    for name, parse in ((PROGRAM_FILE, parse_yaml), (WORKFLOW_FILE, parse_yaml), (FORM_FILE, parse_json)):
        try:
            documents[name] = parse(prefix + name, files[name])
        except DefinitionError as error:
            problems.extend(error.problems)
    if problems:
        raise DefinitionError(problems)

    program = _read_program(documents[PROGRAM_FILE], problems)
    form_schema = documents[FORM_FILE].data
    if not isinstance(form_schema, dict):
        problems.append(documents[FORM_FILE].problem((), "invalid_type", "the form schema must be a JSON object"))
    start, steps = _read_workflow(documents[WORKFLOW_FILE], program, problems)
    if problems or program is None or not isinstance(form_schema, dict):
        raise DefinitionError(problems)
    return Definition(
        program=program,
        form_schema=form_schema,
        start=start,
        steps=MappingProxyType(steps),
        content_hash=content_hash(files),
    )


def _read_program(document: Document, problems: list[Problem]) -> Program | None:
    data = document.data
    if not isinstance(data, dict):
        problems.append(document.problem((), "invalid_type", "program.yaml must be a mapping of keys to values"))
        return None
    _refuse_unknown_keys(
        document, (), data, {"id", "title", "summary", "agency", "reference prefix", "roles"}, problems
    )
    program_id = _required_text(document, data, ("id",), problems)
    if program_id is not None and not _PROGRAM_ID.match(program_id):
        problems.append(
            document.problem(
                ("id",), "invalid_id", "id must be lower-case letters, digits and dashes, starting with a letter"
            )
        )
    title = _text_in_languages(document, data, ("title",), problems, required=True)
    summary = _text_in_languages(document, data, ("summary",), problems, required=False)
    agency = _required_text(document, data, ("agency",), problems)
    prefix = _required_text(document, data, ("reference prefix",), problems)
    if prefix is not None and not _PREFIX.match(prefix):
        problems.append(
            document.problem(("reference prefix",), "invalid_prefix", "reference prefix must be 1-6 capital letters")
        )
    roles_value = data.get("roles")
    roles: list[str] = []
    if not isinstance(roles_value, list) or not roles_value:
        problems.append(document.problem(("roles",), "missing_key", "roles must list at least one role name"))
    else:
        for index, role in enumerate(roles_value):
            if not isinstance(role, str) or not _NAME.match(role):
                problems.append(
                    document.problem(
                        ("roles", index),
                        "invalid_name",
                        f"role {role!r} must be a snake_case name like eligibility_worker",
                    )
                )
            elif role in roles:
                problems.append(document.problem(("roles", index), "duplicate_role", f"role {role!r} is listed twice"))
            else:
                roles.append(role)
    if program_id is None or title is None or agency is None or prefix is None:
        return None
    return Program(
        id=program_id,
        title=title,
        summary=summary or MappingProxyType({}),
        agency=agency,
        reference_prefix=prefix,
        roles=tuple(roles),
    )


def _read_workflow(document: Document, program: Program | None, problems: list[Problem]) -> tuple[str, dict[str, Step]]:
    data = document.data
    if not isinstance(data, dict):
        problems.append(document.problem((), "invalid_type", "workflow.yaml must be a mapping of keys to values"))
        return "", {}
    _refuse_unknown_keys(document, (), data, {"start", "steps"}, problems)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        problems.append(document.problem(("steps",), "missing_key", "steps must name at least one step"))
        raw_steps = {}
    steps: dict[str, Step] = {}
    for name, raw in raw_steps.items():
        step = _read_step(document, name, raw, program, problems)
        if step is not None:
            steps[name] = step

    start = data.get("start")
    if not isinstance(start, str):
        problems.append(document.problem(("start",), "missing_key", "start must name the first step"))
        start = ""
    elif raw_steps and start not in raw_steps:
        problems.append(document.problem(("start",), "unknown_step", f"start names {start!r}, which is not a step"))

    for name, step in steps.items():
        for outcome, target in step.outcomes.items():
            if target not in raw_steps:
                problems.append(
                    document.problem(
                        ("steps", name, "outcomes", outcome),
                        "unknown_step",
                        f"outcome {outcome!r} goes to {target!r}, which is not a step",
                    )
                )
    if start in steps:
        for name in sorted(set(steps) - _reachable(start, steps)):
            problems.append(
                document.problem(("steps", name), "unreachable_step", f"step {name!r} cannot be reached from {start!r}")
            )
    if steps and not any(step.kind == "end" for step in steps.values()):
        problems.append(document.problem(("steps",), "no_end", "the workflow has no end step"))
    return start, steps


def _read_step(
    document: Document, name: str, raw: object, program: Program | None, problems: list[Problem]
) -> Step | None:
    where: Pointer = ("steps", name)
    if not _NAME.match(name):
        problems.append(document.problem(where, "invalid_name", f"step {name!r} must be a snake_case name"))
    if not isinstance(raw, dict):
        problems.append(document.problem(where, "invalid_type", f"step {name!r} must be a mapping of keys to values"))
        return None
    kind = raw.get("kind")
    if kind not in STEP_KINDS:
        problems.append(
            document.problem(
                (*where, "kind"), "unknown_kind", f"kind {kind!r} is not one of: {', '.join(sorted(STEP_KINDS))}"
            )
        )
        return None
    title = _text_in_languages(document, raw, (*where, "title"), problems, required=kind != "end")
    if kind == "end":
        _refuse_unknown_keys(document, where, raw, {"kind", "title", "outcome"}, problems)
        outcome = raw.get("outcome")
        if not isinstance(outcome, str) or not _NAME.match(outcome):
            problems.append(
                document.problem((*where, "outcome"), "missing_key", "an end step names its outcome, e.g. approved")
            )
            return None
        return Step(name=name, kind=kind, title=title or MappingProxyType({}), outcome=outcome)

    _refuse_unknown_keys(document, where, raw, {"kind", "title", "role", "outcomes"}, problems)
    role = raw.get("role")
    if not isinstance(role, str):
        problems.append(document.problem((*where, "role"), "missing_key", f"step {name!r} needs a role"))
    elif program is not None and role not in program.roles:
        problems.append(
            document.problem((*where, "role"), "unknown_role", f"role {role!r} is not declared in program.yaml roles")
        )
    raw_outcomes = raw.get("outcomes")
    outcomes: dict[str, str] = {}
    if not isinstance(raw_outcomes, dict) or not raw_outcomes:
        problems.append(
            document.problem(
                (*where, "outcomes"), "missing_key", f"step {name!r} needs outcomes, e.g. approve: next_step"
            )
        )
    else:
        for outcome, target in raw_outcomes.items():
            if not _NAME.match(outcome):
                problems.append(
                    document.problem(
                        (*where, "outcomes", outcome), "invalid_name", f"outcome {outcome!r} must be a snake_case name"
                    )
                )
            elif not isinstance(target, str):
                problems.append(
                    document.problem(
                        (*where, "outcomes", outcome), "invalid_type", f"outcome {outcome!r} must name the next step"
                    )
                )
            else:
                outcomes[outcome] = target
    if title is None or not isinstance(role, str):
        return None
    return Step(name=name, kind=kind, title=title, role=role, outcomes=MappingProxyType(outcomes))


def _reachable(start: str, steps: Mapping[str, Step]) -> set[str]:
    seen = {start}
    frontier = [start]
    while frontier:
        step = steps.get(frontier.pop())
        if step is None:
            continue
        for target in step.outcomes.values():
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def _refuse_unknown_keys(
    document: Document, where: Pointer, data: Mapping[str, Any], known: set[str], problems: list[Problem]
) -> None:
    for key in data:
        if key not in known:
            problems.append(
                document.problem(
                    (*where, key), "unknown_key", f"unknown key {key!r}; expected one of: {', '.join(sorted(known))}"
                )
            )


def _required_text(
    document: Document, data: Mapping[str, Any], pointer: Pointer, problems: list[Problem]
) -> str | None:
    value = data.get(str(pointer[-1]))
    if not isinstance(value, str) or not value.strip():
        problems.append(document.problem(pointer, "missing_key", f"{pointer[-1]} must be given as text"))
        return None
    return value


def _text_in_languages(
    document: Document, data: Mapping[str, Any], pointer: Pointer, problems: list[Problem], *, required: bool
) -> Text | None:
    value = data.get(str(pointer[-1]))
    if value is None:
        if required:
            problems.append(
                document.problem(pointer, "missing_key", f"{pointer[-1]} must be given, e.g. {{en: ..., zh-Hans: ...}}")
            )
        return None
    if not isinstance(value, dict) or not value:
        problems.append(
            document.problem(
                pointer, "invalid_text", f"{pointer[-1]} must map language codes to text, e.g. {{en: ...}}"
            )
        )
        return None
    text: dict[str, str] = {}
    for language, words in value.items():
        if not _LANGUAGE.match(language):
            problems.append(
                document.problem((*pointer, language), "invalid_language", f"{language!r} is not a language code")
            )
        elif not isinstance(words, str) or not words.strip():
            problems.append(
                document.problem((*pointer, language), "invalid_text", f"{language} text must not be empty")
            )
        else:
            text[language] = words
    if "en" not in text:
        problems.append(document.problem(pointer, "missing_translation", f"{pointer[-1]} needs English text (en)"))
    return MappingProxyType(text)


def localized(text: Text, language: str) -> str:
    """The text in ``language`` (matching ``zh-hans`` to ``zh-Hans``), else English."""
    wanted = language.lower()
    for code, words in text.items():
        if code.lower() == wanted:
            return words
    base = wanted.split("-")[0]
    for code, words in text.items():
        if code.lower().split("-")[0] == base:
            return words
    return text.get("en", next(iter(text.values()), ""))
