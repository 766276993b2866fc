"""program.yaml's ``retention`` and ``privacy``: how long closed cases keep their data, who sees sensitive answers.

The happy path gives the model's values; a program without them keeps cases indefinitely and lets
nobody reveal sensitive answers; each mistake is one exact ``path:line:col: code: message`` line;
and the published file-format schema accepts exactly what the loader accepts.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema_rs
import pytest

import engine
from engine.calendar import Duration
from engine.model import Privacy, Program, Retention
from engine.source import parse_yaml
from tests.conftest import DEFINITIONS

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "program.schema.json"

PROGRAM = """\
id: permit
title: {en: Permit}
agency: city
reference prefix: PM
roles: [clerk, supervisor]
"""
FORM = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"})
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


def loaded(program: str) -> Program:
    return engine.load({"program.yaml": program, "form.schema.json": FORM, "workflow.yaml": WORKFLOW}).program


def problems(program: str) -> list[str]:
    files = {"program.yaml": program, "form.schema.json": FORM, "workflow.yaml": WORKFLOW}
    _, found = engine.read(files, folder="p")
    return [str(problem) for problem in found]


@functools.cache
def schema_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_accepts(program: str) -> bool:
    return bool(schema_validator().is_valid(parse_yaml("program.yaml", program).data))


# ---------------------------------------------------------------- what loads


def test_retention_and_privacy_reach_the_model():
    program = loaded(
        PROGRAM
        + "retention: {closed cases: 7 years}\n"
        + "privacy: {sharing: with consent, sensitive fields seen by: [supervisor, clerk]}\n"
    )
    assert program.retention == Retention(closed_cases=Duration(7, "year"))
    assert program.privacy == Privacy(sharing="with consent", sensitive_fields_seen_by=("supervisor", "clerk"))


def test_without_them_cases_are_kept_indefinitely_and_nobody_sees_sensitive_answers():
    program = loaded(PROGRAM)
    assert program.retention.closed_cases is None
    assert program.privacy == Privacy(sharing="none", sensitive_fields_seen_by=())


@pytest.mark.parametrize(
    "sections",
    ["retention:\nprivacy:\n", "retention: {}\nprivacy: {}\n", "retention: {closed cases: null}\n"],
)
def test_empty_sections_are_the_same_as_leaving_them_out(sections: str):
    program = loaded(PROGRAM + sections)
    assert (program.retention, program.privacy) == (Retention(), Privacy())


@pytest.mark.parametrize(
    ("written", "duration"),
    [
        ("7 years", Duration(7, "year")),
        ("1 year", Duration(1, "year")),
        ("18 months", Duration(18, "month")),
        ("6 weeks", Duration(6, "week")),
        ("90 days", Duration(90, "day")),
        ("30 calendar days", Duration(30, "day")),
        ("100 Years", Duration(100, "year")),
    ],
)
def test_closed_cases_is_calendar_time(written: str, duration: Duration):
    program = PROGRAM + f"retention: {{closed cases: {written}}}\n"
    assert loaded(program).retention.closed_cases == duration
    assert schema_accepts(program)


def test_the_shipped_demo_program_keeps_closed_cases_7_years_and_lets_librarians_reveal():
    folder = DEFINITIONS / "library-card"
    files = {path.relative_to(folder).as_posix(): path.read_text() for path in folder.rglob("*") if path.is_file()}
    files = {name: text for name, text in files.items() if not name.startswith(("examples/", "scenarios/"))}
    program = engine.load(files).program
    assert program.retention.closed_cases == Duration(7, "year")
    assert program.privacy.sensitive_fields_seen_by == ("librarian",)


# ---------------------------------------------------------------- mistakes, each at its place


CLOSED_CASES_MESSAGE = (
    "closed cases must say how long a closed case is kept: a whole number of days, weeks, months or years, "
    "at most 100 years, e.g. 7 years, not {!r}"
)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("forever", "forever"),
        ("3 business days", "3 business days"),
        ("48 hours", "48 hours"),
        ("0 years", "0 years"),
        ("101 years", "101 years"),
        ("1.5 years", "1.5 years"),
        ("seven years", "seven years"),
        ("7", 7),
        ("[7 years]", ["7 years"]),
    ],
)
def test_closed_cases_refuses_anything_but_a_calendar_duration(written: str, shown: object):
    program = PROGRAM + "retention:\n  closed cases: " + written + "\n"
    assert problems(program) == [f"p/program.yaml:7:17: invalid_duration: {CLOSED_CASES_MESSAGE.format(shown)}"]
    assert not schema_accepts(program)


def test_sections_must_be_mappings_with_known_keys():
    program = PROGRAM + "retention: 7 years\nprivacy: [supervisor]\n"
    assert problems(program) == [
        "p/program.yaml:6:12: invalid_type: retention must map what to keep to how long",
        "p/program.yaml:7:10: invalid_type: privacy must be a mapping of keys to values, "
        "e.g. {sharing: none, sensitive fields seen by: [supervisor]}",
    ]
    assert not schema_accepts(program)
    program = PROGRAM + "retention: {closed case: 7 years}\nprivacy: {seen by: [clerk]}\n"
    assert problems(program) == [
        "p/program.yaml:6:26: unknown_key: unknown key 'closed case'; expected one of: closed cases",
        "p/program.yaml:7:20: unknown_key: unknown key 'seen by'; expected one of: sensitive fields seen by, sharing",
    ]
    assert not schema_accepts(program)


def test_sharing_is_none_or_with_consent():
    program = PROGRAM + "privacy:\n  sharing: with the press\n"
    assert problems(program) == [
        "p/program.yaml:7:12: invalid_value: sharing must be one of: none, with consent, not 'with the press'"
    ]
    assert not schema_accepts(program)


def test_sensitive_fields_are_seen_by_the_programs_own_roles_only():
    program = PROGRAM + "privacy:\n  sensitive fields seen by: [supervisor, auditor, supervisor]\n"
    assert problems(program) == [
        "p/program.yaml:7:42: unknown_role: role 'auditor' is not declared in program.yaml roles",
        "p/program.yaml:7:51: duplicate_role: role 'supervisor' is listed twice",
    ]
    assert loaded_despite_problems(program).privacy.sensitive_fields_seen_by == ("supervisor",)


@pytest.mark.parametrize("roles", ["supervisor", "{supervisor: yes}", "[supervisor, 3]"])
def test_sensitive_fields_seen_by_is_a_list_of_role_names(roles: str):
    program = PROGRAM + "privacy:\n  sensitive fields seen by: " + roles + "\n"
    assert problems(program) == [
        "p/program.yaml:7:29: invalid_type: sensitive fields seen by must list role names, e.g. [supervisor]"
    ]
    assert not schema_accepts(program)


def loaded_despite_problems(program: str) -> Program:
    definition, _ = engine.read({"program.yaml": program, "form.schema.json": FORM, "workflow.yaml": WORKFLOW})
    assert definition is not None
    return definition.program


# ---------------------------------------------------------------- the file-format schema agrees


@pytest.mark.parametrize(
    "written",
    ["7 years", "84 months", "2 weeks", "1 day", "36500 days", "5200 weeks", "1200 months", "100 years", " 7  years "],
)
def test_the_schema_accepts_what_the_loader_accepts(written: str):
    program = PROGRAM + f"retention: {{closed cases: '{written}'}}\nprivacy: {{sensitive fields seen by: [clerk]}}\n"
    assert problems(program) == []
    assert schema_accepts(program)


@pytest.mark.parametrize("written", ["36501 days", "5201 weeks", "1201 months", "10 minutes", "2 business days"])
def test_the_schema_refuses_what_the_loader_refuses(written: str):
    program = PROGRAM + f"retention: {{closed cases: '{written}'}}\n"
    assert [problem.split(": ")[1] for problem in problems(program)] == ["invalid_duration"]
    assert not schema_accepts(program)
