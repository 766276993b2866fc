"""Faults injected at the numbered checkpoints (workflows/faults.py): the end state equals a fault-free run.

Each scenario breaks one step on purpose — a service interrupted after the engine step or
before its commit, the database connection cut before a commit, a timer interrupted before
its commit, a worker killed after sending an e-mail, a task delivered twice — then lets the
work go on, and compares the outcome with the same work done without the fault. Every
scenario ends with the two consistency checks an operator runs after a crash.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from functools import partial
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.utils import timezone

from tests.conftest import make_user
from tests.workflows.overdue import publish_library_card_with_a_due_date, submit
from tests.workflows.worker_processes import ROOT, worker_environment
from workflows import background, faults, notices, outbox, services, tasks
from workflows.models import (
    AuditHead,
    Case,
    CaseEvent,
    Notice,
    Outbox,
    Program,
    ReferenceCounter,
    Submission,
    Task,
    Timer,
)

TABLES = (Submission, Case, Task, CaseEvent, Timer, Notice, Outbox, ReferenceCounter, AuditHead)
ACTIONS = ("submit", "claim", "approve")


@pytest.fixture(autouse=True)
def _no_fault_armed(monkeypatch) -> None:
    for variable in ("CIVICFLOW_FAULTS", "CIVICFLOW_FAULTS_EXIT", "CIVICFLOW_FAULTS_DROP"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def eager_celery(monkeypatch) -> None:
    """Celery tasks run in this process, at once, raising what they raise; nothing reaches a broker."""
    monkeypatch.setitem(background.app.conf, "task_always_eager", True)
    monkeypatch.setitem(background.app.conf, "task_eager_propagates", True)


def everything() -> dict[str, list[Any]]:
    """Every row the case services write, in full."""
    return {table.__name__: list(table.objects.order_by("pk").values()) for table in TABLES}


def end_state(case: Case) -> dict[str, Any]:
    """What a caseworker, the applicant or an auditor can see of a case (no ids, no clock times)."""
    case.refresh_from_db()

    def name(user: User | None) -> str | None:
        return user.get_username() if user else None

    return {
        "status": case.status,
        "outcome": case.outcome,
        "priority": case.priority,
        "tasks": [
            (task.step, task.role, task.status, task.outcome, name(task.assignee), name(task.completed_by))
            for task in case.tasks.order_by("pk")
        ],
        "history": list(case.events.order_by("pk").values_list("kind", flat=True)),
        "timers": list(case.timers.order_by("pk").values_list("purpose", "status")),
        "notices": list(case.notices.order_by("pk").values_list("name", "to", "language")),
        "outbox": list(case.outbox.order_by("pk").values_list("kind", "status")),
    }


def assert_nothing_is_stuck_or_edited() -> None:
    out = StringIO()
    call_command("audit", "orphans", stdout=out)
    call_command("audit", "verify", stdout=out)
    assert "every running case waits on something that is there" in out.getvalue()
    assert "the chain is intact" in out.getvalue()


def reference_number(case: Case) -> int:
    return int(case.reference.rsplit("-", 1)[1])


def run_library_card(
    program: Program, librarian: User, interrupt: Callable[[str, Callable[[], Case]], None] | None = None
) -> Case:
    """Submit, claim and approve one application; ``interrupt`` may break each step once before it goes through."""
    case: Case | None = None

    def do(action: str) -> Case:
        if action == "submit":
            return submit(program)
        assert case is not None
        task = Task.objects.get(case=case, status=Task.Status.OPEN)
        if action == "claim":
            services.task_claim(task_id=task.pk, user=librarian)
        else:
            services.task_complete(task_id=task.pk, user=librarian, outcome="approve")
        return case

    for action in ACTIONS:
        if interrupt is not None:
            interrupt(action, partial(do, action))
        case = do(action)
    assert case is not None
    return case


# ---------------------------------------------------------------- services: checkpoints 1 and 2


@pytest.mark.parametrize("checkpoint", [faults.SERVICE_AFTER_STEP, faults.SERVICE_BEFORE_COMMIT])
@pytest.mark.parametrize("faulty_action", ACTIONS)
def test_a_service_interrupted_writes_nothing_and_its_retry_ends_as_a_fault_free_run(
    library_card, librarian, monkeypatch, faulty_action, checkpoint
):
    fault_free = run_library_card(library_card, librarian)

    def interrupt(action: str, act: Callable[[], Case]) -> None:
        if action != faulty_action:
            return
        before = everything()
        monkeypatch.setenv("CIVICFLOW_FAULTS", str(checkpoint))
        with pytest.raises(faults.InjectedFault, match=f"checkpoint {checkpoint}"):
            act()
        monkeypatch.delenv("CIVICFLOW_FAULTS")
        assert everything() == before, "an interrupted command leaves no trace: no case, task, event, timer or message"

    retried = run_library_card(library_card, librarian, interrupt)

    assert end_state(retried) == end_state(fault_free)
    assert end_state(retried)["outcome"] == "approved"
    assert reference_number(retried) == reference_number(fault_free) + 1, "no reference number is used up"
    assert_nothing_is_stuck_or_edited()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("faulty_action", ACTIONS)
def test_a_connection_dropped_before_the_commit_loses_the_command_and_its_retry_ends_as_a_fault_free_run(
    library_card, monkeypatch, faulty_action
):
    """For real: on PostgreSQL the server ends the session (pg_terminate_backend) just before the
    commit; on SQLite the database file is closed under Django. Django opens a new connection."""
    librarian = make_user("lena", "librarian")
    fault_free = run_library_card(library_card, librarian)
    session_before = connection.connection

    def interrupt(action: str, act: Callable[[], Case]) -> None:
        if action != faulty_action:
            return
        before = everything()
        monkeypatch.setenv("CIVICFLOW_FAULTS", str(faults.SERVICE_BEFORE_COMMIT))
        monkeypatch.setenv("CIVICFLOW_FAULTS_DROP", "1")
        with pytest.raises(DatabaseError):  # PostgreSQL: "terminating connection due to administrator command"
            act()
        monkeypatch.delenv("CIVICFLOW_FAULTS")
        assert everything() == before, "the dropped transaction left nothing behind"

    retried = run_library_card(library_card, librarian, interrupt)

    assert connection.connection is not session_before, "the retry ran on a new connection"
    assert end_state(retried) == end_state(fault_free)
    assert reference_number(retried) == reference_number(fault_free) + 1
    assert_nothing_is_stuck_or_edited()


# ---------------------------------------------------------------- timers: checkpoint 3


@pytest.fixture
def due_date_program(tmp_path, db) -> Program:
    return publish_library_card_with_a_due_date(tmp_path / "library-card")


def make_overdue(case: Case) -> Timer:
    timer = Timer.objects.get(case=case, purpose="task_due")
    Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    return timer


def test_a_timer_interrupted_before_its_commit_stays_pending_and_the_next_sweep_fires_it_once(
    due_date_program, monkeypatch, eager_celery
):
    fault_free = submit(due_date_program)
    make_overdue(fault_free)
    assert tasks.sweep.apply().get() == {"timers": 1, "outbox": 0}

    case = submit(due_date_program)
    timer = make_overdue(case)
    before = everything()
    monkeypatch.setenv("CIVICFLOW_FAULTS", str(faults.TIMER_BEFORE_COMMIT))
    with pytest.raises(faults.InjectedFault, match="checkpoint 3"):
        services.timer_fire(timer_id=timer.pk)
    out = StringIO()
    call_command("worker", "--once", stdout=out)  # the embedded worker logs it and goes on
    assert "fired 0 timer(s)" in out.getvalue()
    assert everything() == before, "the timer is still pending and the case not escalated"
    monkeypatch.delenv("CIVICFLOW_FAULTS")

    assert tasks.sweep.apply().get() == {"timers": 1, "outbox": 0}
    assert tasks.sweep.apply().get() == {"timers": 0, "outbox": 0}, "fired once, never again"
    timer.refresh_from_db()
    assert timer.status == Timer.Status.FIRED
    assert end_state(case) == end_state(fault_free)
    assert end_state(case)["priority"] == "urgent"
    assert CaseEvent.objects.filter(case=case, kind="set_priority").count() == 1
    assert_nothing_is_stuck_or_edited()


# ---------------------------------------------------------------- a worker killed: checkpoint 4

FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file backend writes after each message


def worker_once(folder: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """``civicflow worker --once`` in a process of its own, on this test's database."""
    return subprocess.run(
        [sys.executable, "-m", "workflows.cli", "worker", "--once"],
        cwd=ROOT,
        env=worker_environment(folder, **settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def emails_in(folder: Path) -> list[EmailMessage]:
    """Every message Django's file backend wrote into ``folder``, oldest file first."""
    found = []
    for file in sorted(folder.iterdir(), key=lambda path: path.stat().st_mtime_ns):
        for raw in file.read_bytes().split(SEPARATOR):
            if raw.strip():
                found.append(message_from_bytes(raw, _class=EmailMessage, policy=email_policy))
    return found


def what_the_receiver_reads(message: EmailMessage) -> tuple[object, ...]:
    """A message without what differs by nature between two sendings: its Date and MIME boundary."""
    headers = sorted((name, str(value)) for name, value in message.items() if name not in {"Date", "Content-Type"})
    parts = [(part.get_content_type(), part.get_content()) for part in message.walk() if not part.is_multipart()]
    return message.get_content_type(), headers, parts


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_sending_an_email_lets_the_next_send_it_again_under_the_same_message_id(tmp_path):
    librarian = make_user("lena", "librarian")
    User.objects.filter(pk=librarian.pk).update(email="lena@library.example.gov")
    case = submit(publish_library_card_with_a_due_date(tmp_path / "library-card"))
    assert services.timer_fire(timer_id=make_overdue(case).pk), "the escalation queues an e-mail to the librarian"
    row = Outbox.objects.get(case=case, kind="email")
    mail = tmp_path / "mail"
    receiver = {"EMAIL_BACKEND": FILE_EMAIL, "EMAIL_FILE_PATH": str(mail), "CIVICFLOW_OUTBOX_LEASE_SECONDS": "1"}

    killed = worker_once(
        tmp_path, CIVICFLOW_FAULTS=str(faults.OUTBOX_AFTER_SIDE_EFFECT), CIVICFLOW_FAULTS_EXIT="1", **receiver
    )
    assert killed.returncode == 70, f"the worker was to die at checkpoint 4:\n{killed.stdout}{killed.stderr}"
    [first] = emails_in(mail)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Outbox.Status.PENDING, 1), "sent, but never acknowledged"

    deadline = time.monotonic() + 30
    while row.status == Outbox.Status.PENDING and time.monotonic() < deadline:
        time.sleep(0.5)  # the 1-second lease of the killed worker runs out
        worker_once(tmp_path, **receiver)
        row.refresh_from_db()

    assert (row.status, row.attempts) == (Outbox.Status.DELIVERED, 2)
    first_again, second = emails_in(mail)
    assert first_again["Message-ID"] == first["Message-ID"]
    assert second["Message-ID"] == first["Message-ID"] == notices.message_id(row.key)
    assert what_the_receiver_reads(second) == what_the_receiver_reads(first), "the same message, sent twice"
    assert second["To"] == "lena@library.example.gov"
    assert Outbox.objects.filter(case=case).count() == 1
    assert_nothing_is_stuck_or_edited()


# ---------------------------------------------------------------- duplicate delivery

received: list[tuple[str, dict[str, Any]]] = []
"""What the test receiver got, as (idempotency key, payload)."""


@outbox.handles("fault-test-receiver")
def _receive(row: Outbox) -> None:
    received.append((row.key, row.payload))


@pytest.fixture
def _empty_receiver() -> Iterator[None]:
    received.clear()
    yield
    received.clear()


def test_a_timer_task_delivered_twice_fires_the_timer_once(due_date_program, eager_celery):
    case = submit(due_date_program)
    timer = make_overdue(case)
    assert tasks.fire_timer.delay(timer.pk).get() is True
    after_first = everything()
    assert tasks.fire_timer.delay(timer.pk).get() is False
    assert everything() == after_first
    assert end_state(case)["priority"] == "urgent"
    assert_nothing_is_stuck_or_edited()


@pytest.mark.usefixtures("_empty_receiver")
def test_an_outbox_task_delivered_twice_sends_once(library_card, eager_celery):
    case = submit(library_card)
    row = outbox.enqueue(
        kind="fault-test-receiver",
        key=f"{case.reference}:hello",
        payload={"text": "hello"},
        now=timezone.now(),
        case=case,
    )
    assert tasks.deliver.delay(row.pk).get() is True
    after_first = everything()
    assert tasks.deliver.delay(row.pk).get() is False
    assert everything() == after_first
    assert received == [(f"{case.reference}:hello", {"text": "hello"})]
    assert Outbox.objects.get(pk=row.pk).status == Outbox.Status.DELIVERED
    assert_nothing_is_stuck_or_edited()
