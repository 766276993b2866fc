"""bench/engine: pure engine.step for the library-card approval, in memory.

Run: .venv/bin/python -m bench.engine
Reports cases/s for submit -> approve -> closed, bare and with the state saved to JSON
and restored after every step (as the service does), against json round-trips of the
same state as the in-run reference. The SpiffWorkflow comparison of docs/performance.md
arrives with the full engine.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import engine
from bench._timing import compare

PROGRAM = Path(__file__).resolve().parents[1] / "definitions" / "library-card"
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def main() -> None:
    definition = engine.load({path.name: path.read_text() for path in PROGRAM.iterdir() if path.is_file()})
    answers = {"full_name": "Ana Lima", "email": "ana@example.org"}

    def one_case(save: bool) -> None:
        state, _ = engine.step(definition, engine.new_state(definition), engine.Submitted(answers), NOW)
        if save:
            state = engine.CaseState.from_json(json.loads(json.dumps(state.to_json())))
        state, _ = engine.step(definition, state, engine.TaskCompleted(1, "approve", "lena"), NOW)
        if save:
            state = engine.CaseState.from_json(json.loads(json.dumps(state.to_json())))
        assert state.outcome == "approved"

    saved = json.dumps(
        engine.step(definition, engine.new_state(definition), engine.Submitted(answers), NOW)[0].to_json()
    )
    bare, round_trip = compare(lambda: one_case(False), lambda: json.loads(saved))
    persisted, _ = compare(lambda: one_case(True), lambda: json.loads(saved), rounds=3)
    print(f"saved state: {len(saved)} bytes   json.loads of it: {round_trip:,.0f}/s")
    print(f"cases with JSON save/restore after every step: {persisted:,.0f}/s")
    print(f"engine: {bare:,.0f} cases/s bare ({bare / round_trip:.3f}x json.loads of the saved state)")


if __name__ == "__main__":
    main()
