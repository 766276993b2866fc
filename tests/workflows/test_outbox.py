"""The outbox: delivered at least once after commit, retried with backoff, parked when hopeless."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from workflows import faults, outbox
from workflows.models import Outbox

received: list[tuple[str, dict[str, object]]] = []
"""What the test receiver got, as (idempotency key, payload)."""
failures_left: dict[str, int] = {}


@outbox.handles("test-receiver")
def _receive(row: Outbox) -> None:
    if failures_left.get(row.key, 0) > 0:
        failures_left[row.key] -= 1
        raise ConnectionError("the receiver is down")
    if row.payload.get("refuse"):
        raise outbox.PermanentFailure("the receiver refused this message")
    received.append((row.key, row.payload))


@pytest.fixture(autouse=True)
def _clean_receiver(monkeypatch) -> None:
    received.clear()
    failures_left.clear()
    monkeypatch.delenv("CIVICFLOW_FAULTS", raising=False)


def add(key: str = "k1", **payload: object) -> Outbox:
    return outbox.enqueue(kind="test-receiver", key=key, payload=dict(payload), now=timezone.now())


@pytest.mark.django_db
def test_a_row_is_delivered_once_and_marked_delivered():
    row = add(text="hello")
    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0
    assert received == [("k1", {"text": "hello"})]
    row.refresh_from_db()
    assert row.status == Outbox.Status.DELIVERED
    assert row.attempts == 1
    assert row.delivered_at is not None


@pytest.mark.django_db
def test_the_same_key_is_enqueued_once():
    first = add(text="hello")
    second = add(text="hello again")
    assert first.pk == second.pk
    assert Outbox.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_is_retried_later_with_growing_waits_then_delivered():
    row = add()
    failures_left["k1"] = 2
    start = timezone.now()
    assert outbox.deliver_due(now=start) == 0
    row.refresh_from_db()
    assert row.status == Outbox.Status.PENDING
    assert "the receiver is down" in row.last_error
    assert row.available_at == start + timedelta(seconds=30)
    assert outbox.deliver_due(now=start + timedelta(seconds=29)) == 0, "not tried before the backoff ends"
    assert outbox.deliver_due(now=start + timedelta(seconds=30)) == 0
    row.refresh_from_db()
    assert row.available_at == start + timedelta(seconds=90), "the second wait is twice the first"
    assert outbox.deliver_due(now=start + timedelta(seconds=90)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Outbox.Status.DELIVERED, 3, "")
    assert received == [("k1", {})]


@pytest.mark.django_db
def test_a_row_that_keeps_failing_becomes_a_dead_letter_and_can_be_retried(settings):
    settings.CIVICFLOW_OUTBOX_MAX_ATTEMPTS = 3
    row = add()
    failures_left["k1"] = 99
    moment = timezone.now()
    for _ in range(5):
        outbox.deliver_due(now=moment)
        moment += timedelta(hours=7)
    row.refresh_from_db()
    assert row.status == Outbox.Status.DEAD
    assert row.attempts == 3
    failures_left["k1"] = 0
    assert outbox.retry([row.pk]) == 1
    assert outbox.deliver_due() == 1
    assert received == [("k1", {})]


@pytest.mark.django_db
def test_a_permanent_failure_is_not_retried():
    row = add(refuse=True)
    outbox.deliver_due()
    row.refresh_from_db()
    assert row.status == Outbox.Status.DEAD
    assert row.attempts == 1
    assert "refused" in row.last_error


@pytest.mark.django_db
def test_a_row_nothing_can_deliver_is_a_dead_letter_that_says_why():
    row = outbox.enqueue(kind="carrier-pigeon", key="p1", payload={}, now=timezone.now())
    outbox.deliver_due()
    row.refresh_from_db()
    assert row.status == Outbox.Status.DEAD
    assert "carrier-pigeon" in row.last_error


@pytest.mark.django_db
def test_a_long_error_is_shortened_saying_how_long_it_was(settings):
    class Verbose(Exception):
        pass

    @outbox.handles("verbose")
    def _verbose(row: Outbox) -> None:
        raise Verbose("x" * 10_000)

    row = outbox.enqueue(kind="verbose", key="v1", payload={}, now=timezone.now())
    outbox.deliver_due()
    row.refresh_from_db()
    assert len(row.last_error) <= outbox.ERROR_TEXT_LIMIT
    assert "characters in all" in row.last_error


@pytest.mark.django_db
def test_a_worker_dying_after_the_side_effect_redelivers_with_the_same_key(monkeypatch):
    """At least once: the lease runs out, the row goes again under its key, and the receiver
    (which dedupes by key) ends with what a fault-free run gives."""
    add(text="hello")
    monkeypatch.setenv("CIVICFLOW_FAULTS", str(faults.OUTBOX_AFTER_SIDE_EFFECT))
    start = timezone.now()
    assert outbox.deliver_due(now=start) == 0
    assert received == [("k1", {"text": "hello"})], "the side effect happened"
    monkeypatch.delenv("CIVICFLOW_FAULTS")
    assert outbox.deliver_due(now=start + timedelta(seconds=10)) == 0, "leased: not yet"
    later = start + timedelta(seconds=outbox.lease_seconds() + 60)
    assert outbox.deliver_due(now=later) == 1
    assert [key for key, _ in received] == ["k1", "k1"]
    assert Outbox.objects.get().status == Outbox.Status.DELIVERED


@pytest.mark.django_db
def test_the_outbox_command_lists_dead_letters_and_retries_them(capsys):
    row = add(refuse=True)
    outbox.deliver_due()
    call_command("outbox", "list", "--dead")
    listed = capsys.readouterr().out
    assert f"{row.pk}" in listed
    assert "refused" in listed
    call_command("outbox", "retry", str(row.pk))
    assert "1 row(s) put back" in capsys.readouterr().out
    row.refresh_from_db()
    assert row.status == Outbox.Status.PENDING


@pytest.mark.django_db
def test_the_outbox_command_refuses_an_unknown_row(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no dead letter"):
        call_command("outbox", "retry", "424242")
