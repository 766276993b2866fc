"""Building small programs from inline YAML for engine tests."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from engine.loading import load
from engine.model import Definition
from engine.scenarios import Result, load_scenario, run_scenario

PROGRAM = """\
id: pattern
title: {en: Pattern}
agency: test-agency
reference prefix: PT
roles: [clerk, reviewer, supervisor, manager, board_member]
timezone: America/Los_Angeles
"""

DEFAULT_FIELDS: dict[str, Any] = {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "income": {"type": "number"},
    "size": {"type": "integer"},
    "urgent": {"type": "boolean"},
    "offices": {"type": "array", "items": {"type": "string"}},
    "household": {
        "type": "object",
        "properties": {
            "members": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
            }
        },
    },
    "decision_date": {"type": "string", "format": "date"},
}


def program(workflow: str, *, extra_files: dict[str, str] | None = None, program_yaml: str = PROGRAM) -> Definition:
    files = {
        "program.yaml": program_yaml,
        "form.schema.json": json.dumps(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": DEFAULT_FIELDS}
        ),
        "workflow.yaml": textwrap.dedent(workflow),
        **(extra_files or {}),
    }
    return load(files)


def play(definition: Definition, scenario: str) -> Result:
    result = run_scenario(definition, load_scenario("scenario.yaml", textwrap.dedent(scenario), {}))
    return result


def passes(definition: Definition, scenario: str) -> Result:
    result = play(definition, scenario)
    assert result.failures == [], "\n".join([*result.failures, "trace:", *result.trace])
    return result
