"""form.ui.yaml: every problem located, default widgets, conditions, computed fields, clean()."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expressions import Evaluator
from engine.problems import DefinitionError
from forms.ui import UiSchema, clean, computed_values, load_ui, visible_fields, visible_pages

LANGS = ("en", "zh-Hans")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["full_name", "email", "household"],
    "properties": {
        "full_name": {"type": "string", "title": "Full name", "x-pii": True},
        "email": {"type": "string", "format": "email", "title": "Email address", "description": "For updates."},
        "ssn": {"type": "string", "title": "Social Security number", "x-sensitive": True, "x-pii": True},
        "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth"},
        "employed": {"type": "boolean", "title": "Are you employed?"},
        "employer": {"type": "string", "title": "Employer"},
        "contact_by": {"enum": ["email", "phone", "post"], "title": "How should we contact you?"},
        "county": {"enum": ["alameda", "butte", "colusa", "del_norte", "el_dorado", "fresno"], "title": "County"},
        "needs": {"type": "array", "items": {"enum": ["food", "rent", "childcare"]}, "title": "What help do you need?"},
        "home": {
            "type": "object",
            "title": "Home address",
            "x-pii": True,
            "required": ["line1", "city", "zip"],
            "properties": {
                "line1": {"type": "string"},
                "line2": {"type": "string"},
                "city": {"type": "string"},
                "state": {"type": "string"},
                "zip": {"type": "string"},
            },
        },
        "household": {
            "type": "object",
            "required": ["members"],
            "properties": {
                "members": {
                    "type": "array",
                    "title": "People in your household",
                    "minItems": 1,
                    "maxItems": 12,
                    "items": {"$ref": "#/$defs/person"},
                }
            },
        },
        "income": {"type": "object", "properties": {"monthly": {"type": "number", "title": "Monthly income"}}},
        "proof": {"type": "string", "title": "Proof of income"},
        "signature": {
            "type": "object",
            "title": "Sign your application",
            "required": ["name", "date"],
            "properties": {"name": {"type": "string"}, "date": {"type": "string", "format": "date"}},
        },
        "annual_income": {"type": "number", "title": "Annual household income"},
    },
    "$defs": {
        "person": {
            "type": "object",
            "required": ["name", "age"],
            "properties": {
                "name": {"type": "string", "title": "Name", "x-pii": True},
                "age": {"type": "integer", "title": "Age"},
                "monthly_income": {"type": "number", "title": "Monthly income"},
                "employer": {"type": "string", "title": "Employer"},
            },
        }
    },
    "additionalProperties": False,
}

UI = """\
pages:
  - id: about_you
    title: {en: About you, zh-Hans: 关于您}
    intro: {en: Tell us who you are., zh-Hans: 请告诉我们您是谁。}
    fields:
      - {field: full_name, label: {en: Full name, zh-Hans: 全名}}
      - {field: email, label: {en: Email, zh-Hans: 电子邮件}, hint: {en: We write only about this application., zh-Hans: 我们只就此申请联系您。}, placeholder: {en: name@example.com, zh-Hans: name@example.com}}
      - {field: ssn, label: {en: SSN, zh-Hans: 社会安全号码}}
      - {field: date_of_birth, label: {en: Date of birth, zh-Hans: 出生日期}}
      - {field: contact_by, label: {en: Contact, zh-Hans: 联系方式}, options: {email: {en: By email, zh-Hans: 电子邮件}, phone: {en: By phone, zh-Hans: 电话}}}
      - {field: county, label: {en: County, zh-Hans: 县}}
      - {field: needs, label: {en: Needs, zh-Hans: 需求}}
      - {field: home, label: {en: Home address, zh-Hans: 住址}}
  - id: work
    title: {en: Work, zh-Hans: 工作}
    fields:
      - {field: employed, label: {en: 'Are you employed?', zh-Hans: 您有工作吗？}}
      - {field: employer, label: {en: Employer, zh-Hans: 雇主}, show if: "employed == true"}
      - {field: income.monthly, widget: money, label: {en: Monthly income, zh-Hans: 月收入}}
  - id: household
    title: {en: Your household, zh-Hans: 您的家庭}
    fields:
      - field: household.members
        widget: repeat
        label: {en: People, zh-Hans: 家庭成员}
        add label: {en: Add a person, zh-Hans: 添加一人}
        item label: {en: "Person {number}", zh-Hans: "第 {number} 人"}
        item fields:
          - {field: name, label: {en: Name, zh-Hans: 姓名}}
          - {field: age, label: {en: Age, zh-Hans: 年龄}}
          - {field: monthly_income, widget: money, label: {en: Monthly income, zh-Hans: 月收入}, show if: "age >= 16"}
          - {field: employer, label: {en: Employer, zh-Hans: 雇主}, show if: "monthly_income > 0"}
  - id: proof
    title: {en: Proof of income, zh-Hans: 收入证明}
    show if: annual_income > 0
    fields:
      - {field: proof, widget: file, label: {en: Upload proof, zh-Hans: 上传证明}}
  - id: sign
    title: {en: Sign, zh-Hans: 签名}
    fields:
      - {field: signature, label: {en: Signature, zh-Hans: 签名}}
computed:
  annual_income: sum(household.members, monthly_income) * 12
"""


def load(text: str, schema: dict[str, Any] | None = None, languages: tuple[str, ...] = LANGS) -> UiSchema:
    return load_ui("form.ui.yaml", text, schema if schema is not None else SCHEMA, languages=languages)


def problems(text: str, schema: dict[str, Any] | None = None, languages: tuple[str, ...] = LANGS) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load(text, schema, languages)
    return [str(problem) for problem in caught.value.problems]


def widgets(ui: UiSchema) -> dict[str, str]:
    return {field.name: field.widget for page in ui.pages for field in page.fields}


def test_the_household_form_loads_without_warnings():
    ui = load(UI)
    assert ui.warnings == ()
    assert [page.id for page in ui.pages] == ["about_you", "work", "household", "proof", "sign"]
    assert ui.pages[0].title.pick("zh-hans") == "关于您"


def test_default_widgets_follow_the_schema_types():
    assert widgets(load(UI)) == {
        "full_name": "text",
        "email": "text",
        "ssn": "text",
        "date_of_birth": "date",
        "contact_by": "radios",  # 3 options
        "county": "select",  # 6 options
        "needs": "checkboxes",
        "home": "address",
        "employed": "yes/no",
        "employer": "text",
        "income.monthly": "money",  # written
        "household.members": "repeat",
        "proof": "file",
        "signature": "signature",
    }
    household = load(UI).page("household").fields[0]
    assert [(item.name, item.widget) for item in household.items] == [
        ("name", "text"),
        ("age", "number"),
        ("monthly_income", "money"),
        ("employer", "text"),
    ]


def test_a_repeat_without_item_fields_asks_every_item_property_in_schema_order():
    text = "pages:\n  - id: one\n    title: One\n    fields: [household.members]\n"
    ui = load(text, languages=("en",))
    assert [item.name for item in ui.pages[0].fields[0].items] == ["name", "age", "monthly_income", "employer"]


def test_every_mistake_is_reported_at_once_with_its_place():
    text = """\
pages:
  - id: about_you
    title: {en: About you}
    colour: blue
    fields:
      - full_nam
      - {field: email, widget: slider}
      - {field: full_name, widget: money}
      - {field: employer, show if: "employed = true"}
      - {field: employed, show if: 'employd == true'}
      - {field: home, label: {en: Home, fr: Maison, zh-Hans: 家}}
  - id: more
    title: {en: More, zh-Hans: 更多}
    fields:
      - full_name
computed:
  annual_income: sums(household.members)
"""
    errors = [line for line in problems(text) if ": warning: " not in line]
    assert errors == [
        "form.ui.yaml:3:12: missing_translation: title has no zh-Hans text; translate 'About you' in "
        "locale/zh-Hans.yaml, or write {en: ..., zh-Hans: ...}",
        "form.ui.yaml:4:13: unknown_key: a page has no key 'colour'; the keys are: id, title, intro, fields, show if",
        "form.ui.yaml:6:9: unknown_field: 'full_nam' is not a field of the form schema",
        "form.ui.yaml:7:32: unknown_widget: 'slider' is not a widget; the widgets are: address, checkboxes, date, "
        "file, money, number, radios, repeat, select, signature, text, textarea, yes/no",
        "form.ui.yaml:8:36: widget_mismatch: the money widget needs a number, but 'full_name' is string",
        "form.ui.yaml:9:46: syntax_error: '=' is not an operator: use == to compare",
        "form.ui.yaml:10:37: unknown_field: 'employd' is not a field of the form schema",
        "form.ui.yaml:11:45: unknown_language: 'fr' is not one of the languages: en, zh-Hans",
        "form.ui.yaml:15:9: duplicate_field: 'full_name' is already placed at line 8; each field goes on exactly one page",
        "form.ui.yaml:17:18: unknown_function: there is no function 'sums'. Did you mean 'sum'? The functions are: "
        "abs, add_days, add_months, all, any, ceil, contains, count, days_between, exists, filter, floor, if, length, lower, map, "
        "max, min, missing, month_start, none, round, sum, trim, upper, years_between",
    ]


def test_widgets_that_do_not_fit_the_schema_and_item_fields_are_checked():
    text = """\
pages:
  - id: one
    title: One
    fields:
      - {field: employed, widget: checkboxes}
      - {field: household, label: Household}
      - {field: household.members, widget: repeat, add label: Add, item fields: [name, nickname, {field: age, show if: "shoe_size > 3"}]}
      - {field: email, add label: Add}
"""
    assert [line for line in problems(text, languages=("en",)) if ": warning: " not in line] == [
        "form.ui.yaml:5:35: widget_mismatch: the checkboxes widget needs a list of choices (array of enum), "
        "but 'employed' is boolean",
        "form.ui.yaml:6:17: widget_mismatch: 'household' is object with no default widget; "
        "place its fields one by one or name a widget that fits",
        "form.ui.yaml:7:17: duplicate_field: 'household.members' overlaps 'household', which is already placed at "
        "line 6; each field goes on exactly one page",
        "form.ui.yaml:7:88: unknown_field: 'nickname' is not a field of the items of household.members",
        "form.ui.yaml:7:121: unknown_field: 'shoe_size' is not a field of the items of household.members or the form",
        "form.ui.yaml:8:35: unknown_key: a text field has no key 'add label'; the keys are: field, widget, label, "
        "hint, placeholder, show if, options",
    ]


def test_warnings_name_fields_on_no_page():
    # A field without a label shows the schema's title: whether that is translated is checked
    # against the locale files by load_program_ui (tests/forms/test_program_ui.py).
    text = "pages:\n  - id: one\n    title: {en: One, zh-Hans: 一}\n    fields:\n      - full_name\n      - home\n"
    schema = {"type": "object", "properties": {k: SCHEMA["properties"][k] for k in ("full_name", "home", "email")}}
    ui = load(text, schema)
    assert [str(problem) for problem in ui.warnings] == [
        "form.ui.yaml:2:3: warning: field_not_on_any_page: 'email' is in the form schema but on no page and not "
        "computed; nobody can answer it",
    ]
    assert all(problem.severity == "warning" for problem in ui.warnings)
    assert ui.unplaced == ("email",)


ANSWERS: dict[str, Any] = {
    "full_name": "Mei Chen",
    "email": "mei@example.org",
    "employed": False,
    "employer": "Left over from before",
    "household": {
        "members": [
            {"name": "Mei", "age": 34, "monthly_income": 1500, "employer": "Clinic"},
            {"name": "Lin", "age": 9, "monthly_income": 200, "employer": "Paper round"},
        ]
    },
    "annual_income": 1,  # sent by the browser: never trusted
}


def test_visible_fields_follow_show_if_per_page_and_per_item():
    ui, evaluator = load(UI), Evaluator()
    shown = visible_fields(ui, ANSWERS, evaluator)
    assert "employer" not in shown
    assert {"household.members.0.monthly_income", "household.members.0.employer"} <= shown
    assert "household.members.1.monthly_income" not in shown  # age 9
    assert "household.members.1.employer" in shown  # still has a stale income until cleaned
    assert "proof" in shown
    assert visible_fields(ui, {**ANSWERS, "employed": True}, evaluator) >= {"employer"}


def test_a_failing_condition_hides_the_field():
    ui = load(UI)
    shown = visible_fields(ui, {"household": {"members": [{"age": "not a number"}]}}, Evaluator())
    assert "household.members.0.monthly_income" not in shown


def test_clean_removes_hidden_answers_including_inside_items_and_recomputes():
    ui = load(UI)
    cleaned = clean(ui, SCHEMA, ANSWERS, Evaluator())
    assert "employer" not in cleaned
    assert cleaned["household"]["members"] == [
        {"name": "Mei", "age": 34, "monthly_income": 1500, "employer": "Clinic"},
        {"name": "Lin", "age": 9},  # income hidden by age, so the employer it shows goes too
    ]
    assert cleaned["annual_income"] == 18000
    assert ANSWERS["household"]["members"][1]["monthly_income"] == 200  # the input is not changed


def test_clean_removes_answers_on_a_hidden_page():
    ui = load(UI)
    data = {"household": {"members": [{"name": "Mei", "age": 34, "monthly_income": 0}]}, "proof": "upload-1"}
    assert visible_pages(ui, data, Evaluator()) == ["about_you", "work", "household", "sign"]
    cleaned = clean(ui, SCHEMA, data, Evaluator())
    assert "proof" not in cleaned
    assert cleaned["annual_income"] == 0


def test_computed_values_see_earlier_ones_and_a_failure_is_left_out():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}, "c": {"type": "number"}},
    }
    text = "pages:\n  - id: one\n    title: One\n    fields: [a]\ncomputed:\n  b: a * 2\n  c: b / (a - 1)\n"
    ui = load(text, schema, languages=("en",))
    assert computed_values(ui, {"a": 3}, Evaluator()) == {"b": 6, "c": 3}
    assert computed_values(ui, {"a": 1}, Evaluator()) == {"b": 2}
    assert clean(ui, schema, {"a": 1, "c": 99}, Evaluator()) == {"a": 1, "b": 2}
