"""civicflow migrate-cases: running cases moved to a newer version on purpose, rehearsed and audited (T14)."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from tests.conftest import DEFINITIONS, make_user
from workflows import audit, programs, services
from workflows.models import Case, CaseEvent, DefinitionVersion, Program, Task

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
MAP = "# The review step is now called first_review.\nsteps:\n  review: first_review\n"
COOLING_OFF = """start: cooling_off

steps:
  cooling_off:
    kind: wait
    title: {en: Cooling-off day, zh-Hans: 冷静期}
    any of:
      - {event: skip_wait, to: review}
      - {after: 1 day, to: review}
"""


def rename_review(text: str) -> str:
    """Every reference to the step ``review`` (not to ``Review the application``) becomes ``first_review``."""
    return re.sub(r"(?<![\w.])review(?!\w)", "first_review", text)


def publish_copy(tmp_path: Path, name: str, changes: dict[str, Callable[[str], str]]) -> DefinitionVersion:
    """Publish a copy of the shipped library card with some of its files changed; returns the new version."""
    folder = tmp_path / name / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    for file, change in changes.items():
        path = folder / file
        path.write_text(change(path.read_text()))
    return services.definition_publish(files=programs.read_folder(folder), folder=str(folder)).version


def submit(program: Program) -> Case:
    return services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())


def decide(case: Case, user: User, outcome: str = "approve") -> None:
    task = Task.objects.get(case=case, status="open")
    services.task_claim(task_id=task.pk, user=user)
    services.task_complete(task_id=task.pk, user=user, outcome=outcome)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("migrate-cases", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> tuple[str, str, str]:
    """Run the command expecting it to fail (exit status 1); its error, output and error output."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("migrate-cases", *args, stdout=out, stderr=err)
    return str(raised.value), out.getvalue(), err.getvalue()


def snapshot() -> dict[str, Any]:
    """Everything a migration could change."""
    return {
        "cases": list(Case.objects.order_by("pk").values_list("pk", "version_id", "state", "status")),
        "tasks": list(Task.objects.order_by("pk").values_list("pk", "step", "status", "role")),
        "events": CaseEvent.objects.count(),
    }


@pytest.fixture
def map_file(tmp_path: Path) -> Path:
    path = tmp_path / "rename-review.yaml"
    path.write_text(MAP)
    return path


@pytest.fixture
def renamed(library_card, tmp_path) -> tuple[DefinitionVersion, DefinitionVersion]:
    """The shipped library card (v1) and a v2 whose review step is called first_review."""
    v1 = library_card.current_version
    v2 = publish_copy(tmp_path, "v2", {"workflow.yaml": rename_review})
    return v1, v2


def test_a_dry_run_reports_every_case_and_changes_nothing_then_the_real_run_moves_them(
    library_card, renamed, map_file, librarian
):
    v1, v2 = renamed
    # Cases started before v2 was published run on v1: two at the review, one already decided.
    library_card.current_version = v1
    library_card.save()
    waiting = [submit(library_card), submit(library_card)]
    closed = submit(library_card)
    decide(closed, librarian, "deny")
    library_card.current_version = v2
    library_card.save()
    before = snapshot()
    closed_state = Case.objects.get(pk=closed.pk).state

    out, err = run(
        "library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash, "--map", str(map_file), "--dry-run"
    )

    assert snapshot() == before
    assert err == ""
    assert f"library-card: 2 running case(s) on {v1.content_hash[:12]}" in out
    for case in waiting:
        assert f"  {case.reference}: OK" in out
    assert closed.reference not in out
    assert "rehearsal: 2 can move, 0 cannot" in out
    assert "dry run: nothing was changed" in out

    out, _ = run(
        "library-card",
        "--from",
        v1.content_hash[:10],
        "--to",
        v2.content_hash[:8],
        "--map",
        str(map_file),
        "--by",
        "maria.ops",
    )

    assert f"library-card: moved 2 of 2 case(s) {v1.content_hash[:12]} -> {v2.content_hash[:12]}" in out
    for case in waiting:
        case.refresh_from_db()
        assert case.version == v2
        assert case.state["definition_hash"] == v2.content_hash
        task = Task.objects.get(case=case, status="open")
        assert task.step == "first_review"
        (event,) = CaseEvent.objects.filter(case=case, kind="migrated")
        assert event.detail == {
            "from": v1.content_hash,
            "to": v2.content_hash,
            "steps": {"review": "first_review"},
            "by": "maria.ops",
        }
    # A closed case is history: it stays on the version it ran on, untouched.
    closed.refresh_from_db()
    assert (closed.version, closed.state) == (v1, closed_state)
    assert not CaseEvent.objects.filter(case=closed, kind="migrated").exists()

    # A moved case is decided on v2, under the new step's name.
    decide(waiting[0], librarian, "approve")
    waiting[0].refresh_from_db()
    assert (waiting[0].status, waiting[0].outcome) == ("closed", "approved")
    completed = CaseEvent.objects.get(case=waiting[0], kind="task_completed")
    assert completed.detail["step"] == "first_review"

    orphans = StringIO()
    call_command("audit", "orphans", stdout=orphans)
    assert "every running case waits on something that is there" in orphans.getvalue()
    assert audit.verify().intact

    # Nothing is left on v1 to move: running again moves nothing and says so.
    out, _ = run("library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash[:8], "--map", str(map_file))
    assert "library-card: 0 running case(s)" in out


def test_without_the_map_every_case_is_refused_and_nothing_moves(library_card, renamed):
    v1, v2 = renamed
    library_card.current_version = v1
    library_card.save()
    case = submit(library_card)
    before = snapshot()

    error, out, _ = refused("library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash[:8], "--dry-run")
    assert error == "dry run: 1 case(s) cannot move; nothing was changed"
    assert f"  {case.reference}: cannot move" in out
    assert "    step_missing: token 1 is at 'review'; the new version has no step 'review'" in out

    error, _, _ = refused("library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash[:8])
    assert "1 case(s) cannot move, so none was moved" in error
    assert "--skip-problem-cases" in error
    assert snapshot() == before


def test_skip_problem_cases_moves_the_others_and_leaves_the_refused_ones_where_they_are(
    library_card, tmp_path, map_file
):
    """v1 starts with a one-day wait; v2 has no wait and calls the review first_review."""
    v1 = publish_copy(
        tmp_path, "v1", {"workflow.yaml": lambda text: COOLING_OFF + text.replace("start: review\n\nsteps:\n", "")}
    )
    program = Program.objects.get(slug="library-card")
    at_review = submit(program)
    services.timers_run_due(now=timezone.now() + timedelta(days=2))  # past its wait: at the review
    in_wait = submit(program)
    v2 = publish_copy(tmp_path, "v2", {"workflow.yaml": rename_review})

    error, out, _ = refused(
        "library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash[:8], "--map", str(map_file)
    )
    assert "1 case(s) cannot move, so none was moved" in error
    assert f"  {in_wait.reference}: cannot move" in out
    assert "step_missing: token 1 is at 'cooling_off'" in out
    assert Case.objects.filter(version=v2).count() == 0

    out, _ = run(
        "library-card",
        "--from",
        v1.content_hash[:8],
        "--to",
        v2.content_hash[:8],
        "--map",
        str(map_file),
        "--skip-problem-cases",
    )

    assert "moved 1 of 2 case(s)" in out
    assert "1 skipped" in out
    at_review.refresh_from_db()
    in_wait.refresh_from_db()
    assert (at_review.version, in_wait.version) == (v2, v1)
    assert Task.objects.get(case=at_review, status="open").step == "first_review"
    assert not CaseEvent.objects.filter(case=in_wait, kind="migrated").exists()


def test_answers_the_new_form_would_refuse_are_a_warning_and_the_case_still_moves(library_card, tmp_path, map_file):
    v1 = library_card.current_version
    case = submit(library_card)
    v2 = publish_copy(
        tmp_path,
        "v2",
        {
            "workflow.yaml": rename_review,
            "form.schema.json": lambda text: text.replace('"maxLength": 200', '"maxLength": 3', 1),
        },
    )

    out, _ = run(
        "library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash[:8], "--map", str(map_file), "--dry-run"
    )
    warning = "warning: answers_invalid: the answer at /full_name would not be accepted by the new version's form"
    assert f"  {case.reference}: OK\n    {warning}" in out

    run("library-card", "--from", v1.content_hash[:8], "--to", v2.content_hash[:8], "--map", str(map_file))
    case.refresh_from_db()
    assert case.version == v2
    event = CaseEvent.objects.get(case=case, kind="migrated")
    assert any(text.startswith(warning) for text in event.detail["warnings"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-such-program", "--from", "{v1}", "--to", "{v2}"], "no-such-program: no such program has been published"),
        (["library-card", "--from", "abc", "--to", "{v2}"], "--from 'abc': give at least 8 hexadecimal characters"),
        (["library-card", "--from", "not-a-hash-at-all", "--to", "{v2}"], "give at least 8 hexadecimal characters"),
        (
            ["library-card", "--from", "00000000", "--to", "{v2}"],
            "--from 00000000: library-card has no published version",
        ),
        (["library-card", "--from", "{v1}", "--to", "{v1}"], "--from and --to are the same version"),
        (["library-card", "--from", "{v1}", "--to", "{v2}", "--map", "{missing}"], "no-map.yaml: no such file"),
        (["library-card", "--from", "{v1}", "--to", "{v2}", "--map", "{unknown}"], "the step map does not fit"),
        (["library-card", "--from", "{v1}", "--to", "{v2}", "--map", "{broken}"], "the step map has problems"),
    ],
)
def test_a_bad_hash_or_map_is_a_clear_error_and_changes_nothing(library_card, renamed, tmp_path, args, says):
    v1, v2 = renamed
    library_card.current_version = v1
    library_card.save()
    submit(library_card)
    (tmp_path / "unknown.yaml").write_text("steps:\n  reveiw: first_review\n")
    (tmp_path / "broken.yaml").write_text("steps:\n  review: &name first_review\n")
    names = {
        "{v1}": v1.content_hash[:8],
        "{v2}": v2.content_hash[:8],
        "{missing}": str(tmp_path / "no-map.yaml"),
        "{unknown}": str(tmp_path / "unknown.yaml"),
        "{broken}": str(tmp_path / "broken.yaml"),
    }
    before = snapshot()

    error, _, err = refused(*[names.get(arg, arg) for arg in args])

    assert says in error
    assert snapshot() == before
    if "{unknown}" in args:
        assert "map_unknown_step: the map renames 'reveiw', but the old version has no step 'reveiw'" in err
    if "{broken}" in args:
        assert "broken.yaml:2:11: yaml_anchor: anchors (&name) are not allowed" in err


def test_a_case_is_moved_whole_or_not_at_all(library_card, renamed, monkeypatch):
    v1, v2 = renamed
    library_card.current_version = v1
    library_card.save()
    case = submit(library_card)
    before = snapshot()

    def history_fails(**_: Any) -> None:
        raise RuntimeError("the history could not be written")

    monkeypatch.setattr(audit, "record", history_fails)
    with pytest.raises(RuntimeError):
        services.case_migrate(case_id=case.pk, target_version=v2, step_map={"review": "first_review"})
    assert snapshot() == before


def test_the_service_refuses_a_version_of_another_program_or_a_closed_case(library_card, renamed, tmp_path, librarian):
    v1, v2 = renamed
    library_card.current_version = v1
    library_card.save()
    case = submit(library_card)
    folder = tmp_path / "other" / "book-club"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    program_file = folder / "program.yaml"
    program_file.write_text(program_file.read_text().replace("id: library-card", "id: book-club"))
    other = services.definition_publish(files=programs.read_folder(folder), folder=str(folder)).version

    with pytest.raises(services.MigrationRefused, match="other_program"):
        services.case_migrate(case_id=case.pk, target_version=other, step_map={})
    decide(case, librarian)
    with pytest.raises(services.MigrationRefused, match="case_not_running"):
        services.case_migrate(case_id=case.pk, target_version=v2, step_map={"review": "first_review"})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks")
def test_a_migration_racing_a_decision_on_the_same_case_leaves_it_consistent(library_card, renamed, map_file):
    v1, v2 = renamed
    library_card.current_version = v1
    library_card.save()
    lena = make_user("lena", "librarian")
    rounds = 6
    cases = [submit(library_card) for _ in range(rounds)]
    for case in cases:
        services.task_claim(task_id=Task.objects.get(case=case).pk, user=lena)
    results: dict[str, list[str]] = {"decide": [], "migrate": []}

    def decide_all(start: threading.Barrier) -> None:
        try:
            start.wait()
            for case in cases:
                task = Task.objects.get(case=case, status="open")
                services.task_complete(task_id=task.pk, user=lena, outcome="approve")
                results["decide"].append("done")
        finally:
            connection.close()

    def migrate_all(start: threading.Barrier) -> None:
        try:
            start.wait()
            for case in reversed(cases):  # from the other end, so the two meet on some case
                try:
                    services.case_migrate(case_id=case.pk, target_version=v2, step_map={"review": "first_review"})
                    results["migrate"].append("moved")
                except services.MigrationRefused as refusal:
                    results["migrate"].append(refusal.problems[0].code)
        finally:
            connection.close()

    start = threading.Barrier(2)
    threads = [threading.Thread(target=decide_all, args=(start,)), threading.Thread(target=migrate_all, args=(start,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Every decision went through, on whichever version the case was on at that moment.
    assert results["decide"] == ["done"] * rounds
    assert set(results["migrate"]) <= {"moved", "case_not_running"}
    for case in cases:
        case.refresh_from_db()
        assert (case.status, case.outcome) == ("closed", "approved")
        assert CaseEvent.objects.filter(case=case, kind="task_completed").count() == 1
        migrated = CaseEvent.objects.filter(case=case, kind="migrated").exists()
        assert case.version == (v2 if migrated else v1)
        step = Task.objects.get(case=case).step
        assert step == ("first_review" if migrated else "review")
    assert audit.verify().intact
