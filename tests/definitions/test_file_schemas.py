"""The JSON Schemas in docs/schemas/ describe the definition files exactly as the loaders read them.

Designers' editors validate program.yaml, workflow.yaml, tables, calendars and scenarios against
these schemas as they type (see docs/designer/editor-support.md); ``civicflow check`` stays the
authority. These tests keep the two in step: every shipped definition validates, workflows that
the engine loads validate too, typical mistakes are refused at the place the editor underlines,
and the schemas' names, enums and duration words are the engine's own.
"""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import calendar, expressions, loading, scenarios, tables
from engine.problems import DefinitionError
from engine.source import parse_yaml
from tests.engine.programs import program as load_program

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
DEFINITIONS = ROOT / "definitions"
KINDS = ("program", "workflow", "table", "calendar", "scenario")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


@functools.cache
def schema(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return loaded


@functools.cache
def validator(kind: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(schema(kind))


def json_pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def problems(kind: str, data: Any) -> list[tuple[str, str]]:
    """(JSON pointer, message) for each error the schema finds; empty when the data is valid."""
    return [(json_pointer(error.instance_path), error.message) for error in validator(kind).iter_errors(data)]


def parse(text: str, path: str = "file.yaml") -> Any:
    return parse_yaml(path, textwrap.dedent(text)).data


# ---------------------------------------------------------------- the schemas themselves


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_a_valid_2020_12_schema(kind: str):
    jsonschema_rs.meta.validate(schema(kind))
    assert schema(kind)["$schema"] == DRAFT_2020_12
    assert schema(kind)["$id"] == f"https://civicflow.example/schemas/{kind}.schema.json"
    assert schema(kind)["title"]
    assert schema(kind)["description"]


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}/properties/{name}", sub
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{where}/{index}")


CONDITIONS = ("/if/", "/then/", "/else/")  # conditions restate properties already described


def _description(kind: str, sub: Any) -> str | None:
    """The help an editor shows for a property: its own description, or that of the definition it refers to."""
    while isinstance(sub, dict) and not sub.get("description") and str(sub.get("$ref", "")).startswith("#/$defs/"):
        sub = schema(kind)["$defs"][sub["$ref"].removeprefix("#/$defs/")]
    return sub.get("description") if isinstance(sub, dict) else None


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_explains_itself_for_hover_help(kind: str):
    undescribed = [
        where
        for where, sub in _properties(schema(kind))
        if not _description(kind, sub) and not any(part in where for part in CONDITIONS)
    ]
    assert undescribed == []


# ---------------------------------------------------------------- every shipped definition validates


def _definition_files() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for folder in sorted(path.parent for path in DEFINITIONS.glob(f"*/{loading.PROGRAM_FILE}")):
        found.append(("program", folder / loading.PROGRAM_FILE))
        found.append(("workflow", folder / loading.WORKFLOW_FILE))
        found += [("table", path) for path in sorted(folder.glob("tables/*.yaml"))]
        found += [("scenario", path) for path in sorted(folder.glob("scenarios/*.yaml"))]
        found += [("calendar", path) for path in sorted(folder.glob("calendars/*.yaml"))]
    found += [("calendar", path) for path in sorted(DEFINITIONS.glob("calendars/*.yaml"))]
    return found


DEFINITION_FILES = _definition_files()


def test_every_kind_of_file_is_shipped_somewhere():
    assert {kind for kind, _ in DEFINITION_FILES} >= {"program", "workflow", "scenario", "calendar"}


@pytest.mark.parametrize(
    ("kind", "path"), DEFINITION_FILES, ids=[str(path.relative_to(DEFINITIONS)) for _, path in DEFINITION_FILES]
)
def test_shipped_definition_file_validates(kind: str, path: Path):
    data = parse_yaml(str(path), path.read_text(encoding="utf-8")).data
    assert problems(kind, data) == []


# ---------------------------------------------------------------- workflows the engine loads validate

# Copied from tests/engine/test_patterns.py (test names in the ids); each is also loaded by the engine
# below, so a copy that drifted from what the loader accepts would fail here.
PATTERN_WORKFLOWS = {
    "test_wcp16_deferred_choice_between_an_event_and_a_timeout": (
        """
        start: wait_for_payment
        steps:
          wait_for_payment:
            kind: wait
            any of:
              - {event: payment_received, to: paid}
              - {after: 10 days, to: lapsed}
          paid: {kind: end, outcome: paid}
          lapsed: {kind: end, outcome: lapsed}
        """,
        {},
    ),
    "test_wcp14_multiple_instances_with_runtime_knowledge_one_task_per_household_member": (
        """
        start: verify
        steps:
          verify:
            kind: each
            over: household.members
            as: member
            results: verified_members
            task: {title: {en: Verify member}, role: clerk, outcomes: [verified, not_verified]}
            next: decide
          decide:
            kind: decide
            routes:
              - {when: "all(verified_members, outcome == 'verified')", to: eligible}
              - {to: ineligible}
          eligible: {kind: end, outcome: eligible}
          ineligible: {kind: end, outcome: ineligible}
        """,
        {},
    ),
    "test_request_for_information_pauses_the_clock_reminds_and_times_out": (
        """
        start: review
        calendar: weekdays
        clocks:
          decision: {limit: 10 business days, paused while: waiting for citizen}
        steps:
          review:
            kind: task
            title: {en: Review}
            role: clerk
            outcomes: {complete: approved, missing: ask}
          ask:
            kind: request information
            title: {en: Send your pay slips}
            notice: request_documents
            remind after: 5 days
            reminder notice: reminder
            expires after: 10 days
            on answer: review
            on expiry: withdrawn
          approved: {kind: end, outcome: approved}
          withdrawn: {kind: end, outcome: withdrawn_no_answer}
        """,
        {
            "notices/request_documents.en.md": "# Please send your pay slips for {{ reference }}.",
            "notices/reminder.en.md": "# A reminder about {{ reference }}.",
        },
    ),
    "test_a_statutory_clock_warns_and_escalates_before_breach": (
        """
        start: review
        calendar: weekdays
        clocks:
          decision: {limit: 10 business days, warn at: 8 business days, on warn: [hurry], on breach: [breach]}
        escalations:
          hurry: {notify: [supervisor], raise priority: high}
          breach: {notify: [manager], raise priority: urgent}
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """,
        {"notices/escalation.en.md": "# Case {{ reference }} needs attention."},
    ),
    "test_approval_chain_goes_level_by_level_and_a_denial_stops_it": (
        """
        start: sign_off
        steps:
          sign_off:
            kind: approval
            title: {en: Sign off}
            levels: [reviewer, supervisor, manager]
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """,
        {},
    ),
    "test_sub_workflow_runs_and_its_outcome_picks_the_next_step": (
        """
        start: inspection
        subworkflows:
          site_visit:
            start: visit
            steps:
              visit: {kind: task, title: {en: Visit}, role: clerk, outcomes: {pass: passed, fail: failed}}
              passed: {kind: end, outcome: passed}
              failed: {kind: end, outcome: failed}
        steps:
          inspection: {kind: subworkflow, run: site_visit, outcomes: {passed: issue, failed: refuse}}
          issue: {kind: end, outcome: issued}
          refuse: {kind: end, outcome: refused}
        """,
        {},
    ),
}


@pytest.mark.parametrize(("workflow", "extra_files"), PATTERN_WORKFLOWS.values(), ids=PATTERN_WORKFLOWS)
def test_workflow_the_engine_loads_validates(workflow: str, extra_files: dict[str, str]):
    load_program(workflow, extra_files=extra_files)  # the loader accepts it...
    assert problems("workflow", parse(workflow)) == []  # ...and so does the schema


ACTORS = "actors: {ana: clerk, ben: clerk, rita: reviewer, sam: supervisor, max: manager}"

# Scenarios copied from tests/engine/test_patterns.py with their workflows; each is played by the engine
# below, so a copy that no longer passes would fail here.
PATTERN_SCENARIOS = {
    "test_request_for_information_pauses_the_clock_reminds_and_times_out": (
        "test_request_for_information_pauses_the_clock_reminds_and_times_out",
        f"""
        answers: {{}}
        submitted at: 2026-03-02T10:00:00-08:00
        {ACTORS}
        do:
          - expect deadline: {{decision: 2026-03-16}}
          - advance to: 2026-03-04T10:00:00-08:00
          - ana completes review: missing
          - expect notice: request_documents
          - advance to: 2026-03-09T10:00:00-07:00
          - expect notice: reminder
          - citizen answers ask: {{pay_slips: uploaded}}
          - expect deadline: {{decision: 2026-03-19}}
          - ana completes review: complete
        expect:
          outcome: approved
          data: {{ask.pay_slips: uploaded}}
        """,
    ),
    "test_delegation_reassignment_and_suspension": (
        None,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana claims review
          - ben completes review: done
            expect error: not_assignee
          - ana delegates review to ben
          - ben suspends review
          - ben completes review: done
            expect error: task_suspended
          - ben resumes review
          - sam reassigns review to ana
          - ana completes review: done
        expect: {{outcome: done}}
        """,
    ),
}
DELEGATION_WORKFLOW = """
    start: review
    steps:
      review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
      finished: {kind: end, outcome: done}
"""


@pytest.mark.parametrize(("workflow_of", "scenario"), PATTERN_SCENARIOS.values(), ids=PATTERN_SCENARIOS)
def test_scenario_the_engine_plays_validates(workflow_of: str | None, scenario: str):
    workflow, extra_files = PATTERN_WORKFLOWS[workflow_of] if workflow_of else (DELEGATION_WORKFLOW, {})
    definition = load_program(workflow, extra_files=extra_files)
    played = scenarios.run_scenario(definition, scenarios.load_scenario("scenario.yaml", textwrap.dedent(scenario), {}))
    assert played.failures == []  # the engine plays it through...
    assert problems("scenario", parse(scenario)) == []  # ...and the schema accepts it


# ---------------------------------------------------------------- mistakes are refused where they are

BASE_WORKFLOW = """\
start: review
clocks:
  decision: {limit: 10 business days, warn at: 8 business days}
steps:
  review:
    kind: task
    title: {en: Review}
    role: clerk
    due: 2 business days
    outcomes: {approve: approved, deny: denied}
  approved: {kind: end, outcome: approved}
  denied: {kind: end, outcome: denied}
"""

MISTAKES = {
    # name: (text replaced in BASE_WORKFLOW, replacement, JSON pointer of the error, the loader's problem code)
    # A code written a|b means either (the loader's wording for a missing name is being settled).
    "unknown key in a step": (
        "    role: clerk\n",
        "    role: clerk\n    colour: blue\n",
        "/steps/review",
        "unknown_key",
    ),
    "a key of another kind": (
        "    role: clerk\n",
        "    role: clerk\n    next: approved\n",
        "/steps/review",
        "unknown_key",
    ),
    "wrong kind": ("kind: task", "kind: tsk", "/steps/review/kind", "unknown_kind"),
    "bad duration": ("due: 2 business days", "due: 10 busy days", "/steps/review/due", "invalid_duration"),
    "non-snake_case step name": ("  denied: {kind", "  Denied-Case: {kind", "/steps", "invalid_name"),
    "end step without outcome": (
        "{kind: end, outcome: denied}",
        "{kind: end}",
        "/steps/denied",
        "missing_key|invalid_name",
    ),
    "warning counted unlike the limit": (
        "warn at: 8 business days",
        "warn at: 8 days",
        "/clocks/decision/warn at",
        "invalid_duration",
    ),
}


@pytest.mark.parametrize(("old", "new", "pointer", "code"), MISTAKES.values(), ids=MISTAKES)
def test_workflow_mistake_is_refused_at_its_place(old: str, new: str, pointer: str, code: str):
    assert old in BASE_WORKFLOW
    workflow = BASE_WORKFLOW.replace(old, new)
    with pytest.raises(DefinitionError) as refused:
        load_program(workflow)
    assert set(code.split("|")) & {problem.code for problem in refused.value.problems}
    found = problems("workflow", parse(workflow))
    assert {where for where, _ in found} == {pointer}, found


def test_the_base_of_the_mistakes_is_itself_valid():
    load_program(BASE_WORKFLOW)
    assert problems("workflow", parse(BASE_WORKFLOW)) == []


def test_unknown_key_error_names_the_key():
    found = problems(
        "workflow", parse(BASE_WORKFLOW.replace("    role: clerk\n", "    role: clerk\n    colour: blue\n"))
    )
    assert any("colour" in message for _, message in found)


def _load_table(text: str) -> None:
    tables.load_table("tables/fees.yaml", text, table_id="fees")


def _load_calendar(text: str) -> None:
    calendar.load_calendar("calendars/city.yaml", text)


def _load_scenario(text: str) -> None:
    scenarios.load_scenario("scenarios/s.yaml", text, {})


OTHER_MISTAKES = {
    "table: unknown hit policy": (
        "table",
        _load_table,
        """
        title: {en: Fees}
        hit policy: any
        inputs: [size]
        outputs: [fee]
        versions:
          - effective from: 2025-01-01
            rows: [{size: 1, fee: 10}]
        """,
        "/hit policy",
    ),
    "table: a date that does not exist": (
        "table",
        _load_table,
        """
        title: {en: Fees}
        hit policy: first
        inputs: [size]
        outputs: [fee]
        versions:
          - effective from: 2025-02-29
            rows: [{size: 1, fee: 10}]
        """,
        "/versions/0/effective from",
    ),
    "calendar: a holiday on 29 February": (
        "calendar",
        _load_calendar,
        """
        id: city
        title: {en: City}
        holidays:
          - {name: Leap day, date: 02-29}
        """,
        "/holidays/0/date",
    ),
    "calendar: a rule with a fifth weekday": (
        "calendar",
        _load_calendar,
        """
        id: city
        title: {en: City}
        holidays:
          - {name: Fair day, rule: fifth monday of may}
        """,
        "/holidays/0/rule",
    ),
    "scenario: do is not a list": (
        "scenario",
        _load_scenario,
        """
        answers: {}
        do: lena completes review
        """,
        "/do",
    ),
}


@pytest.mark.parametrize(("kind", "load", "text", "pointer"), OTHER_MISTAKES.values(), ids=OTHER_MISTAKES)
def test_other_file_mistake_is_refused_at_its_place(kind: str, load: Any, text: str, pointer: str):
    with pytest.raises(DefinitionError):
        load(textwrap.dedent(text))
    found = problems(kind, parse(text))
    assert {where for where, _ in found} == {pointer}, found


def test_program_mistake_is_refused_at_its_place():
    text = "id: demo\ntitle: Demo\nagency: city\nreference prefix: lc\nroles: [clerk]\n"
    files = {"program.yaml": text, "form.schema.json": "{}", "workflow.yaml": BASE_WORKFLOW}
    _, found_by_loader = loading.read(files)
    assert "invalid_prefix" in {problem.code for problem in found_by_loader}
    assert {where for where, _ in problems("program", parse(text))} == {"/reference prefix"}


# ---------------------------------------------------------------- the schemas use the engine's own words


def test_step_kinds_are_the_loaders():
    assert schema("workflow")["$defs"]["kind"]["enum"] == list(loading.STEP_KINDS)


def test_task_and_approval_keys_are_the_loaders():
    assert set(schema("workflow")["$defs"]["humanStep"]["properties"]) == loading.COMMON_KEYS | loading.HUMAN_KEYS


def test_assign_strategies_are_the_loaders():
    assign = schema("workflow")["$defs"]["humanStep"]["properties"]["assign"]
    assert assign["anyOf"][0]["enum"] == list(loading.ASSIGN_STRATEGIES)


def test_jsonlogic_operators_are_the_expression_languages():
    operators = schema("workflow")["$defs"]["jsonLogicOperation"]["propertyNames"]["enum"]
    allowed = {*expressions._JSON_OPERATORS, *expressions._NAME_OPERATORS, *loading.CUSTOM_FUNCTIONS}
    assert set(operators) == allowed


def test_hit_policies_and_channels_are_the_loaders():
    assert schema("table")["properties"]["hit policy"]["enum"] == list(tables.HIT_POLICIES)
    assert schema("program")["properties"]["channels"]["items"]["enum"] == list(loading.ALL_CHANNELS)


@pytest.mark.parametrize(
    ("kind", "where", "engine_pattern"),
    [
        ("workflow", ("$defs", "name", "pattern"), loading.NAME.pattern),
        ("program", ("$defs", "name", "pattern"), loading.NAME.pattern),
        ("program", ("properties", "id", "pattern"), loading.PROGRAM_ID.pattern),
        ("program", ("properties", "reference prefix", "pattern"), loading.PREFIX.pattern),
        ("program", ("$defs", "translations", "propertyNames", "pattern"), loading.LANGUAGE.pattern),
        ("workflow", ("$defs", "translations", "propertyNames", "pattern"), loading.LANGUAGE.pattern),
        ("table", ("$defs", "translations", "propertyNames", "pattern"), loading.LANGUAGE.pattern),
        ("calendar", ("$defs", "translations", "propertyNames", "pattern"), loading.LANGUAGE.pattern),
    ],
)
def test_name_patterns_are_the_loaders(kind: str, where: tuple[str, ...], engine_pattern: str):
    node: Any = schema(kind)
    for key in where:
        node = node[key]
    assert node == engine_pattern


# ---------------------------------------------------------------- durations: the pattern reads words like the engine


@functools.cache
def duration_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(
        {"$schema": DRAFT_2020_12, "$defs": schema("workflow")["$defs"], "$ref": "#/$defs/duration"}
    )


def engine_reads(text: str) -> bool:
    try:
        calendar.parse_duration(text)
    except calendar.DurationError:
        return False
    return True


def _unit_spellings() -> list[tuple[str, int]]:
    spellings = []
    for unit in calendar.UNITS:
        for word in (unit, unit + "s", unit.upper() + "S", unit.title()):
            spellings.append((word, calendar.MAX_AMOUNT[unit]))
    return [*spellings, ("calendar days", calendar.MAX_AMOUNT["day"]), ("Calendar Day", calendar.MAX_AMOUNT["day"])]


@pytest.mark.parametrize(("word", "most"), _unit_spellings())
def test_duration_pattern_has_the_engines_units_and_limits(word: str, most: int):
    for text, readable in [
        (f"1 {word}", True),
        (f"{most} {word}", True),
        (f"  00{most}   {word}  ", True),
        (f"{most + 1} {word}", False),
        (f"0 {word}", False),
        (f"1.5 {word}", False),
        (f"-1 {word}", False),
        (f"1{word}", False),
    ]:
        assert engine_reads(text) is readable, text
        assert duration_validator().is_valid(text) is readable, text


@pytest.mark.parametrize(
    "text",
    [
        "10 business days",
        "1  Business   Days",
        "10 busy days",
        "ten days",
        "3 fortnights",
        "10",
        "days",
        "",
        "10 days later",
    ],
)
def test_duration_pattern_agrees_with_the_engine(text: str):
    assert duration_validator().is_valid(text) is engine_reads(text)


_UNIT_WORDS = [word for unit in calendar.UNITS for word in (unit, unit + "s")] + [
    "calendar day",
    "weekday",
    "busy days",
]


@given(
    amount=st.one_of(st.integers(min_value=-5, max_value=60_000_000).map(str), st.sampled_from(["", "x", "1.0", "٣"])),
    word=st.sampled_from(_UNIT_WORDS).map(lambda word: word.replace(" ", "  ")),
    upper=st.booleans(),
    gap=st.sampled_from([" ", "  ", "\t", ""]),
)
def test_duration_pattern_agrees_with_the_engine_on_generated_words(amount: str, word: str, upper: bool, gap: str):
    text = f"{amount}{gap}{word.upper() if upper else word}"
    assert duration_validator().is_valid(text) is engine_reads(text)
