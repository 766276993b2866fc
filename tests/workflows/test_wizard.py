"""Posted text read as the answers the schema wants, without Django (a plain QueryDict)."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict

import forms
from engine.runtime import value_at
from forms.ui import load_ui
from workflows import wizard

SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"type": "integer"},
        "income": {"type": "number"},
        "employed": {"type": "boolean"},
        "pets": {"type": "array", "items": {"enum": ["cat", "dog"]}},
        "people": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
        },
    },
}
UI = """
pages:
  - id: one
    title: One
    fields:
      - age
      - {field: income, widget: money}
      - employed
      - {field: pets, widget: checkboxes}
      - {field: people, widget: repeat, item fields: [name, age]}
"""


@pytest.fixture
def form() -> wizard.Form:
    ui = load_ui("form.ui.yaml", UI, SCHEMA, languages=("en",))
    return wizard.Form(SCHEMA, ui, forms.FormValidator(SCHEMA))


def read(form: wizard.Form, text: str, *, keep_blank_items: bool = False) -> dict[str, Any]:
    return form.read_page("one", QueryDict(text), {}, keep_blank_items=keep_blank_items)


def test_answers_are_typed_as_the_schema_wants(form):
    answers = read(form, "age=42&income=%241%2C234.50&employed=true&pets=cat&pets=dog")
    assert answers == {"age": 42, "income": 1234.5, "employed": True, "pets": ["cat", "dog"]}


@pytest.mark.parametrize("typed", ["forty", "1e999999", "NaN", "Infinity", "9" * 40])
def test_what_does_not_read_as_a_sensible_number_is_kept_as_typed(form, typed):
    answers = read(form, f"age={typed}")
    assert answers == {"age": typed}
    assert [error.code for error in form.errors(answers, "en")] == ["wrong_type"]


def test_blank_answers_are_removed_so_required_can_report_them(form):
    previous = {"age": 42, "employed": False}
    answers = form.read_page("one", QueryDict("age=&employed="), previous, keep_blank_items=False)
    assert answers == {}


def test_repeat_items_come_in_order_and_blank_ones_go_unless_adding(form):
    posted = "people.3.name=Mia&people.0.name=Leo&people.0.age=5&people.1.name="
    assert read(form, posted) == {"people": [{"name": "Leo", "age": 5}, {"name": "Mia"}]}
    assert read(form, posted, keep_blank_items=True)["people"][1] == {}


def test_assign_and_delete_walk_lists_and_objects():
    data: dict[str, Any] = {}
    wizard.assign(data, "people.1.name", "Mia")
    assert data == {"people": [{}, {"name": "Mia"}]}
    wizard.delete(data, "people.0")
    assert data == {"people": [{"name": "Mia"}]}
    wizard.delete(data, "people.7.name")  # nothing there: nothing happens
    assert value_at(data, "people.0.name") == "Mia"


def test_check_answers_lists_every_file_of_a_several_file_question():
    schema = {"type": "object", "properties": {"proofs": {"type": "array", "items": {"type": "string"}}}}
    ui = load_ui(
        "form.ui.yaml",
        "pages:\n  - id: one\n    title: One\n    fields: [{field: proofs, widget: file}]\n",
        schema,
        languages=("en",),
    )
    form = wizard.Form(schema, ui, forms.FormValidator(schema))
    data = {"proofs": ["ref-1", "ref-2"]}
    sections = wizard.summary(
        form.tree(data, [], "en", "one"), {"ref-1": "a.pdf", "ref-2": "b.png"}, "Not provided", data
    )
    assert sections[0].rows[0].answer == ("a.pdf", "b.png")
    empty = wizard.summary(form.tree({}, [], "en", "one"), {}, "Not provided", {})
    assert empty[0].rows[0].answer == ("Not provided",)
