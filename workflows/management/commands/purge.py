"""civicflow purge [--dry-run] [--program SLUG] — remove closed cases' personal data once their retention ends."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from workflows import privacy, services
from workflows.models import Program


class Command(BaseCommand):
    help = (
        "Remove the personal data (answers, files, notes, messages) of closed cases whose retention "
        "has run out: program.yaml retention: closed cases, of the version each case ran on. Each case is "
        "purged in its own transaction; its reference, outcome, dates and history stay. Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what would be purged, change nothing")
        parser.add_argument("--program", metavar="SLUG", help="only this program's cases (its id, e.g. library-card)")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["program"]
        if slug is not None and not Program.objects.filter(slug=slug).exists():
            raise CommandError(f"there is no program {slug!r}; its id is the one in program.yaml, e.g. library-card")
        now = timezone.now()
        due = privacy.purges_due(now=now, program=slug)
        dry_run = options["dry_run"]
        purged = 0
        for case in due:
            when = f"closed {case.closed_at:%Y-%m-%d}, kept {case.kept_for}, due {case.due_at:%Y-%m-%d}"
            if dry_run:
                self.stdout.write(f"{case.reference} ({case.program}, {when}): would be purged")
                continue
            try:
                removed = services.case_purge(case_id=case.case_id, now=now)
            except services.NotDue as refusal:  # changed since it was listed (purged by another run)
                self.stderr.write(f"{case.reference}: skipped: {refusal.message}")
                continue
            purged += 1
            self.stdout.write(
                f"{case.reference} ({case.program}, {when}): purged; "
                f"{removed.files} file(s), {removed.notes} note(s), {removed.notices} notice(s) removed"
            )
        if dry_run:
            self.stdout.write(f"would purge {len(due)} case(s); nothing was changed")
        else:
            self.stdout.write(f"purged {purged} case(s)")
