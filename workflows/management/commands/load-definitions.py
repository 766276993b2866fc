"""civicflow load-definitions [PATH ...] — check and publish program folders."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import engine
from workflows import programs, services
from workflows.management.arguments import folders_under


class Command(BaseCommand):
    help = (
        "Check each program folder and publish it as a new immutable version when its "
        "files changed. Reports every problem as path:line:col: code: message."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="*", type=Path, help="program folders, or folders of them (default: definitions/)"
        )
        parser.add_argument("--by", default="", help="who is publishing, kept with each new version (default: you)")

    def handle(self, *args: Any, **options: Any) -> None:
        folders = folders_under(options["paths"])
        publisher = options["by"].strip() or _operator()
        failed = 0
        for folder in folders:
            try:
                result = services.definition_publish(
                    files=programs.read_folder(folder), folder=str(folder), published_by=publisher
                )
            except engine.DefinitionError as error:
                failed += 1
                for problem in error.problems:
                    self.stderr.write(str(problem))
                continue
            version = result.version
            what = "published" if result.created else "unchanged"
            self.stdout.write(f"{version.program.slug}: {what} (version {version.content_hash[:12]})")
        if failed:
            raise CommandError(f"{failed} of {len(folders)} program(s) have problems; nothing was published for them")


def _operator() -> str:
    """The account running the command, as the operating system knows it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "operator"
