"""The designer's command-line tools, run as a designer runs them."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command

from tests.conftest import DEFINITIONS
from workflows import programs, services
from workflows.models import Program

LIBRARY_CARD = DEFINITIONS / "library-card"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "library-card"
    shutil.copytree(LIBRARY_CARD, folder)
    workflow = folder / "workflow.yaml"
    workflow.write_text(workflow.read_text().replace("approve: issued", "approve: isued"))
    return folder


def test_check_reports_every_problem_with_its_place_and_fails(tmp_path):
    folder = broken_copy(tmp_path)
    with pytest.raises(CommandError, match=r"1 program\(s\) checked, 2 error\(s\)") as caught:
        run("check", "--definitions-only", str(folder))
    assert caught.value.returncode == 1


def test_check_lists_the_problems(tmp_path, capsys):
    folder = broken_copy(tmp_path)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check", "--definitions-only", str(folder), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert f"{folder}/workflow.yaml:9:16: unknown_step: outcome 'approve' goes to 'isued', which is not a step" in lines
    assert f"{folder}/workflow.yaml:14:5: unreachable_step: step 'issued' cannot be reached from 'review'" in lines


@pytest.mark.django_db
def test_check_passes_on_the_shipped_programs_and_runs_the_system_checks_too():
    out, err = run("check")
    assert "System check identified no issues" in out
    shipped = sum(1 for folder in DEFINITIONS.iterdir() if (folder / "program.yaml").is_file())
    assert shipped >= 4, "the library card and the three pilot programs"
    assert f"definitions: {shipped} program(s) checked, 0 error(s), 0 warning(s)" in out
    assert err == ""


def test_test_definitions_runs_every_scenario():
    out, _ = run("test-definitions", "library-card")
    assert "PASSED" in out
    assert out.strip().splitlines()[-1].startswith("7 passed, 0 failed in ")


def test_test_definitions_shows_a_failing_scenario_with_its_line(tmp_path):
    folder = tmp_path / "library-card"
    shutil.copytree(LIBRARY_CARD, folder)
    scenario = folder / "scenarios" / "approve.yaml"
    scenario.write_text(scenario.read_text().replace("outcome: approved", "outcome: denied"))
    out = StringIO()
    with pytest.raises(CommandError, match=r"6 passed, 1 failed"):
        call_command("test-definitions", str(folder), stdout=out)
    assert f"{scenario}:8: expected outcome 'denied', got 'approved'" in out.getvalue()


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        # The problem is there, but at another answer than the one the scenario names.
        (("/children/1/date_of_birth", "/children/0/date_of_birth"), "expected refused at /children/0/date_of_birth"),
        # Answers that keep every rule are accepted, which the scenario says must not happen.
        (('date_of_birth: "2026-03-03"', 'date_of_birth: "1990-03-03"'), None),
    ],
)
def test_a_scenario_that_expects_a_refusal_fails_when_the_refusal_differs(tmp_path, change, failure):
    folder = tmp_path / "library-card"
    shutil.copytree(LIBRARY_CARD, folder)
    scenario = folder / "scenarios" / "refused-dates.yaml"
    text = scenario.read_text()
    if failure is None:  # no problem at all: keep only the date of birth's expectation and fix the dates
        text = text.replace('    - {name: Mia Lima, date_of_birth: "2013-03-02"}   # 13 on 2 March 2026\n', "")
        text = text.replace("    - {at: /children/1/date_of_birth, code: failed_check}\n", "")
        failure = "expected the submission to be refused, but it was accepted"
    scenario.write_text(text.replace(*change))
    out = StringIO()
    with pytest.raises(CommandError, match=r"6 passed, 1 failed"):
        call_command("test-definitions", str(folder), stdout=out)
    assert failure in out.getvalue()


def test_simulate_prints_the_trace(tmp_path):
    actions = tmp_path / "actions.yaml"
    actions.write_text("- lena completes review: approve\n")
    out, _ = run(
        "simulate",
        "library-card",
        "--submission",
        str(LIBRARY_CARD / "examples" / "valid.json"),
        "--actions",
        str(actions),
        "--actors",
        "lena=librarian",
    )
    assert "task opened: review for librarian" in out
    assert "task done: review -> approve by lena" in out
    assert out.strip().splitlines()[-1] == "outcome: approved"


def test_simulate_as_json_and_with_an_invalid_submission():
    out, _ = run("simulate", "library-card", "--submission", str(LIBRARY_CARD / "examples" / "valid.json"), "--json")
    result = json.loads(out)
    assert result["state"]["status"] == "running"
    with pytest.raises(CommandError, match=r"problem\(s\): the simulation did not go as asked"):
        run("simulate", "library-card", "--submission", str(LIBRARY_CARD / "examples" / "invalid.json"))


def test_simulate_applies_the_forms_checks_on_the_day_it_is_told(tmp_path):
    answers = json.loads((LIBRARY_CARD / "examples" / "valid.json").read_text())
    born_later = tmp_path / "born-later.json"
    born_later.write_text(json.dumps({**answers, "date_of_birth": "2026-03-10"}))
    stdout = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "simulate", str(LIBRARY_CARD), "--submission", str(born_later), "--at", "2026-03-02T10:00", stdout=stdout
        )
    assert "/date_of_birth: Date of birth must be today or in the past" in stdout.getvalue()
    # The same answers a month later are accepted.
    out, _ = run("simulate", "library-card", "--submission", str(born_later), "--at", "2026-04-02T10:00")
    assert "still running, waiting at: review" in out


def test_diagram_draws_the_workflow():
    out, _ = run("diagram", "library-card")
    assert out.startswith("flowchart TD")
    assert '-->|"approve"|' in out
    out, _ = run("diagram", "library-card", "--format", "dot", "--language", "zh-Hans")
    assert "审核申请" in out


def test_diagram_as_svg():
    out, _ = run("diagram", "library-card", "--format", "svg")
    assert "<svg" in out


@pytest.mark.django_db
def test_diff_lists_changes_and_the_running_cases_they_affect(tmp_path):
    services.definition_publish(files=programs.read_folder(LIBRARY_CARD), folder=str(LIBRARY_CARD))
    program = Program.objects.get(slug="library-card")
    case = services.case_submit(
        program=program, data=json.loads((LIBRARY_CARD / "examples" / "valid.json").read_text()), user=AnonymousUser()
    )
    folder = tmp_path / "library-card"
    shutil.copytree(LIBRARY_CARD, folder)
    workflow = folder / "workflow.yaml"
    workflow.write_text(workflow.read_text().replace("Review the application", "Check the application"))
    out, _ = run("diff", "library-card", "current", str(folder))
    assert "~ step 'review': title 'Review the application' -> 'Check the application'" in out
    assert f"{case.reference}: token 1 waits at 'review', which changed" in out


def test_check_also_applies_the_published_file_format_schemas(tmp_path):
    folder = tmp_path / "library-card"
    shutil.copytree(LIBRARY_CARD, folder)
    workflow = folder / "workflow.yaml"
    # The loader has no opinion on a misspelt key inside a panel; the file-format schema does.
    workflow.write_text(
        workflow.read_text().replace("    role: librarian\n", "    role: librarian\n    panel: {size: 2, quorom: 1}\n")
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check", "--definitions-only", str(folder), stdout=StringIO(), stderr=err)
    format_problems = [line for line in err.getvalue().splitlines() if ": file_format: " in line]
    assert len(format_problems) == 1
    assert format_problems[0].startswith(f"{folder}/workflow.yaml:8:12: file_format: Additional properties")
    assert "quorom" in format_problems[0]
