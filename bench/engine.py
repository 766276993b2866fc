"""bench/engine: pure engine.step on the approval flow of docs/performance.md, in memory.

Run: .venv/bin/python -m bench.engine

The flow: a review; a supervisor's approval when income > 2500; then a three-person
panel (quorum 2). Reports human-task completions per second, bare and with the state
saved to JSON and restored after every step (as the case service does), plus the
saved state's size. The in-run reference is json.loads of that saved state; the
SpiffWorkflow figures of docs/performance.md (~1,330 and ~290 completions/s on this
machine kind) give the targets of >= 20x.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import engine
from bench._timing import compare

PROGRAM = """\
id: bench
title: {en: Benchmark}
agency: bench
reference prefix: BE
roles: [reviewer, supervisor, board_member]
"""
FORM = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"income": {"type": "number"}},
    }
)
WORKFLOW = """\
start: review
steps:
  review:
    kind: task
    title: {en: Review}
    role: reviewer
    outcomes:
      approve:
        - {when: income > 2500, to: supervisor}
        - {to: panel}
      deny: denied
  supervisor:
    kind: approval
    title: {en: Supervisor}
    role: supervisor
    outcomes: {approve: panel, deny: denied}
  panel:
    kind: approval
    title: {en: Panel}
    role: board_member
    panel: {size: 3, quorum: 2}
    outcomes: {approve: approved, deny: denied}
  approved: {kind: end, outcome: approved}
  denied: {kind: end, outcome: denied}
"""
NOW = datetime(2026, 11, 28, tzinfo=UTC)
PEOPLE = ("ana", "ben", "cy", "di")


def main() -> None:
    definition = engine.load({"program.yaml": PROGRAM, "form.schema.json": FORM, "workflow.yaml": WORKFLOW})
    answers = {"income": 3000}
    completions_per_case = 4  # review, supervisor, two panel approvals

    def one_case(save: bool) -> None:
        state, _ = engine.step(definition, engine.new_state(definition), engine.Submitted(answers), NOW)
        person = 0
        while state.status == "running":
            token = state.tokens[0]
            state, _ = engine.step(definition, state, engine.TaskCompleted(token.id, "approve", PEOPLE[person]), NOW)
            person += 1
            if save:
                state = engine.CaseState.from_json(json.loads(json.dumps(state.to_json())))
        assert state.outcome == "approved"

    one_case(True)
    waiting, _ = engine.step(definition, engine.new_state(definition), engine.Submitted(answers), NOW)
    saved = json.dumps(waiting.to_json())
    bare, reference = compare(lambda: one_case(False), lambda: json.loads(saved))
    persisted, _ = compare(lambda: one_case(True), lambda: json.loads(saved), rounds=3)
    started = time.perf_counter()
    one_case(False)
    per_case_ms = (time.perf_counter() - started) * 1000
    print(f"saved state: {len(saved)} bytes (target <= 2048)   json.loads of it: {reference:,.0f}/s")
    print(f"one case, cold timing: {per_case_ms:.2f} ms")
    print(
        f"with JSON save/restore after every step: {persisted * completions_per_case:,.0f} completions/s "
        f"({persisted * completions_per_case / 290:.0f}x SpiffWorkflow's documented ~290/s)"
    )
    print(
        f"engine: {bare * completions_per_case:,.0f} task completions/s bare "
        f"({bare / reference:.3f}x json.loads of the saved state; "
        f"{bare * completions_per_case / 1330:.0f}x SpiffWorkflow's documented ~1,330/s)"
    )


if __name__ == "__main__":
    main()
