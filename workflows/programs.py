"""Reading program folders from disk and turning stored versions back into Definitions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

import engine
import forms
from engine.loading import FORM_FILE, PROGRAM_FILE, WORKFLOW_FILE
from engine.source import parse_yaml
from workflows import wizard

if TYPE_CHECKING:
    from workflows.models import DefinitionVersion

# Which files of a program folder belong to its definition (others, like README.md, do not).
DEFINITION_SUFFIXES = (".yaml", ".json", ".md")
# Test material lives beside the definition but is not part of a published version.
NOT_DEFINITION = ("scenarios/", "examples/")
CALENDARS_FOLDER = "calendars"


def read_folder(folder: Path, *, calendars: Path | None = None) -> dict[str, str]:
    """Every definition file under ``folder`` (relative name -> text), plus the calendar it names.

    The calendar is copied in from the shared ``calendars`` folder beside the programs, so that
    a holiday added later makes a new version instead of silently moving running deadlines.
    """
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and is_definition_file(name):
            files[name] = path.read_text(encoding="utf-8")
    return with_shared_calendar(files, calendars if calendars is not None else folder.parent / CALENDARS_FOLDER)


def is_definition_file(name: str) -> bool:
    """Is the file at ``name`` (relative to its program folder) part of a published version?"""
    base = name.rsplit("/", 1)[-1]
    return base.endswith(DEFINITION_SUFFIXES) and not base.startswith(".") and not name.startswith(NOT_DEFINITION)


def with_shared_calendar(files: dict[str, str], shared: Path, *, replace_own: bool = True) -> dict[str, str]:
    """``files`` with the calendar its workflow names copied in from the ``shared`` calendars folder.

    ``replace_own=False`` keeps a calendar the files already carry (an upload that brought its own).
    """
    calendar_id = _calendar_named(files)
    name = f"calendars/{calendar_id}.yaml"
    if calendar_id and (shared / f"{calendar_id}.yaml").is_file() and (replace_own or name not in files):
        files = {**files, name: (shared / f"{calendar_id}.yaml").read_text(encoding="utf-8")}
    return files


def declared_program(files: dict[str, str]) -> tuple[str | None, str | None]:
    """The ``id`` and ``agency`` program.yaml declares, when it can be read (the checker says why not)."""
    try:
        document = parse_yaml(PROGRAM_FILE, files.get(PROGRAM_FILE, ""))
    except engine.DefinitionError:
        return None, None
    data = document.data if isinstance(document.data, dict) else {}
    program_id, agency = data.get("id"), data.get("agency")
    return (program_id if isinstance(program_id, str) else None), (agency if isinstance(agency, str) else None)


def _calendar_named(files: dict[str, str]) -> str | None:
    try:
        document = parse_yaml(WORKFLOW_FILE, files.get(WORKFLOW_FILE, ""))
    except engine.DefinitionError:
        return None  # the checker reports the broken file
    calendar_id = document.data.get("calendar") if isinstance(document.data, dict) else None
    return calendar_id if isinstance(calendar_id, str) and calendar_id.replace("-", "").isalnum() else None


def program_folders(root: Path) -> list[Path]:
    """``root`` itself when it is a program folder, else each program folder inside it."""
    if (root / PROGRAM_FILE).exists():
        return [root]
    return sorted(path.parent for path in root.glob(f"*/{PROGRAM_FILE}"))


def check(files: dict[str, str], *, folder: str) -> tuple[engine.Definition | None, list[engine.Problem]]:
    """Every problem (errors and warnings) of a program, and its Definition when it has no errors."""
    definition, problems = engine.read(files, folder=folder)
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    if definition is not None:
        shipped: dict[str, Any] = {}
        for name, text in files.items():
            if name.startswith("forms/") and name.endswith(".json"):
                try:
                    shipped[name] = json.loads(text)
                except ValueError as error:
                    problems.append(engine.Problem(prefix + name, 1, 1, "json_syntax", str(error)))
        problems.extend(
            engine.Problem(
                prefix + (problem.document or FORM_FILE),
                1,
                1,
                problem.code,
                f"at {problem.pointer or '/'}: {problem.message}",
            )
            for problem in forms.check_schema(dict(definition.form_schema), shipped=shipped)
        )
        if not any(problem.severity == "error" for problem in problems):
            _, ui_problems = forms.load_program_ui(
                files, definition.form_schema, languages=definition.program.languages
            )
            problems.extend(replace(problem, path=prefix + problem.path) for problem in ui_problems)
    problems.extend(_file_format_problems(files, prefix, problems))
    has_errors = any(problem.severity == "error" for problem in problems)
    return (None if has_errors else definition), problems


# The published JSON Schemas of the file formats (docs/schemas/), which editors use too.
SCHEMAS_FOLDER = Path(__file__).resolve().parent.parent / "docs" / "schemas"
_FORMATS = (("program.yaml", "program"), ("workflow.yaml", "workflow"), ("tables/", "table"))
_FORMAT_VALIDATORS: dict[str, Any] = {}


def _format_validator(kind: str) -> Any:
    """jsonschema-rs directly: these messages are for designers, not citizens."""
    if kind not in _FORMAT_VALIDATORS:
        path = SCHEMAS_FOLDER / f"{kind}.schema.json"
        if not path.is_file():
            return None  # an installation without the docs folder: the loader's own checks still run
        _FORMAT_VALIDATORS[kind] = jsonschema_rs.validator_for(
            json.loads(path.read_text(encoding="utf-8")), validate_formats=True
        )
    return _FORMAT_VALIDATORS[kind]


def _file_format_problems(files: dict[str, str], prefix: str, already: list[engine.Problem]) -> list[engine.Problem]:
    """What the published file-format schemas find that the loader has not already said.

    The loader explains most mistakes in better words; the schemas add the rest (a value
    the loader would silently ignore, for instance). One problem per line is enough.
    """
    seen = {(problem.path, problem.line) for problem in already}
    found: list[engine.Problem] = []
    for name, text in sorted(files.items()):
        kind = next(
            (kind for start, kind in _FORMATS if name == start or (start.endswith("/") and name.startswith(start))),
            None,
        )
        validator = _format_validator(kind) if kind else None
        if validator is None:
            continue
        try:
            document = parse_yaml(prefix + name, text)
        except engine.DefinitionError:
            continue  # already reported by the loader
        for error in validator.iter_errors(document.data):
            pointer = tuple(error.instance_path)
            problem = document.problem(pointer, "file_format", error.message)
            if (problem.path, problem.line) not in seen:
                seen.add((problem.path, problem.line))
                found.append(problem)
    return found


@dataclass(frozen=True)
class Loaded:
    """A stored version made ready to run: its Definition and its compiled form with its pages."""

    definition: engine.Definition
    form: forms.FormValidator
    pages: wizard.Form


_CACHE: dict[str, Loaded] = {}
_CACHE_LIMIT = 256


def loaded(files: dict[str, str], content_hash: str) -> Loaded:
    """A stored version, loaded once per process and cached by its hash (versions never change)."""
    found = _CACHE.get(content_hash)
    if found is None:
        definition = engine.load(files)
        if definition.content_hash != content_hash:
            raise engine.WrongDefinition(state_hash=content_hash, definition_hash=definition.content_hash)
        form = site_form(definition, files)
        found = Loaded(definition, form.validator, form)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[content_hash] = found
    return found


def site_form(definition: engine.Definition, files: Mapping[str, str]) -> wizard.Form:
    """The program's form as the site uses it: its pages, computed fields and checks, and the
    validator of its schema (``DefinitionError`` when ``form.ui.yaml`` does not load)."""
    ui, problems = forms.load_program_ui(files, definition.form_schema, languages=definition.program.languages)
    if ui is None:
        raise engine.DefinitionError([problem for problem in problems if problem.severity == "error"])
    validator = forms.FormValidator(definition.form_schema, shipped=shipped_forms(files))
    return wizard.Form(definition.form_schema, ui, validator, definition.program.timezone)


def stored_definition(files: dict[str, str], content_hash: str) -> engine.Definition:
    """The Definition of a stored version."""
    return loaded(files, content_hash).definition


def ready(version: DefinitionVersion) -> Loaded:
    """``loaded`` for a version row; its files are read only when the version is not cached yet.

    Hot paths load versions with ``files`` deferred: the files are the whole program, and
    reading them on every transition would cost more than the transition itself.
    """
    found = _CACHE.get(version.content_hash)
    return found if found is not None else loaded(version.files, version.content_hash)


def definition_of(version: DefinitionVersion) -> engine.Definition:
    """The Definition of a version row (``ready``)."""
    return ready(version).definition


def shipped_forms(files: Mapping[str, str]) -> dict[str, Any]:
    """The program's own JSON Schemas under forms/, which its form may ``$ref``."""
    return {
        name: json.loads(text) for name, text in files.items() if name.startswith("forms/") and name.endswith(".json")
    }
