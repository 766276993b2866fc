"""civicflow outbox list [--dead] | retry ID... — see and re-queue side effects waiting or given up."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import outbox
from workflows.models import Outbox


class Command(BaseCommand):
    help = "List outbox rows waiting or given up (dead letters), or put dead letters back in the queue."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="rows not yet delivered, oldest first")
        listing.add_argument("--dead", action="store_true", help="only dead letters")
        retrying = actions.add_parser("retry", help="put dead letters back in the queue, to be tried at once")
        retrying.add_argument("ids", nargs="+", type=int, metavar="ID")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "retry":
            ids: list[int] = options["ids"]
            count = outbox.retry(ids)
            if count == 0:
                raise CommandError(f"no dead letter with id {', '.join(map(str, ids))}")
            self.stdout.write(f"{count} row(s) put back in the queue")
            return
        rows = Outbox.objects.exclude(status=Outbox.Status.DELIVERED).select_related("case").order_by("created_at")
        if options["dead"]:
            rows = rows.filter(status=Outbox.Status.DEAD)
        count = 0
        for row in rows.iterator():
            count += 1
            case = row.case.reference if row.case else "-"
            self.stdout.write(
                f"{row.pk}\t{row.status}\t{row.kind}\t{case}\tattempts={row.attempts}\t"
                f"next={row.available_at:%Y-%m-%d %H:%M}\t{row.last_error.splitlines()[0] if row.last_error else ''}"
            )
        self.stdout.write(f"{count} row(s)")
