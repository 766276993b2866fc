"""Moving a running case to another version of its program: what is rewritten, what is refused.

Each test builds an old and a new version from inline YAML, drives a case on the old one with
``engine.step``, migrates its state, and (where the move is allowed) finishes the case on the
new version, as a caseworker would notice it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import engine
from engine.migration import check_step_map, migrate_state, parse_step_map
from tests.engine.programs import program

TZ = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
LATER = MONDAY + timedelta(hours=2)

V1 = """
start: review
steps:
  review:
    kind: task
    title: {en: Review}
    role: clerk
    outcomes: {approve: second, deny: refused}
  second:
    kind: task
    title: {en: Second look}
    role: reviewer
    outcomes: {done: route}
  route:
    kind: decide
    routes:
      - {when: review.outcome == "approve", to: issued}
      - {to: refused}
  issued: {kind: end, outcome: issued}
  refused: {kind: end, outcome: refused}
"""
# v2: "review" is now "first_review", and the decision reads the record under its new name.
V2 = (
    V1.replace("start: review", "start: first_review")
    .replace("  review:\n", "  first_review:\n")
    .replace("review.outcome", "first_review.outcome")
)


def submit(definition: engine.Definition, answers: Mapping[str, Any] | None = None) -> engine.CaseState:
    state, _ = engine.step(definition, engine.new_state(definition), engine.Submitted(dict(answers or {})), MONDAY)
    return state


def complete(
    definition: engine.Definition, state: engine.CaseState, step: str, outcome: str, actor: str
) -> engine.CaseState:
    token = next(token for token in state.tokens if token.step == step)
    state, _ = engine.step(definition, state, engine.TaskCompleted(token.id, outcome, actor), LATER)
    return state


def codes(problems: list[engine.MigrationProblem]) -> list[str]:
    return [problem.code for problem in problems]


def test_a_renamed_step_is_renamed_everywhere_the_case_names_it_and_the_case_finishes_on_the_new_version():
    old, new = program(V1), program(V2)
    state = complete(old, submit(old), "review", "approve", "ana")  # now waiting at "second"

    moved, problems = migrate_state(state, old, new, {"review": "first_review"})

    assert problems == []
    assert moved.definition_hash == new.content_hash
    assert [token.step for token in moved.tokens] == ["second"]
    assert dict(moved.completed_by) == {"first_review": "ana"}
    assert moved.path == ("first_review", "second")
    assert moved.data["first_review"] == {"outcome": "approve"}
    assert "review" not in moved.data
    # The new version's decision reads "first_review.outcome": the record moved with the step.
    done = complete(new, moved, "second", "done", "ben")
    assert (done.status, done.outcome) == ("closed", "issued")


def test_the_migrated_state_survives_a_json_round_trip():
    old, new = program(V1), program(V2)
    moved, _ = migrate_state(submit(old), old, new, {"review": "first_review"})
    assert engine.CaseState.from_json(moved.to_json()) == moved


def test_a_token_at_a_step_the_new_version_does_not_have_is_refused_and_nothing_changes():
    old, new = program(V1), program(V2)
    state = submit(old)  # waiting at "review", which v2 calls "first_review"

    moved, problems = migrate_state(state, old, new, {})

    assert moved is state
    assert codes(problems) == ["step_missing"]
    assert "token 1 is at 'review'; the new version has no step 'review'" in problems[0].message


def test_a_token_at_a_step_of_another_kind_is_refused():
    old = program(V1)
    new = program(
        V1.replace(
            "  second:\n    kind: task\n    title: {en: Second look}\n    role: reviewer\n    outcomes: {done: route}",
            "  second:\n    kind: wait\n    for: 1 day\n    next: route",
        )
    )
    state = complete(old, submit(old), "review", "approve", "ana")

    moved, problems = migrate_state(state, old, new, {})

    assert moved is state
    assert codes(problems) == ["step_kind_changed"]
    assert "task there and a wait" in problems[0].message


def test_an_open_task_whose_role_changed_is_refused_rather_than_given_to_someone_else():
    old = program(V1)
    new = program(V1.replace("role: reviewer", "role: supervisor"))
    state = complete(old, submit(old), "review", "approve", "ana")

    moved, problems = migrate_state(state, old, new, {})

    assert moved is state
    assert codes(problems) == ["role_changed"]
    assert "its open task is for reviewer, and the new version gives that task to supervisor" in problems[0].message


def test_a_role_changed_on_a_step_no_case_waits_at_does_not_stop_the_move():
    old = program(V1)
    new = program(V1.replace("role: reviewer", "role: supervisor"))
    moved, problems = migrate_state(submit(old), old, new, {})  # waiting at "review", whose role is kept
    assert problems == []
    assert moved.definition_hash == new.content_hash


@pytest.mark.parametrize(
    ("step_map", "says"),
    [
        ({"reveiw": "first_review"}, "the old version has no step 'reveiw'"),
        ({"review": "frist_review"}, "'frist_review', which the new version does not have"),
        ({"nowhere/review": "first_review"}, "no step 'review' in sub-workflow 'nowhere'"),
    ],
)
def test_a_map_naming_steps_that_do_not_exist_is_refused(step_map, says):
    old, new = program(V1), program(V2)
    state = submit(old)
    moved, problems = migrate_state(state, old, new, step_map)
    assert moved is state
    assert "map_unknown_step" in codes(problems)
    assert any(says in problem.message for problem in problems), problems


def test_two_old_steps_becoming_one_new_step_is_refused():
    old = program(V1)
    new = program(V1.replace("title: {en: Review}", "title: {en: Check}"))
    assert check_step_map(old, new, {}) == []

    state = submit(old)
    moved, problems = migrate_state(state, old, new, {"review": "second"})

    assert moved is state
    assert codes(problems) == ["map_merges_steps"]
    assert "'review' and 'second' would become 'second'" in problems[0].message


def test_swapping_two_names_is_a_rename_not_a_merge():
    old = program(V1)
    swapped = (
        V1.replace("start: review", "start: second")
        .replace("  review:\n", "  TMP:\n")
        .replace("  second:\n", "  review:\n")
        .replace("  TMP:\n", "  second:\n")
        .replace("outcomes: {approve: second,", "outcomes: {approve: review,")
        .replace("review.outcome", "second.outcome")
    )
    new = program(swapped)
    state = submit(old)
    moved, problems = migrate_state(state, old, new, {"review": "second", "second": "review"})
    assert problems == []
    assert [token.step for token in moved.tokens] == ["second"]
    after = complete(new, moved, "second", "approve", "ana")
    assert [token.step for token in after.tokens] == ["review"]


def test_only_running_cases_on_the_old_version_move():
    old, new = program(V1), program(V2)
    closed = complete(old, submit(old), "review", "deny", "ana")
    _, problems = migrate_state(closed, old, new, {"review": "first_review"})
    assert codes(problems) == ["case_not_running"]

    on_new = submit(new)
    _, problems = migrate_state(on_new, old, new, {"review": "first_review"})
    assert codes(problems) == ["wrong_definition"]

    _, problems = migrate_state(submit(old), old, old, {})
    assert codes(problems) == ["same_version"]


def test_an_answer_named_like_a_step_keeps_its_name():
    """The form has a field "name"; a step called "name" is renamed, the citizen's answer is not."""
    named = V1.replace("start: review", "start: name").replace("  review:\n", "  name:\n")
    old = program(named.replace("review.outcome", "name.outcome"))
    new = program(
        named.replace("start: name", "start: first_look")
        .replace("  name:\n", "  first_look:\n")
        .replace("review.outcome", "first_look.outcome")
    )
    state = submit(old, {"name": "Ana Lima"})

    moved, problems = migrate_state(state, old, new, {"name": "first_look"})

    assert problems == []
    assert moved.data["name"] == "Ana Lima"
    assert [token.step for token in moved.tokens] == ["first_look"]


def test_a_parallel_split_and_its_join_keep_counting_after_a_rename():
    old = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [check_id, check_income]}
          check_id: {kind: task, title: {en: Check ID}, role: clerk, outcomes: {done: both}}
          check_income: {kind: task, title: {en: Check income}, role: reviewer, outcomes: {done: both}}
          both: {kind: join, joins: split, wait for: all, next: finished}
          finished: {kind: end, outcome: checked}
        """
    )
    new = program(
        """
        start: checks
        steps:
          checks: {kind: parallel, branches: [verify_id, check_income]}
          verify_id: {kind: task, title: {en: Verify ID}, role: clerk, outcomes: {done: both}}
          check_income: {kind: task, title: {en: Check income}, role: reviewer, outcomes: {done: both}}
          both: {kind: join, joins: checks, wait for: all, next: finished}
          finished: {kind: end, outcome: checked}
        """
    )
    state = complete(old, submit(old), "check_income", "done", "ben")  # one branch in, one open

    moved, problems = migrate_state(state, old, new, {"split": "checks", "check_id": "verify_id"})

    assert problems == []
    assert [group.step for group in moved.groups] == ["checks"]
    assert [token.step for token in moved.tokens] == ["verify_id"]
    done = complete(new, moved, "verify_id", "done", "ana")
    assert (done.status, done.outcome) == ("closed", "checked")


def test_a_token_held_at_a_join_that_waits_for_another_split_in_the_new_version_is_refused():
    workflow = """
        start: split
        steps:
          split: {kind: parallel, branches: [a, b]}
          other: {kind: parallel, branches: [a, b]}
          a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: both}}
          b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: both}}
          both: {kind: join, joins: split, wait for: first, block: true, next: c}
          c: {kind: task, title: {en: C}, role: clerk, outcomes: {done: finished, again: other}}
          finished: {kind: end, outcome: done}
        """
    old = program(workflow)
    state = submit(old)
    # A blocking join holds a token while an earlier round is still running.
    held = replace(state, tokens=(*state.tokens, engine.Token(id=99, flow="", step="both", blocked=True)))

    moved, problems = migrate_state(held, old, program(workflow.replace("joins: split", "joins: other")), {})

    assert moved is held
    assert codes(problems) == ["join_changed"]
    assert "waits for 'other' in the new version, not 'split'" in problems[0].message
    _, problems = migrate_state(held, old, program(workflow.replace("title: {en: C}", "title: {en: See}")), {})
    assert problems == []


def test_a_panel_half_way_through_its_votes_moves_and_decides_on_the_new_version():
    panel = """
        start: board
        steps:
          board:
            kind: approval
            title: {{en: Board vote}}
            role: board_member
            panel: {{size: 3, quorum: 2}}
            outcomes: {{approve: approved, deny: denied}}
          approved: {{kind: end, outcome: {approved}}}
          denied: {{kind: end, outcome: denied}}
        """
    old = program(panel.format(approved="approved"))
    new = program(
        panel.format(approved="granted").replace("board:", "board_vote:").replace("start: board", "start: board_vote")
    )
    state = complete(old, submit(old), "board", "approve", "ana")

    moved, problems = migrate_state(state, old, new, {"board": "board_vote"})

    assert problems == []
    assert {group.kind: group.step for group in moved.groups} == {"panel": "board_vote"}
    assert moved.data["board_vote_votes"] == [{"outcome": "approve", "by": "ana"}]
    done = complete(new, moved, "board_vote", "approve", "ben")
    assert (done.status, done.outcome) == ("closed", "granted")


def test_a_panel_turned_into_a_one_person_approval_is_refused():
    old = program(
        """
        start: board
        steps:
          board:
            kind: approval
            title: {en: Board vote}
            role: board_member
            panel: {size: 3, quorum: 2}
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    new = program(
        """
        start: board
        steps:
          board:
            kind: approval
            title: {en: Board vote}
            role: board_member
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    state = submit(old)
    moved, problems = migrate_state(state, old, new, {})
    assert moved is state
    assert set(codes(problems)) == {"panel_changed"}


def test_an_approval_chain_whose_next_level_changed_role_is_refused():
    chain = """
        start: sign_off
        steps:
          sign_off:
            kind: approval
            title: {{en: Sign off}}
            levels: [{levels}]
            outcomes: {{approve: done, deny: done}}
          done: {{kind: end, outcome: done}}
        """
    old = program(chain.format(levels="reviewer, supervisor"))
    state = complete(old, submit(old), "sign_off", "approve", "ana")  # now at level 2: supervisor
    assert [token.level for token in state.tokens] == [1]

    _, problems = migrate_state(state, old, program(chain.format(levels="reviewer, manager")), {})
    assert codes(problems) == ["role_changed"]
    assert "level 2 of its approval chain" in problems[0].message

    _, problems = migrate_state(state, old, program(chain.format(levels="reviewer")), {})
    assert codes(problems) == ["role_changed"]
    assert "nobody (the chain is shorter)" in problems[0].message


def test_a_wait_whose_timer_would_point_at_an_event_trigger_is_refused():
    wait = """
        start: cooling_off
        steps:
          cooling_off:
            kind: wait
            any of: [{triggers}]
          review: {{kind: task, title: {{en: Review}}, role: clerk, outcomes: {{done: finished}}}}
          finished: {{kind: end, outcome: done}}
        """
    old = program(wait.format(triggers="{after: 1 day, to: review}, {event: skip_wait, to: review}"))
    state = submit(old)
    swapped = program(wait.format(triggers="{event: skip_wait, to: review}, {after: 1 day, to: review}"))

    _, problems = migrate_state(state, old, swapped, {})

    assert codes(problems) == ["wait_changed"]
    assert "trigger number 1, which in the new version is an event ('skip_wait')" in problems[0].message

    longer = program(wait.format(triggers="{after: 2 days, to: review}, {event: skip_wait, to: review}"))
    moved, problems = migrate_state(state, old, longer, {})
    assert problems == []
    assert moved.timers == state.timers  # the timer keeps its moment: due dates are not recomputed


def test_a_running_clock_the_new_version_dropped_is_refused_and_a_new_clock_is_a_warning():
    with_clock = V1.replace(
        "start: review\n", "start: review\nclocks:\n  decision: {limit: 10 business days, starts: on submit}\n"
    )
    old, new = program(with_clock), program(V1)
    state = submit(old)
    assert "decision" in state.clocks

    moved, problems = migrate_state(state, old, new, {})
    assert moved is state
    assert codes(problems) == ["clock_missing"]

    plain = program(V1)
    moved, problems = migrate_state(submit(plain), plain, old, {})
    assert [(problem.code, problem.severity) for problem in problems] == [("clock_not_started", "warning")]
    assert moved.definition_hash == old.content_hash  # a warning does not stop the move
    assert str(problems[0]).startswith("warning: clock_not_started: ")


def test_a_token_in_a_sub_workflow_moves_with_a_flow_qualified_name():
    workflow = """
        start: inspection
        subworkflows:
          site_visit:
            start: {visit}
            steps:
              {visit}: {{kind: task, title: {{en: Visit}}, role: clerk, outcomes: {{pass: passed, fail: failed}}}}
              passed: {{kind: end, outcome: passed}}
              failed: {{kind: end, outcome: failed}}
        steps:
          inspection: {{kind: subworkflow, run: site_visit, outcomes: {{passed: issue, failed: refuse}}}}
          issue: {{kind: end, outcome: issued}}
          refuse: {{kind: end, outcome: refused}}
        """
    old, new = program(workflow.format(visit="visit")), program(workflow.format(visit="inspect"))
    state = submit(old)

    moved, problems = migrate_state(state, old, new, {"site_visit/visit": "inspect"})

    assert problems == []
    assert [(token.flow, token.step) for token in moved.tokens] == [("site_visit", "inspect")]
    assert moved.path == ("inspection", "site_visit/inspect")
    done = complete(new, moved, "inspect", "pass", "ana")
    assert (done.status, done.outcome) == ("closed", "issued")

    _, problems = migrate_state(state, old, new, {"visit": "inspect"})  # not a main-workflow step
    assert codes(problems) == ["map_unknown_step", "map_unknown_step"]


SUB_WORKFLOW_SAME_NAME = """
    start: visit
    subworkflows:
      site_visit:
        start: visit
        steps:
          visit: {kind: task, title: {en: Visit}, role: clerk, outcomes: {pass: passed, fail: failed}}
          passed: {kind: end, outcome: passed}
          failed: {kind: end, outcome: failed}
      {other}:
        start: visit
        steps:
          visit: {kind: task, title: {en: Visit}, role: clerk, outcomes: {pass: passed}}
          passed: {kind: end, outcome: passed}
    steps:
      visit: {kind: task, title: {en: Book the visit}, role: clerk, outcomes: {done: inspection}}
      inspection: {kind: subworkflow, run: {run}, outcomes: {passed: issue, failed: refuse}}
      issue: {kind: end, outcome: issued}
      refuse: {kind: end, outcome: refused}
    """


def sub_workflows(other: str = "desk_check", run: str = "site_visit", visit: str = "visit") -> engine.Definition:
    return program(
        SUB_WORKFLOW_SAME_NAME.replace("{other}", other)
        .replace("{run}", run)
        .replace(
            "site_visit:\n        start: visit\n        steps:\n          visit:",
            f"site_visit:\n        start: {visit}\n        steps:\n          {visit}:",
        )
    )


def test_a_step_name_shared_by_two_flows_and_renamed_in_one_only_is_refused_where_the_case_used_it():
    old = sub_workflows()
    new = sub_workflows(visit="inspect")
    state = complete(old, submit(old), "visit", "done", "ana")  # main "visit" done; now at site_visit/visit
    assert [(token.flow, token.step) for token in state.tokens] == [("site_visit", "visit")]

    moved, problems = migrate_state(state, old, new, {"site_visit/visit": "inspect"})

    assert moved is state
    assert codes(problems) == ["step_name_ambiguous", "step_name_ambiguous"]
    assert "who did 'visit' cannot be told apart" in problems[0].message
    assert "the case data 'visit' cannot be told apart" in problems[1].message


def test_a_case_inside_a_sub_workflow_the_new_version_dropped_or_replaced_is_refused():
    old = sub_workflows()
    state = complete(old, submit(old), "visit", "done", "ana")

    _, problems = migrate_state(state, old, sub_workflows(other="desk_check", run="desk_check"), {})
    assert codes(problems) == ["subworkflow_changed"]
    assert "it runs 'site_visit' there and 'desk_check' in the new version" in problems[0].message

    renamed_flow = program(
        SUB_WORKFLOW_SAME_NAME.replace("{other}", "desk_check")
        .replace("{run}", "visit_site")
        .replace("      site_visit:", "      visit_site:")
    )
    _, problems = migrate_state(state, old, renamed_flow, {})
    assert codes(problems) == ["flow_missing", "subworkflow_changed"]
    assert "token 3 is in sub-workflow 'site_visit', which the new version does not have" in problems[0].message


def test_a_new_name_already_used_in_the_case_data_is_refused():
    old, new = program(V1), program(V2)
    state = complete(old, submit(old, {"first_review": "kept by an earlier step"}), "review", "approve", "ana")

    moved, problems = migrate_state(state, old, new, {"review": "first_review"})

    assert moved is state
    assert codes(problems) == ["data_key_taken"]
    assert "both the case data 'first_review' and 'review' would be 'first_review'" in problems[0].message


def test_moving_the_same_state_twice_gives_the_same_result():
    old, new = program(V1), program(V2)
    state = complete(old, submit(old), "review", "approve", "ana")
    assert migrate_state(state, old, new, {"review": "first_review"}) == migrate_state(
        state, old, new, {"review": "first_review"}
    )


# ------------------------------------------------------------------ the map file


def test_a_step_map_file_is_read_safely_and_every_mistake_is_located():
    assert parse_step_map("map.yaml", "steps:\n  review: first_review\n  site_visit/visit: inspect\n") == {
        "review": "first_review",
        "site_visit/visit": "inspect",
    }
    assert parse_step_map("map.yaml", "") == {}

    with pytest.raises(engine.DefinitionError) as raised:
        parse_step_map("map.yaml", "steps:\n  review: First Review\n  Bad-Name: x\nrenames: {}\n")
    assert [str(problem) for problem in raised.value.problems] == [
        "map.yaml:4:10: unknown_key: unknown key 'renames'; a step map has only 'steps'",
        "map.yaml:2:11: invalid_name: the new name of 'review' must be a snake_case step name, not 'First Review'",
        "map.yaml:3:13: invalid_name: 'Bad-Name' is not a step name (snake_case, or flow/step)",
    ]

    with pytest.raises(engine.DefinitionError, match="yaml_anchor"):
        parse_step_map("map.yaml", "steps:\n  a: &x b\n  c: *x\n")
    with pytest.raises(engine.DefinitionError, match="steps maps each old step name"):
        parse_step_map("map.yaml", "steps: [review]\n")
