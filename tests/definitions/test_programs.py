"""Every shipped program checks clean and passes its own scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import programs, scenarios

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
FOLDERS = programs.program_folders(DEFINITIONS)


def test_there_are_programs_to_check():
    assert [folder.name for folder in FOLDERS] != []


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_program_has_no_problems(folder: Path):
    _, problems = programs.check(programs.read_folder(folder), folder=str(folder))
    assert [str(problem) for problem in problems] == []


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_program_scenarios_pass(folder: Path):
    outcomes = list(scenarios.run_all([folder]))
    assert outcomes, f"{folder.name} has no scenarios/*.yaml"
    failures = [f"{outcome.label}: {failure}" for outcome in outcomes for failure in outcome.failures]
    assert failures == []


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_example_submissions_are_valid_except_the_invalid_ones(folder: Path):
    import json

    files = programs.read_folder(folder)
    definition, _ = programs.check(files, folder=str(folder))
    assert definition is not None
    form = programs.site_form(definition, files)
    for example in sorted((folder / "examples").glob("*.json")):
        # As the site accepts them today: hidden answers cleared, the schema's rules and the form's checks.
        errors = form.errors(form.clean(json.loads(example.read_text())), "en")
        if example.name.startswith("invalid"):
            assert len(errors) >= 2, f"{example.name} should show several errors at once"
        else:
            assert errors == [], f"{example.name}: {errors}"
