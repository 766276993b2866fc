"""Running a case: submit opens the approval; the decision closes the case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from tests.engine.test_definition import files

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def definition() -> engine.Definition:
    return engine.load(files())


def submitted(definition: engine.Definition) -> tuple[engine.CaseState, list[engine.Effect]]:
    return engine.step(definition, engine.new_state(definition), engine.Submitted({"name": "Ana"}), NOW)


def test_submitting_opens_a_task_for_the_first_steps_role(definition):
    state, effects = submitted(definition)
    assert state.status == "running"
    assert state.data == {"name": "Ana"}
    opened = [effect for effect in effects if isinstance(effect, engine.OpenTask)]
    assert [(task.token, task.step, task.role, dict(task.title)) for task in opened] == [
        (1, "review", "clerk", {"en": "Review"})
    ]


def test_approving_closes_the_case_with_the_end_steps_outcome(definition):
    state, _ = submitted(definition)
    state, effects = engine.step(definition, state, engine.TaskCompleted(1, "approve", "ana"), NOW)
    assert (state.status, state.outcome, state.tokens) == ("closed", "approved", ())
    assert engine.CloseTask(1, "review", "approve", "ana") in effects
    assert engine.CloseCase("approved") in effects


def test_a_task_cannot_be_completed_twice(definition):
    state, _ = submitted(definition)
    state, _ = engine.step(definition, state, engine.TaskCompleted(1, "approve", "ana"), NOW)
    with pytest.raises(engine.CaseNotRunning):
        engine.step(definition, state, engine.TaskCompleted(1, "approve", "ben"), NOW)


def test_an_unknown_token_is_refused(definition):
    state, _ = submitted(definition)
    with pytest.raises(engine.TaskNotOpen) as caught:
        engine.step(definition, state, engine.TaskCompleted(7, "approve", "ana"), NOW)
    assert caught.value.token == 7


def test_an_outcome_the_step_does_not_offer_is_refused_and_names_the_choices(definition):
    state, _ = submitted(definition)
    with pytest.raises(engine.UnknownOutcome) as caught:
        engine.step(definition, state, engine.TaskCompleted(1, "maybe", "ana"), NOW)
    assert caught.value.allowed == ("approve",)


def test_a_case_only_runs_on_the_definition_it_started_with(definition):
    state, _ = submitted(definition)
    other = engine.load(files(workflow__yaml=files()["workflow.yaml"] + "# v2\n"))
    with pytest.raises(engine.WrongDefinition):
        engine.step(other, state, engine.TaskCompleted(1, "approve", "ana"), NOW)


def test_state_round_trips_through_json_and_refuses_unknown_formats(definition):
    state, _ = submitted(definition)
    saved = state.to_json()
    assert engine.CaseState.from_json(saved) == state
    with pytest.raises(engine.StateFormatError):
        engine.CaseState.from_json({**saved, "format": 99})


@given(data=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=5))
def test_the_same_inputs_give_the_same_outputs(data):
    definition = engine.load(files())
    first = engine.step(definition, engine.new_state(definition), engine.Submitted(data), NOW)
    second = engine.step(definition, engine.new_state(definition), engine.Submitted(data), NOW)
    assert first == second
    assert engine.CaseState.from_json(first[0].to_json()) == first[0]
