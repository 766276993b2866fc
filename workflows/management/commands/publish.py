"""civicflow publish PROGRAM [PROGRAM ...] — check a program and publish it as a new version."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from workflows.management.arguments import folders_named
from workflows.models import Case, Program


class Command(BaseCommand):
    help = (
        "Check each named program (an id in definitions/, or a folder) and store its files as a new "
        "immutable version, refused when the checker reports errors. Cases already running stay on "
        "the version they started on; new applications get the new one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("programs", nargs="+", help="program ids (definitions/<id>/) or program folders")
        parser.add_argument("--by", default="", help="who is publishing, kept with each new version (default: you)")

    def handle(self, *args: Any, **options: Any) -> None:
        folders = folders_named(options["programs"])
        call_command(
            "load-definitions",
            *[str(folder) for folder in folders],
            by=options["by"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
        for program in Program.objects.filter(slug__in=[folder.name for folder in folders]).order_by("slug"):
            earlier = (
                Case.objects.filter(program=program, status=Case.Status.RUNNING)
                .exclude(version=program.current_version)
                .count()
            )
            if earlier:
                self.stdout.write(f"{program.slug}: {earlier} running case(s) stay on their earlier version")
