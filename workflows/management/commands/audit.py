"""civicflow audit verify — check that the case history's hash chain is unbroken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import audit


class Command(BaseCommand):
    help = (
        "verify: recompute every case-history event's hash and follow the chain from the first "
        "event to the last; report each event that was changed, removed or inserted (exit 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"], help="what to do with the history")

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = audit.verify()
        for broken in verdict.breaks:
            self.stderr.write(str(broken))
        if not verdict.intact:
            raise CommandError(f"the case history has {len(verdict.breaks)} break(s) in {verdict.events} event(s)")
        self.stdout.write(f"audit: {verdict.events} event(s), the chain is intact")
