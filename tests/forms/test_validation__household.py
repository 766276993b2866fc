"""A household application form: exact pointers, codes and messages, in English and Chinese.

The fixture in ``fixtures/household/`` is laid out like a program folder: the form
``form.schema.json`` (a nested applicant, a repeating group of household members, an enum,
a date, a conditional requirement with ``if``/``then``, a ``dependentRequired``) and two
schemas shipped beside it in ``forms/``, referred to relatively (the address, which itself
refers to ``common.schema.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import forms

FOLDER = Path(__file__).parent / "fixtures" / "household"


def _read(name: str) -> Any:
    return json.loads((FOLDER / name).read_text(encoding="utf-8"))


FORM = _read("form.schema.json")
SHIPPED = {
    path.relative_to(FOLDER).as_posix(): _read(path.relative_to(FOLDER).as_posix())
    for path in sorted((FOLDER / "forms").glob("*.json"))
}
VALIDATOR = forms.FormValidator(FORM, shipped=SHIPPED)

# pointer, code, English, Simplified Chinese: in the order the validator reports them.
INVALID = [
    ("/landlord_name", "required", "Answer this question.", "请回答此问题。"),
    ("/applicant/name", "too_short", "Enter at least 1 character.", "请至少输入1个字符。"),
    (
        "/applicant/date_of_birth",
        "invalid_format",
        "Enter a real date in the form YYYY-MM-DD, for example 2026-11-28.",
        "请输入真实存在的日期，格式为 YYYY-MM-DD，例如 2026-11-28。",
    ),
    (
        "/applicant/email",
        "invalid_format",
        "Enter an email address, for example name@example.com.",
        "请输入电子邮件地址，例如 name@example.com。",
    ),
    ("/applicant/address/city", "required", "Answer this question.", "请回答此问题。"),
    ("/applicant/address/postcode", "pattern_mismatch", "Enter this in the correct format.", "请按正确的格式填写。"),
    ("/applicant/nickname", "unexpected_field", "This question is not on the form.", "表单中没有这个问题。"),
    ("/household/members/0/monthly_income", "wrong_type", "Enter a number.", "请输入数字。"),
    ("/household/members/1/name", "required", "Answer this question.", "请回答此问题。"),
    (
        "/household/members/1/relationship",
        "not_allowed_value",
        "Choose one of: self, spouse, child, parent, other.",
        "请从以下选项中选择：self、spouse、child、parent、other。",
    ),
    ("/household/members/1/age", "too_small", "Enter a number that is 0 or more.", "请输入大于或等于0的数字。"),
    ("/household/members/1/pet", "unexpected_field", "This question is not on the form.", "表单中没有这个问题。"),
    ("/monthly_rent", "required", "Answer this question.", "请回答此问题。"),
]


def test_the_fixture_form_and_its_shipped_schemas_pass_the_check():
    assert sorted(SHIPPED) == ["forms/address.schema.json", "forms/common.schema.json"]
    assert forms.check_schema(FORM, shipped=SHIPPED) == []


def test_the_form_cannot_be_checked_without_its_shipped_schemas():
    problems = forms.check_schema(FORM)
    assert [(problem.pointer, problem.code) for problem in problems] == [
        ("/properties/applicant/properties/address/$ref", "remote_ref")
    ]


def test_valid_answers_have_no_errors():
    assert VALIDATOR.validate(_read("valid.json")) == []
    assert VALIDATOR.validate(_read("valid.json"), language="zh-Hans") == []


@pytest.mark.parametrize(("language", "column"), [("en", 2), ("zh-Hans", 3)])
def test_every_error_at_once_at_its_field_in_the_language_asked_for(language, column):
    errors = VALIDATOR.validate(_read("invalid.json"), language=language)
    assert [(error.pointer, error.code, error.message) for error in errors] == [
        (row[0], row[1], row[column]) for row in INVALID
    ]


def test_the_same_errors_come_from_validate():
    errors = forms.validate(FORM, _read("invalid.json"), shipped=SHIPPED, language="zh-Hans")
    assert [(error.pointer, error.code, error.message) for error in errors] == [
        (pointer, code, chinese) for pointer, code, _, chinese in INVALID
    ]


def test_the_conditional_requirement_applies_only_when_its_condition_holds():
    answers = _read("valid.json")
    del answers["monthly_rent"]
    (error,) = VALIDATOR.validate(answers)
    assert (error.pointer, error.code) == ("/monthly_rent", "required")
    assert VALIDATOR.validate({**answers, "housing": "own"}) == []


def test_the_repeating_group_has_limits():
    answers = _read("valid.json")
    member = answers["household"]["members"][0]
    assert [(e.pointer, e.code, e.message) for e in VALIDATOR.validate({**answers, "household": {"members": []}})] == [
        ("/household/members", "too_few_items", "Add at least 1 entry.")
    ]
    errors = VALIDATOR.validate({**answers, "household": {"members": [member] * 13}}, language="zh-Hans")
    assert [(e.pointer, e.code, e.message) for e in errors] == [
        ("/household/members", "too_many_items", "最多只能填写12项。")
    ]


def test_a_missing_group_points_at_the_group_and_a_wrong_type_names_the_type():
    answers = _read("valid.json")
    del answers["household"]
    errors = VALIDATOR.validate({**answers, "monthly_rent": "950"})
    assert [(e.pointer, e.code, e.message) for e in errors] == [
        ("/household", "required", "Answer this question."),
        ("/monthly_rent", "wrong_type", "Enter a number."),
    ]
    errors = VALIDATOR.validate({**answers, "monthly_rent": 100001}, language="zh-Hans")
    assert [(e.pointer, e.code, e.message) for e in errors] == [
        ("/household", "required", "请回答此问题。"),
        ("/monthly_rent", "too_large", "请输入小于或等于100000的数字。"),
    ]
