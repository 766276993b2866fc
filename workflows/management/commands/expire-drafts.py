"""civicflow expire-drafts [--dry-run] — delete unsubmitted applications past their program's limit."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workflows import services


class Command(BaseCommand):
    help = (
        "Delete drafts (unsubmitted applications) whose time ran out, with their uploaded files. "
        "Each program sets how long drafts are kept (program.yaml: drafts: keep for). Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.drafts_expire(dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {count} expired draft(s)")
