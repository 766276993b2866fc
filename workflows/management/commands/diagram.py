"""civicflow diagram <program> [--format mermaid|dot|svg] — the workflow as a picture."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine import diagram
from workflows.management.arguments import checked_definition


class Command(BaseCommand):
    help = "Print the program's workflow as Mermaid text, Graphviz DOT, or SVG (SVG needs Graphviz's dot)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="a program id or folder")
        parser.add_argument("--format", choices=["mermaid", "dot", "svg"], default="mermaid")
        parser.add_argument("--language", default="en", help="the language of step titles")

    def handle(self, *args: Any, **options: Any) -> None:
        definition = checked_definition(options["program"], self.stderr)
        if options["format"] == "mermaid":
            self.stdout.write(diagram.mermaid(definition, language=options["language"]))
            return
        text = diagram.dot(definition, language=options["language"])
        if options["format"] == "dot":
            self.stdout.write(text)
            return
        dot = shutil.which("dot")
        if dot is None:
            raise CommandError(
                "SVG needs Graphviz's dot program (Debian: apt-get install graphviz); try --format mermaid"
            )
        # A fixed program and arguments, no shell; the DOT text goes in on standard input.
        rendered = subprocess.run(  # noqa: S603
            [dot, "-Tsvg"], input=text, capture_output=True, text=True, check=False, timeout=60
        )
        if rendered.returncode != 0:
            raise CommandError(f"dot failed: {rendered.stderr.strip()}")
        self.stdout.write(rendered.stdout)
