"""Every construct the shipped programs use is explained in the definition reference.

A designer learns the format from docs/ alone, so a key, a step kind, a function or a
placeholder that a shipped program uses and no reference page mentions is a gap in the docs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import DEFINITIONS

ROOT = DEFINITIONS.parent
REFERENCE = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs" / "reference").glob("*.md")))
PROGRAMS = sorted(folder for folder in DEFINITIONS.iterdir() if (folder / "program.yaml").is_file())
FUNCTION = re.compile(r"\b([a-z_]+)\(")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)[.\s}]")
# Names that hold data, not constructs: what follows them is the program's own vocabulary.
DATA_KEYS = frozenset(
    {
        "steps",
        "clocks",
        "escalations",
        "conditions",
        "events",
        "subworkflows",
        "compute",
        "set",
        "outcomes",
        "branches",
        "title",
        "summary",
        "purpose",
        "time needed",
        "what happens next",
        "contact",
        "other ways to apply",
        "extend clock",
        "options",
        "label",
        "hint",
        "message",
        "intro",
        "add label",
        "remove label",
        "item label",
        "placeholder",
        "computed",
    }
)


def keys(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every mapping key written, with the keys above it; below a data key only its entries' own keys."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not (path and path[-1] in DATA_KEYS):
                yield (*path, str(key))
            yield from keys(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from keys(item, path)


def used(name: str) -> list[tuple[str, str]]:
    """(program, construct) for every key of ``name`` (a YAML file of each program)."""
    found = []
    for folder in PROGRAMS:
        path = folder / name
        if path.is_file():
            for written in keys(yaml.safe_load(path.read_text(encoding="utf-8"))):
                found.append((folder.name, written[-1]))
    return sorted(set(found))


def documented(word: str) -> bool:
    return f"`{word}`" in REFERENCE or f"`{word}:" in REFERENCE or f"| `{word}" in REFERENCE


@pytest.mark.parametrize("name", ["program.yaml", "workflow.yaml", "form.ui.yaml"])
def test_every_key_the_programs_write_is_in_the_reference(name: str):
    missing = [(program, key) for program, key in used(name) if not documented(key)]
    assert missing == []


def test_every_step_kind_and_function_the_programs_use_is_in_the_reference():
    kinds, functions = set(), set()
    for folder in PROGRAMS:
        text = (folder / "workflow.yaml").read_text(encoding="utf-8")
        kinds.update(re.findall(r"kind:\s*([a-z ]+?)\s*[,}\n]", text))
        for file in [folder / "workflow.yaml", folder / "form.ui.yaml"]:
            if file.is_file():
                functions.update(FUNCTION.findall(file.read_text(encoding="utf-8")))
    assert kinds >= {"task", "decide", "end"}
    assert [kind for kind in sorted(kinds) if not documented(kind)] == []
    assert [function for function in sorted(functions) if f"`{function}(" not in REFERENCE] == []


def test_every_placeholder_the_programs_notices_use_is_in_the_reference():
    names = {
        found
        for folder in PROGRAMS
        for notice in (folder / "notices").glob("*.md")
        for found in PLACEHOLDER.findall(notice.read_text(encoding="utf-8"))
    }
    assert {"reference", "link"} <= names
    assert [name for name in sorted(names) if f"{{{{ {name}" not in REFERENCE] == []


def test_every_json_schema_keyword_the_forms_use_is_in_the_reference():
    keywords: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("properties", "$defs"):
                    keywords.add(key)
                walk(
                    value
                    if key not in ("properties", "$defs")
                    else list(value.values())
                    if isinstance(value, dict)
                    else value
                )
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for folder in PROGRAMS:
        for schema in [folder / "form.schema.json", *sorted((folder / "forms").glob("*.json"))]:
            walk(json.loads(schema.read_text(encoding="utf-8")))
    assert [keyword for keyword in sorted(keywords) if f"`{keyword}`" not in REFERENCE] == []
