"""The designer tutorial's program checks clean, passes its scenarios, and the page shows it as it is.

docs/designer/tutorial.md builds the "Block party permit" program step by step; its finished
files live in docs/designer/tutorial/block-party/ (not in definitions/, so the demo does not
ship it) and are included into the page with pymdownx.snippets. These tests read that folder
with the code behind `civicflow check` and `civicflow test-definitions`, so a change to the
engine that breaks the tutorial fails CI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import forms
from engine import diagram
from workflows import programs, scenarios

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "designer" / "tutorial.md"
FOLDER = ROOT / "docs" / "designer" / "tutorial" / "block-party"
SNIPPET = re.compile(r'^\s*--8<--\s+"([^"]+)"\s*$', re.MULTILINE)
MERMAID = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_the_folder_is_found_as_civicflow_check_finds_it():
    assert programs.program_folders(FOLDER.parent) == [FOLDER]


def test_the_program_has_no_problems():
    definition, problems = programs.check(programs.read_folder(FOLDER), folder=str(FOLDER))
    assert [str(problem) for problem in problems] == []
    assert definition is not None
    assert definition.program.id == "block-party"


def test_every_scenario_passes():
    outcomes = list(scenarios.run_all([FOLDER]))
    assert len(outcomes) >= 6
    failures = [f"{outcome.label}: {failure}" for outcome in outcomes for failure in outcome.failures]
    assert failures == []


def test_the_examples_are_valid_except_the_invalid_one():
    definition, _ = programs.check(programs.read_folder(FOLDER), folder=str(FOLDER))
    assert definition is not None
    for example in sorted((FOLDER / "examples").glob("*.json")):
        errors = forms.validate(definition.form_schema, json.loads(example.read_text(encoding="utf-8")))
        if example.name.startswith("invalid"):
            assert len(errors) >= 2, f"{example.name} should show several errors at once"
        else:
            assert errors == [], f"{example.name}: {errors}"


def test_every_included_file_exists():
    paths = SNIPPET.findall(PAGE.read_text(encoding="utf-8"))
    assert paths, "the tutorial includes its program's files with --8<--"
    missing = [path for path in paths if not (ROOT / path).is_file()]
    assert missing == []


def test_the_page_includes_every_file_of_the_program():
    included = set(SNIPPET.findall(PAGE.read_text(encoding="utf-8")))
    files = {path.relative_to(ROOT).as_posix() for path in FOLDER.rglob("*") if path.is_file()}
    assert files - included == set()


def test_the_diagram_on_the_page_is_the_one_civicflow_diagram_draws():
    definition, _ = programs.check(programs.read_folder(FOLDER), folder=str(FOLDER))
    assert definition is not None
    shown = MERMAID.findall(PAGE.read_text(encoding="utf-8"))
    assert shown == [diagram.mermaid(definition, language="en").rstrip("\n") + "\n"]
