"""Background work on Celery, for installations with a broker (``CELERY_BROKER_URL``).

Timers and outbox rows are rows in the database, written in the same transaction as the case
change that caused them; the broker only carries *reminders* to look at them. So nothing is
lost when the broker restarts or a message goes missing: every ``CIVICFLOW_SWEEP_SECONDS``
Celery beat sends ``sweep``, which finds what is due and sends one ``fire_timer`` or
``deliver`` task per row. Those are safe to run twice (a timer fires once, an outbox row is
leased before its side effect), so delivery is at least once with late acknowledgement: a
worker that dies mid-task leaves its message to be delivered again.

Run it with::

    celery -A workflows.background worker --beat      # one process: worker and scheduler
    celery -A workflows.background beat                # or exactly one scheduler, and
    celery -A workflows.background worker              # any number of workers

Beat also sends ``housekeeping`` once a day (02:30): the retention purge and the removal of
expired drafts. Without a broker (the embedded mode) ``civicflow worker`` does the timers and
the outbox in a loop; schedule ``civicflow purge`` and ``civicflow expire-drafts`` with cron.
The tasks themselves live in ``workflows.tasks``, which the worker imports once Django is set up.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab
from django.conf import settings

log = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflows.settings")

FIRE_TIMER = "civicflow.fire_timer"
DELIVER = "civicflow.deliver"
SWEEP = "civicflow.sweep"
HOUSEKEEPING = "civicflow.housekeeping"

app = Celery("civicflow", include=["workflows.tasks"])
# Operators' choices (the broker, the queue) come from Django settings as CELERY_* names.
app.config_from_object("django.conf:settings", namespace="CELERY")


def sweep_seconds() -> float:
    return float(settings.CIVICFLOW_SWEEP_SECONDS)


def dispatch_expires() -> float:
    """Seconds a ``fire_timer``/``deliver`` message may wait in the queue before it is dropped.

    By then later sweeps have sent fresh messages for whatever is still due, so an old one is
    redundant; dropping it keeps a backlog from piling up copies of the same work.
    """
    return max(60.0, 12 * sweep_seconds())


# Reliability choices, not settings: the services are idempotent, so a task may run twice but
# must never be lost.
app.conf.update(
    task_acks_late=True,  # acknowledge after the task ran, not when it was received
    task_reject_on_worker_lost=True,  # a killed worker's task goes back to the queue
    worker_cancel_long_running_tasks_on_connection_loss=True,  # the broker re-delivers those
    worker_prefetch_multiplier=1,  # late acknowledgement: a worker holds one message at a time
    task_ignore_result=True,  # results are in the database, not in a result backend
    broker_connection_retry_on_startup=True,  # a worker started before the broker waits for it
    beat_schedule_filename=str(settings.VAR_DIR / "celerybeat-schedule"),
    beat_schedule={
        "sweep": {"task": SWEEP, "schedule": sweep_seconds(), "options": {"expires": sweep_seconds()}},
        # Once a day, at night in the installation's time zone: what retention and draft
        # lifetimes say must go (the same as `civicflow purge` and `civicflow expire-drafts`).
        "housekeeping": {"task": HOUSEKEEPING, "schedule": crontab(hour=2, minute=30)},
    },
    timezone=settings.TIME_ZONE,
)


def deliver_soon(outbox_id: int) -> None:
    """Ask a worker to deliver an outbox row now, rather than at the next sweep.

    Called after the commit that wrote the row. If the broker cannot be reached the row just
    waits for the sweep, so the failure is logged, never raised into the request that committed.
    """
    try:
        app.send_task(DELIVER, args=[outbox_id], retry=False, expires=dispatch_expires())
    except Exception as error:  # noqa: BLE001 - any broker failure: the sweep delivers it later
        log.warning("could not hand outbox row %s to the broker (%s); the next sweep will", outbox_id, error)


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_without_a_broker(**kwargs: Any) -> None:
    """Celery would fall back to a RabbitMQ on localhost; say what to set instead."""
    if not settings.CELERY_BROKER_URL:
        # Celery logs and swallows exceptions from signal handlers; SystemExit stops it.
        raise SystemExit(
            "civicflow: configuration error: CELERY_BROKER_URL is empty. Set it to the broker "
            "(amqp://… or redis://…) to run Celery workers, or run `civicflow worker` for the "
            "embedded mode, which needs no broker."
        )
