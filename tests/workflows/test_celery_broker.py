"""End to end on a real broker: a Celery worker with beat escalates an overdue task.

The worker is a separate process (``celery -A workflows.background worker --beat``) talking to
the broker named by ``CIVICFLOW_TEST_BROKER_URL`` (RabbitMQ on 127.0.0.1 unless set; `.ci/run`
starts it) and to this test's own database. The test fails, never skips, when the broker does
not answer: CI must prove this path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.conftest import make_user
from tests.workflows.overdue import publish_library_card_with_a_due_date, submit
from tests.workflows.worker_processes import ROOT, worker_environment
from workflows import background
from workflows.models import Case, CaseEvent, Notice, Outbox, Timer

BROKER_URL = os.environ.get("CIVICFLOW_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
WAIT_SECONDS = 60
"""How long the worker may take to start, sweep and fire the timer before the test gives up."""

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own, so no other worker on the broker takes its tasks; removed after."""
    name = f"civicflow-test-{uuid.uuid4().hex[:12]}"
    with background.app.connection_for_write(BROKER_URL) as broker:
        try:
            broker.ensure_connection(max_retries=2, interval_start=0.5)
        except Exception as error:  # noqa: BLE001 - any failure to connect means the same thing here
            pytest.fail(
                f"the broker at {broker.as_uri()} does not answer ({error}). Start RabbitMQ "
                "(`rabbitmq-server -detached`) or point CIVICFLOW_TEST_BROKER_URL at a running broker."
            )
        yield name
        channel = broker.default_channel
        channel.queue_delete(name)
        channel.exchange_delete(name)


def start_worker(queue: str, folder: Path) -> subprocess.Popen[bytes]:
    environment = worker_environment(
        folder, CELERY_BROKER_URL=BROKER_URL, CELERY_QUEUE=queue, CIVICFLOW_SWEEP_SECONDS="1"
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "workflows.background",
        "worker",
        "--beat",
        "--schedule",
        str(folder / "beat-schedule"),
        "--loglevel",
        "INFO",
        "--concurrency",
        "2",
        "--hostname",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    log = (folder / "worker.log").open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def stop(worker: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (SIGTERM: finish the running task), then kill if it hangs."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


def test_a_celery_worker_on_the_broker_escalates_an_overdue_task_once_and_sends_its_notice(tmp_path, queue):
    librarian = make_user("lena", "librarian")
    User.objects.filter(pk=librarian.pk).update(email="lena@library.example.gov")
    program = publish_library_card_with_a_due_date(tmp_path / "library-card")
    case = submit(program)
    timer = Timer.objects.get(case=case, purpose="task_due")
    # The worker reads the real clock: the deadline is moved into the past, not the clock forward.
    Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    still_waiting = submit(program)  # due in 3 business days: the worker must leave it alone

    worker = start_worker(queue, tmp_path)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            timer.refresh_from_db()
            sent = Outbox.objects.filter(case=case, status=Outbox.Status.DELIVERED).exists()
            if timer.status == Timer.Status.FIRED and sent:
                break
            time.sleep(0.25)
    finally:
        stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")

    timer.refresh_from_db()
    assert timer.status == Timer.Status.FIRED, (
        f"the worker did not fire the overdue timer within {WAIT_SECONDS} s "
        f"(exit status {worker.returncode}); its log ends:\n{log[-4000:]}"
    )
    case.refresh_from_db()
    assert case.priority == "urgent", "the escalation raised the case's priority"
    assert CaseEvent.objects.filter(case=case, kind="set_priority", detail={"priority": "urgent"}).count() == 1
    notice = Notice.objects.get(case=case)
    assert (notice.name, notice.to, notice.subject) == ("escalation", "librarian", "A library card review is overdue")
    email = Outbox.objects.get(notice=notice)
    assert (email.kind, email.payload["to"], email.status) == ("email", "lena@library.example.gov", "delivered"), (
        f"the escalation e-mail was not delivered; its last error: {email.last_error!r}; the worker's log ends:\n"
        f"{log[-4000:]}"
    )
    assert Timer.objects.get(case=still_waiting, purpose="task_due").status == Timer.Status.PENDING
    assert Case.objects.get(pk=still_waiting.pk).priority == "normal"
    assert "civicflow.sweep" in log, "beat sent the sweep"
    assert "civicflow.fire_timer" in log, "a worker fired the timer"
    assert "civicflow.deliver" in log, "a worker sent the e-mail"
