"""Timers: stored when the engine starts them, fired once when due, by any number of workers."""

from __future__ import annotations

import json
import re
import shutil
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

import engine
from tests.conftest import DEFINITIONS
from workflows import programs, services
from workflows.models import Case, CaseEvent, Program, Task, Timer

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
COOLING_OFF = """start: cooling_off

steps:
  cooling_off:
    kind: wait
    title: {en: Cooling-off day, zh-Hans: 冷静期}
    any of:
      - {event: skip_wait, to: review}
      - {after: 1 day, to: review}
"""


@pytest.fixture
def program_with_a_wait(tmp_path, db) -> Program:
    """The library card, with a one-day wait before the review."""
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    workflow = folder / "workflow.yaml"
    workflow.write_text(COOLING_OFF + workflow.read_text().replace("start: review\n\nsteps:\n", ""))
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


def submit(program: Program) -> Case:
    return services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())


def test_a_wait_fires_once_when_due_and_opens_the_next_task(program_with_a_wait):
    case = submit(program_with_a_wait)
    timer = Timer.objects.get(case=case)
    assert timer.status == "pending"
    assert timer.due_at - case.submitted_at == timedelta(days=1)
    assert services.timers_run_due(now=case.submitted_at + timedelta(hours=23)) == 0
    assert not Task.objects.filter(case=case).exists()

    later = case.submitted_at + timedelta(days=1, minutes=1)
    assert services.timers_run_due(now=later) == 1
    assert Task.objects.get(case=case, status="open").step == "review"
    timer.refresh_from_db()
    assert (timer.status, timer.fired_at) == ("fired", later)
    assert CaseEvent.objects.filter(case=case, kind="timer_fired").count() == 1
    assert services.timers_run_due(now=later + timedelta(days=5)) == 0  # never twice


def test_a_timer_cancelled_by_an_event_is_not_fired(program_with_a_wait):
    case = submit(program_with_a_wait)
    definition = programs.stored_definition(case.version.files, case.version.content_hash)
    state, effects = engine.step(
        definition, engine.CaseState.from_json(case.state), engine.EventReceived("skip_wait"), timezone.now()
    )
    case.state = state.to_json()
    with transaction.atomic():
        services._apply(case, effects, actor=None, now=timezone.now())
    assert Timer.objects.get(case=case).status == "cancelled"
    assert services.timers_run_due(now=timezone.now() + timedelta(days=2)) == 0
    assert Task.objects.filter(case=case, status="open").count() == 1


def test_the_worker_command_fires_what_is_due(program_with_a_wait):
    case = submit(program_with_a_wait)
    Timer.objects.filter(case=case).update(due_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "fired 1 timer(s)" in out.getvalue()
    assert Task.objects.filter(case=case, status="open").exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_fire_each_of_many_due_timers_exactly_once(program_with_a_wait):
    cases = [submit(program_with_a_wait) for _ in range(120)]
    later = timezone.now() + timedelta(days=2)
    fired: list[int] = []

    def work() -> None:
        try:
            fired.append(services.timers_run_due(now=later))
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(fired) == len(cases)
    assert Timer.objects.filter(status="fired").count() == len(cases)
    assert CaseEvent.objects.filter(kind="timer_fired").count() == len(cases)
    assert Task.objects.filter(status="open", step="review").count() == len(cases)


def test_the_orphan_check_finds_a_case_whose_task_or_timer_is_gone(program_with_a_wait):
    at_review = submit(program_with_a_wait)
    services.timers_run_due(now=timezone.now() + timedelta(days=2))  # past its wait: a review task
    waiting = submit(program_with_a_wait)
    out = StringIO()
    call_command("audit", "orphans", stdout=out)
    assert "every running case waits on something that is there" in out.getvalue()

    Timer.objects.filter(case=waiting).delete()  # as if the write had been lost
    Task.objects.filter(case=at_review).delete()
    err = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("audit", "orphans", stderr=err)
    lines = err.getvalue().splitlines()
    assert any(
        re.fullmatch(rf"{waiting.reference}: timer \d+ \(wait\) has no pending timer row", line) for line in lines
    )
    assert any(re.fullmatch(rf"{at_review.reference}: token \d+ at 'review' has no open task", line) for line in lines)
