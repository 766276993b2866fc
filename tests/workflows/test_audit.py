"""The case history is hash-chained: a changed, removed or added row is found by `audit verify`,
and on PostgreSQL the database itself refuses to change or delete history rows."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from tests.workflows.apply_steps import begin, fill_to_check
from workflows import audit
from workflows.models import AuditHead, CaseEvent, Task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"


@pytest.fixture
def decided_case(client, library_card, librarian):
    draft = begin(client)
    fill_to_check(client, draft)
    client.post(reverse("apply_check", args=[draft.public_id]))
    task = Task.objects.get()
    client.force_login(librarian)
    client.post(reverse("task", args=[task.pk]), {"action": "claim"})
    client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "approve"})
    return task.case


def behind_the_apps_back(sql: str, params: list[str | int]) -> None:
    """Change the history as an intruder with database access would (past the trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # a superuser skips user triggers
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_every_event_is_chained_to_the_one_before(decided_case):
    events = list(CaseEvent.objects.order_by("pk"))
    assert len(events) >= 5
    assert events[0].previous_hash == ""
    for before, after in itertools.pairwise(events):
        assert after.previous_hash == before.hash
    head = AuditHead.objects.get()
    assert (head.last_hash, head.events) == (events[-1].hash, len(events))
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert f"audit: {len(events)} event(s), the chain is intact" in out.getvalue()


def test_a_changed_event_is_found(decided_case):
    target = CaseEvent.objects.filter(kind="task_completed").get()
    behind_the_apps_back("UPDATE workflows_caseevent SET detail = %s WHERE id = %s", ['{"outcome": "deny"}', target.pk])
    verdict = audit.verify()
    assert [broken.event_id for broken in verdict.breaks] == [target.pk]
    assert "contents changed" in verdict.breaks[0].reason
    err = StringIO()
    with pytest.raises(CommandError, match="1 break"):
        call_command("audit", "verify", stderr=err)
    assert f"event {target.pk}: its contents changed" in err.getvalue()


def test_a_removed_event_is_found(decided_case):
    events = list(CaseEvent.objects.order_by("pk"))
    behind_the_apps_back("DELETE FROM workflows_caseevent WHERE id = %s", [events[2].pk])
    verdict = audit.verify()
    assert [broken.event_id for broken in verdict.breaks] == [events[3].pk, None]


def test_postgresql_refuses_to_change_or_delete_history(decided_case):
    event = CaseEvent.objects.order_by("pk")[0]
    if connection.vendor != "postgresql":
        # SQLite has no such trigger: the chain is what catches a change there.
        CaseEvent.objects.filter(pk=event.pk).update(kind="edited")
        assert not audit.verify().intact
        return
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(kind="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    assert audit.verify().intact
