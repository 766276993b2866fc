"""render_tree: the neutral widget tree, with errors on the right nodes, in both languages."""

from __future__ import annotations

import re

import pytest

from forms.errors import FieldError
from forms.tree import FieldNode, FormTree, render_tree
from forms.validation import validate
from tests.forms.test_ui import ANSWERS, SCHEMA, UI, load


def walk(nodes: tuple[FieldNode, ...]) -> list[FieldNode]:
    found: list[FieldNode] = []
    for node in nodes:
        found.append(node)
        found.extend(walk(node.children))
    return found


def by_name(tree: FormTree) -> dict[str, FieldNode]:
    return {node.name: node for page in tree.pages for node in walk(page.fields)}


def test_pages_steps_and_hidden_fields():
    tree = render_tree(SCHEMA, load(UI), ANSWERS, [], "en", page="household")
    assert [page.id for page in tree.pages] == ["about_you", "work", "household", "proof", "sign"]
    assert (tree.current_page, tree.step_number, tree.step_count) == ("household", 3, 5)
    nodes = by_name(tree)
    assert "employer" not in nodes  # employed is false
    assert "household.members.1.monthly_income" not in nodes  # age 9
    assert nodes["household.members.0.monthly_income"].value == "1500"
    members = nodes["household.members"]
    assert (members.widget, members.min_items, members.max_items, members.add_label) == (
        "repeat",
        1,
        12,
        "Add a person",
    )
    assert [child.label for child in members.children] == ["Person 1", "Person 2"]


def test_a_hidden_page_is_left_out_of_the_steps():
    data = {"household": {"members": [{"name": "Mei", "age": 34, "monthly_income": 0}]}}
    tree = render_tree(SCHEMA, load(UI), data, [], "en")
    assert [page.id for page in tree.pages] == ["about_you", "work", "household", "sign"]
    assert (tree.current_page, tree.step_number, tree.step_count) == ("about_you", 1, 4)
    with pytest.raises(ValueError, match="hidden"):
        render_tree(SCHEMA, load(UI), data, [], "en", page="proof")


def test_errors_land_on_their_fields_including_items_and_missing_nested_fields():
    data = {
        "full_name": "Mei Chen",
        "email": "not-an-email",
        "home": {"line1": "1 Main St", "zip": "94110"},
        "household": {"members": [{"name": "Mei", "age": 34}, {"age": "nine"}]},
    }
    errors = validate(SCHEMA, data)
    nodes = by_name(render_tree(SCHEMA, load(UI), data, errors, "en"))
    assert nodes["email"].error is not None
    assert nodes["home.city"].error is not None  # a missing required part of the address
    assert nodes["household.members.1.name"].error is not None  # a missing required item field
    assert nodes["household.members.1.age"].error is not None
    assert nodes["household.members.1.age"].value == "nine"  # what was typed is kept
    assert nodes["household.members.0.name"].error is None
    assert nodes["full_name"].error is None


def test_errors_that_match_no_shown_field_are_kept_for_the_summary():
    errors = [
        FieldError("", "unexpected_field", "nickname is not a question"),
        FieldError("/full_name", "x", "Too long"),
    ]
    tree = render_tree(SCHEMA, load(UI), {}, errors, "en")
    assert tree.unplaced_errors == ("nickname is not a question",)
    assert by_name(tree)["full_name"].error == "Too long"


def test_texts_in_both_languages_with_fallback_to_english():
    ui = load(UI)
    english = render_tree(SCHEMA, ui, ANSWERS, [], "en")
    chinese = render_tree(SCHEMA, ui, ANSWERS, [], "zh-hans")
    assert (english.pages[0].title, chinese.pages[0].title) == ("About you", "关于您")
    assert by_name(chinese)["email"].hint == "我们只就此申请联系您。"
    assert [o.label for o in by_name(chinese)["contact_by"].options] == ["电子邮件", "电话", "post"]
    assert [o.label for o in by_name(chinese)["employed"].options] == ["是", "否"]
    assert by_name(chinese)["household.members.0"].label == "第 1 人"
    assert by_name(chinese)["home.line1"].label == "地址第一行"
    assert render_tree(SCHEMA, ui, ANSWERS, [], "fr").pages[0].title == "About you"


def test_required_privacy_and_choices_are_carried():
    nodes = by_name(render_tree(SCHEMA, load(UI), {"needs": ["food", "rent"]}, [], "en"))
    flags = {name: (n.required, n.pii, n.sensitive) for name, n in nodes.items()}
    assert flags["full_name"] == (True, True, False)
    assert flags["ssn"] == (False, True, True)
    assert flags["household.members"][0]  # nested: household requires members
    assert flags["home.city"] == (True, True, False)  # the address is personal as a whole
    assert flags["home.line2"] == (False, True, False)
    assert flags["household.members.0.name"] == (True, True, False)
    assert nodes["needs"].selected == ("food", "rent")
    assert [o.value for o in nodes["county"].options][:2] == ["alameda", "butte"]
    assert nodes["email"].hint == "We write only about this application."
    assert [child.widget for child in nodes["signature"].children] == ["text", "date"]


def test_html_ids_are_unique_and_safe_and_inputs_named_by_path():
    tree = render_tree(SCHEMA, load(UI), ANSWERS, [], "en")
    nodes = [node for page in tree.pages for node in walk(page.fields)]
    ids = [node.html_id for node in nodes]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"field-[a-z0-9-]+", html_id) for html_id in ids)
    name = by_name(tree)["household.members.0.name"]
    assert (name.html_id, name.input_name) == ("field-household-members-0-name", "household.members.0.name")
