"""Reading program folders from disk and turning stored versions back into Definitions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import engine
import forms

# Which files of a program folder belong to its definition (others, like README.md, do not).
DEFINITION_SUFFIXES = (".yaml", ".json", ".md")


def read_folder(folder: Path) -> dict[str, str]:
    """Every definition file under ``folder``, as relative name -> text."""
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in DEFINITION_SUFFIXES and not path.name.startswith("."):
            files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return files


def program_folders(root: Path) -> list[Path]:
    """``root`` itself when it is a program folder, else each program folder inside it."""
    if (root / engine.definition.PROGRAM_FILE).exists():
        return [root]
    return sorted(path.parent for path in root.glob(f"*/{engine.definition.PROGRAM_FILE}"))


def check(files: dict[str, str], *, folder: str) -> tuple[engine.Definition | None, list[engine.Problem]]:
    """Load a program and check its form schema; every problem, or the Definition."""
    try:
        definition = engine.load(files, folder=folder)
    except engine.DefinitionError as error:
        return None, error.problems
    schema_path = f"{folder.rstrip('/')}/{engine.definition.FORM_FILE}"
    problems = [
        engine.Problem(schema_path, 1, 1, problem.code, f"at {problem.pointer or '/'}: {problem.message}")
        for problem in forms.check_schema(dict(definition.form_schema))
    ]
    return (None, problems) if problems else (definition, [])


@dataclass(frozen=True)
class Loaded:
    """A stored version made ready to run: its Definition and its compiled form."""

    definition: engine.Definition
    form: forms.FormValidator


_CACHE: dict[str, Loaded] = {}
_CACHE_LIMIT = 256


def loaded(files: dict[str, str], content_hash: str) -> Loaded:
    """A stored version, loaded once per process and cached by its hash (versions never change)."""
    found = _CACHE.get(content_hash)
    if found is None:
        definition = engine.load(files)
        if definition.content_hash != content_hash:
            raise engine.WrongDefinition(state_hash=content_hash, definition_hash=definition.content_hash)
        found = Loaded(definition, forms.FormValidator(definition.form_schema))
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[content_hash] = found
    return found


def stored_definition(files: dict[str, str], content_hash: str) -> engine.Definition:
    """The Definition of a stored version."""
    return loaded(files, content_hash).definition
