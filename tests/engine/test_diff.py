"""Definition diffs: what changed between two versions, in words, and which running cases it touches."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from engine.diff import Change, DefinitionDiff, affected, describe, diff, form_fields
from engine.loading import load
from engine.model import Definition
from engine.runtime import CaseState, Token

PROGRAM = """\
id: library-card
title: {en: Library card}
agency: city-library
reference prefix: AB
roles: [librarian, clerk]
"""

FIELDS: dict[str, Any] = {
    "full_name": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "household": {
        "type": "object",
        "properties": {
            "members": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
            }
        },
    },
}

WORKFLOW = """\
start: review
clocks:
  decision: {limit: 10 business days, starts: on submit}
steps:
  review:
    kind: approval
    title: {en: Review the application}
    role: librarian
    outcomes: {approve: issued, deny: refused}
  issued: {kind: end, outcome: approved, notice: approval}
  refused: {kind: end, outcome: denied}
"""

TABLE = """\
title: {en: Card fee}
hit policy: unique
inputs: [age]
outputs: [fee]
versions:
  - effective from: 2025-01-01
    rows:
      - {age: "< 18", fee: 0}
      - {age: ">= 18", fee: 5}
"""


def definition(
    workflow: str = WORKFLOW,
    *,
    fields: dict[str, Any] | None = None,
    required: tuple[str, ...] = ("full_name",),
    files: dict[str, str] | None = None,
) -> Definition:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": list(required),
        "properties": FIELDS if fields is None else fields,
    }
    base = {
        "program.yaml": PROGRAM,
        "form.schema.json": json.dumps(schema),
        "workflow.yaml": textwrap.dedent(workflow),
        "notices/approval.en.md": "# Your card is ready.",
        "tables/fee.yaml": TABLE,
    }
    return load({**base, **(files or {})})


def lines(old: Definition, new: Definition) -> list[str]:
    return describe(diff(old, new)).splitlines()


def test_the_same_definition_has_no_changes():
    found = diff(definition(), definition())
    assert found.unchanged
    assert found.changes == ()
    assert describe(found) == ""


def test_moving_steps_around_the_file_is_not_a_change():
    reordered = WORKFLOW.replace(
        "  issued: {kind: end, outcome: approved, notice: approval}\n  refused: {kind: end, outcome: denied}\n",
        "  refused: {kind: end, outcome: denied}\n\n\n  issued: {kind: end, outcome: approved, notice: approval}\n",
    )
    assert reordered != WORKFLOW
    assert diff(definition(), definition(reordered)).unchanged


def test_step_changes_are_listed_in_readable_lines():
    new = """\
    start: review
    clocks:
      decision: {limit: 15 business days, starts: on submit}
    steps:
      review:
        kind: approval
        title: {en: Check the application}
        role: clerk
        due: 3 days
        outcomes:
          approve:
            - {when: "full_name != ''", to: issued}
            - {to: refused}
          deny: refused
          return: review
      issued: {kind: end, outcome: issued, notice: approval}
      refused: {kind: task, title: {en: Refuse}, role: clerk, outcomes: {done: closed}}
      closed: {kind: end, outcome: denied}
    """
    found = diff(definition(), definition(new))
    assert lines(definition(), definition(new)) == [
        "+ step 'closed' added (end)",
        "~ step 'review': title 'Review the application' -> 'Check the application'",
        "~ step 'review': role librarian -> clerk",
        "~ step 'review': outcome return added -> review",
        "~ step 'review': outcome approve issued -> issued if full_name != ''; refused",
        "~ step 'review': due none -> 3 days",
        "~ step 'issued': outcome approved -> issued",
        "~ step 'refused': kind end -> task",
        "~ step 'refused': title none -> 'Refuse'",
        "~ clock 'decision': limit 10 business days -> 15 business days",
    ]
    assert found.steps_added == ("closed",)
    assert found.steps_changed == ("review", "issued", "refused")
    assert found.clocks_changed == ("decision",)
    assert Change("step_changed", "review", "role librarian -> clerk") in found.changes


def test_a_removed_step_and_a_removed_outcome():
    new = WORKFLOW.replace("{approve: issued, deny: refused}", "{approve: issued}").replace(
        "  refused: {kind: end, outcome: denied}\n", ""
    )
    assert lines(definition(), definition(new)) == [
        "- step 'refused' removed",
        "~ step 'review': outcome deny removed",
    ]
    assert diff(definition(), definition(new)).steps_removed == ("refused",)


def test_form_fields_added_removed_and_retyped_down_into_array_items():
    fields = {
        "full_name": {"type": "string"},
        "email": {"type": "string"},
        "household": {
            "type": "object",
            "properties": {
                "members": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "string"}}},
                }
            },
        },
        "phone": {"type": "string"},
    }
    old, new = definition(), definition(fields=fields, required=("full_name", "phone"))
    assert lines(old, new) == [
        "+ field 'phone' added (string, required)",
        "~ field 'email': type string (email) -> string",
        "~ field 'household.members.*.age': type integer -> string",
    ]
    found = diff(old, new)
    assert found.fields_added == ("phone",)
    assert found.fields_changed == ("email", "household.members.*.age")
    assert lines(new, old)[:2] == ["- field 'phone' removed", "~ field 'email': type string -> string (email)"]


def test_form_fields_follow_local_refs_and_combinators():
    schema = {
        "$defs": {"person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        "type": "object",
        "properties": {
            "applicant": {"$ref": "#/$defs/person"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "loop": {"$ref": "#/properties/loop"},
            "colour": {"enum": ["red", "blue"]},
            "agreed": {"const": True},
            "other_income": {"$ref": "#/allOf/0/properties/income"},
            "missing": {"$ref": "#/$defs/nowhere"},
            "too_far": {"$ref": "#/allOf/5"},
            "not_a_schema": {"$ref": "#/required"},
        },
        "required": ["tags"],
        "allOf": [{"properties": {"income": {"type": ["number", "null"]}}}],
        "if": {"properties": {"applicant": {"const": 1}}},
        "then": {"properties": {"income": {"type": "integer"}}},
    }
    assert form_fields(schema) == {
        "applicant": ("object", False),
        "applicant.name": ("string", True),
        "tags": ("array", True),
        "tags.*": ("string", False),
        "loop": ("any", False),
        "colour": ("enum", False),
        "agreed": ("const", False),
        "other_income": ("number|null", False),
        "missing": ("any", False),
        "too_far": ("any", False),
        "not_a_schema": ("any", False),
        "income": ("number|null or integer", False),
    }


def test_notices_and_tables_changes():
    changed_table = TABLE.replace("fee: 5", "fee: 7").replace("hit policy: unique", "hit policy: first")
    old = definition()
    new = definition(
        files={"tables/fee.yaml": changed_table, "notices/approval.en.md": "# Your card is ready to collect."}
    )
    assert lines(old, new) == [
        "~ notice 'approval': text changed (en)",
        "~ table 'fee': hit policy unique -> first",
        "~ table 'fee': version from 2025-01-01 changed",
    ]
    found = diff(old, new)
    assert found.notices_changed == ("approval",)
    assert found.tables_changed == ("fee",)


def test_a_table_rewritten_with_other_spacing_is_not_a_change():
    spaced = TABLE.replace("rows:\n", "rows:\n\n\n")
    assert diff(definition(), definition(files={"tables/fee.yaml": spaced})).unchanged


def test_sub_workflow_steps_are_named_with_their_flow():
    def with_visit(role: str) -> str:
        return WORKFLOW + textwrap.dedent(
            f"""\
            subworkflows:
              visit:
                start: look
                steps:
                  look: {{kind: task, title: {{en: Look}}, role: {role}, outcomes: {{done: seen}}}}
                  seen: {{kind: end, outcome: seen}}
            """
        )

    assert lines(definition(with_visit("clerk")), definition(with_visit("librarian"))) == [
        "~ step 'visit/look': role clerk -> librarian"
    ]
    assert lines(definition(), definition(with_visit("clerk"))) == ["+ sub-workflow 'visit' added"]
    assert lines(definition(with_visit("clerk")), definition()) == ["- sub-workflow 'visit' removed"]


# ------------------------------------------------------------------ running cases


def running(definition_hash: str, *tokens: Token, status: str = "running", **more: Any) -> CaseState:
    return CaseState(definition_hash=definition_hash, status=status, tokens=tokens, **more)


def test_affected_reports_each_case_waiting_at_a_removed_or_changed_step():
    old_workflow = WORKFLOW.replace("approve: issued", "approve: second_look").replace(
        "  issued:",
        "  second_look: {kind: task, title: {en: Second look}, role: clerk, outcomes: {done: issued}}\n  issued:",
    )
    new_workflow = WORKFLOW.replace("role: librarian", "role: clerk")
    old, new = definition(old_workflow), definition(new_workflow)
    change = diff(old, new)
    assert describe(change).splitlines() == [
        "- step 'second_look' removed",
        "~ step 'review': role librarian -> clerk",
        "~ step 'review': outcome approve second_look -> issued",
    ]
    states = [
        running(old.content_hash, Token(id=1, flow="", step="review")),
        running(old.content_hash, Token(id=4, flow="", step="second_look")),
        running(old.content_hash, Token(id=2, flow="", step="review"), status="closed"),  # finished: untouched
        running("another-version", Token(id=1, flow="", step="review")),  # not on the old version
        running(old.content_hash),  # no token waiting anywhere
    ]
    assert affected(change, states) == [
        (0, "token 1 waits at 'review', which changed: role librarian -> clerk; outcome approve second_look -> issued"),
        (1, "token 4 waits at 'second_look', which was removed"),
    ]


def test_affected_sees_tokens_in_sub_workflows_and_running_clocks():
    visit = textwrap.dedent(
        """\
        subworkflows:
          visit:
            start: look
            steps:
              look: {kind: task, title: {en: Look}, role: clerk, outcomes: {done: seen}}
              seen: {kind: end, outcome: seen}
        """
    )
    old = definition(WORKFLOW + visit)
    new = definition(WORKFLOW.replace("limit: 10 business days", "limit: 20 business days"))
    states = [
        running(old.content_hash, Token(id=7, flow="visit", step="look"), clocks={"decision": {"started": "x"}}),
        running(old.content_hash, Token(id=8, flow="", step="look")),  # a main-flow step of that name: none
    ]
    assert affected(diff(old, new), states) == [
        (0, "token 7 waits at 'visit/look', in a sub-workflow that was removed"),
        (0, "clock 'decision' is running and changed: limit 10 business days -> 20 business days"),
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (Change("role_added", "auditor", ""), "+ role 'auditor' added"),
        (Change("condition_changed", "poor", "a < 1 -> a < 2"), "~ condition 'poor': a < 1 -> a < 2"),
        (Change("start_changed", "", "review -> screen"), "~ start of the workflow: review -> screen"),
        (Change("start_changed", "visit", "a -> b"), "~ start of sub-workflow 'visit': a -> b"),
        (Change("default_outcome_changed", "", "completed -> closed"), "~ default outcome: completed -> closed"),
    ],
)
def test_describe_words_every_kind_of_change(change, expected):
    assert describe(DefinitionDiff("a", "b", (change,))) == expected + "\n"


def test_start_roles_conditions_and_escalations_are_compared():
    old_workflow = WORKFLOW.replace("start: review", "start: review\nconditions: {adult: 'true'}")
    new_workflow = WORKFLOW.replace(
        "start: review", "start: triage\nconditions: {adult: 'false'}\nescalations: {late: {notify: [clerk]}}"
    ).replace("steps:\n", "steps:\n  triage: {kind: decide, routes: [{to: review}]}\n")
    new_program = PROGRAM.replace("roles: [librarian, clerk]", "roles: [librarian, clerk, auditor]")
    old, new = definition(old_workflow), definition(new_workflow, files={"program.yaml": new_program})
    assert lines(old, new) == [
        "+ role 'auditor' added",
        "~ start of the workflow: review -> triage",
        "+ step 'triage' added (decide)",
        "+ escalation 'late' added",
        "~ condition 'adult': true -> false",
    ]


KINDS_OLD = """\
start: intake
default outcome: completed
steps:
  intake:
    kind: task
    title: {en: Intake}
    role: clerk
    outcomes: {done: prepare}
  prepare: {kind: action, set: {track: "'fast'", level: "1"}, next: tell}
  tell: {kind: notice, notice: approval, to: citizen, next: split}
  split:
    kind: parallel
    branches:
      - {when: "full_name != ''", to: ask}
      - {to: signing}
  ask:
    kind: request information
    title: {en: Send pay slips}
    notice: approval
    expires after: 20 days
    on answer: gather
    on expiry: gather
  signing:
    kind: each
    count: 2
    task: {title: {en: Sign}, role: clerk, outcomes: [signed]}
    next: gather
  gather: {kind: join, joins: split, next: pause}
  pause:
    kind: wait
    any of:
      - {after: 10 business days, to: visit}
      - {event: paid, to: visit}
  visit: {kind: subworkflow, run: site, outcomes: {passed: issued, failed: issued}}
  issued: {kind: end, outcome: approved}
subworkflows:
  site:
    start: look
    steps:
      look: {kind: task, title: {en: Look}, role: clerk, outcomes: {pass: passed, fail: failed}}
      passed: {kind: end, outcome: passed}
      failed: {kind: end, outcome: failed}
"""


def test_every_kind_of_step_reports_its_own_keys():
    new_workflow = (
        KINDS_OLD.replace("default outcome: completed", "default outcome: closed")
        .replace('{track: "\'fast\'", level: "1"}', '{track: "\'slow\'", score: "2"}')
        .replace("to: citizen, next: split", "to: clerk, next: split")
        .replace("{when: \"full_name != ''\", to: ask}", "{when: \"email != ''\", to: ask}")
        .replace("expires after: 20 days", "expires after: 30 days\n    remind after: 10 days")
        .replace("task: {title: {en: Sign}, role: clerk", "task: {title: {en: Sign it}, role: librarian")
        .replace("joins: split, next: pause", "joins: split, wait for: first, next: pause")
        .replace("{event: paid, to: visit}", "{event: fee_paid, to: visit}")
        .replace("failed: issued}", "failed: intake}")
    )
    assert lines(definition(KINDS_OLD), definition(new_workflow)) == [
        "~ step 'prepare': set level removed",
        "~ step 'prepare': set score added: 2",
        "~ step 'prepare': set track 'fast' -> 'slow'",
        "~ step 'tell': to citizen -> clerk",
        "~ step 'split': branches ask if full_name != ''; signing -> ask if email != ''; signing",
        "~ step 'ask': remind after none -> 10 days",
        "~ step 'ask': expires after 20 days -> 30 days",
        "~ step 'signing': task title 'Sign' -> 'Sign it'",
        "~ step 'signing': task role clerk -> librarian",
        "~ step 'gather': wait for all -> first",
        "~ step 'pause': triggers after 10 business days -> visit; event paid -> visit"
        " -> after 10 business days -> visit; event fee_paid -> visit",
        "~ step 'visit': outcome failed issued -> intake",
        "~ default outcome: completed -> closed",
    ]


def test_notices_tables_and_calendars_added_removed_and_changed():
    old = definition(files={"notices/approval.zh-Hans.md": "# 您的卡已办好。", "notices/reminder.en.md": "# Reminder."})
    new = definition(
        WORKFLOW.replace("start: review", "start: review\ncalendar: city"),
        files={
            "notices/approval.es.md": "# Su tarjeta está lista.",
            "notices/welcome.en.md": "# Welcome.",
            "tables/fee.yaml": TABLE.replace("inputs: [age]", "inputs: [age]\ndomain: {age: whole numbers >= 0}"),
            "tables/late_fee.yaml": TABLE,
            "calendars/city.yaml": "id: city\ntitle: {en: City}\nweekend: [sunday]\n",
        },
    )
    assert lines(old, new) == [
        "- notice 'reminder' removed",
        "+ notice 'welcome' added (en)",
        "~ notice 'approval': language added (es)",
        "~ notice 'approval': language removed (zh-Hans)",
        "+ table 'late_fee' added",
        "~ table 'fee': domain changed",
        "~ calendar 'city': calendar weekdays -> city",
    ]
    assert diff(new, old).tables_changed == ("late_fee", "fee")


def test_a_calendar_edited_in_place_names_what_changed():
    def with_calendar(text: str) -> Definition:
        return definition(
            WORKFLOW.replace("start: review", "start: review\ncalendar: city"), files={"calendars/city.yaml": text}
        )

    old = with_calendar("id: city\ntitle: {en: City}\nweekend: [sunday]\n")
    new = with_calendar(
        "id: city\ntitle: {en: City}\nweekend: [saturday, sunday]\nholidays:\n  - {name: New Year, date: 01-01}\n"
    )
    assert lines(old, new) == ["~ calendar 'city': weekend changed", "~ calendar 'city': holidays changed"]


def test_a_removed_clock_touches_the_cases_it_is_running_in():
    old = definition()
    new = definition(WORKFLOW.replace("clocks:\n  decision: {limit: 10 business days, starts: on submit}\n", ""))
    assert lines(old, new) == ["- clock 'decision' removed"]
    state = running(old.content_hash, Token(id=1, flow="", step="review"), clocks={"decision": {}})
    assert affected(diff(old, new), [state]) == [(0, "clock 'decision' is running and was removed")]


def test_a_field_no_longer_required_and_a_field_removed():
    old = definition(required=("full_name", "email"))
    new = definition(fields={name: spec for name, spec in FIELDS.items() if name != "household"})
    assert lines(old, new) == [
        "- field 'household' removed",
        "- field 'household.members' removed",
        "- field 'household.members.*' removed",
        "- field 'household.members.*.name' removed",
        "- field 'household.members.*.age' removed",
        "~ field 'email': required -> optional",
    ]
    assert diff(old, new).fields_removed[0] == "household"


def test_who_may_decide_and_by_when_are_step_changes():
    old_workflow = """\
    start: intake
    clocks:
      decision: {limit: 10 business days}
    steps:
      intake: {kind: task, title: {en: Intake}, role: clerk, outcomes: {done: review}}
      review:
        kind: approval
        title: {en: Review}
        role: librarian
        outcomes: {approve: extend, deny: hold}
      extend: {kind: action, next: hold}
      hold: {kind: wait, for: 2 days, next: done}
      done: {kind: end, outcome: approved}
    """
    new_workflow = """\
    start: intake
    clocks:
      decision: {limit: 10 business days}
    conditions:
      adult: age >= 18
    steps:
      intake: {kind: task, title: {en: Intake}, role: clerk, outcomes: {done: review}}
      review:
        kind: approval
        title: {en: Review}
        levels: [librarian, clerk]
        panel: {size: 3, quorum: 2}
        not same person as: [intake]
        outcomes: {approve: extend, deny: hold}
      extend: {kind: action, extend clock: {decision: 5 business days}, next: hold}
      hold: {kind: wait, until: decision_date, next: done}
      done: {kind: end, outcome: approved}
    """
    fields = {**FIELDS, "age": {"type": "integer"}, "decision_date": {"type": "string", "format": "date"}}
    old, new = definition(old_workflow, fields=fields), definition(new_workflow, fields=fields)
    assert lines(old, new) == [
        "~ step 'review': not same person as none -> intake",
        "~ step 'review': levels none -> librarian, clerk",
        "~ step 'review': panel none -> 3 seats, quorum 2",
        "~ step 'extend': extend clock none -> decision by 5 business days",
        "~ step 'hold': triggers after 2 days -> done -> until decision_date -> done",
        "+ condition 'adult' added (age >= 18)",
    ]
