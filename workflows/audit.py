"""The case history as a hash chain: append an event, or check that nothing was changed.

Each event's hash covers its case, time, kind, actor and detail and the previous event's
hash, so editing, removing or inserting a row anywhere breaks the chain from that row on.
Appending locks the chain head (one row), so concurrent transitions are chained in the
order they commit. ``verify`` walks the whole history; ``civicflow audit verify`` runs it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from workflows.models import AuditHead, Case, CaseEvent

HEAD_ID = 1

# PostgreSQL refuses UPDATE and DELETE on the history outright (TRUNCATE, used only to empty
# a test database, is not a row change and is not refused).
# "%%" because the migration runs this through the driver's parameter formatting.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION civicflow_history_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the case history is append-only: %% refused on workflows_caseevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS caseevent_append_only ON workflows_caseevent;
CREATE TRIGGER caseevent_append_only BEFORE UPDATE OR DELETE ON workflows_caseevent
    FOR EACH ROW EXECUTE FUNCTION civicflow_history_is_append_only();
"""
DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS caseevent_append_only ON workflows_caseevent;
DROP FUNCTION IF EXISTS civicflow_history_is_append_only();
"""


def event_hash(*, previous: str, case_id: int, at: datetime, kind: str, actor_id: int | None, detail: Any) -> str:
    """sha256 of an event's contents and the link to the one before, as canonical JSON."""
    body = {
        "previous": previous,
        "case": case_id,
        "at": at.isoformat(),
        "kind": kind,
        "actor": actor_id,
        "detail": detail,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One event waiting to be appended (``History``)."""

    case: Case
    at: datetime
    kind: str
    actor: User | None
    detail: dict[str, Any]


class History:
    """The events of one transition, appended together when it is written.

    The chain head is locked once and the events inserted in one statement, instead of a lock,
    an insert and a head update per event; the order they were added in is the chain's order.
    """

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, *, case: Case, at: datetime, kind: str, actor: User | None, detail: dict[str, Any]) -> None:
        self.entries.append(Entry(case, at, kind, actor, detail))

    def write(self) -> list[CaseEvent]:
        written = record_all(self.entries)
        self.entries = []
        return written


def record(*, case: Case, at: datetime, kind: str, actor: User | None, detail: dict[str, Any]) -> CaseEvent:
    """Append one event to the history, chained to the last one. Call inside a transaction."""
    return record_all([Entry(case, at, kind, actor, detail)])[0]


def record_all(entries: Sequence[Entry]) -> list[CaseEvent]:
    """Append events in order, each chained to the one before. Call inside a transaction."""
    if not entries:
        return []
    head = _locked_head()
    previous = head.last_hash
    events = []
    for entry in entries:
        # What is hashed is what the database gives back: JSON as stored, the time in UTC.
        stored_detail = json.loads(json.dumps(entry.detail))
        actor_id = entry.actor.pk if entry.actor is not None else None
        digest = event_hash(
            previous=previous,
            case_id=entry.case.pk,
            at=entry.at,
            kind=entry.kind,
            actor_id=actor_id,
            detail=stored_detail,
        )
        events.append(
            CaseEvent(
                case=entry.case,
                at=entry.at,
                kind=entry.kind,
                actor_id=actor_id,
                detail=stored_detail,
                previous_hash=previous,
                hash=digest,
            )
        )
        previous = digest
    # One INSERT of all rows; their ids follow the list's order (``verify`` walks by id).
    CaseEvent.objects.bulk_create(events)
    AuditHead.objects.filter(pk=head.pk).update(last_hash=previous, events=head.events + len(events))
    return events


def _locked_head() -> AuditHead:
    try:
        return AuditHead.objects.select_for_update().get(pk=HEAD_ID)
    except AuditHead.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=HEAD_ID)
    except IntegrityError:
        pass  # another transaction created it first: take its lock below
    return AuditHead.objects.select_for_update().get(pk=HEAD_ID)


@dataclass(frozen=True)
class Break:
    """Where the chain does not hold: the event (by id) and what is wrong there."""

    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "chain head"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Verdict:
    events: int
    breaks: tuple[Break, ...]

    @property
    def intact(self) -> bool:
        return not self.breaks


def verify() -> Verdict:
    """Recompute every event's hash in order and follow the links; report each break."""
    breaks: list[Break] = []
    previous = ""
    count = 0
    for event in _events():
        count += 1
        if event.previous_hash != previous:
            breaks.append(Break(event.pk, "does not follow the event before it (one was removed, added or changed)"))
        expected = event_hash(
            previous=event.previous_hash,
            case_id=event.case_id,
            at=event.at,
            kind=event.kind,
            actor_id=event.actor_id,
            detail=event.detail,
        )
        if event.hash != expected:
            breaks.append(
                Break(event.pk, f"its contents changed after it was written ({event.kind} on case {event.case_id})")
            )
        previous = event.hash
    head = AuditHead.objects.filter(pk=HEAD_ID).first()
    if head is not None and (head.last_hash != previous or head.events != count):
        breaks.append(
            Break(None, f"expects {head.events} event(s) ending in {head.last_hash[:12] or 'nothing'}, found {count}")
        )
    return Verdict(count, tuple(breaks))


def _events() -> Iterator[CaseEvent]:
    return CaseEvent.objects.order_by("pk").iterator(chunk_size=2000)
