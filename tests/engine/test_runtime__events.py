"""Every event the interpreter takes, and every way it refuses one.

Cases are driven through ``engine.step`` directly, so each test can see the exact
effects a caseworker's screen, the citizen's mailbox and the timer service would get.
Times are in the program's zone (America/Los_Angeles); the case is submitted on
Monday 2 March 2026 at 09:00 unless a test says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import engine
from engine.runtime import Timer
from tests.engine.programs import PROGRAM, program

TZ = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

REVIEW = """
start: review
steps:
  review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
  finished: {kind: end, outcome: done}
"""


def submit(
    definition: engine.Definition, answers: Mapping[str, Any] | None = None, at: datetime = MONDAY
) -> tuple[engine.CaseState, list[engine.Effect]]:
    return engine.step(definition, engine.new_state(definition), engine.Submitted(dict(answers or {})), at)


def token_at(state: engine.CaseState, step: str) -> engine.Token:
    (token,) = [token for token in state.tokens if token.step == step]
    return token


def timer_for(state: engine.CaseState, purpose: str) -> Timer:
    (timer,) = [timer for timer in state.timers if timer.purpose == purpose]
    return timer


def fire(
    definition: engine.Definition, state: engine.CaseState, purpose: str
) -> tuple[engine.CaseState, list[engine.Effect]]:
    """The timer for ``purpose`` goes off at its own moment."""
    timer = timer_for(state, purpose)
    return engine.step(definition, state, engine.TimerFired(timer.id), datetime.fromisoformat(timer.at))


def audits(effects: list[engine.Effect], kind: str) -> list[dict[str, Any]]:
    return [dict(effect.detail) for effect in effects if isinstance(effect, engine.RecordAudit) and effect.kind == kind]


def notices(effects: list[engine.Effect]) -> list[tuple[str, str]]:
    return [(effect.notice, effect.to) for effect in effects if isinstance(effect, engine.SendNotice)]


def of(effects: list[engine.Effect], kind: type) -> list[Any]:
    return [effect for effect in effects if isinstance(effect, kind)]


# ---------------------------------------------------------------- the boundary


def test_a_saved_state_of_another_format_is_refused():
    definition = program(REVIEW)
    saved = submit(definition)[0].to_json()
    with pytest.raises(engine.StateFormatError) as caught:
        engine.CaseState.from_json({**saved, "format": 1})
    assert (caught.value.code, caught.value.found, caught.value.expected) == ("state_format", 1, 2)
    assert str(caught.value) == "saved state has format 1; this engine reads format 2"


def test_a_case_runs_only_on_the_definition_it_started_on():
    definition = program(REVIEW)
    other = program(REVIEW + "# a new version\n")
    state, _ = submit(definition)
    with pytest.raises(engine.WrongDefinition) as caught:
        engine.step(other, state, engine.TaskClaimed(1, "ana"), MONDAY)
    assert caught.value.state_hash == definition.content_hash
    assert str(caught.value) == (
        f"the case runs on definition {definition.content_hash[:12]}, not {other.content_hash[:12]}"
    )


def test_now_must_carry_a_time_zone():
    definition = program(REVIEW)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        engine.step(definition, engine.new_state(definition), engine.Submitted({}), datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001


def test_a_case_takes_events_only_while_it_runs():
    definition = program(REVIEW)
    with pytest.raises(engine.CaseNotRunning) as not_started:
        engine.step(definition, engine.new_state(definition), engine.TaskClaimed(1, "ana"), MONDAY)
    assert str(not_started.value) == "the case is new, so it cannot take this event"
    state, _ = submit(definition)
    with pytest.raises(engine.CaseNotRunning) as twice:
        engine.step(definition, state, engine.Submitted({}), MONDAY)
    assert twice.value.status == "running"
    closed, _ = engine.step(definition, state, engine.CaseCancelled("sam", "duplicate"), MONDAY)
    with pytest.raises(engine.CaseNotRunning) as after_close:
        engine.step(definition, closed, engine.Withdrawn("citizen"), MONDAY)
    assert (after_close.value.code, after_close.value.status) == ("case_not_running", "closed")


def test_an_event_for_a_token_that_holds_no_task_is_refused():
    definition = program(
        """
        start: hold
        steps:
          hold: {kind: wait, event: paid, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    waiting = token_at(state, "hold")
    with pytest.raises(engine.TaskNotOpen) as caught:
        engine.step(definition, state, engine.TaskClaimed(waiting.id, "ana"), MONDAY)
    assert str(caught.value) == f"no open task holds token {waiting.id}; it may have been completed already"


# ---------------------------------------------------------------- who holds a task


def test_claiming_and_releasing_a_task():
    definition = program(REVIEW)
    state, _ = submit(definition)
    state, effects = engine.step(definition, state, engine.TaskClaimed(1, "ana"), MONDAY)
    assert effects == [
        engine.AssignTask(1, "ana", "ana", "claimed"),
        engine.RecordAudit("task_claimed", {"step": "review", "actor": "ana"}),
    ]
    assert token_at(state, "review").assignee == "ana"
    for taken in (engine.TaskClaimed(1, "ben"), engine.TaskReleased(1, "ben")):
        with pytest.raises(engine.NotAssignee) as caught:
            engine.step(definition, state, taken, MONDAY)
        assert str(caught.value) == "the task is assigned to ana; ben cannot act on it"
    state, effects = engine.step(definition, state, engine.TaskReleased(1, "ana"), MONDAY)
    assert effects == [
        engine.AssignTask(1, None, "ana", "released"),
        engine.RecordAudit("task_released", {"step": "review", "actor": "ana"}),
    ]
    assert token_at(state, "review").assignee is None
    with pytest.raises(engine.NotAssignee) as nobody:
        engine.step(definition, state, engine.TaskReleased(1, "ana"), MONDAY)
    assert str(nobody.value) == "the task is not assigned to anyone; ana cannot act on it"
    state, _ = engine.step(definition, state, engine.TaskClaimed(1, "ben"), MONDAY)
    assert token_at(state, "review").assignee == "ben"


def test_delegation_keeps_the_delegator_on_record_and_reassignment_clears_it():
    definition = program(REVIEW)
    state, _ = submit(definition)
    state, _ = engine.step(definition, state, engine.TaskClaimed(1, "ana"), MONDAY)
    with pytest.raises(engine.NotAssignee):
        engine.step(definition, state, engine.TaskDelegated(1, "cy", "ben"), MONDAY)
    state, effects = engine.step(definition, state, engine.TaskDelegated(1, "ben", "ana"), MONDAY)
    assert effects == [
        engine.AssignTask(1, "ben", "ana", "delegated"),
        engine.RecordAudit("task_delegated", {"step": "review", "actor": "ana", "to": "ben"}),
    ]
    assert (token_at(state, "review").assignee, token_at(state, "review").delegated_by) == ("ben", "ana")
    state, effects = engine.step(definition, state, engine.TaskReassigned(1, "cy", "sam"), MONDAY)
    assert effects == [
        engine.AssignTask(1, "cy", "sam", "reassigned"),
        engine.RecordAudit("task_reassigned", {"step": "review", "actor": "sam", "to": "cy", "previous": "ben"}),
    ]
    assert (token_at(state, "review").assignee, token_at(state, "review").delegated_by) == ("cy", None)
    state, effects = engine.step(definition, state, engine.TaskCompleted(1, "done", "cy"), MONDAY)
    assert (state.outcome, state.completed_by) == ("done", {"review": "cy"})


def test_separation_of_duties_holds_whoever_hands_the_task_over():
    definition = program(
        """
        start: check
        steps:
          check: {kind: task, title: {en: Check}, role: clerk, outcomes: {done: approve}}
          approve:
            kind: approval
            title: {en: Approve}
            role: clerk
            not same person as: check
            outcomes: {approve: approved}
          approved: {kind: end, outcome: approved}
        """
    )
    state, _ = submit(definition)
    state, _ = engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), MONDAY)
    approve = token_at(state, "approve")
    for refused in (
        engine.TaskClaimed(approve.id, "ana"),
        engine.TaskReassigned(approve.id, "ana", "sam"),
    ):
        with pytest.raises(engine.SeparationOfDuties) as caught:
            engine.step(definition, state, refused, MONDAY)
        assert str(caught.value) == "ana did 'check', so someone else must do 'approve'"
    held, _ = engine.step(definition, state, engine.TaskClaimed(approve.id, "ben"), MONDAY)
    with pytest.raises(engine.SeparationOfDuties):
        engine.step(definition, held, engine.TaskDelegated(approve.id, "ana", "ben"), MONDAY)


def test_retain_familiar_offers_the_task_to_the_same_person_and_refuses_anyone_else():
    definition = program(
        """
        start: check
        steps:
          check: {kind: task, title: {en: Check}, role: clerk, outcomes: {done: review}}
          review: {kind: task, title: {en: Review}, role: clerk, same person as: check, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    state, effects = engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), MONDAY)
    (opened,) = of(effects, engine.OpenTask)
    assert (opened.step, opened.assign_to) == ("review", "ana")
    assert token_at(state, "review").assignee == "ana"
    with pytest.raises(engine.RetainFamiliar) as caught:
        engine.step(definition, state, engine.TaskReassigned(opened.token, "ben", "sam"), MONDAY)
    assert str(caught.value) == "'review' is kept for ana, who did the earlier step"


def test_a_suspended_task_cannot_be_decided_until_it_is_resumed():
    definition = program(REVIEW)
    state, _ = submit(definition)
    state, effects = engine.step(definition, state, engine.TaskSuspended(1, "sam"), MONDAY)
    assert of(effects, engine.SuspendTask) == [engine.SuspendTask(1, True, "sam")]
    assert token_at(state, "review").suspended
    with pytest.raises(engine.TaskSuspendedError) as caught:
        engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), MONDAY)
    assert (caught.value.code, str(caught.value)) == ("task_suspended", "the task is suspended; resume it first")
    state, effects = engine.step(definition, state, engine.TaskResumed(1, "sam"), MONDAY)
    assert effects == [
        engine.SuspendTask(1, False, "sam"),
        engine.RecordAudit("task_resumed", {"step": "review", "actor": "sam"}),
    ]
    state, _ = engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), MONDAY)
    assert state.outcome == "done"


def test_nobody_approves_two_levels_of_a_chain():
    definition = program(
        """
        start: sign_off
        steps:
          sign_off:
            kind: approval
            title: {en: Sign off}
            levels: [clerk, supervisor]
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    state, _ = submit(definition)
    state, effects = engine.step(definition, state, engine.TaskCompleted(1, "approve", "ana"), MONDAY)
    (opened,) = of(effects, engine.OpenTask)
    assert (opened.role, opened.level) == ("supervisor", 1)
    with pytest.raises(engine.SeparationOfDuties) as caught:
        engine.step(definition, state, engine.TaskCompleted(opened.token, "approve", "ana"), MONDAY)
    assert str(caught.value) == "ana did 'sign_off', so someone else must do 'sign_off'"
    state, _ = engine.step(definition, state, engine.TaskCompleted(opened.token, "approve", "sam"), MONDAY)
    assert state.outcome == "approved"
    assert state.data["sign_off_chain"] == [
        {"level": 0, "by": "ana", "outcome": "approve"},
        {"level": 1, "by": "sam", "outcome": "approve"},
    ]


def test_queue_and_assignee_come_from_the_case_data():
    definition = program(
        """
        start: review
        steps:
          review:
            kind: task
            title: {en: Review}
            role: clerk
            queue: name
            assign: {from: household.members.0.name}
            outcomes: {done: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition, {"name": "north", "household": {"members": [{"name": "ana"}]}})
    (opened,) = of(effects, engine.OpenTask)
    assert (opened.queue, opened.assign_to) == ("north", "ana")
    assert token_at(state, "review").assignee == "ana"
    # Nothing to go on: the task waits in the role's general queue for anyone to claim.
    state, effects = submit(definition, {})
    (opened,) = of(effects, engine.OpenTask)
    assert (opened.queue, opened.assign_to) == (None, None)
    assert token_at(state, "review").assignee is None


# ---------------------------------------------------------------- cancelling tasks


def test_cancelling_a_task_without_a_cancelled_outcome_ends_its_branch():
    definition = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [inspect, paperwork]}
          inspect: {kind: task, title: {en: Inspect}, role: clerk, outcomes: {done: inspected}}
          paperwork: {kind: task, title: {en: Paperwork}, role: clerk, outcomes: {done: filed}}
          inspected: {kind: finish}
          filed: {kind: finish}
        """
    )
    state, _ = submit(definition)
    inspect = token_at(state, "inspect")
    state, effects = engine.step(definition, state, engine.TaskCancelled(inspect.id, "sam"), MONDAY)
    assert of(effects, engine.CancelTask) == [engine.CancelTask(inspect.id, "inspect", "cancelled by sam")]
    assert (state.status, [token.step for token in state.tokens]) == ("running", ["paperwork"])
    state, effects = engine.step(
        definition, state, engine.TaskCancelled(token_at(state, "paperwork").id, "sam"), MONDAY
    )
    # With no branch left, the case closes with the default outcome.
    assert (state.status, state.outcome) == ("closed", "completed")


def test_a_cancelled_each_task_is_recorded_and_the_each_step_still_goes_on():
    definition = program(
        """
        start: verify
        steps:
          verify:
            kind: each
            count: 2
            task: {title: {en: Verify}, role: clerk, outcomes: [verified]}
            next: review
          review: {kind: task, title: {en: Review}, role: supervisor, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    first, second = state.tokens
    state, _ = engine.step(definition, state, engine.TaskCancelled(first.id, "sam"), MONDAY)
    state, _ = engine.step(definition, state, engine.TaskCompleted(second.id, "verified", "ana"), MONDAY)
    assert state.status == "running"
    assert [token.step for token in state.tokens] == ["review"]
    assert state.data["verify"] == [
        {"outcome": "cancelled", "by": "sam", "item": 1, "position": 0},
        {"outcome": "verified", "by": "ana", "item": 2, "position": 1},
    ]


def test_a_cancelled_panel_seat_cannot_approve_and_the_panel_still_decides():
    definition = program(
        """
        start: board
        steps:
          board:
            kind: approval
            title: {en: Board}
            role: board_member
            panel: {size: 3, quorum: 2}
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    state, _ = submit(definition)
    first, second, third = state.tokens
    state, _ = engine.step(definition, state, engine.TaskCancelled(first.id, "sam"), MONDAY)
    assert state.status == "running"
    state, _ = engine.step(definition, state, engine.TaskCompleted(second.id, "approve", "bo"), MONDAY)
    state, _ = engine.step(definition, state, engine.TaskCompleted(third.id, "approve", "bea"), MONDAY)
    assert state.outcome == "approved"
    # Unanimity cannot be reached once a seat is cancelled: the panel denies at once.
    unanimous = program(
        """
        start: board
        steps:
          board:
            kind: approval
            title: {en: Board}
            role: board_member
            panel: {size: 2, quorum: all}
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    state, _ = submit(unanimous)
    state, effects = engine.step(unanimous, state, engine.TaskCancelled(state.tokens[0].id, "sam"), MONDAY)
    assert state.outcome == "denied"
    assert audits(effects, "panel_decided") == [{"step": "board", "decision": "deny", "approvals": 0, "votes": 1}]


def test_a_first_answer_panel_is_not_decided_by_a_cancelled_seat():
    definition = program(
        """
        start: board
        steps:
          board:
            kind: approval
            title: {en: Board}
            role: board_member
            panel: {size: 2, quorum: first}
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    state, _ = submit(definition)
    first, second = state.tokens
    cancelled, _ = engine.step(definition, state, engine.TaskCancelled(first.id, "sam"), MONDAY)
    assert cancelled.status == "running"
    approved, _ = engine.step(definition, cancelled, engine.TaskCompleted(second.id, "approve", "bo"), MONDAY)
    assert approved.outcome == "approved"
    both, _ = engine.step(definition, cancelled, engine.TaskCancelled(second.id, "sam"), MONDAY)
    assert both.outcome == "denied"


# ---------------------------------------------------------------- panels and each


def test_a_panel_denies_as_soon_as_approval_can_no_longer_reach_the_quorum():
    definition = program(
        """
        start: board
        steps:
          board:
            kind: approval
            title: {en: Board}
            role: board_member
            panel: {size: 3, quorum: 2}
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    state, _ = submit(definition)
    first, second, third = state.tokens
    state, effects = engine.step(definition, state, engine.TaskCompleted(first.id, "deny", "bo"), MONDAY)
    assert of(effects, engine.CancelTask) == []
    state, effects = engine.step(definition, state, engine.TaskCompleted(second.id, "deny", "bea"), MONDAY)
    assert of(effects, engine.CancelTask) == [engine.CancelTask(third.id, "board", "the panel decided: deny")]
    assert state.outcome == "denied"
    assert state.data["board_votes"] == [{"outcome": "deny", "by": "bo"}, {"outcome": "deny", "by": "bea"}]


def test_each_waiting_for_two_results_cancels_the_rest():
    definition = program(
        """
        start: quotes
        steps:
          quotes:
            kind: each
            over: offices
            as: office
            wait for: 2
            task: {title: {en: Get a quote}, role: clerk, queue: office, outcomes: [quoted]}
            next: review
          review: {kind: task, title: {en: Review}, role: supervisor, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition, {"offices": ["north", "south", "east"]})
    assert [(task.queue, task.item) for task in of(effects, engine.OpenTask)] == [
        ("north", "north"),
        ("south", "south"),
        ("east", "east"),
    ]
    north, south, east = state.tokens
    state, _ = engine.step(definition, state, engine.TaskCompleted(east.id, "quoted", "ana", {"fee": 3}), MONDAY)
    state, effects = engine.step(definition, state, engine.TaskCompleted(north.id, "quoted", "ben"), MONDAY)
    assert of(effects, engine.CancelTask) == [engine.CancelTask(south.id, "quotes", "quotes has enough results")]
    assert [token.step for token in state.tokens] == ["review"]
    assert state.data["quotes"] == [
        {"outcome": "quoted", "by": "ben", "item": "north", "position": 0},
        {"fee": 3, "outcome": "quoted", "by": "ana", "item": "east", "position": 2},
    ]


@pytest.mark.parametrize(("offices", "audited"), [("north", True), (None, False), ([], False)])
def test_each_over_something_that_is_not_a_list_goes_straight_on(offices: object, audited: bool):
    definition = program(
        """
        start: calls
        steps:
          calls:
            kind: each
            over: offices
            task: {title: {en: Call}, role: clerk, outcomes: [called]}
            next: finished
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition, {"offices": offices})
    assert (state.outcome, state.data["calls"]) == ("done", [])
    assert audits(effects, "not_a_list") == ([{"step": "calls"}] if audited else [])


# ---------------------------------------------------------------- the citizen and named events


REQUEST = """
start: review
clocks:
  decision: {{limit: 10 business days, paused while: waiting for citizen}}
steps:
  review: {{kind: task, title: {{en: Review}}, role: clerk, outcomes: {{missing: ask, complete: finished}}}}
  ask:
    kind: request information
    title: {{en: Send your pay slips}}
    notice: request_documents
    expires after: 10 days
    pause clocks: {pause}
    on answer: review
    on expiry: lapsed
  finished: {{kind: end, outcome: done}}
  lapsed: {{kind: end, outcome: lapsed}}
"""
REQUEST_NOTICES = {"notices/request_documents.en.md": "# Please send your pay slips."}


def test_the_citizen_can_only_answer_an_open_request():
    definition = program(REQUEST.format(pause="true"), extra_files=REQUEST_NOTICES)
    state, _ = submit(definition)
    for token in (1, 99):  # a task, then a token that does not exist
        with pytest.raises(engine.NotWaiting) as caught:
            engine.step(definition, state, engine.CitizenResponded(token, {"pay_slips": "uploaded"}), MONDAY)
        assert (caught.value.code, str(caught.value)) == (
            "not_waiting",
            "the case is not waiting for an answer from the citizen",
        )


def test_a_request_that_does_not_pause_clocks_leaves_them_running():
    definition = program(REQUEST.format(pause="false"), extra_files=REQUEST_NOTICES)
    state, _ = submit(definition)
    due = state.data["deadlines"]["decision"]
    state, effects = engine.step(
        definition, state, engine.TaskCompleted(token_at(state, "review").id, "missing", "ana"), MONDAY
    )
    assert notices(effects) == [("request_documents", "citizen")]
    assert [timer.purpose for timer in state.timers] == ["clock_breach", "expiry"]  # no reminder was asked for
    assert audits(effects, "clock_paused") == []
    later = MONDAY + timedelta(days=3)
    state, effects = engine.step(
        definition, state, engine.CitizenResponded(token_at(state, "ask").id, {"pay_slips": "x"}), later
    )
    assert audits(effects, "clock_resumed") == []
    assert (state.data["deadlines"]["decision"], state.data["ask"]) == (due, {"pay_slips": "x"})
    state, _ = engine.step(
        definition, state, engine.TaskCompleted(token_at(state, "review").id, "missing", "ana"), later
    )
    state, effects = fire(definition, state, "expiry")
    assert state.outcome == "lapsed"
    assert audits(effects, "clock_resumed") == []


def test_clocks_resume_only_when_the_last_open_request_is_answered():
    definition = program(
        """
        start: split
        clocks:
          decision: {limit: 10 business days, paused while: waiting for citizen}
          hearing: {limit: 30 days}
        steps:
          split: {kind: parallel, branches: [ask_income, ask_rent]}
          ask_income: {kind: request information, title: {en: Income}, notice: ask, expires after: 10 days, on answer: both, on expiry: both}
          ask_rent: {kind: request information, title: {en: Rent}, notice: ask, expires after: 10 days, on answer: both, on expiry: both}
          both: {kind: join, joins: split, next: finished}
          finished: {kind: end, outcome: done}
        """,
        extra_files={"notices/ask.en.md": "# Please answer."},
    )
    state, effects = submit(definition)
    assert audits(effects, "clock_paused") == [{"clock": "decision"}]  # once, though two requests opened
    later = MONDAY + timedelta(days=2)
    state, effects = engine.step(definition, state, engine.CitizenResponded(token_at(state, "ask_income").id), later)
    assert audits(effects, "clock_resumed") == []
    state, effects = engine.step(definition, state, engine.CitizenResponded(token_at(state, "ask_rent").id), later)
    assert audits(effects, "clock_resumed") == [{"clock": "decision"}]
    assert state.outcome == "done"


def test_a_named_event_nobody_waits_for_is_refused():
    definition = program(REVIEW)
    state, _ = submit(definition)
    with pytest.raises(engine.NotWaiting) as caught:
        engine.step(definition, state, engine.EventReceived("payment_received"), MONDAY)
    assert str(caught.value) == "the case is not waiting for the event 'payment_received'"


def test_a_named_event_releases_every_wait_for_it_and_keeps_its_data():
    definition = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [a, b]}
          a: {kind: wait, event: paid, next: joined}
          b: {kind: wait, any of: [{event: paid, to: joined}, {after: 5 days, to: joined}]}
          joined: {kind: join, joins: split, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    expiry = timer_for(state, "wait")
    state, effects = engine.step(definition, state, engine.EventReceived("paid", {"amount": 25}), MONDAY)
    assert (state.outcome, state.data["paid"]) == ("done", {"amount": 25})
    assert engine.CancelTimer(expiry.id) in effects
    # Without data the event leaves nothing behind in the case data.
    state, _ = submit(definition)
    state, _ = engine.step(definition, state, engine.EventReceived("paid"), MONDAY)
    assert "paid" not in state.data


# ---------------------------------------------------------------- timers


def test_a_wait_goes_on_when_its_timer_fires_and_a_late_or_unknown_timer_changes_nothing():
    definition = program(
        """
        start: await_payment
        steps:
          await_payment:
            kind: wait
            any of:
              - {event: paid, to: review}
              - {after: 3 days, to: lapsed}
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
          lapsed: {kind: end, outcome: lapsed}
        """
    )
    state, effects = submit(definition)
    (started,) = of(effects, engine.StartTimer)
    assert (started.at, started.purpose) == (MONDAY + timedelta(days=3), "wait")
    lapsed, _ = fire(definition, state, "wait")
    assert lapsed.outcome == "lapsed"
    paid, effects = engine.step(definition, state, engine.EventReceived("paid"), MONDAY)
    assert engine.CancelTimer(started.timer) in effects
    for timer in (started.timer, 404):  # cancelled already, and one that never existed
        assert engine.step(definition, paid, engine.TimerFired(timer), MONDAY + timedelta(days=3)) == (paid, [])


@pytest.mark.parametrize(
    ("hearing", "expected"),
    [
        ("2026-03-20", datetime(2026, 3, 20, 0, 0, tzinfo=TZ)),
        ("2026-03-20T15:30:00+00:00", datetime(2026, 3, 20, 8, 30, tzinfo=TZ)),
        ("2026-03-20T10:00", datetime(2026, 3, 20, 10, 0, tzinfo=TZ)),
    ],
    ids=["date", "datetime-with-offset", "local-datetime"],
)
def test_wait_until_a_date_from_the_case_data(hearing: str, expected: datetime):
    definition = program(
        """
        start: hold
        steps:
          hold: {kind: wait, until: decision_date, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition, {"decision_date": hearing})
    (started,) = of(effects, engine.StartTimer)
    assert started.at == expected
    assert audits(effects, "no_date") == []
    assert engine.step(definition, state, engine.TimerFired(started.timer), expected)[0].outcome == "done"


@pytest.mark.parametrize("hearing", [None, "next week", 20260320], ids=["missing", "not-a-date", "a-number"])
def test_wait_until_a_missing_date_does_not_hold_the_case(hearing: object):
    definition = program(
        """
        start: hold
        steps:
          hold: {kind: wait, until: decision_date, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition, {} if hearing is None else {"decision_date": hearing})
    (started,) = of(effects, engine.StartTimer)
    assert started.at == MONDAY
    assert audits(effects, "no_date") == [{"step": "hold", "expression": "decision_date"}]
    state, _ = fire(definition, state, "wait")
    assert state.outcome == "done"


def test_a_request_reminds_with_its_own_notice_when_no_reminder_notice_is_given():
    definition = program(
        """
        start: ask
        steps:
          ask:
            kind: request information
            title: {en: Ask}
            notice: request_documents
            remind after: 5 days
            expires after: 10 days
            on answer: finished
            on expiry: finished
          finished: {kind: end, outcome: done}
        """,
        extra_files=REQUEST_NOTICES,
    )
    state, _ = submit(definition)
    state, effects = fire(definition, state, "reminder")
    assert notices(effects) == [("request_documents", "citizen")]
    assert state.status == "running"


def test_an_overdue_task_escalates_to_roles_and_the_citizen_and_raises_the_priority_once():
    definition = program(
        """
        start: review
        escalations:
          late: {notify: [supervisor, citizen], notice: late, raise priority: high}
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, due: 2 days, on overdue: late, outcomes: {done: again}}
          again: {kind: task, title: {en: Again}, role: clerk, due: 2 days, on overdue: late, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """,
        extra_files={"notices/late.en.md": "# Your case is taking longer than it should."},
    )
    state, effects = submit(definition)
    (opened,) = of(effects, engine.OpenTask)
    assert opened.due_at == MONDAY + timedelta(days=2)
    state, effects = fire(definition, state, "task_due")
    assert notices(effects) == [("late", "supervisor"), ("late", "citizen")]
    assert of(effects, engine.SetPriority) == [engine.SetPriority("high")]
    assert audits(effects, "escalated") == [{"escalation": "late", "reason": "review overdue"}]
    assert state.priority == "high"
    state, _ = engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), MONDAY + timedelta(days=3))
    state, effects = fire(definition, state, "task_due")
    assert notices(effects) == [("late", "supervisor"), ("late", "citizen")]
    assert of(effects, engine.SetPriority) == []  # already high


def test_a_due_date_without_an_escalation_only_records_that_it_passed():
    definition = program(
        """
        start: review
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, due: 2 days, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    after, effects = fire(definition, state, "task_due")
    assert audits(effects, "timer_fired") == [{"purpose": "task_due", "detail": ""}]
    assert (notices(effects), after.tokens) == ([], state.tokens)


def test_the_default_escalation_notice_goes_to_each_role():
    definition = program(
        """
        start: review
        clocks:
          decision: {limit: 10 business days, warn at: 8 business days, on warn: [hurry], on breach: [hurry, breach]}
        escalations:
          hurry: {notify: [supervisor]}
          breach: {notify: [manager], raise priority: urgent}
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """,
        extra_files={"notices/escalation.en.md": "# A case needs attention."},
    )
    state, _ = submit(definition)
    state, effects = fire(definition, state, "clock_warn")
    assert notices(effects) == [("escalation", "supervisor")]
    assert audits(effects, "escalated") == [{"escalation": "hurry", "reason": "clock decision warn"}]
    state, effects = fire(definition, state, "clock_breach")
    assert notices(effects) == [("escalation", "supervisor"), ("escalation", "manager")]
    assert state.priority == "urgent"


# ---------------------------------------------------------------- clocks


def test_a_clock_can_start_on_entering_a_step_and_is_not_restarted_on_the_way_back():
    definition = program(
        """
        start: intake
        clocks:
          decision: {limit: 5 days, starts: on entering review}
        steps:
          intake: {kind: task, title: {en: Intake}, role: clerk, outcomes: {done: review}}
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {again: intake, done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    assert "deadlines" not in state.data
    tuesday = MONDAY + timedelta(days=1)
    state, effects = engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), tuesday)
    assert audits(effects, "clock_started") == [{"clock": "decision", "limit": "5 days"}]
    assert state.data["deadlines"] == {"decision": (tuesday + timedelta(days=5)).isoformat()}
    review = token_at(state, "review")
    state, _ = engine.step(definition, state, engine.TaskCompleted(review.id, "again", "ana"), tuesday)
    state, effects = engine.step(
        definition,
        state,
        engine.TaskCompleted(token_at(state, "intake").id, "done", "ana"),
        tuesday + timedelta(days=1),
    )
    assert audits(effects, "clock_started") == []
    assert state.data["deadlines"] == {"decision": (tuesday + timedelta(days=5)).isoformat()}


def test_extending_a_clock_moves_its_deadline_and_only_its_own_timers():
    definition = program(
        """
        start: review
        clocks:
          decision: {limit: 5 days, warn at: 4 days}
          appeal: {limit: 30 days}
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    appeal_timer = [timer for timer in state.timers if timer.detail == "appeal"]
    state, effects = engine.step(
        definition, state, engine.ClockExtended("decision", "3 days", "sam", "unusual circumstances"), MONDAY
    )
    assert state.data["deadlines"] == {
        "decision": (MONDAY + timedelta(days=8)).isoformat(),
        "appeal": (MONDAY + timedelta(days=30)).isoformat(),
    }
    assert [timer for timer in state.timers if timer.detail == "appeal"] == appeal_timer
    assert [(started.at, started.purpose) for started in of(effects, engine.StartTimer)] == [
        (MONDAY + timedelta(days=4), "clock_warn"),
        (MONDAY + timedelta(days=8), "clock_breach"),
    ]
    assert audits(effects, "clock_extended") == [
        {"clock": "decision", "by": "3 days", "actor": "sam", "reason": "unusual circumstances"}
    ]


def test_extending_a_clock_the_case_does_not_have_is_refused():
    definition = program(REVIEW)
    state, _ = submit(definition)
    with pytest.raises(engine.UnknownClock) as caught:
        engine.step(definition, state, engine.ClockExtended("decision", "10 days", "sam"), MONDAY)
    assert (caught.value.code, str(caught.value)) == ("unknown_clock", "the case has no running clock 'decision'")


def test_a_paused_clock_can_be_extended_and_its_deadline_appears_when_it_resumes():
    definition = program(REQUEST.format(pause="true"), extra_files=REQUEST_NOTICES)
    state, _ = submit(definition)
    state, _ = engine.step(
        definition, state, engine.TaskCompleted(token_at(state, "review").id, "missing", "ana"), MONDAY
    )
    state, effects = engine.step(definition, state, engine.ClockExtended("decision", "2 business days", "sam"), MONDAY)
    assert of(effects, engine.StartTimer) == []  # paused: no deadline to set a timer for
    state, effects = engine.step(definition, state, engine.CitizenResponded(token_at(state, "ask").id), MONDAY)
    assert audits(effects, "clock_resumed") == [{"clock": "decision"}]
    # Ten business days from Monday 2 March, plus two: Wednesday 18 March, end of day.
    assert datetime.fromisoformat(state.data["deadlines"]["decision"]).date().isoformat() == "2026-03-18"


def test_an_action_step_extends_a_running_clock_and_ignores_one_not_yet_started():
    definition = program(
        """
        start: extend
        clocks:
          decision: {limit: 5 days}
          hearing: {limit: 5 days, starts: on entering hold}
        steps:
          extend: {kind: action, extend clock: {decision: 2 days}, next: extend_hearing}
          extend_hearing: {kind: action, extend clock: {hearing: 2 days}, next: hold}
          hold: {kind: task, title: {en: Hold}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition)
    assert audits(effects, "clock_extended") == [{"clock": "decision", "by": "2 days", "step": "extend"}]
    assert state.data["deadlines"] == {
        "decision": (MONDAY + timedelta(days=7)).isoformat(),
        "hearing": (MONDAY + timedelta(days=5)).isoformat(),
    }


# ---------------------------------------------------------------- decision tables


FPL = """\
title: {en: Poverty guideline}
hit policy: unique
inputs: [household.size]
outputs: [annual_fpl]
domain: {household.size: whole numbers >= 1}
versions:
  - effective from: 2025-01-15
    rows:
      - {household.size: 1..2, annual_fpl: 20000}
      - {household.size: ">= 3", annual_fpl: "= 20000 + (household.size - 2) * 5000"}
  - effective from: 2026-03-05
    rows:
      - {household.size: 1..2, annual_fpl: 21000}
      - {household.size: ">= 3", annual_fpl: "= 21000 + (household.size - 2) * 5500"}
"""
PERKS = """\
title: {en: Perks}
hit policy: collect
inputs: [age]
outputs: [perk]
versions:
  - effective from: 2025-01-01
    rows:
      - {age: ">= 65", perk: bus_pass}
      - {age: ">= 18", perk: library_card}
      - {age: "-", perk: pool_pass}
"""
TABLE_WORKFLOW = """
start: screen
steps:
  screen:
    kind: decide
    table: fpl
    routes:
      - {when: annual_fpl == null, to: manual}
      - {to: finished}
  manual: {kind: task, title: {en: Look it up}, role: clerk, outcomes: {done: finished}}
  finished: {kind: end, outcome: done}
"""


def test_a_table_gives_its_outputs_in_the_version_in_force_when_the_case_was_submitted():
    definition = program(TABLE_WORKFLOW, extra_files={"tables/fpl.yaml": FPL})
    state, _ = submit(definition, {"household": {"members": [], "size": 4}})
    assert (state.outcome, state.data["annual_fpl"]) == ("done", 30000)
    # Decided later, a case submitted before the new figures still uses the old ones.
    waiting = program(
        TABLE_WORKFLOW.replace("start: screen", "start: hold").replace(
            "steps:\n", "steps:\n  hold: {kind: wait, for: 7 days, next: screen}\n"
        ),
        extra_files={"tables/fpl.yaml": FPL},
    )
    state, _ = submit(waiting, {"household": {"size": 4}})
    state, _ = fire(waiting, state, "wait")
    assert state.data["annual_fpl"] == 30000
    state, _ = submit(waiting, {"household": {"size": 4}}, at=MONDAY + timedelta(days=3))
    state, _ = fire(waiting, state, "wait")
    assert state.data["annual_fpl"] == 32000


@pytest.mark.parametrize(
    ("household", "error"),
    [
        ({"size": 0}, "table 'fpl': household.size 0 is outside its domain whole numbers >= 1"),
        ({}, "table 'fpl': no row of the version of 2025-01-15 matches household.size (missing)"),
        ("four people", "table 'fpl': no row of the version of 2025-01-15 matches household.size (missing)"),
    ],
    ids=["outside-the-domain", "missing", "not-a-group"],
)
def test_a_table_lookup_that_fails_is_recorded_and_its_outputs_are_null(household: object, error: str):
    definition = program(TABLE_WORKFLOW, extra_files={"tables/fpl.yaml": FPL})
    state, effects = submit(definition, {"household": household})
    assert audits(effects, "table_failed") == [{"step": "screen", "table": "fpl", "error": error}]
    assert state.data["annual_fpl"] is None
    assert [token.step for token in state.tokens] == ["manual"]


def test_a_collect_table_gives_every_matching_rows_outputs_as_lists():
    definition = program(
        """
        start: perks
        steps:
          perks: {kind: decide, table: perks, next: finished}
          finished: {kind: end, outcome: done}
        """,
        extra_files={"tables/perks.yaml": PERKS},
    )
    assert submit(definition, {"age": 70})[0].data["perk"] == ["bus_pass", "library_card", "pool_pass"]
    assert submit(definition, {"age": 10})[0].data["perk"] == ["pool_pass"]


def test_the_table_function_looks_up_inside_an_expression():
    definition = program(
        """
        start: screen
        steps:
          screen:
            kind: decide
            compute:
              limit: "table('fpl', 'annual_fpl', size)"
              perks: "table('perks', 'perk', age)"
              missing: "table('fpl', 'annual_fpl', 0)"
            next: finished
          finished: {kind: end, outcome: done}
        """,
        extra_files={"tables/fpl.yaml": FPL.replace("household.size", "size"), "tables/perks.yaml": PERKS},
    )
    state, effects = submit(definition, {"size": 3, "age": 30})
    assert {name: state.data[name] for name in ("limit", "perks", "missing")} == {
        "limit": 25000,
        "perks": ["library_card", "pool_pass"],
        "missing": None,
    }
    assert [failure["what"] for failure in audits(effects, "expression_failed")] == ["step 'screen' compute 'missing'"]


def test_a_table_call_must_name_a_table_its_output_and_all_its_inputs():
    workflow = """
        start: screen
        steps:
          screen:
            kind: decide
            compute:
              a: "table('nope', 'x', 1)"
              b: "table('fpl', 'monthly', size)"
              c: "table('fpl', 'annual_fpl', size, 2)"
            next: finished
          finished: {kind: end, outcome: done}
        """
    with pytest.raises(engine.DefinitionError) as caught:
        program(workflow, extra_files={"tables/fpl.yaml": FPL.replace("household.size", "size")})
    assert [problem.code for problem in caught.value.problems] == ["unknown_table", "unknown_output", "wrong_arguments"]


# ---------------------------------------------------------------- moving through steps


def test_status_texts_notice_steps_and_end_notices_reach_the_citizen():
    definition = program(
        """
        start: welcome
        steps:
          welcome: {kind: notice, notice: welcome, next: review}
          review:
            kind: task
            title: {en: Review}
            status: {en: Being reviewed}
            role: clerk
            outcomes: {done: finished}
          finished: {kind: end, outcome: approved, notice: approval}
        """,
        extra_files={"notices/welcome.en.md": "# Welcome.", "notices/approval.en.md": "# Approved."},
    )
    state, effects = submit(definition)
    assert notices(effects) == [("welcome", "citizen")]
    assert of(effects, engine.SetCaseStatus) == [engine.SetCaseStatus({"en": "Being reviewed"})]
    state, effects = engine.step(definition, state, engine.TaskCompleted(1, "done", "ana"), MONDAY)
    assert effects[-4:] == [
        engine.SendNotice("approval", "citizen", "finished"),
        engine.CloseCase("approved"),
        engine.CallWebhook("case.closed", {"outcome": "approved"}),
        engine.RecordAudit("case_closed", {"outcome": "approved"}),
    ]


def test_withdrawal_sends_the_withdrawn_notice_when_the_program_has_one():
    definition = program(REVIEW, extra_files={"notices/withdrawn.en.md": "# You withdrew."})
    state, _ = submit(definition)
    state, effects = engine.step(definition, state, engine.Withdrawn("citizen"), MONDAY)
    assert notices(effects) == [("withdrawn", "citizen")]
    assert (state.outcome, of(effects, engine.CancelTask)) == (
        "withdrawn",
        [engine.CancelTask(1, "review", "the case ended: withdrawn")],
    )


def test_ending_the_case_cancels_a_pending_wait_without_a_task_to_cancel():
    definition = program(
        """
        start: hold
        steps:
          hold: {kind: wait, for: 3 days, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition)
    wait = timer_for(state, "wait")
    state, effects = engine.step(definition, state, engine.CaseCancelled("sam", "duplicate"), MONDAY)
    assert (of(effects, engine.CancelTask), of(effects, engine.CancelTimer)) == ([], [engine.CancelTimer(wait.id)])
    assert audits(effects, "case_cancelled") == [{"actor": "sam", "reason": "duplicate"}]


def test_a_branch_that_ends_the_case_stops_the_branches_not_yet_started():
    definition = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [stop, review]}
          stop: {kind: end, outcome: stopped}
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: joined}}
          joined: {kind: join, joins: split, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, effects = submit(definition)
    assert (state.outcome, of(effects, engine.OpenTask), state.path) == ("stopped", [], ("split", "stop"))


def test_an_inclusive_split_with_no_branch_to_take_and_no_join_ends_the_case():
    definition = program(
        """
        start: checks
        steps:
          checks:
            kind: parallel
            branches:
              - {when: age >= 65, to: senior}
              - {when: urgent, to: rush}
          senior: {kind: task, title: {en: Senior}, role: clerk, outcomes: {done: senior_done}}
          rush: {kind: task, title: {en: Rush}, role: clerk, outcomes: {done: rush_done}}
          senior_done: {kind: finish}
          rush_done: {kind: finish}
        """
    )
    state, effects = submit(definition, {"age": 30, "urgent": False})
    assert audits(effects, "no_branch") == [{"step": "checks"}]
    assert (state.status, state.outcome) == ("closed", "completed")


def test_a_join_reached_from_outside_its_split_lets_the_case_straight_through():
    definition = program(
        """
        start: screen
        steps:
          screen:
            kind: decide
            routes:
              - {when: urgent, to: merge}
              - {to: split}
          split: {kind: parallel, branches: [a, b]}
          a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: merge}}
          b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: merge}}
          merge: {kind: join, joins: split, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    state, _ = submit(definition, {"urgent": True})
    assert (state.outcome, state.path) == ("done", ("screen", "merge", "finished"))


def test_a_cancelling_join_leaves_the_tasks_outside_its_split_alone():
    definition = program(
        """
        start: outer
        steps:
          outer: {kind: parallel, branches: [ask, audit]}
          ask: {kind: parallel, branches: [ask_a, ask_b]}
          ask_a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: first}}
          ask_b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: first}}
          first: {kind: join, joins: ask, wait for: first, cancel rest: true, next: asked}
          asked: {kind: finish}
          audit: {kind: task, title: {en: Audit}, role: supervisor, outcomes: {done: audited}}
          audited: {kind: finish}
        """
    )
    state, _ = submit(definition)
    state, effects = engine.step(
        definition, state, engine.TaskCompleted(token_at(state, "ask_a").id, "done", "ana"), MONDAY
    )
    assert [cancel.step for cancel in of(effects, engine.CancelTask)] == ["ask_b"]
    assert [token.step for token in state.tokens] == ["audit"]


def test_a_sub_workflow_that_ends_cancels_what_is_still_open_inside_it():
    definition = program(
        """
        start: inspection
        subworkflows:
          site_visit:
            start: split
            steps:
              split: {kind: parallel, branches: [visit, photos]}
              visit: {kind: task, title: {en: Visit}, role: clerk, outcomes: {pass: passed}}
              photos: {kind: task, title: {en: Photos}, role: clerk, outcomes: {done: passed}}
              passed: {kind: end, outcome: passed}
        steps:
          inspection: {kind: subworkflow, run: site_visit, outcomes: {passed: issue}}
          issue: {kind: task, title: {en: Issue}, role: supervisor, outcomes: {done: finished}}
          finished: {kind: end, outcome: issued}
        """
    )
    state, _ = submit(definition)
    visit, photos = token_at(state, "visit"), token_at(state, "photos")
    state, effects = engine.step(definition, state, engine.TaskCompleted(visit.id, "pass", "ana"), MONDAY)
    assert of(effects, engine.CancelTask) == [engine.CancelTask(photos.id, "photos", "sub-workflow site_visit ended")]
    assert [token.step for token in state.tokens] == ["issue"]
    assert state.data["inspection"] == {"outcome": "passed"}


def test_a_sub_workflow_end_nobody_mapped_only_ends_that_branch():
    """The checker refuses this (unhandled_outcome); a definition read anyway must not break the case."""
    files = {
        "program.yaml": PROGRAM,
        "form.schema.json": json.dumps({"type": "object"}),
        "workflow.yaml": """\
start: inspection
subworkflows:
  site_visit:
    start: visit
    steps:
      visit: {kind: task, title: {en: Visit}, role: clerk, outcomes: {pass: passed, fail: failed}}
      passed: {kind: end, outcome: passed}
      failed: {kind: end, outcome: failed}
steps:
  inspection: {kind: subworkflow, run: site_visit, outcomes: {passed: issue}}
  issue: {kind: end, outcome: issued}
""",
    }
    definition, problems = engine.read(files)
    assert definition is not None
    assert [problem.code for problem in problems] == ["unhandled_outcome"]
    state, _ = submit(definition)
    state, effects = engine.step(
        definition, state, engine.TaskCompleted(token_at(state, "visit").id, "fail", "ana"), MONDAY
    )
    assert audits(effects, "subworkflow_ended") == [{"step": "inspection", "outcome": "failed"}]
    assert (state.status, state.outcome) == ("closed", "completed")
