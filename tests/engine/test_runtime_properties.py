"""Properties of the interpreter under random event orders: nothing lost, nothing doubled.

A case with a parallel split, a quorum panel, one task per household member and a
timer is driven by hypothesis through random (but legal) sequences of events. After
every event the state must account for every task exactly once, survive a JSON round
trip unchanged, and the same events must always give the same result.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.model import EachStep, HumanStep
from tests.engine.programs import program

DEFINITION = program(
    """
    start: split
    steps:
      split: {kind: parallel, branches: [panel, members, hold]}
      panel:
        kind: approval
        title: {en: Panel}
        role: board_member
        panel: {size: 3, quorum: 2}
        outcomes: {approve: joined, deny: joined}
      members:
        kind: each
        over: household.members
        task: {title: {en: Check member}, role: clerk, outcomes: [ok, not_ok]}
        next: joined
      hold:
        kind: wait
        any of:
          - {after: 3 days, to: joined}
          - {event: skip, to: joined}
      joined: {kind: join, joins: split, wait for: all, next: review}
      review:
        kind: task
        title: {en: Review}
        role: clerk
        outcomes: {approve: approved, again: split}
      approved: {kind: end, outcome: approved}
    """
)
START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
PEOPLE = ["ana", "ben", "cy", "di", "ed"]


def outcomes_of(token: engine.Token) -> list[str]:
    found = DEFINITION.step(token.flow, token.step)
    human = found.task if isinstance(found, EachStep) else found
    assert isinstance(human, HumanStep)
    return list(human.outcomes)


def drive(choices: list[tuple[int, int, int]], members: int) -> list[engine.CaseState]:
    """Play events chosen by the numbers; return every state on the way."""
    state, effects = engine.step(
        DEFINITION,
        engine.new_state(DEFINITION),
        engine.Submitted({"household": {"members": [{"name": f"m{i}"} for i in range(members)]}}),
        START,
    )
    open_tasks = {effect.token for effect in effects if isinstance(effect, engine.OpenTask)}
    now = START
    states = [state]
    for pick, person, outcome in choices:
        if state.status != "running":
            break
        humans = [token for token in state.tokens if token.step in ("panel", "members", "review")]
        moves: list[engine.Event] = []
        if humans:
            token = humans[pick % len(humans)]
            options = outcomes_of(token)
            moves.append(engine.TaskCompleted(token.id, options[outcome % len(options)], PEOPLE[person % len(PEOPLE)]))
        if state.timers:
            moves.append(engine.TimerFired(state.timers[pick % len(state.timers)].id))
        if any(token.step == "hold" for token in state.tokens):
            moves.append(engine.EventReceived("skip"))
        if not moves:
            break
        event = moves[outcome % len(moves)]
        now += timedelta(hours=7)
        try:
            state, effects = engine.step(DEFINITION, state, event, now)
        except engine.SeparationOfDuties:
            continue  # the same person on two panel seats: refused, nothing changes
        for effect in effects:
            if isinstance(effect, engine.OpenTask):
                assert effect.token not in open_tasks, "a task was opened twice"
                open_tasks.add(effect.token)
            elif isinstance(effect, (engine.CloseTask, engine.CancelTask)):
                assert effect.token in open_tasks, "a task was closed that was not open"
                open_tasks.discard(effect.token)
        waiting_tasks = {token.id for token in state.tokens if token.step in ("panel", "members", "review")}
        assert waiting_tasks == open_tasks, "the state and the open tasks disagree"
        states.append(state)
    return states


choice_lists = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(choices=choice_lists, members=st.integers(0, 3))
def test_no_task_is_lost_or_doubled_and_states_round_trip(choices, members):
    for state in drive(choices, members):
        ids = [token.id for token in state.tokens]
        assert len(ids) == len(set(ids))
        assert engine.CaseState.from_json(state.to_json()) == state
        if state.status == "closed":
            assert state.tokens == ()
            assert state.timers == ()


@settings(max_examples=50, deadline=None)
@given(choices=choice_lists, members=st.integers(0, 3))
def test_the_same_events_always_give_the_same_states(choices, members):
    assert drive(choices, members) == drive(choices, members)


def test_a_repeated_or_late_timer_changes_nothing():
    state, _ = engine.step(DEFINITION, engine.new_state(DEFINITION), engine.Submitted({}), START)
    timer = state.timers[0].id
    fired, _ = engine.step(DEFINITION, state, engine.TimerFired(timer), START + timedelta(days=3))
    again, effects = engine.step(DEFINITION, fired, engine.TimerFired(timer), START + timedelta(days=4))
    assert again == fired
    assert effects == []


def test_saved_state_stays_small():
    state, _ = engine.step(
        DEFINITION, engine.new_state(DEFINITION), engine.Submitted({"household": {"members": []}}), START
    )
    import json

    assert len(json.dumps(state.to_json())) < 2048
