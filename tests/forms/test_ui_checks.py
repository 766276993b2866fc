"""Checks between answers (``checks:`` in form.ui.yaml): one message, at one question, per rule."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import Evaluator
from forms.ui import check_errors
from tests.forms.test_ui import UI, load, problems

EVALUATOR = Evaluator()

CHECKS = """\
checks:
  - field: date_of_birth
    check: date_of_birth <= today
    message: {en: Date of birth must be today or in the past, zh-Hans: 出生日期不能晚于今天}
  - field: household.members
    check: any(household.members, age < 19 and years_between('2010-01-01', today) >= 16)
    message: {en: Add at least one child under 19, zh-Hans: 请至少添加一名 19 岁以下的儿童}
  - field: age
    for each: household.members
    check: age <= 120
    message: {en: Enter an age of 120 or under, zh-Hans: 年龄不能超过 120 岁}
  - field: employer
    check: length(employer) >= 2
    message: {en: Write the employer's full name, zh-Hans: 请写雇主的全称}
"""

GOOD = {
    "full_name": "Ana Ruiz",
    "email": "ana@example.org",
    "date_of_birth": "1990-05-01",
    "employed": True,
    "employer": "Acme",
    "household": {
        "members": [{"name": "Ana", "age": 35, "monthly_income": 2000, "employer": "Acme"}, {"name": "Bo", "age": 7}]
    },
}


def errors(data: dict[str, Any], *, today: str = "2026-11-29", language: str = "en") -> list[tuple[str, str, str]]:
    ui = load(UI + CHECKS)
    return [(e.pointer, e.code, e.message) for e in check_errors(ui, data, EVALUATOR, today=today, language=language)]


def test_answers_that_keep_every_rule_have_no_error():
    assert errors(GOOD) == []


def test_a_broken_rule_shows_its_own_message_at_its_question_in_the_page_language():
    born_tomorrow = {**GOOD, "date_of_birth": "2026-11-30"}
    assert errors(born_tomorrow) == [("/date_of_birth", "failed_check", "Date of birth must be today or in the past")]
    assert errors(born_tomorrow, language="zh-Hans") == [("/date_of_birth", "failed_check", "出生日期不能晚于今天")]
    # The same answer is fine once that day has come: the rule reads the date it is given.
    assert errors(born_tomorrow, today="2026-11-30") == []


def test_a_rule_about_a_list_points_at_the_list_and_a_rule_for_each_item_at_the_item():
    adults_only = {**GOOD, "household": {"members": [{"name": "Ana", "age": 35}, {"name": "Cy", "age": 40}]}}
    assert errors(adults_only) == [("/household/members", "failed_check", "Add at least one child under 19")]
    typo = {**GOOD, "household": {"members": [{"name": "Ana", "age": 350}, {"name": "Bo", "age": 7}]}}
    assert errors(typo) == [("/household/members/0/age", "failed_check", "Enter an age of 120 or under")]


def test_a_rule_about_a_hidden_question_is_not_worked_out():
    # employer is shown only to someone employed: unemployed, its rule is not applied.
    assert errors({**GOOD, "employed": False, "employer": "A"}) == []
    assert errors({**GOOD, "employer": "A"}) == [("/employer", "failed_check", "Write the employer's full name")]


def test_a_rule_about_an_unanswered_question_or_one_that_cannot_be_worked_out_gives_no_error():
    # Not answered: that is "required"'s to say (or the question is optional).
    assert errors({**GOOD, "date_of_birth": None}) == []
    assert errors({key: value for key, value in GOOD.items() if key != "date_of_birth"}) == []
    # An item's unanswered age is not checked either.
    assert errors({**GOOD, "household": {"members": [{"name": "Bo", "age": 7}, {"name": "Ana"}]}}) == []


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "checks:\n  - {field: nope, check: 'true', message: {en: M, zh-Hans: M}}\n",
            "form.ui.yaml:45:13: unknown_field: 'nope' is not a field of the form schema",
        ),
        (
            "checks:\n  - {field: email, check: 'emial == 1', message: {en: M, zh-Hans: M}}\n",
            "unknown_field: 'emial' is not a field of the form schema",
        ),
        (
            "checks:\n  - {field: email, check: 'true', message: {en: M}}\n",
            "missing_translation",
        ),
        (
            "checks:\n  - {field: email, message: {en: M, zh-Hans: M}}\n",
            "missing_key: a check needs check",
        ),
        (
            "checks:\n  - {field: name, for each: email, check: 'true', message: {en: M, zh-Hans: M}}\n",
            "unknown_field: for each must name a repeating group placed on a page, not 'email'",
        ),
        (
            "checks:\n  - {field: email, check: 'true', message: {en: M, zh-Hans: M}, when: x}\n",
            "unknown_key: a check has no key 'when'; the keys are: field, check, message, for each",
        ),
    ],
)
def test_mistakes_in_checks_are_reported_with_their_place(written: str, expected: str):
    found = problems(UI + written)
    assert any(expected in problem for problem in found), found
