"""Task deadlines on the Django side: an overdue task escalates the case when its timer fires."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from tests.conftest import DEFINITIONS
from workflows import programs, services
from workflows.models import Case, CaseEvent, Program, Task, Timer

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())


@pytest.fixture
def program_with_a_due_date(tmp_path, db) -> Program:
    """The library card, whose review is due in 3 business days and escalates when overdue."""
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    workflow = folder / "workflow.yaml"
    text = workflow.read_text()
    text = text.replace(
        "    role: librarian\n", "    role: librarian\n    due: 3 business days\n    on overdue: hurry\n", 1
    )
    workflow.write_text("escalations:\n  hurry: {raise priority: urgent}\n\n" + text)
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


def test_an_overdue_task_raises_the_case_priority_once_its_timer_fires(program_with_a_due_date):
    case = services.case_submit(program=program_with_a_due_date, data=dict(ANSWERS), user=AnonymousUser())
    task = Task.objects.get(case=case)
    timer = Timer.objects.get(case=case, purpose="task_due")
    assert task.due_at == timer.due_at
    assert timer.due_at - case.submitted_at >= timedelta(days=3), "business days skip weekends and holidays"
    assert case.priority == "normal"

    assert services.timers_run_due(now=timer.due_at - timedelta(minutes=1)) == 0
    assert services.timers_run_due(now=timer.due_at + timedelta(minutes=1)) == 1

    case.refresh_from_db()
    assert case.priority == "urgent"
    assert CaseEvent.objects.filter(case=case, kind="set_priority", detail={"priority": "urgent"}).count() == 1
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN, "escalating does not take the task away"
    assert Case.objects.filter(priority="urgent").count() == 1
    assert timezone.now() < timer.due_at, "the test moved time forward, not the clock"


def test_the_inbox_shows_escalated_cases_first_with_their_due_dates(client, program_with_a_due_date, librarian):
    first = services.case_submit(program=program_with_a_due_date, data=dict(ANSWERS), user=AnonymousUser())
    second = services.case_submit(program=program_with_a_due_date, data=dict(ANSWERS), user=AnonymousUser())
    client.force_login(librarian)
    page = client.get("/work/").text
    assert page.index(first.reference) < page.index(second.reference), "oldest first while none is urgent"
    assert "Urgent" not in page

    Case.objects.filter(pk=second.pk).update(priority="urgent")
    page = client.get("/work/").text
    assert page.index(second.reference) < page.index(first.reference)
    assert "Urgent" in page
    due = Task.objects.get(case=second).due_at
    assert due is not None
    assert timezone.localtime(due).strftime("%-d %b %Y") in page


@pytest.fixture
def program_with_a_clock(tmp_path, db) -> Program:
    """The library card with a statutory 10-business-day response clock from submission."""
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    workflow = folder / "workflow.yaml"
    clock = "clocks:\n  response: {limit: 10 business days, starts: on submit}\n\n"
    workflow.write_text(clock + workflow.read_text())
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


def test_a_running_clock_gives_the_case_its_deadline_until_the_case_closes(client, program_with_a_clock, librarian):
    case = services.case_submit(program=program_with_a_clock, data=dict(ANSWERS), user=AnonymousUser())
    case.refresh_from_db()
    assert case.deadline_at is not None
    client.force_login(librarian)
    assert timezone.localtime(case.deadline_at).strftime("%-d %b %Y") in client.get("/work/").text
    assert case.deadline_at == datetime.fromisoformat(case.state["data"]["deadlines"]["response"])
    assert case.deadline_at - case.submitted_at >= timedelta(days=12), "10 business days take two weekends"
    assert Timer.objects.filter(case=case, purpose="clock_breach", due_at=case.deadline_at).count() == 1

    task = Task.objects.get(case=case)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="approve")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert case.deadline_at is None


def test_a_paused_clock_has_no_deadline():
    running = {
        "clocks": {"response": {"paused_since": None}},
        "data": {"deadlines": {"response": "2026-12-01T17:00:00+00:00"}},
    }
    paused = {"clocks": {"response": {"paused_since": "2026-11-20T10:00:00+00:00"}}, "data": running["data"]}
    assert services.statutory_deadline(running) is not None
    assert services.statutory_deadline(paused) is None
    assert services.statutory_deadline({"clocks": {}, "data": {}}) is None


def test_who_published_a_version_is_kept(tmp_path, db):
    from io import StringIO

    from django.core.management import call_command

    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    call_command("publish", str(folder), "--by", "maria.designer", stdout=StringIO())
    version = Program.objects.get(slug="library-card").current_version
    assert version is not None
    assert version.published_by == "maria.designer"
