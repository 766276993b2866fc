"""The transactional outbox: side effects written with the case change, carried out after it.

A service that wants something done outside the database (an e-mail, an SMS, a webhook) calls
``enqueue`` inside its own transaction, so the row exists exactly when the case change does.
A worker (``civicflow worker``, or Celery in production) later calls ``deliver_due``:

1. **lease**: in a short transaction a due row is locked with ``SKIP LOCKED`` (PostgreSQL; other
   workers pass over it instead of waiting), its attempt counted and its ``available_at`` pushed
   past the lease, then committed. No transaction stays open while the side effect runs.
2. **do it**: the handler for the row's ``kind`` runs, given the row's idempotency ``key``.
3. **acknowledge**: the row is marked delivered.

A worker that dies between 2 and 3 leaves the row leased; when the lease runs out the row is
delivered again with the same key (at-least-once), so handlers must be idempotent: the receiver
dedupes by key. A failing handler is retried with exponential backoff; after
``CIVICFLOW_OUTBOX_MAX_ATTEMPTS`` attempts (or at once, for a ``PermanentFailure``) the row is
parked as a dead letter, listed by ``civicflow outbox`` and in the admin, and can be retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workflows import faults
from workflows.models import Case, Notice, Outbox

log = logging.getLogger(__name__)

Handler = Callable[[Outbox], None]
_handlers: dict[str, Handler] = {}

ERROR_TEXT_LIMIT = 2000
"""How much of a failure's message is kept on the row (the full error goes to the log)."""


class PermanentFailure(Exception):
    """The delivery can never succeed (no such address, a refused payload): do not retry."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that carries out outbox rows of ``kind``."""

    def register(handler: Handler) -> Handler:
        _handlers[kind] = handler
        return handler

    return register


def enqueue(
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    now: datetime,
    case: Case | None = None,
    notice: Notice | None = None,
    key_is_new: bool = False,
) -> Outbox:
    """Add a side effect to the caller's transaction. The same ``key`` twice adds it once.

    ``key_is_new``: the key names something made in this very transaction (a notice's row),
    so no row can hold it yet; the row is inserted straight away, without looking first.
    """
    fields = {"kind": kind, "payload": payload, "case": case, "notice": notice, "available_at": now, "created_at": now}
    if key_is_new:
        row, created = Outbox.objects.create(key=key, **fields), True
    else:
        row, created = Outbox.objects.get_or_create(key=key, defaults=fields)
    if created and settings.CELERY_BROKER_URL:
        # With a broker, a worker is asked at once, after the commit (never for a rollback);
        # the sweep remains the guarantee that it is delivered.
        from workflows import background  # Celery is loaded only by installations that use it

        transaction.on_commit(partial(background.deliver_soon, row.pk))
    return row


def lease_seconds() -> int:
    return int(getattr(settings, "CIVICFLOW_OUTBOX_LEASE_SECONDS", 300))


def max_attempts() -> int:
    return int(getattr(settings, "CIVICFLOW_OUTBOX_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, ... at most 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def due(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of rows ready to be tried, oldest first (not locked: ``deliver_one`` claims each)."""
    moment = now or timezone.now()
    rows = Outbox.objects.filter(status=Outbox.Status.PENDING, available_at__lte=moment).order_by("available_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Try every row that is due (up to ``limit``); returns how many were delivered."""
    return sum(deliver_one(row_id, now=now) for row_id in due(now=now, limit=limit))


def deliver_one(row_id: int, *, now: datetime | None = None) -> bool:
    """Lease one row, carry it out and acknowledge it. True if this call delivered it."""
    moment = now or timezone.now()
    row = _lease(row_id, moment)
    if row is None:
        return False
    handler = _handlers.get(row.kind)
    try:
        if handler is None:
            raise PermanentFailure(f"nothing knows how to deliver {row.kind!r}")
        handler(row)
        faults.checkpoint(faults.OUTBOX_AFTER_SIDE_EFFECT)
    except Exception as error:  # noqa: BLE001 - any failure of a side effect is recorded and retried
        _failed(row, error, moment)
        return False
    Outbox.objects.filter(pk=row.pk).update(status=Outbox.Status.DELIVERED, delivered_at=timezone.now(), last_error="")
    return True


def _lease(row_id: int, moment: datetime) -> Outbox | None:
    with transaction.atomic():
        row = (
            Outbox.objects.select_for_update(skip_locked=True)
            .filter(pk=row_id, status=Outbox.Status.PENDING, available_at__lte=moment)
            .first()
        )
        if row is None:
            return None  # delivered, dead, leased by another worker, or not due yet
        row.attempts += 1
        row.available_at = moment + timedelta(seconds=lease_seconds())
        row.save(update_fields=["attempts", "available_at"])
    return row


def _failed(row: Outbox, error: Exception, moment: datetime) -> None:
    permanent = isinstance(error, PermanentFailure)
    text = f"{type(error).__name__}: {error}"
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[: ERROR_TEXT_LIMIT - 30] + f"… ({len(text):,} characters in all)"
    if permanent or row.attempts >= max_attempts():
        log.error("outbox row %s (%s) is a dead letter after %s attempt(s): %s", row.pk, row.kind, row.attempts, text)
        Outbox.objects.filter(pk=row.pk).update(status=Outbox.Status.DEAD, last_error=text)
        return
    log.warning("outbox row %s (%s) failed (attempt %s), retrying later: %s", row.pk, row.kind, row.attempts, text)
    Outbox.objects.filter(pk=row.pk).update(available_at=moment + backoff(row.attempts), last_error=text)


def retry(row_ids: list[int], *, now: datetime | None = None) -> int:
    """Put dead letters back in the queue, to be tried at once; returns how many."""
    moment = now or timezone.now()
    return Outbox.objects.filter(pk__in=row_ids, status=Outbox.Status.DEAD).update(
        status=Outbox.Status.PENDING, available_at=moment, attempts=0
    )
