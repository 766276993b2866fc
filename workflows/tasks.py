"""The Celery tasks (see ``workflows.background`` for the app and how it runs).

Each is a thin call into the same functions ``civicflow worker`` uses, and each is safe to run
twice for the same id: ``services.timer_fire`` fires a timer only while it is pending and
``outbox.deliver_one`` leases a row before doing anything. A task that fails is not retried
by Celery: the row stays due in the database and the next sweep sends it again (outbox rows
and timers that failed with their own backoff).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from workflows import outbox, privacy, services
from workflows.background import DELIVER, FIRE_TIMER, HOUSEKEEPING, SWEEP, app, dispatch_expires

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
"""How many due timers, and how many due outbox rows, one sweep sends at most; the rest wait
for the next sweep, so one sweep never floods the queue."""


@app.task(name=FIRE_TIMER)
def fire_timer(timer_id: int) -> bool:
    """Fire one timer if it is still pending and due; True if this call fired it."""
    return services.timer_fire(timer_id=timer_id)


@app.task(name=DELIVER)
def deliver(outbox_id: int) -> bool:
    """Lease, carry out and acknowledge one outbox row; True if this call delivered it."""
    return outbox.deliver_one(outbox_id)


@app.task(name=SWEEP)
def sweep() -> dict[str, int]:
    """Send one task for every due timer and every due outbox row (up to ``SWEEP_BATCH`` each)."""
    expires = dispatch_expires()
    timers = services.timers_due(limit=SWEEP_BATCH)
    for timer_id in timers:
        fire_timer.apply_async(args=[timer_id], expires=expires)
    rows = outbox.due(limit=SWEEP_BATCH)
    for row_id in rows:
        deliver.apply_async(args=[row_id], expires=expires)
    if timers or rows:
        log.info("sweep: sent %s timer(s) and %s outbox row(s)", len(timers), len(rows))
    return {"timers": len(timers), "outbox": len(rows)}


@app.task(name=HOUSEKEEPING)
def housekeeping() -> dict[str, int]:
    """Purge closed cases whose retention has run out, and delete expired drafts (daily, by beat)."""
    now = timezone.now()
    purged = 0
    for due in privacy.purges_due(now=now):
        try:
            services.case_purge(case_id=due.case_id, now=now)
        except services.NotDue:
            continue  # purged meanwhile by `civicflow purge`
        purged += 1
    drafts = services.drafts_expire(now=now)
    log.info("housekeeping: purged %s case(s), deleted %s expired draft(s)", purged, drafts)
    return {"purged": purged, "drafts": drafts}
