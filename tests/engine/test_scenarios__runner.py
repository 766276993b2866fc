"""Scenario files as a designer writes them: every action, every check, every failure message.

A scenario is only worth having if it fails when the workflow does something else, so
most tests here play a scenario that is wrong on purpose and assert the exact lines the
designer would read (``scenario.yaml:<line>: <what went wrong>``).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any

import pytest

import engine
from engine.scenarios import Result, load_scenario, run_scenario
from tests.engine.programs import passes, play, program

ACTORS = "actors: {ana: clerk, ben: clerk, sam: [supervisor, clerk], rita: reviewer}"

DEFINITION = program(
    """
    start: welcome
    calendar: weekdays
    clocks:
      decision: {limit: 10 business days, warn at: 8 business days, on warn: [hurry], paused while: waiting for citizen}
    escalations:
      hurry: {notify: [supervisor], raise priority: high}
    steps:
      welcome: {kind: notice, notice: welcome, next: review}
      review:
        kind: task
        title: {en: Review}
        role: clerk
        outcomes: {approve: approve, missing: ask, hold: hold}
      ask:
        kind: request information
        title: {en: Send your pay slips}
        notice: request_documents
        expires after: 10 days
        on answer: review
        on expiry: lapsed
      hold:
        kind: wait
        any of:
          - {event: payment_received, to: review}
          - {after: 30 days, to: lapsed}
      approve:
        kind: approval
        title: {en: Approve}
        role: reviewer
        outcomes: {approve: approved, deny: denied}
      approved: {kind: end, outcome: approved, notice: approval}
      denied: {kind: end, outcome: denied}
      lapsed: {kind: end, outcome: lapsed}
    """,
    extra_files={
        "notices/welcome.en.md": "# We have your application.",
        "notices/request_documents.en.md": "# Please send your pay slips.",
        "notices/approval.en.md": "# Approved.",
        "notices/escalation.en.md": "# A case needs attention.",
    },
)


def failures(scenario: str, definition: engine.Definition = DEFINITION) -> list[str]:
    return play(definition, scenario).failures


def load_problems(text: str, files: Mapping[str, str] | None = None) -> list[str]:
    with pytest.raises(engine.DefinitionError) as caught:
        load_scenario("scenario.yaml", textwrap.dedent(text), files or {})
    return [str(problem) for problem in caught.value.problems]


# ---------------------------------------------------------------- reading a scenario file


def test_a_scenario_that_is_not_a_mapping_is_refused():
    assert load_problems("- ana completes review: approve\n") == [
        "scenario.yaml:1:1: invalid_type: a scenario is a mapping"
    ]


def test_every_mistake_in_a_scenario_file_is_reported_at_once():
    text = """\
name: Broken
answer: {}
submitted at: next monday
actors: [ana]
do:
  - ana completes review: approve
  - 5
  - {}
expect:
  outcom: approved
  path: review
  data: [approved]
"""
    assert load_problems(text) == [
        "scenario.yaml:2:9: unknown_key: unknown key 'answer'; expected one of: actors, answers, do, expect, name, "
        "submission, submitted at",
        "scenario.yaml:1:1: missing_key: give the submission: submission: examples/x.json, or answers: {...}",
        "scenario.yaml:3:15: invalid_date: submitted at is a date and time like 2026-03-02T10:00",
        "scenario.yaml:4:9: invalid_type: actors maps people to roles: {ana: eligibility_worker}",
        "scenario.yaml:7:5: invalid_action: each action is one line, e.g. ana completes review: approve",
        "scenario.yaml:8:5: invalid_action: each action is one line, e.g. ana completes review: approve",
        "scenario.yaml:10:11: unknown_key: unknown key 'outcom'; expected one of: data, deadlines, notices to "
        "citizen, outcome, path, priority, refused, status",
        "scenario.yaml:11:9: invalid_type: expect path is a list",
        "scenario.yaml:12:9: invalid_type: expect data is a mapping",
    ]


def test_do_and_expect_of_the_wrong_shape_are_refused():
    assert load_problems("answers: {}\ndo: ana completes review\nexpect: approved\n") == [
        "scenario.yaml:2:5: invalid_type: do lists the actions in order",
        "scenario.yaml:3:9: invalid_type: expect maps what to check to its value",
    ]


def test_the_submission_must_be_a_json_file_of_the_program():
    assert load_problems("submission: examples/valid.json\n") == [
        "scenario.yaml:1:13: unknown_file: 'examples/valid.json' is not a file of this program",
        "scenario.yaml:1:1: missing_key: give the submission: submission: examples/x.json, or answers: {...}",
    ]
    assert load_problems("submission: examples/valid.json\n", {"examples/valid.json": "{name: 1}"}) == [
        "scenario.yaml:1:13: json_syntax: examples/valid.json: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "scenario.yaml:1:1: missing_key: give the submission: submission: examples/x.json, or answers: {...}",
    ]


def test_a_yaml_mistake_in_a_scenario_is_located():
    assert load_problems("answers: {}\ndo:\n  - [ana\n") == [
        "scenario.yaml:4:1: yaml_syntax: while parsing a flow sequence expected ',' or ']', but got '<stream end>'"
    ]


def test_a_well_formed_scenario_reads_as_written():
    scenario = load_scenario(
        "scenarios/approve.yaml",
        "submission: examples/valid.json\nsubmitted at: 2026-03-02T10:00:00-08:00\n"
        "actors: {ana: clerk, sam: [supervisor, clerk]}\ndo:\n  - expect task: review\n  - citizen withdraws\n",
        {"examples/valid.json": json.dumps({"name": "Ana"})},
    )
    assert scenario.name == "scenarios/approve.yaml"  # no name: the file stands for it
    assert scenario.answers == {"name": "Ana"}
    assert scenario.submitted_at is not None
    assert scenario.submitted_at.isoformat() == "2026-03-02T10:00:00-08:00"
    assert scenario.actors == {"ana": ("clerk",), "sam": ("supervisor", "clerk")}
    assert scenario.actions == ((5, {"expect task": "review"}), (6, {"citizen withdraws": None}))
    assert (scenario.expect, scenario.expect_line) == ({}, 1)


# ---------------------------------------------------------------- the submission


def test_an_invalid_submission_fails_before_anything_happens():
    def validate(schema: Mapping[str, Any], answers: Any) -> list[str]:
        return [] if "name" in answers else ["/: name is required", "/age: must be a number"]

    scenario = load_scenario("scenario.yaml", "answers: {age: old}\nexpect: {outcome: approved}\n", {})
    result = run_scenario(DEFINITION, scenario, validate=validate)
    assert result.failures == [
        "scenario.yaml:1: the submission is not valid: /: name is required",
        "scenario.yaml:1: the submission is not valid: /age: must be a number",
    ]
    assert (result.passed, result.state, result.trace) == (False, None, [])
    valid = load_scenario("scenario.yaml", "answers: {name: Ana}\n", {})
    assert run_scenario(DEFINITION, valid, validate=validate).passed


# ---------------------------------------------------------------- actions


def test_a_whole_story_plays_through_every_kind_of_action():
    result = passes(
        DEFINITION,
        f"""
        name: Documents go missing, then the payment arrives and the case is approved
        answers: {{name: Ana}}
        submitted at: 2026-03-02T10:00:00-08:00
        {ACTORS}
        do:
          - expect notice: welcome
          - ana claims review
          - ana releases review
          - ben claims review
          - ben delegates review to ana
          - sam reassigns review to ben
          - ben suspends review
          - ben resumes review
          - ben completes review: missing
            with: {{note: no pay slips}}
          - expect notice: request_documents
          - expect data: {{review.note: no pay slips}}
          - advance: 2 business days
          - citizen answers ask: {{pay_slips: uploaded}}
          - expect deadline: {{decision: 2026-03-17}}
          - ana completes review: hold
          - event: payment_received
            with: {{amount: 25}}
          - extend clock: {{decision: 2 business days}}
          - expect deadline: {{decision: 2026-03-19}}
          - ana completes review: approve
          - rita completes approve: approve
        expect:
          outcome: approved
          status: closed
          path: [welcome, review, ask, review, hold, review, approve, approved]
          data: {{payment_received.amount: 25, ask.pay_slips: uploaded}}
          notices to citizen: [welcome, request_documents, approval]
          deadlines: {{decision: 2026-03-19}}
          priority: normal
        """,
    )
    assert result.state is not None
    assert result.state.completed_by == {"review": "ana", "approve": "rita"}
    assert result.trace[:4] == [
        "[2026-03-02 10:00] timer set: clock_warn at 2026-03-12 23:59",
        "[2026-03-02 10:00] timer set: clock_breach at 2026-03-16 23:59",
        "[2026-03-02 10:00] notice welcome to citizen",
        "[2026-03-02 10:00] task opened: review for clerk",
    ]
    # Two business days waiting for the citizen (Monday's and Tuesday's) do not count.
    assert "[2026-03-04 23:59] timer set: clock_breach at 2026-03-17 23:59" in result.trace


def test_time_passes_to_a_moment_and_every_timer_on_the_way_fires_at_its_own_time():
    result = passes(
        DEFINITION,
        f"""
        answers: {{}}
        submitted at: 2026-03-02T10:00:00-08:00
        {ACTORS}
        do:
          - advance to: 2026-03-13T09:00
          - expect notice to: {{supervisor: escalation}}
          - ana completes review: missing
          - advance to: 2026-03-24T12:00:00-07:00
          - cancel case: too late
            expect error: case_not_running
        expect: {{outcome: lapsed, priority: high}}
        """,
    )
    assert (
        "[2026-03-12 23:59] escalated: " + json.dumps({"escalation": "hurry", "reason": "clock decision warn"})
        in result.trace
    )
    assert "[2026-03-13 09:00] task done: review -> missing by ana" in result.trace
    assert "[2026-03-23 09:00] case closed: lapsed" in result.trace


def test_cancelling_a_task_and_withdrawing_are_recorded_in_the_trace():
    result = passes(
        DEFINITION,
        f"answers: {{}}\n{ACTORS}\ndo:\n  - sam cancels review\n  - expect no task\nexpect: {{outcome: completed}}",
    )
    assert "[2026-01-05 09:00] task cancelled: review (cancelled by sam)" in result.trace
    withdrawn = passes(DEFINITION, "answers: {}\ndo:\n  - citizen withdraws\nexpect: {outcome: withdrawn}")
    assert withdrawn.trace[-1] == "[2026-01-05 09:00] case closed: withdrawn"
    cancelled = passes(DEFINITION, "answers: {}\ndo:\n  - cancel case: duplicate\nexpect: {outcome: cancelled}")
    assert cancelled.trace[-1] == "[2026-01-05 09:00] case closed: cancelled"


def test_a_person_acts_only_on_tasks_for_their_roles_and_only_on_open_tasks():
    assert failures(f"answers: {{}}\n{ACTORS}\ndo:\n  - rita completes review: approve\n") == [
        "scenario.yaml:4: rita completes review: rita is not a clerk"
    ]
    assert failures(f"answers: {{}}\n{ACTORS}\ndo:\n  - rita completes approve: approve\n") == [
        "scenario.yaml:4: rita completes approve: there is no open task at 'approve'"
    ]
    assert failures("answers: {}\ndo:\n  - nobody completes review: approve\n") == [
        "scenario.yaml:3: nobody completes review: nobody is not a clerk"
    ]


def test_a_line_that_is_not_an_action_fails_on_its_line():
    assert failures(
        "answers: {}\ndo:\n  - ana approves review\n  - {ana completes review: approve, ben completes review: approve}\n"
    ) == [
        "scenario.yaml:3: ana approves review: cannot read 'ana approves review'; see the scenario reference for "
        "the actions",
        "scenario.yaml:4: an action says one thing, e.g. 'ana completes review: approve'",
    ]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            "advance: soon",
            "advance: 'soon' is not a duration: write a number and a unit, for example "
            '"10 business days" or "30 days"',
        ),
        ("advance to: next week", "advance to: 'next week' is not a date and time like 2026-03-20T09:00:00-07:00"),
        ("expect tasks: review", "expect tasks: needs a mapping like {name: value}, not 'review'"),
        ("expect data: approved", "expect data: needs a mapping like {name: value}, not 'approved'"),
        ("expect deadline: 2026-03-16", "expect deadline: needs a mapping like {name: value}, not '2026-03-16'"),
        ("extend clock: 10 days", "extend clock: needs a mapping like {name: value}, not '10 days'"),
        (
            "extend clock: {decision: soon}",
            "extend clock: 'soon' is not a duration: write a number and a unit, for "
            'example "10 business days" or "30 days"',
        ),
        (
            "extend clock: {decision: 5 days}",
            "extend clock: a clock of 10 business days is extended in business days, not by 5 days",
        ),
        ("event: payment_received\n    with: 25", "event: with needs a mapping like {name: value}, not 25"),
        (
            "ana completes review: approve\n    with: [note]",
            "ana completes review: with needs a mapping like {name: value}, not ['note']",
        ),
    ],
    ids=[
        "advance",
        "advance-to",
        "expect-tasks",
        "expect-data",
        "expect-deadline",
        "extend-clock",
        "extend-clock-duration",
        "extend-clock-units",
        "event-with",
        "completes-with",
    ],
)
def test_an_action_with_an_argument_it_cannot_use_fails_on_its_line(action: str, expected: str):
    assert failures(f"answers: {{}}\n{ACTORS}\ndo:\n  - {action}\n") == [f"scenario.yaml:4: {expected}"]


def test_a_citizen_answer_must_be_a_mapping_and_go_to_an_open_request():
    scenario = f"answers: {{}}\n{ACTORS}\ndo:\n  - ana completes review: missing\n  - citizen answers ask: yes please\n"
    assert failures(scenario) == [
        "scenario.yaml:5: citizen answers ask: needs a mapping like {name: value}, not 'yes please'"
    ]
    assert failures("answers: {}\ndo:\n  - citizen answers ask: {pay_slips: uploaded}\n") == [
        "scenario.yaml:3: citizen answers ask: there is no open task at 'ask'"
    ]


# ---------------------------------------------------------------- expect error


def test_expect_error_passes_when_the_action_is_refused_with_that_code():
    passes(
        DEFINITION,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana claims review
          - ben completes review: approve
            expect error: not_assignee
          - rita completes review: approve
            expect error: not_allowed
          - ana completes approve: approve
            expect error: no_task
          - event: payment_received
            expect error: not_waiting
          - ana reviews everything:
            expect error: unknown_action
          - ana completes review: maybe
            expect error: unknown_outcome
        expect: {{status: running}}
        """,
    )


def test_expect_error_fails_when_another_error_comes_or_none_at_all():
    scenario = f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana claims review
          - ben completes review: approve
            expect error: task_suspended
          - rita completes review: approve
            expect error: no_task
          - ana completes review: approve
            expect error: not_assignee
    """
    assert failures(textwrap.dedent(scenario)) == [
        "scenario.yaml:6: ben completes review: not_assignee: the task is assigned to ana; ben cannot act on it",
        "scenario.yaml:8: rita completes review: rita is not a clerk",
        "scenario.yaml:10: ana completes review: expected error not_assignee, but it succeeded",
    ]


# ---------------------------------------------------------------- checks along the way


def test_each_check_along_the_way_says_what_it_found_when_it_fails():
    scenario = f"""\
answers: {{income: 2500.27}}
{ACTORS}
do:
  - expect task: [review, approve]
  - expect tasks: {{review: 2, approve: 0}}
  - expect no task
  - expect notice: [welcome, approval]
  - expect notice to: {{supervisor: escalation}}
  - expect notice to: supervisor
  - expect data: {{income: 2500.3, name: Ana, review.outcome: approve}}
  - expect outcome: approved
  - expect deadline: {{decision: 2026-01-16, appeal: 2026-02-01}}
"""
    assert failures(scenario) == [
        "scenario.yaml:4: expected an open task at 'approve'; open: review",
        "scenario.yaml:5: expected 2 open task(s) at 'review', found 1",
        "scenario.yaml:6: expected no open task; open: review",
        "scenario.yaml:7: expected notice approval to citizen; sent since the last check: welcome to citizen",
        "scenario.yaml:8: expected notice escalation to supervisor; sent since the last check: none",
        "scenario.yaml:9: expected notice any to supervisor; sent since the last check: none",
        "scenario.yaml:10: expected name = 'Ana', got None",
        "scenario.yaml:10: expected review.outcome = 'approve', got None",
        "scenario.yaml:11: expected outcome 'approved', got None",
        "scenario.yaml:12: expected clock decision due on 2026-01-16, got 2026-01-19",
        "scenario.yaml:12: expected clock appeal due on 2026-02-01, got None",
    ]


def test_the_checks_along_the_way_pass_when_the_case_matches():
    passes(
        DEFINITION,
        f"""
        answers: {{income: 2500.27, household: {{members: [{{age: 40}}, {{age: 9}}]}}}}
        {ACTORS}
        do:
          - expect task: review
          - expect tasks: {{review: 1, approve: 0}}
          - expect notice: welcome
          - expect data: {{income: 2500.3, household.members.1.age: 9, household.members.2.age: null, income.cents: null}}
          - expect outcome: null
          - ana completes review: approve
          - expect task: [approve]
          - advance: 9 business days
          - expect notice to: supervisor
          - rita completes approve: deny
          - expect no task
          - expect notice: []
        expect: {{outcome: denied, priority: high}}
        """,
    )


def test_no_task_is_open_before_the_case_is_submitted_or_after_it_closes():
    assert failures("answers: {}\ndo:\n  - citizen withdraws\n  - expect task: review\n") == [
        "scenario.yaml:4: expected an open task at 'review'; open: none"
    ]


# ---------------------------------------------------------------- expectations at the end


def test_each_expectation_at_the_end_says_what_it_found_when_it_fails():
    scenario = f"""\
answers: {{income: 10}}
{ACTORS}
do:
  - ana completes review: approve
expect:
  outcome: approved
  status: closed
  path: [review, approve]
  data: {{income: 11}}
  notices to citizen: [approval]
  deadlines: {{decision: 2026-01-20}}
  priority: urgent
"""
    assert failures(scenario) == [
        "scenario.yaml:6: expected outcome 'approved', got still running, waiting at approve",
        "scenario.yaml:6: expected the case to be closed, it is running",
        "scenario.yaml:6: expected path ['review', 'approve'], got ['welcome', 'review', 'approve']",
        "scenario.yaml:6: expected income = 11, got 10",
        "scenario.yaml:6: expected notices to the citizen ['approval'], got ['welcome']",
        "scenario.yaml:6: expected clock decision due on 2026-01-20, got 2026-01-19",
        "scenario.yaml:6: expected priority urgent, got normal",
    ]


def test_a_closed_case_with_another_outcome_names_it():
    scenario = f"answers: {{}}\n{ACTORS}\ndo:\n  - citizen withdraws\nexpect:\n  outcome: approved\n"
    assert failures(scenario) == ["scenario.yaml:6: expected outcome 'approved', got 'withdrawn'"]
    nothing_open = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [a, b]}
          a: {kind: wait, event: paid, next: done}
          b: {kind: finish}
          done: {kind: end, outcome: paid}
        """
    )
    assert failures("answers: {}\nexpect: {outcome: paid}\n", nothing_open) == [
        "scenario.yaml:2: expected outcome 'paid', got still running, waiting at a"
    ]


def test_a_result_passes_only_without_failures():
    scenario = load_scenario("scenario.yaml", "answers: {}\nexpect: {status: running}\n", {})
    result = run_scenario(DEFINITION, scenario)
    assert isinstance(result, Result)
    assert (result.passed, result.failures) == (True, [])
    assert result.state is not None
    assert result.state.status == "running"
