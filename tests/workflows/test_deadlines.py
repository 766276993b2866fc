"""Task deadlines on the Django side: an overdue task escalates the case when its timer fires."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

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
    text = text.replace("    role: librarian\n", "    role: librarian\n    due: 3 business days\n    on overdue: hurry\n", 1)
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
