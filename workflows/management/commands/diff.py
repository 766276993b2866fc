"""civicflow diff <program> <old> <new> — what changed between two versions, and who it affects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import engine
from engine import diff as definition_diff
from workflows import designer, programs
from workflows.management.arguments import checked_definition
from workflows.models import DefinitionVersion, Program


class Command(BaseCommand):
    help = (
        "Compare two versions of a program. OLD and NEW are each a program folder or the start of a "
        "published version's hash; 'current' is the published version, 'disk' the folder in definitions/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="the program id")
        parser.add_argument("old")
        parser.add_argument("new")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["program"]
        old = self.version(slug, options["old"])
        new = self.version(slug, options["new"])
        comparison = designer.compare(slug, old, new)
        self.stdout.write(definition_diff.describe(comparison.changes) or "no changes")
        if comparison.running:
            running, affected = len(comparison.running), len(comparison.affected)
            self.stdout.write(f"\n{running} running case(s) on {old.content_hash[:12]}; {affected} affected:")
        for case, reason in comparison.affected:
            self.stdout.write(f"  {case.reference}: {reason}")

    def version(self, slug: str, ref: str) -> engine.Definition:
        if ref == "disk" or Path(ref).is_dir():
            return checked_definition(slug if ref == "disk" else ref, self.stderr)
        versions = DefinitionVersion.objects.filter(program__slug=slug)
        if ref == "current":
            current = Program.objects.filter(slug=slug).values_list("current_version_id", flat=True).first()
            versions = versions.filter(pk=current or 0)
        else:
            versions = versions.filter(content_hash__startswith=ref)
        found = list(versions[:2])
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise CommandError(f"{slug}: {what} published version matches {ref!r}")
        return programs.definition_of(found[0])
