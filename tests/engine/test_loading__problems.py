"""Every problem the loader and the checker report, as the line a designer reads.

Each test writes a small program with mistakes of one kind and asserts the exact
``path:line:col: code: message`` lines, nothing more and nothing less: a wrong place,
a reworded message or an extra knock-on problem shows up here. Line and column are
those of the value that is wrong (the step's own mapping when a key is missing).
"""

from __future__ import annotations

import json
import textwrap

import pytest

import engine

PROGRAM = """\
id: permit
title: {en: Permit}
agency: city
reference prefix: PM
roles: [clerk, supervisor]
"""
FORM = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "income": {"type": "number"},
            "size": {"type": "integer"},
            "hearing": {"type": "string", "format": "date"},
        },
    }
)
WORKFLOW = """\
start: review
steps:
  review:
    kind: task
    title: {en: Review}
    role: clerk
    outcomes: {done: finished}
  finished: {kind: end, outcome: done}
"""
FEES = """\
title: {en: Fees}
hit policy: first
inputs: [size]
outputs: [fee]
versions:
  - effective from: 2025-01-01
    rows:
      - {size: "<= 2", fee: 10}
      - {size: "-", fee: 25}
"""


def problems(
    workflow: str = WORKFLOW, *, program: str = PROGRAM, form: str = FORM, files: dict[str, str] | None = None
) -> list[str]:
    """Every problem (errors and warnings) of a program in folder ``p``, as printed."""
    program_files = {
        "program.yaml": program,
        "form.schema.json": form,
        "workflow.yaml": textwrap.dedent(workflow),
        **(files or {}),
    }
    _, found = engine.read(program_files, folder="p")
    return [str(problem) for problem in found]


def steps(text: str, head: str = "start: review\n") -> str:
    """A workflow.yaml: ``head``, then ``steps:`` with ``text`` indented under it."""
    return head + "steps:\n" + textwrap.indent(textwrap.dedent(text), "  ")


def test_a_clean_program_has_no_problems_at_all():
    assert problems() == []


# ---------------------------------------------------------------- files and syntax


def test_missing_files_are_named_for_the_whole_file():
    _, found = engine.read({}, folder="p")
    assert [str(problem) for problem in found] == [
        "p/program.yaml:0:0: missing_file: the program has no program.yaml",
        "p/form.schema.json:0:0: missing_file: the program has no form.schema.json",
        "p/workflow.yaml:0:0: missing_file: the program has no workflow.yaml",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "start: [review\n",
            "p/workflow.yaml:2:1: yaml_syntax: while parsing a flow sequence expected ',' or ']', but got '<stream end>'",
        ),
        ("start: &first review\n", "p/workflow.yaml:1:8: yaml_anchor: anchors (&name) are not allowed"),
        ("start: *first\n", "p/workflow.yaml:1:8: yaml_alias: aliases (*name) are not allowed"),
        ("start: !step review\n", "p/workflow.yaml:1:8: yaml_tag: the tag '!step' is not allowed"),
        ("start: review\n1: x\n", "p/workflow.yaml:2:1: yaml_key: keys must be plain text"),
        ("start: review\n? [a, b]\n: x\n", "p/workflow.yaml:2:3: yaml_key: keys must be plain text"),
        ("start: review\nstart: intake\n", "p/workflow.yaml:2:1: duplicate_key: the key 'start' appears twice"),
        ("start: review\nsize: !!int many\n", "p/workflow.yaml:2:7: yaml_syntax: 'many' cannot be read as !!int"),
        ("start: review\nratio: !!float half\n", "p/workflow.yaml:2:8: yaml_syntax: 'half' cannot be read as !!float"),
        ("start: review\nok: !!bool maybe\n", "p/workflow.yaml:2:5: yaml_syntax: 'maybe' cannot be read as !!bool"),
        (
            "start: review\ntitle: Re\x07view\n",
            "p/workflow.yaml:2:10: yaml_syntax: unacceptable character #x0007: special characters are not allowed",
        ),
        (
            "values: [" + ",".join(["1"] * 100_000) + "]\n",
            "p/workflow.yaml:1:200006: too_many_nodes: more than 100000 values in one file",
        ),
        (
            "title: " + "x" * 1024 * 1024 + "\n",
            "p/workflow.yaml:0:0: file_too_large: the file is 1048584 bytes; the limit is 1048576",
        ),
    ],
    ids=[
        "syntax",
        "anchor",
        "alias",
        "tag",
        "number-key",
        "list-key",
        "duplicate",
        "not-an-int",
        "not-a-float",
        "not-a-bool",
        "control-character",
        "too-many-values",
        "too-large",
    ],
)
def test_a_workflow_file_that_cannot_be_read_is_the_only_problem_reported(text: str, expected: str):
    assert problems(text) == [expected]


def test_json_syntax_and_nesting_in_the_form_are_located():
    assert problems(form='{\n  "type": "object",\n  "properties": {,}\n}') == [
        "p/form.schema.json:3:18: json_syntax: Expecting property name enclosed in double quotes"
    ]
    assert problems(form="[" * 100_000 + "]" * 100_000) == [
        "p/form.schema.json:1:1: too_deep: the JSON is nested too deeply"
    ]


def test_files_of_the_wrong_shape_are_refused_as_a_whole():
    assert problems(form="[]") == ["p/form.schema.json:1:1: invalid_type: the form schema must be a JSON object"]
    assert problems("- review\n") == [
        "p/workflow.yaml:1:1: invalid_type: workflow.yaml must be a mapping of keys to values"
    ]
    assert problems("") == ["p/workflow.yaml:1:1: invalid_type: workflow.yaml must be a mapping of keys to values"]
    # Without program.yaml's roles, the workflow's role is unknown too: both are reported at once.
    assert problems(program="- permit\n") == [
        "p/program.yaml:1:1: invalid_type: program.yaml must be a mapping of keys to values",
        "p/workflow.yaml:6:11: unknown_role: role 'clerk' is not declared in program.yaml roles",
    ]


# ---------------------------------------------------------------- program.yaml


def test_every_program_key_is_checked_in_one_pass():
    program = """\
id: Permit!
title: ''
summary: {en: '   '}
agency: ' '
reference prefix: pm
roles: [clerk, clerk, Supervisor, supervisor]
channels: [online, fax]
timezone: Mars/Olympus
retention: forever
version notes: [first]
colour: red
"""
    assert problems(program=program) == [
        "p/program.yaml:11:9: unknown_key: unknown key 'colour'; expected one of: after submitting, agency, channels, "
        "contact, drafts, id, languages, privacy, reference prefix, retention, roles, start page, summary, timezone, "
        "title, version notes",
        "p/program.yaml:1:5: invalid_id: id must be lower-case letters, digits and dashes, starting with a letter",
        "p/program.yaml:2:8: invalid_text: title must map language codes to text, e.g. {en: ...}",
        "p/program.yaml:3:15: invalid_text: en text must not be empty",
        "p/program.yaml:3:10: missing_translation: summary has no en text; the program offers en",
        "p/program.yaml:4:9: missing_key: agency must be given as text",
        "p/program.yaml:5:19: invalid_prefix: reference prefix must be 1-6 capital letters",
        "p/program.yaml:6:16: duplicate_role: role 'clerk' is listed twice",
        "p/program.yaml:6:23: invalid_name: role 'Supervisor' must be a snake_case name like eligibility_worker",
        "p/program.yaml:7:11: invalid_channel: channels must be chosen from: online, counter, phone, paper, api",
        "p/program.yaml:8:11: invalid_timezone: 'Mars/Olympus' is not a time zone like America/Los_Angeles",
        "p/program.yaml:9:12: invalid_type: retention must map what to keep to how long",
        "p/program.yaml:10:16: invalid_text: version notes must map language codes to text, e.g. {en: ...}",
    ]


def test_a_program_without_title_or_roles_says_they_must_be_given():
    program = "id: permit\nagency: city\nreference prefix: PM\nroles: []\n"
    assert problems(program=program) == [
        "p/program.yaml:1:1: missing_key: title must be given, e.g. {en: ...}",
        "p/program.yaml:4:8: missing_key: roles must list at least one role name",
        "p/workflow.yaml:6:11: unknown_role: role 'clerk' is not declared in program.yaml roles",
    ]


def test_plain_text_counts_as_english():
    assert problems(program=PROGRAM.replace("{en: Permit}", "Permit")) == []


def test_language_codes_are_checked_and_every_offered_language_is_required():
    assert problems(program=PROGRAM + "languages: en\n") == [
        "p/program.yaml:6:12: invalid_type: languages must list language codes, e.g. [en, zh-Hans]"
    ]
    assert problems(program=PROGRAM + "languages: [en, Spanish]\n") == [
        "p/program.yaml:6:17: invalid_language: 'Spanish' is not a language code",
        "p/program.yaml:2:8: missing_translation: title has no Spanish text; the program offers en, Spanish",
        "p/workflow.yaml:5:12: missing_translation: title has no Spanish text; the program offers en, Spanish",
    ]
    assert problems(program=PROGRAM.replace("{en: Permit}", "{en: Permit, EN: Permit, es: ''}")) == [
        "p/program.yaml:2:25: invalid_language: 'EN' is not a language code",
        "p/program.yaml:2:37: invalid_text: es text must not be empty",
    ]


def test_english_must_be_among_the_languages():
    assert problems(program=PROGRAM.replace("{en: Permit}", "{es: Permiso}") + "languages: [es]\n") == [
        "p/program.yaml:6:12: missing_translation: languages must include English (en)",
        "p/workflow.yaml:5:12: missing_translation: title has no es text; the program offers es",
    ]


# ---------------------------------------------------------------- workflow.yaml, top level


def test_top_level_keys_of_the_wrong_shape():
    workflow = """\
start: 5
calendar: [us-federal]
default outcome: Done
conditions: [low_income]
escalations: [hurry]
clocks: [decision]
subworkflows: [visit]
colour: red
steps:
  finished: {kind: end, outcome: done}
"""
    assert problems(workflow) == [
        "p/workflow.yaml:8:9: unknown_key: unknown key 'colour'; expected one of: calendar, clocks, conditions, "
        "default outcome, escalations, events, start, steps, subworkflows",
        "p/workflow.yaml:2:11: invalid_type: calendar must name a calendar, e.g. us-federal",
        "p/workflow.yaml:3:18: invalid_name: an outcome must be a snake_case name like next_step, not 'Done'",
        "p/workflow.yaml:4:13: invalid_type: conditions must map names to expressions",
        "p/workflow.yaml:5:14: invalid_type: escalations must map names to what happens",
        "p/workflow.yaml:6:9: invalid_type: clocks must map names to {limit, starts, ...}",
        "p/workflow.yaml:1:8: missing_key: start must name the first step",
        "p/workflow.yaml:7:15: invalid_type: subworkflows must map names to {start, steps}",
    ]


def test_a_workflow_needs_steps_and_a_start_among_them():
    assert problems("start: review\n") == ["p/workflow.yaml:1:1: missing_key: steps must name at least one step"]
    assert problems("start: intake\nsteps:\n  finished: {kind: end, outcome: done}\n") == [
        "p/workflow.yaml:1:8: unknown_step: start names 'intake', which is not a step"
    ]


def test_conditions_are_named_and_compiled():
    workflow = steps(
        "finished: {kind: end, outcome: done}\n",
        head="start: finished\nconditions:\n  Low: income < 10\n  poor: income <\n  rich: income > 10 and wealth > 5\n",
    )
    assert problems(workflow) == [
        "p/workflow.yaml:3:8: invalid_name: a condition name must be a snake_case name like next_step, not 'Low'",
        "p/workflow.yaml:4:17: syntax_error: expected a value after '<', but the expression ends",
        "p/workflow.yaml:5:9: unknown_field: condition 'rich' reads 'wealth', which is not in the form or computed "
        "by any step",
    ]


def test_escalations_name_known_roles_a_priority_and_a_notice():
    workflow = steps(
        "finished: {kind: end, outcome: done}\n",
        head="""\
start: finished
escalations:
  Hurry: {notify: [clerk]}
  plain: urgent
  late: {notify: [judge, citizen, supervisor], raise priority: highest, notice: late, colour: red}
""",
    )
    assert problems(workflow) == [
        "p/workflow.yaml:3:10: invalid_name: an escalation name must be a snake_case name like next_step, not 'Hurry'",
        "p/workflow.yaml:4:10: invalid_type: an escalation says whom to notify and/or the priority to raise",
        "p/workflow.yaml:5:95: unknown_key: unknown key 'colour'; expected one of: notice, notify, raise priority",
        "p/workflow.yaml:5:19: unknown_role: role 'judge' is not declared in program.yaml",
        "p/workflow.yaml:5:64: invalid_value: raise priority is high or urgent",
        "p/workflow.yaml:5:9: unknown_notice: notice 'late' has no file notices/late.<language>.md",
    ]


def test_clocks_need_a_limit_a_known_start_and_known_escalations():
    workflow = steps(
        "finished: {kind: end, outcome: done}\n",
        head="""\
start: finished
escalations:
  hurry: {notify: [supervisor]}
clocks:
  Decision: {limit: 10 days}
  plain: 10 days
  unlimited: {starts: on submit}
  vague: {limit: soon}
  odd: {limit: 10 days, starts: tomorrow, paused while: lunch, warn at: 8 days, on warn: nope, on breach: [hurry, gone]}
  later: {limit: 5 days, starts: on entering hearing}
""",
    )
    assert problems(workflow) == [
        "p/workflow.yaml:5:13: invalid_name: a clock name must be a snake_case name like next_step, not 'Decision'",
        "p/workflow.yaml:6:10: invalid_type: a clock has a limit, e.g. limit: 20 business days",
        "p/workflow.yaml:7:14: missing_key: limit needs a duration, e.g. 10 business days",
        "p/workflow.yaml:8:18: invalid_duration: 'soon' is not a duration: write a number and a unit, for example "
        '"10 business days" or "30 days"',
        "p/workflow.yaml:9:33: invalid_value: starts is 'on submit' or 'on entering <step>'",
        "p/workflow.yaml:9:57: invalid_value: paused while takes: waiting for citizen",
        "p/workflow.yaml:9:90: unknown_escalation: escalation 'nope' is not defined under escalations",
        "p/workflow.yaml:9:115: unknown_escalation: escalation 'gone' is not defined under escalations",
        "p/workflow.yaml:10:10: unknown_step: clock 'later' starts on entering 'hearing', not a step",
        "p/workflow.yaml:3:10: warning: unknown_notice: escalation 'hurry' notifies supervisor with the notice "
        "'escalation' (it names no other), but there is no notices/escalation.<language>.md: nobody would be told",
    ]


def test_subworkflows_are_named_mappings_and_every_end_outcome_is_mapped():
    workflow = steps(
        """\
review: {kind: subworkflow, run: Visit, outcomes: {}}
second: {kind: subworkflow, outcomes: {passed: finished}}
third: {kind: subworkflow, run: visit, outcomes: {passed: finished}}
fourth: {kind: subworkflow, run: inspection, outcomes: {passed: finished}}
finished: {kind: end, outcome: done}
""",
        head="""\
start: review
subworkflows:
  Tour: {start: a, steps: {a: {kind: finish}}}
  plain: 5
  visit:
    start: look
    colour: red
    steps:
      look: {kind: task, title: {en: Look}, role: clerk, outcomes: {pass: passed, fail: failed}}
      passed: {kind: end, outcome: passed}
      failed: {kind: end, outcome: failed}
""",
    )
    assert problems(workflow) == [
        # The main workflow's steps are read first, then the sub-workflows.
        "p/workflow.yaml:13:36: invalid_name: a sub-workflow name must be a snake_case name like next_step, "
        "not 'Visit'",
        "p/workflow.yaml:13:53: missing_key: map each outcome of the sub-workflow to a next step",
        "p/workflow.yaml:14:11: missing_key: run must be given: a sub-workflow name",
        "p/workflow.yaml:3:9: invalid_name: a sub-workflow name must be a snake_case name like next_step, not 'Tour'",
        "p/workflow.yaml:4:10: invalid_type: a sub-workflow has start and steps",
        "p/workflow.yaml:7:13: unknown_key: unknown key 'colour'; expected one of: start, steps",
        "p/workflow.yaml:16:11: unknown_subworkflow: step 'fourth' runs 'inspection', which is not under subworkflows",
        "p/workflow.yaml:15:10: unhandled_outcome: sub-workflow 'visit' can end 'failed'; map it to a step",
    ]


# ---------------------------------------------------------------- steps


def test_steps_need_a_snake_case_name_a_mapping_and_a_known_kind():
    workflow = steps("""\
review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished, other: Later}}
Later: {kind: finish}
plain: 5
odd: {kind: stop}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:4:10: invalid_name: step 'Later' must be a snake_case name",
        "p/workflow.yaml:5:10: invalid_type: step 'plain' must be a mapping of keys to values",
        "p/workflow.yaml:6:15: unknown_kind: kind 'stop' is not one of: action, approval, decide, each, end, finish, "
        "join, notice, parallel, request information, subworkflow, task, wait",
    ]


def test_task_keys_are_each_checked():
    workflow = steps("""\
review:
  kind: task
  role: judge
  outcomes: {Done: finished, later: finished}
  queue: county +
  assign: randomly
  form: forms/review.schema.json
  due: soon
  same person as: ghost
  not same person as: [Ghost, finished]
  colour: red
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:4:5: missing_key: title must be given, e.g. {en: ...}",
        "p/workflow.yaml:13:13: unknown_key: unknown key 'colour'; expected one of: assign, due, form, kind, levels, "
        "not same person as, on overdue, outcomes, panel, queue, role, same person as, status, title",
        "p/workflow.yaml:5:11: unknown_role: role 'judge' is not declared in program.yaml roles",
        "p/workflow.yaml:6:22: invalid_name: an outcome must be a snake_case name like next_step, not 'Done'",
        "p/workflow.yaml:8:13: invalid_value: assign is 'round robin', 'least loaded' or {from: expression}",
        "p/workflow.yaml:9:11: unknown_file: form 'forms/review.schema.json' is not a file of this program",
        "p/workflow.yaml:7:20: syntax_error: expected a value after '+', but the expression ends",
        "p/workflow.yaml:12:26: invalid_name: a name must be a snake_case name like next_step, not 'Ghost'",
        "p/workflow.yaml:10:10: invalid_duration: 'soon' is not a duration: write a number and a unit, for example "
        '"10 business days" or "30 days"',
        "p/workflow.yaml:11:21: unknown_step: same person as names 'ghost', which is not a step",
        "p/workflow.yaml:4:5: not_a_human_step: 'finished' is not a task or approval, so nobody does it",
    ]


def test_task_keys_of_the_wrong_shape_are_problems_not_crashes():
    workflow = steps("""\
review:
  kind: approval
  title: {en: Review}
  levels: 3
  form: [forms/review.schema.json]
  outcomes: {approve: finished, deny: finished}
second:
  kind: approval
  title: {en: Second}
  levels: clerk
  outcomes: {approve: finished, deny: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:6:13: invalid_type: levels lists one role per level, e.g. [clerk, supervisor]",
        "p/workflow.yaml:4:5: missing_key: a role must be named",
        "p/workflow.yaml:7:11: unknown_file: form ['forms/review.schema.json'] is not a file of this program",
        "p/workflow.yaml:12:13: invalid_type: levels lists one role per level, e.g. [clerk, supervisor]",
        "p/workflow.yaml:10:5: missing_key: a role must be named",
    ]


def test_chains_and_panels_need_approve_and_deny_and_a_sensible_size():
    workflow = steps("""\
review:
  kind: approval
  title: {en: Review}
  role: clerk
  panel: {size: 1}
  outcomes: {approve: second}
second:
  kind: approval
  title: {en: Second}
  role: clerk
  panel: {size: 3, quorum: 4}
  outcomes: {approve: third, deny: finished}
third:
  kind: approval
  title: {en: Third}
  levels: [clerk, judge]
  outcomes: {approve: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:8:15: missing_outcome: chains and panels decide approve or deny: give both",
        "p/workflow.yaml:7:12: invalid_panel: a panel has size: 2 or more seats",
        "p/workflow.yaml:13:12: invalid_panel: quorum is all, first, or a number from 1 to 3",
        "p/workflow.yaml:18:21: unknown_role: role 'judge' is not declared in program.yaml roles",
        "p/workflow.yaml:19:15: missing_outcome: chains and panels decide approve or deny: give both",
    ]


def test_assignment_escalation_and_people_rules_are_checked_against_the_rest_of_the_program():
    workflow = steps(
        """\
review:
  kind: task
  title: {en: Review}
  role: clerk
  assign: {from: reviewer_name, colour: red}
  on overdue: late
  outcomes: {done: second}
second:
  kind: task
  title: {en: Second}
  role: clerk
  due: 2 days
  on overdue: hurry
  outcomes: []
finished: {kind: end, outcome: done}
""",
        head="start: review\nescalations:\n  late: {notify: [supervisor]}\n",
    )
    assert problems(workflow) == [
        "p/workflow.yaml:9:43: unknown_key: unknown key 'colour'; expected one of: from",
        "p/workflow.yaml:18:15: missing_key: step 'second' needs outcomes, e.g. approve: next_step",
        "p/workflow.yaml:19:13: unreachable_step: step 'finished' cannot be reached from 'review'",
        "p/workflow.yaml:6:5: no_way_out: from step 'review' no path leads to an end: the case would run forever",
        "p/workflow.yaml:13:5: no_way_out: from step 'second' no path leads to an end: the case would run forever",
        "p/workflow.yaml:9:20: unknown_field: step 'review' assign reads 'reviewer_name', which is not in the form "
        "or computed by any step",
        "p/workflow.yaml:6:5: missing_key: step 'review' escalates when overdue but has no due",
        "p/workflow.yaml:13:5: unknown_escalation: on overdue names 'hurry', not an escalation",
        "p/workflow.yaml:3:9: warning: unknown_notice: escalation 'late' notifies supervisor with the notice "
        "'escalation' (it names no other), but there is no notices/escalation.<language>.md: nobody would be told",
    ]


def test_routes_must_be_well_formed_with_a_default_last():
    workflow = steps("""\
review:
  kind: decide
  routes:
    - {to: finished}
    - 5
    - {when: income > 1, to: finished, colour: red}
  next: finished
second:
  kind: decide
  routes:
    - {when: income > 1, to: finished}
    - {when: income > 2}
third: {kind: decide, routes: {finished: always}}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:4:5: invalid_routes: give routes or next, not both",
        "p/workflow.yaml:6:9: unreachable_route: a route without 'when' catches everything; put it last",
        "p/workflow.yaml:7:9: invalid_routes: each route is {when: condition, to: step}",
        "p/workflow.yaml:8:50: unknown_key: unknown key 'colour'; expected one of: to, when",
        "p/workflow.yaml:6:7: no_default_route: the last route must have no 'when', so that every case has "
        "somewhere to go",
        "p/workflow.yaml:14:9: missing_key: to must name the next step",
        "p/workflow.yaml:13:7: no_default_route: the last route must have no 'when', so that every case has "
        "somewhere to go",
        "p/workflow.yaml:15:33: invalid_routes: give a step name, or a list of {when: condition, to: step}",
        "p/workflow.yaml:11:5: unreachable_step: step 'second' cannot be reached from 'review'",
        "p/workflow.yaml:15:10: unreachable_step: step 'third' cannot be reached from 'review'",
    ]


def test_decide_steps_name_a_known_table_and_compute_named_fields():
    workflow = steps("""\
review:
  kind: decide
  table: fees
  compute: {Total: income * 2, half: income /}
  next: second
second: {kind: decide, table: [fees], compute: [total], next: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:5:12: unknown_table: table 'fees' is not in tables/",
        "p/workflow.yaml:6:22: invalid_name: a data field must be a snake_case name like next_step, not 'Total'",
        "p/workflow.yaml:6:48: syntax_error: expected a value after '/', but the expression ends",
        "p/workflow.yaml:8:33: unknown_table: table ['fees'] is not in tables/",
        "p/workflow.yaml:8:50: invalid_type: give field: expression pairs",
    ]


def test_action_steps_extend_one_known_clock_by_a_duration():
    workflow = steps("""\
review: {kind: action, set: {total: income * 2}, extend clock: {a: 1 day, b: 2 days}}
second: {kind: action, extend clock: {decision: 0 days}, next: third}
third: {kind: action, extend clock: {decision: 5}, next: fourth}
fourth: {kind: action, extend clock: {decision: 10 days}, next: finished, colour: red}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:66: invalid_type: extend clock: {clock name: duration}",
        "p/workflow.yaml:3:11: missing_key: next must name the next step",
        "p/workflow.yaml:4:51: invalid_duration: '0 days': a duration must be at least 1 day; to act at once, "
        "leave the duration out",
        "p/workflow.yaml:5:50: invalid_duration: decision must be words like '10 business days'",
        "p/workflow.yaml:6:85: unknown_key: unknown key 'colour'; expected one of: extend clock, kind, next, "
        "raise priority, set, status, title",
        # The start step could not be read, so the graph is not walked (no unreachable steps).
        "p/workflow.yaml:6:11: unknown_clock: step 'fourth' extends 'decision', not a clock",
    ]


def test_notice_steps_name_a_notice_a_known_role_and_the_next_step():
    workflow = steps("""\
review: {kind: notice, notice: Hello, to: judge}
second: {kind: notice, notice: hello, to: [clerk], next: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:34: invalid_name: a notice name must be a snake_case name like next_step, not 'Hello'",
        "p/workflow.yaml:3:45: unknown_role: role 'judge' is not declared in program.yaml roles",
        "p/workflow.yaml:3:11: missing_key: next must name the next step",
        "p/workflow.yaml:4:45: missing_key: a role must be named",
        "p/workflow.yaml:4:11: unknown_notice: notice 'hello' has no file notices/hello.<language>.md",
    ]


def test_parallel_and_join_steps():
    workflow = steps("""\
review: {kind: parallel, branches: [finished]}
j1: {kind: join, next: finished}
j2: {kind: join, joins: finished, wait for: none, next: finished}
j3: {kind: join, joins: review, next: nowhere}
j4: {kind: join, joins: ghost, next: finished}
j5: {kind: join, joins: review}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:38: invalid_routes: a parallel step starts two or more branches",
        "p/workflow.yaml:4:7: missing_key: a join names the parallel step it joins: joins: <step>",
        "p/workflow.yaml:5:47: invalid_value: wait for is all, first, or a number of branches",
        "p/workflow.yaml:8:7: missing_key: next must name the next step",
        "p/workflow.yaml:5:27: invalid_join: join 'j2' must join a parallel step",
        "p/workflow.yaml:6:41: unknown_step: step 'j3' goes to 'nowhere', which is not a step",
        "p/workflow.yaml:7:27: unknown_step: join 'j4' joins 'ghost', which is not a step",
        "p/workflow.yaml:5:7: unreachable_step: step 'j2' cannot be reached from 'review'",
        "p/workflow.yaml:6:7: unreachable_step: step 'j3' cannot be reached from 'review'",
        "p/workflow.yaml:7:7: unreachable_step: step 'j4' cannot be reached from 'review'",
    ]


def test_each_steps():
    workflow = steps("""\
review: {kind: each, over: members, count: 0, wait for: some, results: Bad, next: finished}
second: {kind: each, task: {title: {en: T}, role: clerk, outcomes: [ok]}, next: finished}
third: {kind: each, count: 2, as: [x], task: {role: clerk, outcomes: []}}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:11: invalid_each: give either over: <list in the case data> or count: <number>",
        "p/workflow.yaml:3:46: invalid_value: count is a whole number of tasks, 1 or more",
        "p/workflow.yaml:3:59: invalid_value: wait for is all, none, or a number of tasks",
        "p/workflow.yaml:3:11: missing_key: each needs the task to open per item: task: {title, role, outcomes}",
        "p/workflow.yaml:3:74: invalid_name: the results field must be a snake_case name like next_step, not 'Bad'",
        "p/workflow.yaml:4:11: invalid_each: give either over: <list in the case data> or count: <number>",
        "p/workflow.yaml:5:37: invalid_name: the item's name must be a snake_case name like next_step, not ['x']",
        "p/workflow.yaml:5:48: missing_key: title must be given, e.g. {en: ...}",
        "p/workflow.yaml:5:72: missing_key: list the outcomes",
        "p/workflow.yaml:5:10: missing_key: next must name the next step",
    ]


def test_wait_steps_wait_for_a_time_a_date_or_an_event_then_go_somewhere():
    workflow = steps("""\
review: {kind: wait, next: finished}
w2: {kind: wait, for: soon, next: finished}
w3: {kind: wait, until: hearing +, next: finished}
w4: {kind: wait, event: Paid, next: finished}
w5: {kind: wait, for: 2 days}
w6: {kind: wait, any of: [{event: paid, to: finished}]}
w7: {kind: wait, any of: [{event: paid, to: finished}, 5, {after: 2 days, colour: red, to: finished}, {after: 1 day}]}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:11: invalid_wait: wait for a time (for: 10 days / until: a date) or an event: name",
        "p/workflow.yaml:4:25: invalid_duration: 'soon' is not a duration: write a number and a unit, for example "
        '"10 business days" or "30 days"',
        "p/workflow.yaml:5:36: syntax_error: expected a value after '+', but the expression ends",
        "p/workflow.yaml:6:27: invalid_name: an event name must be a snake_case name like next_step, not 'Paid'",
        "p/workflow.yaml:7:7: missing_key: next must name the next step",
        "p/workflow.yaml:8:28: invalid_wait: any of lists two or more {after|until|event, to}",
        "p/workflow.yaml:9:58: invalid_wait: each option is {after|until|event, to}",
        "p/workflow.yaml:9:85: unknown_key: unknown key 'colour'; expected one of: after, event, to, until",
        "p/workflow.yaml:9:105: missing_key: to must name the next step",
    ]


def test_request_information_steps():
    workflow = steps("""\
review: {kind: request information, notice: Ask, answer form: forms/answer.json, remind after: soon}
second: {kind: request information, title: {en: Ask}, notice: ask, answer form: [x], expires after: 5 days, on answer: finished, on expiry: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:11: missing_key: title must be given, e.g. {en: ...}",
        "p/workflow.yaml:3:47: invalid_name: a notice name must be a snake_case name like next_step, not 'Ask'",
        "p/workflow.yaml:3:65: unknown_file: answer form 'forms/answer.json' is not a file of this program",
        "p/workflow.yaml:3:11: missing_key: expires after needs a duration, e.g. 10 business days",
        "p/workflow.yaml:3:11: missing_key: on answer must name the next step",
        "p/workflow.yaml:3:11: missing_key: on expiry must name the next step",
        "p/workflow.yaml:4:83: unknown_file: answer form ['x'] is not a file of this program",
        "p/workflow.yaml:4:11: unknown_notice: notice 'ask' has no file notices/ask.<language>.md",
    ]


def test_end_and_finish_steps():
    workflow = steps("""\
review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished, stop: stopped, drop: dropped}}
finished: {kind: end, notice: bye}
stopped: {kind: end, outcome: Stopped, colour: red}
dropped: {kind: finish, outcome: dropped}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:4:13: missing_key: outcome must be given: an end step's outcome",
        "p/workflow.yaml:5:50: unknown_key: unknown key 'colour'; expected one of: kind, notice, outcome, status, "
        "title",
        "p/workflow.yaml:5:33: invalid_name: an end step's outcome must be a snake_case name like next_step, "
        "not 'Stopped'",
        "p/workflow.yaml:6:36: unknown_key: unknown key 'outcome'; expected one of: kind, status, title",
    ]


# ---------------------------------------------------------------- the graph


def test_a_workflow_without_an_end_and_a_loop_without_a_way_out():
    assert problems(steps("review: {kind: task, title: {en: R}, role: clerk, outcomes: {done: review}}\n")) == [
        "p/workflow.yaml:3:11: no_way_out: from step 'review' no path leads to an end: the case would run forever",
        "p/workflow.yaml:3:11: no_end: the workflow has no end step",
    ]
    workflow = steps("""\
review: {kind: task, title: {en: R}, role: clerk, outcomes: {done: finished, loop: spin}}
spin: {kind: action, next: spin}
finished: {kind: end, outcome: done}
lonely: {kind: finish}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:6:11: unreachable_step: step 'lonely' cannot be reached from 'review'",
        "p/workflow.yaml:4:9: no_way_out: from step 'spin' no path leads to an end: the case would run forever",
    ]


def test_a_split_nobody_joins_is_only_a_warning_and_the_program_still_loads():
    workflow = steps("""\
review: {kind: parallel, branches: [a, b]}
a: {kind: finish}
b: {kind: finish}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:3:11: warning: split_not_joined: no join joins 'review': its branches each run to their "
        "own end"
    ]
    files = {"program.yaml": PROGRAM, "form.schema.json": FORM, "workflow.yaml": workflow}
    assert engine.load(files).steps["review"].kind == "parallel"


def test_a_join_that_waits_for_more_branches_than_can_arrive():
    too_many = steps("""\
review: {kind: parallel, branches: [a, b]}
a: {kind: action, next: j}
b: {kind: action, next: j}
j: {kind: join, joins: review, wait for: 3, next: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(too_many) == [
        "p/workflow.yaml:6:6: join_may_deadlock: join 'j' waits for 3 branches but 'review' starts 2"
    ]
    escaping = """\
review: {{kind: parallel, branches: [a, b, c]}}
a: {{kind: action, next: j}}
b: {{kind: task, title: {{en: B}}, role: clerk, outcomes: {{done: j, drop: gone}}}}
c: {{kind: action, next: j}}
gone: {{kind: finish}}
j: {{kind: join, joins: review, wait for: {wait}, next: finished}}
finished: {{kind: end, outcome: done}}
"""
    assert problems(steps(escaping.format(wait="all"))) == [
        "p/workflow.yaml:8:6: join_may_deadlock: join 'j' waits for all branch(es), but the branch(es) starting at "
        "'b' can finish without reaching it"
    ]
    # Two of the three always arrive, so waiting for two (or the first) cannot deadlock.
    assert problems(steps(escaping.format(wait=2))) == []
    assert problems(steps(escaping.format(wait="first"))) == []


# ---------------------------------------------------------------- data the expressions read


def test_unknown_fields_are_reported_wherever_an_expression_reads_them():
    workflow = steps("""\
review:
  kind: task
  title: {en: R}
  role: clerk
  queue: county
  form: forms/review.schema.json
  outcomes:
    done:
      - {when: review.score > 3 and review.nope, to: check}
      - {to: check}
check:
  kind: decide
  compute: {total: income * size + missing_one}
  routes:
    - {when: ghost, to: hold}
    - {to: hold}
hold: {kind: wait, until: hearing_day, next: per}
per:
  kind: each
  over: members
  as: member
  task: {title: {en: M}, role: clerk, queue: member.county + office, outcomes: [ok]}
  next: act
act: {kind: action, set: {x: per.0.outcome + per.0.other}, next: fan}
fan:
  kind: parallel
  branches:
    - {when: applicant.age > 65, to: f1}
    - {when: score, to: f2}
f1: {kind: finish}
f2: {kind: finish}
""")
    assert problems(workflow, files={"forms/review.schema.json": '{"properties": {"score": {}}}'}) == [
        "p/workflow.yaml:28:5: warning: split_not_joined: no join joins 'fan': its branches each run to their own end",
        "p/workflow.yaml:7:12: unknown_field: step 'review' queue reads 'county', which is not in the form or "
        "computed by any step",
        "p/workflow.yaml:11:18: unknown_field: step 'review' condition reads 'review.nope', which is not in the "
        "form or computed by any step",
        "p/workflow.yaml:15:22: unknown_field: step 'check' compute 'total' reads 'missing_one', which is not in "
        "the form or computed by any step",
        "p/workflow.yaml:17:16: unknown_field: step 'check' condition reads 'ghost', which is not in the form or "
        "computed by any step",
        "p/workflow.yaml:19:29: unknown_field: step 'hold' until reads 'hearing_day', which is not in the form or "
        "computed by any step",
        "p/workflow.yaml:22:11: unknown_field: step 'per' over reads 'members', which is not in the form or "
        "computed by any step",
        "p/workflow.yaml:24:48: unknown_field: step 'per' queue reads 'office', which is not in the form or "
        "computed by any step",
        "p/workflow.yaml:26:32: unknown_field: step 'act' set 'x' reads 'per.0.other', which is not in the form or "
        "computed by any step",
        "p/workflow.yaml:30:16: unknown_field: step 'fan' condition reads 'applicant.age', which is not in the form "
        "or computed by any step",
        "p/workflow.yaml:31:16: unknown_field: step 'fan' condition reads 'score', which is not in the form or "
        "computed by any step",
    ]


def test_every_source_of_data_counts_as_known():
    """Form fields (through allOf, then/else and list items), task forms, open task answers,
    table outputs, computed and set fields, each results and the item name, conditions."""
    form = json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "size": {"type": "integer"},
                "members": {"type": "array", "items": {"type": "object", "properties": {"county": {}}}},
            },
            "allOf": [{"properties": {"applicant": {"properties": {"age": {}}}}}],
            "if": {"required": ["size"]},
            "then": {"properties": {"hearing": {}}},
            "else": {"properties": {"spouse": {}}},
        }
    )
    workflow = steps(
        """\
review:
  kind: task
  title: {en: R}
  role: clerk
  form: forms/review.schema.json
  outcomes:
    done:
      - {when: "review.score > 3 and applicant.age > 60 and spouse and hearing", to: ask}
      - {to: ask}
ask:
  kind: request information
  title: {en: Ask}
  notice: ask
  expires after: 5 days
  on answer: check
  on expiry: check
check:
  kind: decide
  table: fees
  compute: {total: fee * 2 + ask.anything + review.outcome}
  routes:
    - {when: senior, to: per}
    - {to: per}
per:
  kind: each
  over: members
  as: member
  task: {title: {en: M}, role: clerk, queue: member.county, outcomes: [ok]}
  next: act
act: {kind: action, set: {x: "per.0.outcome + per.1.by + per.2.item + total"}, next: finished}
finished: {kind: end, outcome: done}
""",
        head="start: review\nconditions:\n  senior: applicant.age >= 65\n",
    )
    found = problems(
        workflow,
        form=form,
        files={
            "forms/review.schema.json": '{"properties": {"score": {}}}',
            "tables/fees.yaml": FEES,
            "notices/ask.en.md": "# Case {{ reference }}\nPlease answer for {{ answers.applicant.age }}.",
        },
    )
    assert found == []


def test_a_task_form_that_is_not_json_gives_no_fields():
    workflow = steps("""\
review:
  kind: task
  title: {en: R}
  role: clerk
  form: forms/review.schema.json
  outcomes:
    done:
      - {when: review.score > 3, to: finished}
      - {to: finished}
finished: {kind: end, outcome: done}
""")
    assert problems(workflow, files={"forms/review.schema.json": "not json"}) == [
        "p/workflow.yaml:10:18: unknown_field: step 'review' condition reads 'review.score', which is not in the "
        "form or computed by any step"
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("income >", "p/workflow.yaml:6:18: syntax_error: expected a value after '>', but the expression ends"),
        (
            "shout(income)",
            "p/workflow.yaml:6:10: unknown_function: there is no function 'shout'. Did you mean 'count'? The functions "
            "are: abs, add_days, add_months, all, any, ceil, contains, count, days_between, exists, filter, floor, if, length, "
            "lower, map, max, min, missing, month_start, none, round, sum, table, trim, upper, years_between",
        ),
        (
            "round(income, 2, 3)",
            "p/workflow.yaml:6:10: wrong_arguments: round takes 1 or 2 inputs, not 3: write round(number) or "
            "round(number, digits)",
        ),
    ],
    ids=["syntax", "unknown-function", "arguments"],
)
def test_expression_problems_point_inside_the_expression(expression: str, expected: str):
    workflow = steps(f"""\
review:
  kind: action
  set:
    x: {expression}
  next: finished
finished: {{kind: end, outcome: done}}
""")
    assert problems(workflow) == [expected]


# ---------------------------------------------------------------- notices, tables and calendars


def test_notices_exist_in_every_language_and_name_only_known_placeholders():
    workflow = steps(
        """\
review: {kind: notice, notice: welcome, next: ask}
ask: {kind: request information, title: {en: A, es: A}, notice: ask, reminder notice: nudge, expires after: 3 days, on answer: finished, on expiry: finished}
finished: {kind: end, outcome: done, notice: bye}
""",
        head="start: review\nescalations:\n  late: {notify: [clerk], notice: late}\n",
    )
    files = {
        "notices/welcome.en.md": "# Case {{reference}} of {{ program }}\n\nHello {{ name }}: {{ answers.income }}, "
        "{{ outcome }}, {{ link }}.\nIncome: {{ answers.household.size }}",
        "notices/welcome.es.md": "# Hola {{ reference }}",
        "notices/ask.en.md": "# Please answer",
        "notices/nudge.en.md": "Reminder: {{ ask.anything }}",
        "notices/nudge.es.md": "\n# Recordatorio {{ }}",
        "notices/late.en.md": "# Late",
        "notices/late.es.md": "# Tarde {{ answers.ghost }}",
        "notices/unused.en.md": "#Unused",
        "notices/Welcome.md": "misnamed",
    }
    program = PROGRAM.replace("{en: Permit}", "{en: Permit, es: Permiso}") + "languages: [en, es]\n"
    assert problems(workflow, program=program, files=files) == [
        "p/notices/Welcome.md:0:0: invalid_file_name: notice files are named notices/<notice>.<language>.md, "
        "e.g. notices/approval.en.md",
        "p/workflow.yaml:6:8: missing_translation: notice 'ask' has no es text (notices/ask.es.md)",
        "p/workflow.yaml:7:13: unknown_notice: notice 'bye' has no file notices/bye.<language>.md",
        "p/notices/welcome.en.md:3:7: unknown_placeholder: {{ name }} is not a placeholder; a notice may use "
        "{{ reference }}, {{ program }}, {{ outcome }}, {{ link }}, {{ answers.<question> }} and {{ case.<value> }}",
        "p/notices/welcome.en.md:4:9: unknown_field: {{ answers.household.size }} names 'household.size', which is "
        "not a question of the form",
        "p/notices/nudge.en.md:1:1: missing_subject: a notice starts with its subject as a heading, e.g. "
        "'# Your library card is ready'",
        "p/notices/nudge.en.md:1:11: unknown_placeholder: {{ ask.anything }} is not a placeholder; a notice may use "
        "{{ reference }}, {{ program }}, {{ outcome }}, {{ link }}, {{ answers.<question> }} and {{ case.<value> }}",
        "p/notices/nudge.es.md:2:16: unknown_placeholder: {{ }} is not a placeholder; a notice may use "
        "{{ reference }}, {{ program }}, {{ outcome }}, {{ link }}, {{ answers.<question> }} and {{ case.<value> }}",
        "p/notices/late.es.md:1:9: unknown_field: {{ answers.ghost }} names 'ghost', which is not a question of the "
        "form",
        "p/notices/unused.en.md:1:1: missing_subject: a notice starts with its subject as a heading, e.g. "
        "'# Your library card is ready'",
    ]


PRIVATE_FORM = json.dumps(
    {
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email", "x-pii": True},
            "phone": {"type": "string"},
            "branch": {"type": "string", "enum": ["Central", "Harbor"]},
            "topics": {"type": "array", "items": {"type": "string"}},
            "address": {"type": "object", "x-pii": True, "properties": {"city": {"type": "string"}}},
            "people": {"type": "array", "items": {"type": "object", "properties": {"ssn": {"x-sensitive": True}}}},
        },
        "allOf": [{"then": {"properties": {"income": {"type": "number", "x-sensitive": True}}}}],
    }
)


def test_a_notice_never_carries_private_answers_or_groups_of_answers():
    """Notices go by e-mail and SMS: answers tagged x-pii or x-sensitive (or inside a group so
    tagged) are refused, and so is a whole group; one plain answer or a list of choices is fine."""
    workflow = steps("finished: {kind: end, outcome: done, notice: decided}\n", head="start: finished\n")
    text = (
        "# Decided for {{ answers.branch }}\n"
        "{{ answers.topics }} {{ answers.email }} {{ answers.address.city }}\n"
        "{{ answers.people.0.ssn }} {{ answers.income }} {{ answers.address }} {{ answers.phone }}"
    )
    assert problems(workflow, form=PRIVATE_FORM, files={"notices/decided.en.md": text}) == [
        "p/notices/decided.en.md:2:22: private_answer: {{ answers.email }}: 'email' is tagged x-pii or x-sensitive, "
        "and notices go by e-mail and SMS, which are not private enough for it",
        "p/notices/decided.en.md:2:42: private_answer: {{ answers.address.city }}: 'address.city' is tagged x-pii or "
        "x-sensitive, and notices go by e-mail and SMS, which are not private enough for it",
        "p/notices/decided.en.md:3:1: private_answer: {{ answers.people.0.ssn }}: 'people.0.ssn' is tagged x-pii or "
        "x-sensitive, and notices go by e-mail and SMS, which are not private enough for it",
        "p/notices/decided.en.md:3:28: private_answer: {{ answers.income }}: 'income' is tagged x-pii or "
        "x-sensitive, and notices go by e-mail and SMS, which are not private enough for it",
        "p/notices/decided.en.md:3:49: private_answer: {{ answers.address }}: 'address' is tagged x-pii or "
        "x-sensitive, and notices go by e-mail and SMS, which are not private enough for it",
    ]


def test_contact_names_answers_of_the_form():
    program = PROGRAM + "contact: {email: email, phone: mobile}\n"
    assert problems(program=program, form=PRIVATE_FORM) == [
        "p/program.yaml:6:32: unknown_field: contact phone names 'mobile', which is not a question of the form",
    ]
    program = PROGRAM + "contact: {email: address, phone: 'phone number', fax: phone}\n"
    assert problems(program=program, form=PRIVATE_FORM) == [
        "p/program.yaml:6:55: unknown_key: unknown key 'fax'; expected one of: email, phone",
        "p/program.yaml:6:34: invalid_value: contact phone must name an answer of the form by its path, e.g. phone "
        "or contact.phone, not 'phone number'",
        "p/program.yaml:6:18: not_one_answer: contact email names a group of answers; name one question",
    ]
    assert problems(program=PROGRAM + "contact: email\n", form=PRIVATE_FORM) == [
        "p/program.yaml:6:10: invalid_type: contact must be a mapping of keys to values, e.g. "
        "{email: email, phone: phone}",
    ]
    assert problems(program=PROGRAM + "contact: {email: email, phone: phone}\n", form=PRIVATE_FORM) == []


def test_table_files_are_checked_and_named_like_steps():
    workflow = steps("review: {kind: decide, table: fees, next: finished}\nfinished: {kind: end, outcome: done}\n")
    assert problems(workflow, files={"tables/fees.yaml": "title: {en: Fees}\n"}) == [
        "p/tables/fees.yaml:1:1: missing_key: hit policy must be given: one of first, unique, collect",
        "p/tables/fees.yaml:1:1: missing_key: inputs must list at least one name, e.g. [household_size]",
        "p/tables/fees.yaml:1:1: missing_key: outputs must list at least one name, e.g. [annual_fpl]",
        "p/tables/fees.yaml:1:1: missing_key: versions must list at least one version, each with effective from "
        "and rows",
        "p/workflow.yaml:3:33: unknown_table: table 'fees' is not in tables/",
    ]
    assert problems(files={"tables/Fee-Schedule.yaml": FEES}) == [
        "p/tables/Fee-Schedule.yaml:0:0: invalid_name: the table's name 'Fee-Schedule' (its file name) must be a "
        "snake_case name"
    ]


def test_a_table_with_a_gap_is_reported_by_the_checker():
    gappy = FEES.replace('{size: "-", fee: 25}', '{size: "3..5", fee: 25}')
    workflow = steps("review: {kind: decide, table: fees, next: finished}\nfinished: {kind: end, outcome: done}\n")
    assert problems(workflow, files={"tables/fees.yaml": gappy}) == [
        "p/tables/fees.yaml:6:5: table_gap: no row covers size (2..3) or > 5"
    ]


def test_the_calendar_must_be_among_the_files_and_well_formed():
    workflow = "calendar: moon\n" + WORKFLOW
    assert problems(workflow) == [
        "p/workflow.yaml:1:11: unknown_calendar: calendar 'moon' is not among the shared calendars "
        "(definitions/calendars/)"
    ]
    assert problems(workflow, files={"calendars/moon.yaml": "id: moon\n"}) == [
        "p/calendars/moon.yaml:1:1: missing_key: title must be given, e.g. {en: US federal holidays}"
    ]
    moon = "id: moon\ntitle: {en: Moon}\nweekend: [sunday]\nholidays: []\n"
    assert problems(workflow, files={"calendars/moon.yaml": moon}) == []


# ---------------------------------------------------------------- the boundary


def test_load_raises_with_every_error_but_no_warnings():
    workflow = steps("""\
review: {kind: parallel, branches: [a, b]}
a: {kind: finish}
b: {kind: task, title: {en: B}, role: judge, outcomes: {done: finished}}
finished: {kind: end, outcome: done}
""")
    files = {"program.yaml": PROGRAM, "form.schema.json": FORM, "workflow.yaml": workflow}
    with pytest.raises(engine.DefinitionError) as caught:
        engine.load(files, folder="p")
    assert str(caught.value) == "p/workflow.yaml:5:41: unknown_role: role 'judge' is not declared in program.yaml roles"


def test_the_task_an_each_step_opens_is_held_to_the_rules_of_any_task():
    workflow = steps("""\
review:
  kind: each
  count: 2
  task: {title: {en: Sign}, role: clerk, on overdue: late, not same person as: finished, outcomes: [signed]}
  next: finished
finished: {kind: end, outcome: done}
""")
    assert problems(workflow) == [
        "p/workflow.yaml:4:5: not_a_human_step: 'finished' is not a task or approval, so nobody does it",
        "p/workflow.yaml:4:5: unknown_escalation: on overdue names 'late', not an escalation",
        "p/workflow.yaml:4:5: missing_key: step 'review' escalates when overdue but has no due",
    ]


def test_a_clock_is_warned_and_extended_in_the_units_it_counts():
    """A business-day clock cannot be warned or extended in calendar days (the case would fail on submit)."""
    workflow = steps(
        """\
review: {kind: action, extend clock: {decision: 5 days}, next: second}
second: {kind: action, extend clock: {hearing: 2 business days}, next: finished}
finished: {kind: end, outcome: done}
""",
        head="""\
start: review
clocks:
  decision: {limit: 10 business days, warn at: 8 days}
  hearing: {limit: 30 days, warn at: 3 weeks}
""",
    )
    assert problems(workflow) == [
        "p/workflow.yaml:3:48: invalid_duration: a clock of 10 business days counts in business days, so write "
        "8 days in business days too",
        "p/workflow.yaml:6:11: invalid_duration: step 'review' extends 'decision' by 5 days, but a clock of "
        "10 business days counts in business days",
        "p/workflow.yaml:7:11: invalid_duration: step 'second' extends 'hearing' by 2 business days, but a clock of "
        "30 days counts in calendar time (minutes to years)",
    ]


def test_a_clock_warns_before_its_limit():
    from tests.engine.programs import program as build

    with pytest.raises(engine.DefinitionError) as caught:
        build(
            """
            start: a
            clocks:
              decision: {limit: 10 business days, warn at: 10 business days}
            steps:
              a: {kind: end, outcome: done}
            """
        )
    assert [str(problem) for problem in caught.value.problems] == [
        "workflow.yaml:4:48: invalid_duration: warn at 10 business days must come before the limit of 10 business days"
    ]


@pytest.mark.parametrize(
    ("step", "code"),
    [
        ("{kind: wait, for: ~, next: done}", "missing_key"),
        ("{kind: each, count: true, task: {title: {en: T}, role: clerk, outcomes: [ok]}, next: done}", "invalid_value"),
        (
            "{kind: each, count: 2, task: {title: {en: T}, role: clerk, outcomes: [{ok: 1}]}, next: done}",
            "invalid_name",
        ),
    ],
)
def test_empty_or_mistyped_values_are_reported_not_ignored(step, code):
    from tests.engine.programs import program as build

    with pytest.raises(engine.DefinitionError) as caught:
        build(f"start: first\nsteps:\n  first: {step}\n  done: {{kind: end, outcome: done}}\n")
    assert code in [problem.code for problem in caught.value.problems]


def test_a_name_with_a_trailing_newline_is_not_a_name():
    from tests.engine.programs import program as build

    with pytest.raises(engine.DefinitionError) as caught:
        build('start: first\nsteps:\n  first: {kind: end, outcome: "done\\n"}\n')
    assert [problem.code for problem in caught.value.problems] == ["invalid_name"]
