"""A clock stopped by a step before the case closes, and started again for a new round."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
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


def complete(
    definition: engine.Definition, state: engine.CaseState, step: str, outcome: str, at: datetime
) -> tuple[engine.CaseState, list[engine.Effect]]:
    (token,) = [token for token in state.tokens if token.step == step]
    return engine.step(definition, state, engine.TaskCompleted(token.id, outcome, "ana"), at)


def breach_timers(state: engine.CaseState) -> list[Any]:
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


# ---------------------------------------------------------------------------------------------
# (kept here with the other round-by-round patterns) each results carry the task form's answers


SEARCHES = """
start: search
steps:
  search:
    kind: each
    over: household.members
    task: {title: {en: Search}, role: clerk, outcomes: [done], form: forms/search.schema.json}
    results: searches
    next: total
  total:
    kind: decide
    compute:
      pages: sum(searches, pages)
      first_name: searches.0.item.name
    next: finished
  finished: {kind: end, outcome: done}
"""

SEARCH_FORM = '{"type": "object", "properties": {"pages": {"type": "integer"}}}'


def test_each_results_can_be_summed_by_the_fields_of_the_task_form_and_of_the_item():
    definition = program(SEARCHES, extra_files={"forms/search.schema.json": SEARCH_FORM})
    answers = {"household": {"members": [{"name": "Ana"}, {"name": "Bo"}]}}
    state, _ = engine.step(definition, engine.new_state(definition), engine.Submitted(answers), MONDAY)
    for pages in (12, 30):
        token = next(token for token in state.tokens if token.step == "search")
        state, _ = engine.step(
            definition, state, engine.TaskCompleted(token.id, "done", "ana", {"pages": pages}), MONDAY
        )
    assert (state.data["pages"], state.data["first_name"]) == (42, "Ana")


def test_a_field_the_task_form_does_not_have_is_still_refused():
    with pytest.raises(DefinitionError) as refused:
        program(
            SEARCHES.replace("sum(searches, pages)", "sum(searches, pagez)"),
            extra_files={"forms/search.schema.json": SEARCH_FORM},
        )
    assert "pagez" in str(refused.value)


FRONT_OF_QUEUE = """
start: triage
steps:
  triage:
    kind: decide
    routes:
      - {when: urgent, to: expedite}
      - {to: review}
  expedite: {kind: action, raise priority: urgent, next: review}
  review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
  finished: {kind: end, outcome: done}
"""


@pytest.mark.parametrize(("urgent", "priority", "effects"), [(True, "urgent", ["urgent"]), (False, "normal", [])])
def test_an_action_step_can_move_a_case_to_the_front_of_every_queue(urgent, priority, effects):
    definition = program(FRONT_OF_QUEUE)
    state, found = engine.step(definition, engine.new_state(definition), engine.Submitted({"urgent": urgent}), MONDAY)
    assert state.priority == priority
    assert [effect.priority for effect in found if isinstance(effect, engine.SetPriority)] == effects


def test_raise_priority_takes_high_or_urgent():
    with pytest.raises(DefinitionError) as refused:
        program(FRONT_OF_QUEUE.replace("raise priority: urgent", "raise priority: asap"))
    assert "raise priority is high or urgent" in str(refused.value)
