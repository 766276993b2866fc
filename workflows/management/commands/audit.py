"""civicflow audit verify | orphans — check the case history's hash chain, or find stuck cases."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import audit, health


class Command(BaseCommand):
    help = (
        "verify: recompute every case-history event's hash and follow the chain from the first "
        "event to the last; report each event that was changed, removed or inserted (exit 1). "
        "orphans: list running cases that wait on a task or timer that is not there (exit 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "orphans"], help="which check to run")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "orphans":
            found = health.orphans()
            for orphan in found:
                self.stderr.write(str(orphan))
            if found:
                raise CommandError(f"{len(found)} problem(s) with running cases")
            self.stdout.write("audit: every running case waits on something that is there")
            return
        verdict = audit.verify()
        for broken in verdict.breaks:
            self.stderr.write(str(broken))
        if not verdict.intact:
            raise CommandError(f"the case history has {len(verdict.breaks)} break(s) in {verdict.events} event(s)")
        self.stdout.write(f"audit: {verdict.events} event(s), the chain is intact")
