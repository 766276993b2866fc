"""program.yaml's ``start page``, ``after submitting`` and ``drafts``: what the citizen reads, how long drafts stay.

The happy path gives the model's values; each mistake is one exact ``path:line:col: code: message``
line; a program without these sections loads with the defaults; and the published file-format
schema accepts exactly what the loader accepts.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import engine
from engine.model import DEFAULT_DRAFT_DAYS, MAX_DRAFT_DAYS, AfterSubmitting, Program, StartPage
from engine.source import parse_yaml

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "program.schema.json"

PROGRAM = """\
id: permit
title: {en: Permit, zh-Hans: 许可证}
agency: city
reference prefix: PM
roles: [clerk]
languages: [en, zh-Hans]
"""
FORM = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"})
WORKFLOW = """\
start: review
steps:
  review:
    kind: task
    title: {en: Review, zh-Hans: 审核}
    role: clerk
    outcomes: {done: finished}
  finished: {kind: end, outcome: done}
"""

PAGES = """\
start page:
  purpose: {en: Get a permit., zh-Hans: 申请许可证。}
  time needed: {en: About 10 minutes, zh-Hans: 约 10 分钟}
  you will need:
    - {en: Proof of address, zh-Hans: 住址证明}
    - {en: Your tax number, zh-Hans: 您的税号}
  other ways to apply: {en: At any office., zh-Hans: 可到任何办事处申请。}
after submitting:
  what happens next: {en: We decide within 10 days., zh-Hans: 我们会在 10 天内作出决定。}
  contact: {en: Call 555-0100., zh-Hans: 请致电 555-0100。}
  feedback: https://city.example.gov/feedback?form=permit
drafts:
  keep for: 14 days
"""


def files(program: str) -> dict[str, str]:
    return {"program.yaml": program, "form.schema.json": FORM, "workflow.yaml": WORKFLOW}


def loaded(program: str) -> Program:
    return engine.load(files(program)).program


def problems(program: str) -> list[str]:
    """Every problem of the program in folder ``p``, as printed."""
    _, found = engine.read(files(program), folder="p")
    return [str(problem) for problem in found]


# ---------------------------------------------------------------- what loads


def test_start_page_after_submitting_and_drafts_reach_the_model():
    program = loaded(PROGRAM + PAGES)
    assert program.start_page == StartPage(
        purpose={"en": "Get a permit.", "zh-Hans": "申请许可证。"},
        time_needed={"en": "About 10 minutes", "zh-Hans": "约 10 分钟"},
        you_will_need=(
            {"en": "Proof of address", "zh-Hans": "住址证明"},
            {"en": "Your tax number", "zh-Hans": "您的税号"},
        ),
        other_ways_to_apply={"en": "At any office.", "zh-Hans": "可到任何办事处申请。"},
    )
    assert program.after_submitting == AfterSubmitting(
        what_happens_next={"en": "We decide within 10 days.", "zh-Hans": "我们会在 10 天内作出决定。"},
        contact={"en": "Call 555-0100.", "zh-Hans": "请致电 555-0100。"},
        feedback="https://city.example.gov/feedback?form=permit",
    )
    assert program.draft_days == 14


def test_the_sections_are_frozen_like_the_rest_of_the_model():
    program = loaded(PROGRAM + PAGES)
    assert program.start_page is not None
    assert isinstance(program.start_page.you_will_need, tuple)
    with pytest.raises(AttributeError):
        program.start_page.purpose = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        program.start_page.you_will_need[0]["en"] = "x"  # type: ignore[index]


def test_a_program_without_these_sections_loads_with_the_defaults():
    program = loaded(PROGRAM)
    assert program.start_page is None
    assert program.after_submitting is None
    assert program.draft_days == DEFAULT_DRAFT_DAYS == 30


@pytest.mark.parametrize(
    "sections",
    [
        "start page:\nafter submitting:\ndrafts:\n",
        "start page: {}\nafter submitting: {}\ndrafts: {}\n",
        "drafts: {keep for: null}\n",
    ],
)
def test_empty_sections_are_the_same_as_leaving_them_out(sections: str):
    program = loaded(PROGRAM + sections)
    assert (program.start_page, program.after_submitting, program.draft_days) == (None, None, DEFAULT_DRAFT_DAYS)


def test_every_key_is_optional_and_plain_text_counts_as_english():
    program = loaded(
        PROGRAM.replace("languages: [en, zh-Hans]\n", "").replace(", zh-Hans: 许可证", "")
        + "start page: {you will need: [Proof of address]}\nafter submitting: {feedback: https://x.example.gov}\n"
    )
    assert program.start_page == StartPage(you_will_need=({"en": "Proof of address"},))
    assert program.after_submitting == AfterSubmitting(feedback="https://x.example.gov")


@pytest.mark.parametrize(
    ("keep_for", "days"),
    [("1 day", 1), ("1 days", 1), ("30 days", 30), ("90 days", 90), ("365 days", MAX_DRAFT_DAYS), ("030 days", 30)],
)
def test_keep_for_is_a_number_of_days_from_1_to_365(keep_for: str, days: int):
    assert loaded(PROGRAM + f"drafts: {{keep for: {keep_for}}}\n").draft_days == days


# ---------------------------------------------------------------- mistakes, each at its place


@pytest.mark.parametrize(
    ("keep_for", "message"),
    [
        ("3 business days", "keep for must be a number of days, e.g. 30 days, not '3 business days'"),
        ("forever", "keep for must be a number of days, e.g. 30 days, not 'forever'"),
        ("2 weeks", "keep for must be a number of days, e.g. 30 days, not '2 weeks'"),
        ("30", "keep for must be a number of days, e.g. 30 days, not 30"),
        ("'-5 days'", "keep for must be a number of days, e.g. 30 days, not '-5 days'"),
        ("1.5 days", "keep for must be a number of days, e.g. 30 days, not '1.5 days'"),
        ("0 days", "keep for must be from 1 to 365 days, not '0 days'"),
        ("366 days", "keep for must be from 1 to 365 days, not '366 days'"),
        ("100000 days", "keep for must be from 1 to 365 days, not '100000 days'"),
    ],
)
def test_keep_for_refuses_anything_but_1_to_365_days(keep_for: str, message: str):
    program = PROGRAM + "drafts:\n  keep for: " + keep_for + "\n"
    assert problems(program) == [f"p/program.yaml:8:13: invalid_duration: {message}"]


def test_unknown_keys_in_each_section_are_named_with_the_keys_allowed_there():
    program = PROGRAM + (
        "start page:\n"
        "  purpose: {en: Get a permit., zh-Hans: 申请许可证。}\n"
        "  time neded: {en: 5 minutes, zh-Hans: 5 分钟}\n"
        "after submitting:\n"
        "  contacts: {en: Call us., zh-Hans: 请致电。}\n"
        "drafts:\n"
        "  keep: 30 days\n"
    )
    assert problems(program) == [
        "p/program.yaml:9:15: unknown_key: unknown key 'time neded'; expected one of: "
        "other ways to apply, purpose, time needed, you will need",
        "p/program.yaml:11:13: unknown_key: unknown key 'contacts'; expected one of: "
        "contact, feedback, what happens next",
        "p/program.yaml:13:9: unknown_key: unknown key 'keep'; expected one of: keep for",
    ]


def test_every_text_needs_every_program_language():
    program = PROGRAM + (
        "start page:\n"
        "  purpose: Get a permit.\n"
        "  you will need:\n"
        "    - {en: Proof of address, zh-Hans: 住址证明}\n"
        "    - {en: Your tax number}\n"
        "  other ways to apply: {en: At any office., zh-Hans: ''}\n"
        "after submitting:\n"
        "  what happens next: {en: We decide within 10 days.}\n"
        "  contact: {zh-Hans: 请致电 555-0100。}\n"
    )
    assert problems(program) == [
        "p/program.yaml:8:12: missing_translation: purpose has no zh-Hans text; the program offers en, zh-Hans",
        "p/program.yaml:11:7: missing_translation: you will need (item 2) has no zh-Hans text; "
        "the program offers en, zh-Hans",
        "p/program.yaml:12:54: invalid_text: zh-Hans text must not be empty",
        "p/program.yaml:12:24: missing_translation: other ways to apply has no zh-Hans text; "
        "the program offers en, zh-Hans",
        "p/program.yaml:14:22: missing_translation: what happens next has no zh-Hans text; "
        "the program offers en, zh-Hans",
        "p/program.yaml:15:12: missing_translation: contact has no en text; the program offers en, zh-Hans",
    ]


def test_sections_and_lists_must_have_the_right_shape():
    program = PROGRAM + ("start page: Apply for a permit\nafter submitting: [what happens next]\ndrafts: 30 days\n")
    assert problems(program) == [
        "p/program.yaml:7:13: invalid_type: start page must be a mapping of keys to values, "
        "e.g. {purpose: ..., time needed: ...}",
        "p/program.yaml:8:19: invalid_type: after submitting must be a mapping of keys to values, "
        "e.g. {what happens next: ..., contact: ...}",
        "p/program.yaml:9:9: invalid_type: drafts must be a mapping of keys to values, e.g. {keep for: 30 days}",
    ]


@pytest.mark.parametrize(
    ("needed", "problem"),
    [
        (
            "Proof of address",
            "7:29: invalid_type: you will need must list what to have at hand, e.g. [Proof of address]",
        ),
        ("[]", "7:29: invalid_type: you will need must list what to have at hand, e.g. [Proof of address]"),
        (
            "[Proof of address, '']",
            "7:48: invalid_text: you will need (item 2) must map language codes to text, e.g. {en: ...}",
        ),
        ("[Proof of address, null]", "7:48: invalid_text: you will need (item 2) must not be empty"),
    ],
)
def test_you_will_need_lists_texts(needed: str, problem: str):
    program = PROGRAM.replace("languages: [en, zh-Hans]\n", "").replace(", zh-Hans: 许可证", "")
    program += "\nstart page: {you will need: " + needed + "}\n"  # on line 7
    assert problems(program) == [f"p/program.yaml:{problem}"]


@pytest.mark.parametrize(
    ("feedback", "shown"),
    [
        ("http://city.example.gov/feedback", "'http://city.example.gov/feedback'"),
        ("'https://city.example.gov/give feedback'", "'https://city.example.gov/give feedback'"),
        ("https://", "'https://'"),
        ("city.example.gov/feedback", "'city.example.gov/feedback'"),
        ("mailto:help@city.example.gov", "'mailto:help@city.example.gov'"),
        ("[https://city.example.gov/feedback]", "['https://city.example.gov/feedback']"),
    ],
)
def test_feedback_is_an_https_address_without_spaces(feedback: str, shown: str):
    program = PROGRAM + "after submitting:\n  feedback: " + feedback + "\n"
    assert problems(program) == [
        "p/program.yaml:8:13: invalid_value: feedback must be an https address without spaces, "
        f"e.g. https://example.gov/feedback, not {shown}"
    ]


def test_every_problem_of_the_sections_is_reported_in_one_pass():
    program = PROGRAM + (
        "start page:\n"
        "  purpose: {en: Get a permit.}\n"
        "  colour: blue\n"
        "after submitting:\n"
        "  feedback: http://city.example.gov\n"
        "drafts: {keep for: forever}\n"
    )
    assert [line.split(": ")[0:2] for line in problems(program)] == [
        ["p/program.yaml:9:11", "unknown_key"],
        ["p/program.yaml:8:12", "missing_translation"],
        ["p/program.yaml:11:13", "invalid_value"],
        ["p/program.yaml:12:20", "invalid_duration"],
    ]


# ---------------------------------------------------------------- the published schema says the same


@functools.cache
def schema_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_accepts(program: str) -> bool:
    data: Any = parse_yaml("program.yaml", program).data
    return bool(schema_validator().is_valid(data))


def loader_accepts(program: str) -> bool:
    return problems(program) == []


def test_the_schema_accepts_the_full_example():
    assert schema_accepts(PROGRAM + PAGES)
    assert loader_accepts(PROGRAM + PAGES)


@pytest.mark.parametrize(
    "keep_for",
    [
        *(f"{days} days" for days in (0, 1, 9, 10, 99, 100, 199, 299, 300, 359, 360, 365, 366, 400, 999, 1000)),
        "1 day",
        "0 day",
        "007 days",
        "000 days",
        "30 Days",
        "30  days",
        "30 business days",
        "30 calendar days",
        "thirty days",
        "forever",
        "30",
        "null",
        "[30 days]",
    ],
)
def test_schema_and_loader_agree_on_keep_for(keep_for: str):
    program = PROGRAM + "drafts: {keep for: " + keep_for + "}\n"
    assert schema_accepts(program) == loader_accepts(program)


@pytest.mark.parametrize(
    "feedback",
    [
        "https://library.example.gov/feedback",
        "https://x.example.gov",
        "https://x.example.gov?survey=1",
        "https://x.example.gov#top",
        "https://x.example.gov:8443/a/b",
        "http://x.example.gov",
        "HTTPS://x.example.gov",
        "https://",
        "https:///path",
        "'https://x.example.gov/a b'",
        "ftp://x.example.gov",
        "x.example.gov",
        "null",
        "42",
    ],
)
def test_schema_and_loader_agree_on_feedback(feedback: str):
    program = PROGRAM + "after submitting:\n  feedback: " + feedback + "\n"
    assert schema_accepts(program) == loader_accepts(program)


@pytest.mark.parametrize(
    "sections",
    [
        "start page:\n",
        "start page: {}\n",
        "start page: {purpose: null}\n",
        "start page: {you will need: []}\n",
        "start page: {you will need: [null]}\n",
        "start page: {you will need: [{en: Proof, zh-Hans: 证明}]}\n",
        "start page: {other ways: {en: Counter, zh-Hans: 柜台}}\n",
        "start page: {time needed: '  '}\n",
        "start page: x\n",
        "after submitting: {what happens next: null, contact: null}\n",
        "after submitting: {what happens next: {en: Soon, zh-Hans: 很快}}\n",
        "after submitting: {phone: 555}\n",
        "after submitting: []\n",
        "drafts: {keep: 30 days}\n",
        "drafts: []\n",
    ],
)
def test_schema_and_loader_agree_on_the_sections(sections: str):
    program = PROGRAM + sections
    assert schema_accepts(program) == loader_accepts(program)
