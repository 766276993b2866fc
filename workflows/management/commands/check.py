"""civicflow check [PATH …] — the definition checker, alongside Django's system checks.

With folders (or no arguments) it checks program definitions and reports every
problem as ``path:line:col: code: message``. Django's own options (``--deploy``,
``--tag``, ``--list-tags``, app labels) still run the system checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.check import Command as SystemCheckCommand

from workflows import programs
from workflows.management.arguments import folders_under


class Command(SystemCheckCommand):
    help = (
        "Check program definitions (every problem, as path:line:col: code: message; exit 1 on errors) "
        "and run Django's system checks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--definitions-only", action="store_true", help="skip Django's system checks")

    def handle(self, *app_labels: Any, **options: Any) -> None:
        paths = [Path(label) for label in app_labels if "/" in label or Path(label).is_dir()]
        labels: list[Any] = [label for label in app_labels if Path(label) not in paths]
        if options.get("list_tags"):
            super().handle(*labels, **options)
            return
        if not options["definitions_only"]:
            super().handle(*labels, **options)
        if labels and not paths:
            return  # app labels only: the system checks were what was asked for
        self.check_definitions(paths)

    def check_definitions(self, roots: list[Path]) -> None:
        folders = folders_under(roots)
        errors = warnings = 0
        for folder in folders:
            _, problems = programs.check(programs.read_folder(folder), folder=str(folder))
            for problem in problems:
                self.stderr.write(str(problem))
            errors += sum(1 for problem in problems if problem.severity == "error")
            warnings += sum(1 for problem in problems if problem.severity == "warning")
        summary = f"definitions: {len(folders)} program(s) checked, {errors} error(s), {warnings} warning(s)"
        if errors:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)
