"""The Celery side without a broker: what the sweep sends, the hand-over after commit, the refusals."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from tests.workflows.overdue import publish_library_card_with_a_due_date, submit
from tests.workflows.worker_processes import ROOT, worker_environment
from workflows import background, outbox, tasks
from workflows.models import Outbox, Timer


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, list[int]]]:
    """What would have gone to the broker, as (task name, arguments); nothing does."""
    messages: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        tasks.fire_timer, "apply_async", lambda args, **options: messages.append((background.FIRE_TIMER, args))
    )
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, **options: messages.append((background.DELIVER, args))
    )
    monkeypatch.setattr(background.app, "send_task", lambda name, args, **options: messages.append((name, list(args))))
    return messages


def add_row(key: str, *, due_in: timedelta = timedelta(0)) -> Outbox:
    return outbox.enqueue(kind="nothing", key=key, payload={}, now=timezone.now() + due_in)


def test_the_sweep_sends_one_task_per_due_timer_and_outbox_row_and_nothing_for_the_rest(tmp_path, db, sent):
    program = publish_library_card_with_a_due_date(tmp_path / "library-card")
    overdue, on_time = submit(program), submit(program)
    Timer.objects.filter(case=overdue).update(due_at=timezone.now() - timedelta(seconds=1))
    due_row = add_row("due")
    add_row("later", due_in=timedelta(hours=1))
    add_row("done")
    Outbox.objects.filter(key="done").update(status=Outbox.Status.DELIVERED)

    assert tasks.sweep.apply().get() == {"timers": 1, "outbox": 1}

    overdue_timer = Timer.objects.get(case=overdue)
    assert sorted(sent) == sorted([(background.FIRE_TIMER, [overdue_timer.pk]), (background.DELIVER, [due_row.pk])])
    assert Timer.objects.get(case=on_time).status == Timer.Status.PENDING
    assert overdue_timer.status == Timer.Status.PENDING, "the sweep only sends; a worker fires"


def test_one_sweep_sends_at_most_a_batch_and_the_next_sweep_the_rest(db, sent, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)
    rows = [add_row(f"row-{number}") for number in range(3)]
    assert tasks.sweep.apply().get() == {"timers": 0, "outbox": 2}
    assert [args for _, args in sent] == [[rows[0].pk], [rows[1].pk]]


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_new_outbox_row_is_handed_over_after_the_commit_and_never_for_a_rollback(settings, sent):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    with transaction.atomic():
        row = add_row("committed")
        add_row("committed")  # the same key again: one row, one hand-over
        assert sent == [], "nothing is handed over before the commit"
    assert sent == [(background.DELIVER, [row.pk])]

    def a_case_change_that_fails() -> None:
        with transaction.atomic():
            add_row("rolled-back")
            raise RuntimeError("the case change failed")

    with pytest.raises(RuntimeError):
        a_case_change_that_fails()
    assert sent == [(background.DELIVER, [row.pk])]
    assert not Outbox.objects.filter(key="rolled-back").exists()


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_nothing_is_handed_over(settings, sent):
    settings.CELERY_BROKER_URL = ""
    add_row("embedded")
    assert sent == []


def test_a_broker_that_cannot_be_reached_loses_nothing_and_fails_no_request(monkeypatch, caplog):
    def broker_down(name, args, **options):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(background.app, "send_task", broker_down)
    background.deliver_soon(42)  # does not raise into the request that committed the row
    assert "could not hand outbox row 42 to the broker" in caplog.text
    assert "the next sweep will" in caplog.text


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_refuses_to_start_without_a_broker_and_says_what_to_set(tmp_path, program):
    result = subprocess.run(
        [sys.executable, "-m", "celery", "--app", "workflows.background", program],
        cwd=ROOT,
        env=worker_environment(tmp_path, CELERY_BROKER_URL=""),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "civicflow: configuration error: CELERY_BROKER_URL is empty." in result.stdout + result.stderr
    assert "civicflow worker" in result.stdout + result.stderr


def test_a_sweep_interval_under_half_a_second_is_refused_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "check"],
        cwd=ROOT,
        env=worker_environment(tmp_path, CIVICFLOW_SWEEP_SECONDS="0.1"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "civicflow: configuration error: CIVICFLOW_SWEEP_SECONDS must be at least 0.5, not '0.1'"
    )
