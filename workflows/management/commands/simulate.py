"""civicflow simulate <program> --submission FILE [--actions FILE] [--json] — a case in memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import engine
from engine import scenarios as engine_scenarios
from workflows import programs, scenarios
from workflows.management.arguments import checked_definition


class Command(BaseCommand):
    help = (
        "Run a case in memory: submit the answers, play the actions (the same lines as a scenario's "
        "'do:' list), and print the trace: steps, tasks, notices, timers and the outcome."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="a program id or folder")
        parser.add_argument("--submission", required=True, type=Path, help="a JSON file of answers")
        parser.add_argument(
            "--actions", type=Path, help="a YAML list of actions, e.g. '- lena completes review: approve'"
        )
        parser.add_argument("--actors", default="", help="people and roles, e.g. lena=librarian,ben=supervisor")
        parser.add_argument("--at", default="", help="when the answers are submitted, e.g. 2026-03-02T10:00")
        parser.add_argument("--json", action="store_true", help="print the trace and final state as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        definition = checked_definition(options["program"], self.stderr)
        submission = self._read(options["submission"])
        actions = self._read(options["actions"]) if options["actions"] else ""
        actors = dict(pair.split("=", 1) for pair in options["actors"].split(",") if "=" in pair)
        scenario_text = json.dumps(
            {
                "name": "simulation",
                "answers": json.loads(submission),
                "actors": actors,
                "do": _yaml_list(actions),
                **({"submitted at": options["at"]} if options["at"] else {}),
            }
        )
        try:
            scenario = engine_scenarios.load_scenario("simulation", scenario_text, {})
        except engine.DefinitionError as error:
            raise CommandError("\n".join(str(problem) for problem in error.problems)) from None
        accept = scenarios.accepting(programs.site_form(definition, definition.files))
        result = engine_scenarios.run_scenario(definition, scenario, validate=scenarios.validate_answers, accept=accept)
        state = result.state
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"trace": result.trace, "failures": result.failures, "state": state.to_json() if state else None},
                    indent=2,
                    default=str,
                )
            )
            if result.failures:
                raise SystemExit(1)  # the JSON already says what went wrong
            return
        for line in result.trace:
            self.stdout.write(line)
        for failure in result.failures:
            self.stdout.write(f"problem: {failure}")
        if state is not None:
            self.stdout.write(f"path: {' -> '.join(state.path)}")
            if state.status == "closed":
                self.stdout.write(f"outcome: {state.outcome}")
            else:
                waiting = ", ".join(sorted({token.step for token in state.tokens})) or "nothing"
                self.stdout.write(f"still running, waiting at: {waiting}")
        if result.failures:
            raise CommandError(f"{len(result.failures)} problem(s): the simulation did not go as asked")

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None


def _yaml_list(text: str) -> list[Any]:
    if not text.strip():
        return []
    from engine.source import parse_yaml

    try:
        data = parse_yaml("actions", text).data
    except engine.DefinitionError as error:
        raise CommandError("\n".join(str(problem) for problem in error.problems)) from None
    if isinstance(data, dict) and "do" in data:
        data = data["do"]
    if not isinstance(data, list):
        raise CommandError("the actions file is a YAML list, e.g. '- lena completes review: approve'")
    return data
