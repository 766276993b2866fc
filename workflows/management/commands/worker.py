"""civicflow worker [--once] [--interval SECONDS] — fire due timers and deliver the outbox.

Production runs the same service functions from Celery (``workflows.background``); a small
installation or the demo runs this loop beside the web server (or ``--once`` from a scheduler).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection

from workflows import outbox, services

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Fire every due timer (wait deadlines, reminders, due dates) and deliver every due outbox row "
        "(e-mails, text messages), then keep watching unless --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="fire what is due now, then stop")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks (default 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        once: bool = options["once"]
        try:
            while True:
                try:
                    fired = self._fire_due_timers()
                    delivered = outbox.deliver_due()
                except DatabaseError:
                    if once:
                        raise
                    # A restarting database must not end the loop: everything due is still there.
                    log.exception("the database is not answering; looking again in a moment")
                    connection.close()
                else:
                    if fired or delivered or once:
                        self.stdout.write(f"fired {fired} timer(s), delivered {delivered} message(s)")
                if once:
                    return
                time.sleep(max(options["interval"], 0.1))
        except KeyboardInterrupt:
            return

    def _fire_due_timers(self) -> int:
        """Fire each due timer in its own transaction; one that fails does not hold up the others."""
        return services.timers_run_due()
