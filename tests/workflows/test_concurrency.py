"""Real concurrency on the task services (threads, each with its own database connection)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.conftest import DEFINITIONS, make_user
from tests.workflows.racing import race
from workflows import services
from workflows.models import Case, CaseEvent, Task

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
pytestmark = pytest.mark.django_db(transaction=True)


def test_sixteen_librarians_approving_one_task_make_one_decision(library_card):
    case = services.case_submit(program=library_card, data=dict(ANSWERS), user=AnonymousUser())
    task = Task.objects.get(case=case)
    librarian = make_user("lena", "librarian")
    services.task_claim(task_id=task.pk, user=librarian)

    outcomes = race(16, lambda _: services.task_complete(task_id=task.pk, user=librarian, outcome="approve"))

    assert outcomes == Counter({"done": 1, "conflict": 15})
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "approved")
    assert CaseEvent.objects.filter(case=case, kind="task_completed").count() == 1


def test_sixteen_librarians_claiming_one_task_give_it_to_one(library_card):
    case = services.case_submit(program=library_card, data=dict(ANSWERS), user=AnonymousUser())
    task = Task.objects.get(case=case)
    staff = [make_user(f"librarian{number}", "librarian") for number in range(16)]

    outcomes = race(16, lambda number: services.task_claim(task_id=task.pk, user=staff[number]))

    assert outcomes == Counter({"done": 1, "conflict": 15})
    task.refresh_from_db()
    assert task.assignee in staff
    assert CaseEvent.objects.filter(case=case, kind="task_claimed").count() == 1
    assert Case.objects.get().status == "running"
