"""Timers: stored when the engine starts them, fired once when due, by any number of workers."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

import engine
from tests.conftest import DEFINITIONS, make_user
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


# ------------------------------------------------------------------ claiming with SKIP LOCKED


def postgres_only(test: Callable[..., None]) -> Callable[..., None]:
    """Real threads against PostgreSQL's row locks; SQLite has no row locks to skip."""
    for mark in (
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True),
        pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (SKIP LOCKED)"),
    ):
        test = mark(test)
    return test


def copies_waiting(program: Program, count: int) -> list[Case]:
    """``count`` cases waiting out the cooling-off day: one submitted, the rest stored as copies of it.

    Submitting a thousand cases one by one would spend the test's time on submissions; each
    copy has the same engine state and its own pending timer row, as a submission writes them.
    """
    first = submit(program)
    timer = Timer.objects.get(case=first)
    fields = {
        "program": program,
        "version": first.version,
        "data": first.data,
        "state": first.state,
        "submitted_at": first.submitted_at,
    }
    copies = Case.objects.bulk_create(
        [Case(reference=f"LC-COPY-{number:06d}", **fields) for number in range(count - 1)]
    )
    Timer.objects.bulk_create(
        [Timer(case=case, timer=timer.timer, purpose=timer.purpose, due_at=timer.due_at) for case in copies]
    )
    return [first, *copies]


def run_workers(count: int, *, now: datetime) -> list[int]:
    """``count`` workers (threads, each with its own connection) firing until nothing is due; each one's total."""
    fired = [0] * count
    start = threading.Barrier(count)

    def work(number: int) -> None:
        try:
            start.wait()
            # A timer whose case another worker holds is skipped, not waited for: look again.
            while services.timers_due(now=now):
                fired[number] += services.timers_run_due(now=now)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(number,)) for number in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return fired


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_due_timers_fire_each_exactly_once(program_with_a_wait):
    # 1,000 on PostgreSQL, where the workers really run side by side; SQLite runs one writer at a time.
    count = 1_000 if connection.vendor == "postgresql" else 150
    cases = copies_waiting(program_with_a_wait, count)

    fired = run_workers(2, now=timezone.now() + timedelta(days=2))

    assert sum(fired) == count
    assert Timer.objects.filter(status="fired").count() == count
    assert not Timer.objects.filter(status="pending").exists()
    fired_events = CaseEvent.objects.filter(kind="timer_fired").values_list("case_id", flat=True)
    assert sorted(fired_events) == sorted(case.pk for case in cases)  # each case's timer, once
    assert Task.objects.filter(status="open", step="review").count() == count


@postgres_only
def test_a_timer_whose_case_is_busy_is_left_for_the_next_sweep_instead_of_waiting(program_with_a_wait):
    case = submit(program_with_a_wait)
    timer = Timer.objects.get(case=case)
    later = timezone.now() + timedelta(days=2)
    locked, release = threading.Event(), threading.Event()

    def caseworker_holding_the_case() -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=caseworker_holding_the_case)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        assert services.timer_fire(timer_id=timer.pk, now=later) is False  # returns at once: no waiting
        timer.refresh_from_db()
        assert timer.status == "pending"
    finally:
        release.set()
        holder.join()
    assert services.timers_run_due(now=later) == 1  # the next sweep fires it
    timer.refresh_from_db()
    assert timer.status == "fired"


@pytest.fixture
def program_with_an_overdue_review(tmp_path, db) -> Program:
    """The library card, whose review is due in a day and raises the case's priority when overdue."""
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    workflow = folder / "workflow.yaml"
    text = workflow.read_text().replace(
        "    role: librarian\n", "    role: librarian\n    due: 1 day\n    on overdue: hurry\n", 1
    )
    workflow.write_text("escalations:\n  hurry: {raise priority: urgent}\n\n" + text)
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


def race_decision_and_due_date(task: Task, user: User) -> list[object]:
    """A caseworker decides ``task`` while a worker fires what is due, released at the same moment."""
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def decide() -> None:
        try:
            start.wait()
            services.task_complete(task_id=task.pk, user=user, outcome="approve")
            outcomes.append("decided")
        finally:
            connection.close()

    def fire() -> None:
        try:
            start.wait()
            while services.timers_due():  # skipped while the decision holds the case: look again
                outcomes.append(services.timers_run_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=decide), threading.Thread(target=fire)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@postgres_only
def test_a_due_date_firing_while_the_caseworker_decides_the_task_leaves_the_case_consistent(
    program_with_an_overdue_review,
):
    lena = make_user("lena", "librarian")
    cases = [submit(program_with_an_overdue_review) for _ in range(12)]
    for case in cases:
        services.task_claim(task_id=Task.objects.get(case=case).pk, user=lena)

    for case in cases:
        Timer.objects.filter(case=case).update(due_at=timezone.now() - timedelta(seconds=1))  # overdue now
        assert "decided" in race_decision_and_due_date(Task.objects.get(case=case), lena)

    for case in cases:
        case.refresh_from_db()
        assert (case.status, case.outcome) == ("closed", "approved")
        (task,) = Task.objects.filter(case=case)
        assert (task.status, task.outcome) == ("completed", "approve")
        assert CaseEvent.objects.filter(case=case, kind="task_completed").count() == 1
        timer = Timer.objects.get(case=case, purpose="task_due")
        fired = CaseEvent.objects.filter(case=case, kind="timer_fired").count()
        # Either the due date went off first (harmlessly: the case was marked urgent), or the
        # decision cancelled it; never both, never twice.
        if timer.status == "fired":
            assert fired == 1
            assert case.priority == "urgent"
        else:
            assert timer.status == "cancelled"
            assert fired == 0
            assert case.priority == "normal"
        tokens = {token["id"] for token in case.state["tokens"]}
        assert not Task.objects.filter(case=case, status="open").exclude(token__in=tokens).exists()
    orphans = StringIO()
    call_command("audit", "orphans", stdout=orphans)
    assert "every running case waits on something that is there" in orphans.getvalue()


def test_a_timer_that_keeps_failing_is_retried_later_then_given_up_and_can_be_put_back(
    program_with_a_wait, settings, monkeypatch, admin_client
):
    settings.CIVICFLOW_TIMER_MAX_ATTEMPTS = 3
    broken, healthy = submit(program_with_a_wait), submit(program_with_a_wait)
    real_apply = services._apply

    def apply_failing_for_the_broken_case(case, effects, **kwargs):
        if case.pk == broken.pk:
            raise RuntimeError("the notice service is misconfigured")
        return real_apply(case, effects, **kwargs)

    monkeypatch.setattr(services, "_apply", apply_failing_for_the_broken_case)
    due = Timer.objects.get(case=broken).due_at
    first_try = due + timedelta(minutes=1)

    # The broken timer fails; the healthy one behind it fires all the same.
    assert services.timers_run_due(now=first_try) == 1
    assert Task.objects.filter(case=healthy, status="open").exists()
    timer = Timer.objects.get(case=broken)
    assert (timer.status, timer.attempts, timer.retry_at) == ("pending", 1, first_try + timedelta(seconds=30))
    assert timer.last_error == "RuntimeError: the notice service is misconfigured"
    assert timer.pk not in services.timers_due(now=first_try + timedelta(seconds=29))
    assert timer.pk in services.timers_due(now=first_try + timedelta(seconds=30))

    # Tried again after each wait (30 s, then 1 min) until the third failure gives up on it.
    second_try = first_try + timedelta(seconds=30)
    assert services.timers_run_due(now=second_try) == 0
    timer.refresh_from_db()
    assert (timer.attempts, timer.retry_at) == (2, second_try + timedelta(minutes=1))
    assert services.timers_run_due(now=second_try + timedelta(minutes=1)) == 0
    timer.refresh_from_db()
    assert (timer.status, timer.attempts, timer.retry_at) == ("failed", 3, None)
    assert CaseEvent.objects.filter(case=broken, kind="timer_failed").get().detail["attempts"] == 3
    assert services.timers_due(now=due + timedelta(days=30)) == []
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "orphans", stdout=out, stderr=out)
    assert f"{broken.reference}: timer {timer.timer} (wait) kept failing and was given up" in out.getvalue()

    # An administrator sees it among the failed timers and puts it back once the cause is fixed.
    listing = admin_client.get(reverse("admin:workflows_timer_changelist"), {"status__exact": "failed"})
    assert broken.reference in listing.content.decode()
    monkeypatch.setattr(services, "_apply", real_apply)
    admin_client.post(
        reverse("admin:workflows_timer_changelist"),
        {"action": "retry_failed_timers", "_selected_action": [timer.pk]},
    )
    timer.refresh_from_db()
    assert (timer.status, timer.attempts) == ("pending", 0)
    assert services.timers_run_due(now=second_try + timedelta(minutes=2)) == 1
    assert Task.objects.filter(case=broken, status="open").get().step == "review"
    assert Timer.objects.get(case=broken).status == "fired"
