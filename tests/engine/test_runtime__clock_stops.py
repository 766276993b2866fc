"""A clock stopped by a step before the case closes, and started again for a new round."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import engine
from engine.problems import DefinitionError
from tests.engine.programs import program

TZ = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

ROUNDS = """
start: review
clocks:
  review_round:
    limit: 5 business days
    starts: on entering review
    stops: [on entering issue, on entering corrections]
steps:
  review:
    kind: task
    title: {en: Review}
    role: clerk
    outcomes: {approve: issue, correct: corrections}
  corrections:
    kind: task
    title: {en: Send corrections}
    role: clerk
    outcomes: {sent: review}
  issue:
    kind: task
    title: {en: Inspections}
    role: clerk
    outcomes: {passed: finaled}
  finaled: {kind: end, outcome: finaled}
"""


def complete(definition, state, step, outcome, at):
    (token,) = [token for token in state.tokens if token.step == step]
    return engine.step(definition, state, engine.TaskCompleted(token.id, outcome, "ana"), at)


def breach_timers(state):
    return [timer for timer in state.timers if timer.purpose == "clock_breach"]


def test_a_clock_stops_at_its_step_and_runs_again_for_the_next_round():
    definition = program(ROUNDS)
    state, _ = engine.step(definition, engine.new_state(definition), engine.Submitted({}), MONDAY)
    assert state.data["deadlines"]["review_round"].startswith("2026-03-09")  # 5 business days from Monday
    assert len(breach_timers(state)) == 1

    # Corrections asked on Wednesday: the round's clock stops, nothing can breach meanwhile.
    state, effects = complete(definition, state, "review", "correct", MONDAY + timedelta(days=2))
    assert breach_timers(state) == []
    assert any(isinstance(e, engine.RecordAudit) and e.kind == "clock_stopped" for e in effects)

    # Revised plans the next Monday: a new round of 5 business days starts.
    state, _ = complete(definition, state, "corrections", "sent", MONDAY + timedelta(days=7))
    assert state.data["deadlines"]["review_round"].startswith("2026-03-16")
    assert len(breach_timers(state)) == 1

    # Approved: the clock stops while the case goes on to its inspections.
    state, _ = complete(definition, state, "review", "approve", MONDAY + timedelta(days=8))
    assert state.status == "running"
    assert [token.step for token in state.tokens] == ["issue"]
    assert breach_timers(state) == []


def test_a_stop_at_a_step_that_does_not_exist_is_refused():
    with pytest.raises(DefinitionError) as refused:
        program(ROUNDS.replace("on entering issue,", "on entering isue,"))
    assert "clock 'review_round' stops on entering 'isue', not a step" in str(refused.value)


def test_stops_must_be_written_as_on_entering():
    with pytest.raises(DefinitionError) as refused:
        program(ROUNDS.replace("stops: [on entering issue, on entering corrections]", "stops: issue"))
    assert "stops is 'on entering <step>', or a list of them" in str(refused.value)
