"""civicflow test-definitions [PROGRAM …] — run every program's scenarios/*.yaml."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import scenarios
from workflows.management.arguments import folders_named


class Command(BaseCommand):
    help = "Run the scenario tests kept beside each program and print a pytest-style summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("programs", nargs="*", help="program ids or folders (default: every program)")
        parser.add_argument("--trace", action="store_true", help="print each scenario's trace")

    def handle(self, *args: Any, **options: Any) -> None:
        folders = folders_named(options["programs"])
        started = time.perf_counter()
        passed = failed = 0
        for outcome in scenarios.run_all(folders):
            if outcome.passed:
                passed += 1
                self.stdout.write(f"PASSED {outcome.label}")
            else:
                failed += 1
                self.stdout.write(f"FAILED {outcome.label}")
                for failure in outcome.failures:
                    self.stdout.write(f"    {failure}")
            if options["trace"] or not outcome.passed:
                for line in outcome.trace:
                    self.stdout.write(f"      {line}")
        elapsed = time.perf_counter() - started
        summary = f"{passed} passed, {failed} failed in {elapsed:.2f}s"
        if failed:
            raise CommandError(summary, returncode=1)
        if not passed:
            raise CommandError("no scenarios found (scenarios/*.yaml beside each program.yaml)", returncode=1)
        self.stdout.write(summary)
