"""civicflow worker [--once] [--interval SECONDS] — fire due timers and deliver the outbox.

Production runs the same service function from Celery; a small installation or the demo runs
this loop beside the web server (or ``--once`` from a scheduler).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workflows import outbox, services


class Command(BaseCommand):
    help = (
        "Fire every due timer (wait deadlines, reminders, due dates) and deliver every due outbox row "
        "(e-mails, text messages), then keep watching unless --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="fire what is due now, then stop")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks (default 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            fired = services.timers_run_due()
            delivered = outbox.deliver_due()
            if fired or delivered or options["once"]:
                self.stdout.write(f"fired {fired} timer(s), delivered {delivered} message(s)")
            if options["once"]:
                return
            try:
                time.sleep(max(options["interval"], 0.1))
            except KeyboardInterrupt:
                return
