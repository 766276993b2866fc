"""A program's form in every language: locale/*.yaml, the default UI and load_program_ui."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
import forms
from engine.expressions import Evaluator
from forms.program_ui import default_ui, load_program_ui
from forms.tree import FieldNode, FormTree, render_tree
from forms.ui import Text, UiSchema

LANGS = ("en", "zh-Hans")
DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"

SCHEMA_TEXT = """\
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Food help application",
  "type": "object",
  "required": ["full_name", "contact_by"],
  "properties": {
    "full_name": {"type": "string", "title": "Full name", "description": "As it appears on your ID."},
    "contact_by": {
      "type": "string",
      "title": "How should we contact you?",
      "oneOf": [{"const": "email", "title": "By email"}, {"const": "phone", "title": "By phone"}]
    },
    "county": {"enum": ["Alameda", "Butte"], "title": "County"},
    "home": {
      "type": "object",
      "title": "Home address",
      "properties": {"line1": {"type": "string", "title": "Street"}, "city": {"type": "string"}}
    },
    "income": {"type": "object", "properties": {"monthly": {"type": "number", "title": "Monthly income"}}},
    "household": {
      "type": "object",
      "properties": {
        "members": {"type": "array", "title": "People in your household", "items": {"$ref": "#/$defs/person"}}
      }
    }
  },
  "$defs": {
    "person": {
      "type": "object",
      "properties": {"name": {"type": "string", "title": "Name"}, "age": {"type": "integer", "title": "Age"}}
    }
  }
}
"""
SCHEMA: dict[str, Any] = json.loads(SCHEMA_TEXT)

UI_TEXT = """\
pages:
  - id: about_you
    title: About you
    intro: Tell us who you are.
    fields:
      - full_name
      - contact_by
      - {field: county, options: {Butte: {en: Butte, zh-Hans: 巴特县}}}
      - home
      - {field: income.monthly, widget: money, label: {en: Monthly income, zh-Hans: 每月收入}}
  - id: household
    title: {en: Your household}
    fields:
      - field: household.members
        label: People
        hint: {en: Everyone who lives with you., zh-Hans: 与您同住的每个人。}
        placeholder: Nobody yet
        add label: Add a person
        remove label: Remove
        item label: "Person {number}"
        item fields: [name, age]
"""

LOCALE_TEXT = """\
# The texts of form.ui.yaml and form.schema.json, as written in English.
"About you": 关于您
"Tell us who you are.": 请告诉我们您是谁。
"Full name": 全名
"As it appears on your ID.": 与您的身份证件一致。
"How should we contact you?": 我们应如何联系您？
"By email": 通过电子邮件
"Alameda": 阿拉米达县
"Home address": 家庭住址
"Street": 街道
"Your household": 您的家庭
"Monthly income": 月收入
"People": 家庭成员
"Nobody yet": 暂无
"Add a person": 添加一人
"Remove": 删除此人
"Person {number}": "第 {number} 人"
"Name": 姓名
"Ful name": 全名
"""


def files(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test program's files, with ``extra`` added or replacing some."""
    return {
        "form.schema.json": SCHEMA_TEXT,
        "form.ui.yaml": UI_TEXT,
        "locale/zh-Hans.yaml": LOCALE_TEXT,
        **(extra or {}),
    }


def load(given: dict[str, str], languages: tuple[str, ...] = LANGS) -> tuple[UiSchema | None, list[str]]:
    ui, problems = load_program_ui(given, SCHEMA, languages=languages)
    return ui, [str(problem) for problem in problems]


def loaded(given: dict[str, str], languages: tuple[str, ...] = LANGS) -> UiSchema:
    ui, problems = load(given, languages)
    assert ui is not None, problems
    return ui


def walk(nodes: tuple[FieldNode, ...]) -> list[FieldNode]:
    found: list[FieldNode] = []
    for node in nodes:
        found.append(node)
        found.extend(walk(node.children))
    return found


def by_name(tree: FormTree) -> dict[str, FieldNode]:
    return {node.name: node for page in tree.pages for node in walk(page.fields)}


DATA = {"household": {"members": [{"name": "Mei", "age": 34}]}}


# --------------------------------------------------------------------------- translating


def test_locale_translates_the_plain_texts_of_form_ui_yaml():
    tree = render_tree(SCHEMA, loaded(files()), DATA, [], "zh-Hans")
    about, household = tree.pages
    assert (about.title, about.intro, household.title) == ("关于您", "请告诉我们您是谁。", "您的家庭")
    members = by_name(tree)["household.members"]
    assert (members.label, members.placeholder, members.add_label, members.remove_label) == (
        "家庭成员",
        "暂无",
        "添加一人",
        "删除此人",
    )
    assert members.children[0].label == "第 1 人"


def test_locale_translates_the_texts_taken_from_the_schema():
    nodes = by_name(render_tree(SCHEMA, loaded(files()), DATA, [], "zh-hans"))
    assert (nodes["full_name"].label, nodes["full_name"].hint) == ("全名", "与您的身份证件一致。")
    assert nodes["contact_by"].label == "我们应如何联系您？"
    assert [(o.value, o.label) for o in nodes["contact_by"].options] == [
        ("email", "通过电子邮件"),
        ("phone", "By phone"),
    ]
    assert [(o.value, o.label) for o in nodes["county"].options] == [("Alameda", "阿拉米达县"), ("Butte", "巴特县")]
    assert nodes["county"].label == "County"  # no translation: shown as written, with a warning
    assert (nodes["home"].label, nodes["home.line1"].label, nodes["home.city"].label) == ("家庭住址", "街道", "城市")
    assert (nodes["household.members.0.name"].label, nodes["household.members.0.age"].label) == ("姓名", "Age")


def test_english_and_unknown_languages_show_the_texts_as_written():
    ui = loaded(files())
    english = by_name(render_tree(SCHEMA, ui, DATA, [], "en"))
    assert (english["full_name"].label, english["contact_by"].options[0].label) == ("Full name", "By email")
    assert render_tree(SCHEMA, ui, DATA, [], "fr").pages[0].title == "About you"
    assert render_tree(SCHEMA, ui, DATA, [], "zh-Hans-CN").pages[0].title == "关于您"
    assert (ui.translation("Street", "zh-Hans-SG"), ui.translation("Street", "en"), ui.translate("Age", "zh-Hans")) == (
        "街道",
        None,
        "Age",
    )


def test_inline_translations_win_and_the_locale_fills_the_languages_they_leave_out():
    ui = loaded(files())
    nodes = by_name(render_tree(SCHEMA, ui, DATA, [], "zh-Hans"))
    assert nodes["income.monthly"].label == "每月收入"  # inline, though the locale says 月收入
    assert [o.label for o in nodes["county"].options][1] == "巴特县"
    assert nodes["household.members"].hint == "与您同住的每个人。"
    assert ui.page("household").title == Text((("en", "Your household"), ("zh-Hans", "您的家庭")))


def test_untranslated_schema_texts_and_unused_entries_are_warnings_with_their_places():
    ui, problems = load(files())
    assert ui is not None
    assert problems == [
        'form.schema.json:11:86: warning: untranslated_text: at /properties/contact_by/oneOf/1/title: the choice "By '
        'phone" has no zh-Hans translation, so it is shown untranslated; add "By phone": ... to locale/zh-Hans.yaml',
        'form.schema.json:13:55: warning: untranslated_text: at /properties/county/title: the title "County" has no '
        'zh-Hans translation, so it is shown untranslated; add "County": ... to locale/zh-Hans.yaml',
        'form.schema.json:30:103: warning: untranslated_text: at /$defs/person/properties/age/title: the title "Age" '
        'has no zh-Hans translation, so it is shown untranslated; add "Age": ... to locale/zh-Hans.yaml',
        "locale/zh-Hans.yaml:19:13: warning: unused_translation: 'Ful name' is not a text of form.ui.yaml or "
        "form.schema.json, so this translation is never shown; check its spelling against the English text",
    ]
    assert [str(problem) for problem in ui.warnings] == problems


def test_a_field_with_neither_label_nor_title_is_named_in_a_warning():
    schema_text = '{"type": "object", "properties": {\n  "pet_name": {"type": "string"}\n}}\n'
    ui, problems = load_program_ui(
        {"form.schema.json": schema_text}, json.loads(schema_text), languages=("en", "zh-Hans")
    )
    assert ui is not None
    assert [str(problem) for problem in problems] == [
        "form.schema.json:2:15: warning: untranslated_text: at /properties/pet_name: 'pet_name' has no title here "
        "and no label in form.ui.yaml, so every language shows its name, 'Pet name'; give it a title (and translate "
        "that) or a label",
    ]


def test_a_single_language_program_needs_no_translations():
    ui_text = "pages:\n  - id: one\n    title: One\n    fields: [full_name, county]\n"
    ui, problems = load({"form.schema.json": SCHEMA_TEXT, "form.ui.yaml": ui_text}, ("en",))
    assert ui is not None
    assert [line for line in problems if "untranslated" in line or "translation" in line] == []


def test_the_locale_may_translate_the_built_in_words_for_any_language():
    given = {
        "form.ui.yaml": "pages:\n  - id: one\n    title: One\n    fields: [household.members, {field: full_name, label: Full name}]\n",
        "locale/es.yaml": '"One": Uno\n"Full name": Nombre\n"Add another": Añadir otra persona\n"Item {number}": '
        '"Persona {number}"\n"People in your household": Personas de su hogar\n"Name": Nombre\n"Age": Edad\n',
    }
    ui = loaded(given, ("en", "es"))
    members = by_name(render_tree(SCHEMA, ui, DATA, [], "es"))["household.members"]
    assert (members.label, members.add_label, members.remove_label) == (
        "Personas de su hogar",
        "Añadir otra persona",
        "Remove",
    )
    assert members.children[0].label == "Persona 1"
    chinese = loaded(files({"locale/zh-Hans.yaml": LOCALE_TEXT + '"Add another": 再加一位\n'}))
    assert by_name(render_tree(SCHEMA, chinese, {}, [], "zh-Hans"))["household.members"].add_label == "添加一人"


# --------------------------------------------------------------------------- mistakes


def test_mistakes_in_locale_files_are_errors_with_their_places():
    given = files(
        {
            "locale/zh-Hans.yaml": '"Full name": 全名\n"Age": 12\n"About you":\n"Yes": yes\n"Street": ""\n',
            "locale/fr.yaml": "Hello: Bonjour\n",
            "locale/en.yaml": "Hello: Hi\n",
            "locale/zh-TW.yml": "Hello: 你好\n",
        }
    )
    ui, problems = load(given)
    assert ui is None
    # Without a translation in the locale file, a plain text of form.ui.yaml stays an error.
    assert problems[0] == (
        "form.ui.yaml:3:12: missing_translation: title has no zh-Hans text; translate 'About you' in "
        "locale/zh-Hans.yaml, or write {en: ..., zh-Hans: ...}"
    )
    assert [line for line in problems if line.startswith("locale/")] == [
        "locale/en.yaml:0:0: invalid_locale: en is the language the program's texts are written in, so it needs no "
        "locale file; the program's other languages are: zh-Hans",
        "locale/fr.yaml:0:0: unknown_language: 'fr' is not one of the program's languages (en, zh-Hans); add it to "
        "languages in program.yaml or remove this file",
        "locale/zh-Hans.yaml:2:8: invalid_text: the translation of 'Age' must be words; put it in quotes if it reads "
        "as a number, yes/no or nothing",
        "locale/zh-Hans.yaml:3:13: invalid_text: the translation of 'About you' must be words; put it in quotes if it "
        "reads as a number, yes/no or nothing",
        "locale/zh-Hans.yaml:4:8: invalid_text: the translation of 'Yes' must be words; put it in quotes if it reads "
        "as a number, yes/no or nothing",
        "locale/zh-Hans.yaml:5:11: invalid_text: the translation of 'Street' must be words; put it in quotes if it "
        "reads as a number, yes/no or nothing",
        "locale/zh-TW.yml:0:0: invalid_file_name: locale files are named locale/<language>.yaml, e.g. "
        "locale/zh-Hans.yaml",
    ]


def test_a_locale_file_that_is_not_a_mapping_or_not_yaml_is_an_error():
    _, problems = load(files({"locale/zh-Hans.yaml": "- 全名\n- 关于您\n"}))
    assert (
        "locale/zh-Hans.yaml:1:1: invalid_locale: a locale file maps each text, as written in the first language, to "
        'its translation, as "About you": 关于您'
    ) in problems
    _, problems = load(files({"locale/zh-Hans.yaml": '"Full name": 全名\n"About you": [关于您\n'}))
    assert [line for line in problems if line.startswith("locale/")] == [
        "locale/zh-Hans.yaml:3:1: yaml_syntax: while parsing a flow sequence expected ',' or ']', but got '<stream end>'"
    ]


def test_an_empty_locale_file_translates_nothing():
    ui_text = "pages:\n  - id: one\n    title: {en: One, zh-Hans: 一}\n    fields: [{field: full_name, label: {en: Name, zh-Hans: 姓名}, hint: {en: As on your ID., zh-Hans: 与证件一致。}}]\n"
    ui, problems = load({"form.ui.yaml": ui_text, "locale/zh-Hans.yaml": "# nothing yet\n"})
    assert ui is not None
    assert ui.translations == {"zh-Hans": {}}
    assert [line for line in problems if "untranslated" in line or "translation:" in line] == []


# --------------------------------------------------------------------------- the default UI

DEFAULT_SCHEMA_TEXT = """\
{
  "title": "Library card",
  "type": "object",
  "properties": {
    "full_name": {"type": "string", "title": "Full name"},
    "delivery": {"enum": ["pickup", "mail"], "title": "Delivery"},
    "home": {
      "type": "object",
      "title": "Home address",
      "properties": {"line1": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string"}}
    },
    "income": {"type": "object", "properties": {"monthly": {"type": "number"}, "yearly": {"type": "number"}}},
    "family": {
      "type": "object",
      "properties": {
        "children": {
          "type": "array",
          "title": "Children",
          "items": {
            "type": "object",
            "properties": {
              "name": {"type": "string", "title": "Name"},
              "born": {"type": "string", "format": "date", "title": "Date of birth"},
              "school": {"type": "object", "properties": {"line1": {"type": "string"}}},
              "pets": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}}}}
            }
          }
        }
      }
    },
    "tags": {"type": "array", "items": {"type": "string"}},
    "signature": {"type": "object", "properties": {"name": {"type": "string"}, "date": {"type": "string"}}}
  }
}
"""
DEFAULT_SCHEMA: dict[str, Any] = json.loads(DEFAULT_SCHEMA_TEXT)


def test_without_form_ui_yaml_one_page_asks_every_question_in_schema_order():
    ui = default_ui(DEFAULT_SCHEMA, languages=("en",), schema_text=DEFAULT_SCHEMA_TEXT)
    (page,) = ui.pages
    assert (page.id, page.title.pick("en"), page.intro, page.show_if) == ("answers", "Library card", None, None)
    assert [(field.name, field.widget) for field in page.fields] == [
        ("full_name", "text"),
        ("delivery", "radios"),
        ("home", "address"),
        ("income.monthly", "number"),
        ("income.yearly", "number"),
        ("family.children", "repeat"),
        ("signature", "signature"),
    ]
    children = page.fields[5]
    assert [(item.name, item.widget) for item in children.items] == [
        ("name", "text"),
        ("born", "date"),
        ("school", "address"),
    ]
    assert all(field.label is None and field.show_if is None for field in page.fields)
    assert ui.unplaced == ("tags",)
    assert ui.computed == ()
    assert [str(problem) for problem in ui.warnings] == [
        "form.schema.json:25:23: warning: field_not_on_any_page: at /properties/family/properties/children/items/"
        "properties/pets: 'pets' is a list inside a repeated item, so the default page of the items of a list cannot "
        "ask it; write a form.ui.yaml that places it (or drop it from the schema)",
        "form.schema.json:31:13: warning: field_not_on_any_page: at /properties/tags: 'tags' is something no widget "
        "asks for, so the default page of the form cannot ask it; write a form.ui.yaml that places it (or drop it "
        "from the schema)",
    ]


def test_the_default_ui_renders_and_cleans_like_a_written_one():
    ui = default_ui(DEFAULT_SCHEMA, languages=("en",))
    data = {"family": {"children": [{"name": "Ada"}]}, "tags": ["x"]}
    nodes = by_name(render_tree(DEFAULT_SCHEMA, ui, data, [], "en"))
    assert nodes["family.children"].children[0].label == "Item 1"
    assert [child.name for child in nodes["home"].children] == ["home.line1", "home.city", "home.zip"]
    assert nodes["income.monthly"].label == "Monthly"
    assert forms.clean(ui, DEFAULT_SCHEMA, data, Evaluator()) == {"family": {"children": [{"name": "Ada"}]}}


def test_the_default_page_title_is_translated_by_the_locale():
    given = {"form.schema.json": DEFAULT_SCHEMA_TEXT, "locale/zh-Hans.yaml": '"Library card": 借书证\n'}
    ui, problems = load_program_ui(given, DEFAULT_SCHEMA, languages=LANGS)
    assert ui is not None
    assert ui.pages[0].title.pick("zh-Hans") == "借书证"
    assert not any("at /title:" in str(problem) for problem in problems)
    ui, problems = load_program_ui({"form.schema.json": DEFAULT_SCHEMA_TEXT}, DEFAULT_SCHEMA, languages=LANGS)
    assert ui is not None
    assert ui.pages[0].title.pick("zh-Hans") == "Library card"
    assert str(problems[0]) == (
        'form.schema.json:2:12: warning: untranslated_text: at /title: the title "Library card" has no zh-Hans '
        'translation, so it is shown untranslated; add "Library card": ... to locale/zh-Hans.yaml'
    )


def test_a_schema_without_a_title_gets_a_built_in_page_title():
    schema = {"type": "object", "properties": {"a": {"type": "string", "title": "A"}}}
    ui = default_ui(
        schema, languages=("en", "zh-Hans", "es"), translations={"es": {"Your application": "Su solicitud"}}
    )
    title = ui.pages[0].title
    assert (title.pick("en"), title.pick("zh-Hans"), title.pick("es")) == (
        "Your application",
        "您的申请",
        "Su solicitud",
    )


# --------------------------------------------------------------------------- end to end


def test_load_program_ui_end_to_end_with_the_shipped_program():
    folder = DEFINITIONS / "library-card"
    given = {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8") for path in folder.rglob("*.*")}
    given["locale/zh-Hans.yaml"] = (
        '"Street address": 街道地址\n"Apartment, suite or unit": 公寓、套房或单元\n"City": 城市\n"ZIP code": 邮政编码\n'
    )
    schema = json.loads(given["form.schema.json"])
    ui, problems = forms.load_program_ui(given, schema, languages=("en", "zh-Hans"))
    assert ui is not None
    assert problems == []
    nodes = by_name(render_tree(schema, ui, {}, [], "zh-Hans", page="address"))
    assert [child.label for child in nodes["address"].children] == ["街道地址", "公寓、套房或单元", "城市", "邮政编码"]
    without_ui = {name: text for name, text in given.items() if name != "form.ui.yaml"}
    default, problems = forms.load_program_ui(without_ui, schema, languages=("en", "zh-Hans"))
    assert default is not None
    assert [page.id for page in default.pages] == ["answers"]
    assert all(problem.severity == "warning" and problem.code == "untranslated_text" for problem in problems)
    assert all(problem.path == "form.schema.json" and problem.line > 1 for problem in problems)


def test_problem_paths_are_relative_for_the_caller_to_prefix():
    _, problems = load_program_ui(files({"locale/fr.yaml": "x: y\n"}), SCHEMA, languages=LANGS)
    assert {problem.path for problem in problems} == {"form.schema.json", "locale/fr.yaml", "locale/zh-Hans.yaml"}


def test_the_engine_loader_ignores_the_ui_and_locale_files():
    folder = DEFINITIONS / "library-card"
    given = {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8") for path in folder.rglob("*.*")}
    given["calendars/weekdays.yaml"] = (DEFINITIONS / "calendars" / "weekdays.yaml").read_text(encoding="utf-8")
    given["locale/zh-Hans.yaml"] = '"City": 城市\n'
    definition, problems = engine.read(given, folder="library-card")
    assert definition is not None
    assert [str(problem) for problem in problems if "locale/" in problem.path or "form.ui" in problem.path] == []


def test_languages_must_be_named():
    with pytest.raises(ValueError, match="at least one language"):
        load_program_ui({}, SCHEMA, languages=())


def test_a_form_ui_yaml_that_cannot_be_read_does_not_make_every_entry_unused():
    _, problems = load(files({"form.ui.yaml": "pages: [\n"}))
    assert problems == [
        "form.ui.yaml:2:1: yaml_syntax: while parsing a flow node expected the node content, but found '<stream end>'"
    ]


def test_navigation_is_steps_by_default_or_a_task_list_and_nothing_else() -> None:
    from forms.ui import load_ui

    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    pages = "pages:\n  - id: one\n    title: One\n    fields: [name]\n"
    assert load_ui("form.ui.yaml", pages, schema, languages=("en",)).navigation == "steps"
    assert (
        load_ui("form.ui.yaml", "navigation: task list\n" + pages, schema, languages=("en",)).navigation == "task list"
    )
    with pytest.raises(engine.DefinitionError) as raised:
        load_ui("form.ui.yaml", "navigation: wizard\n" + pages, schema, languages=("en",))
    assert [str(problem) for problem in raised.value.problems] == [
        "form.ui.yaml:1:13: invalid_value: navigation must be 'steps' or 'task list', not 'wizard'"
    ]


def test_a_file_question_cannot_be_inside_a_repeating_group() -> None:
    from forms.ui import load_ui

    schema = {
        "type": "object",
        "properties": {
            "people": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "id": {"type": "string"}}},
            }
        },
    }
    ui = (
        "pages:\n  - id: one\n    title: One\n    fields:\n"
        "      - {field: people, widget: repeat, item fields: [name, {field: id, widget: file}]}\n"
    )
    with pytest.raises(engine.DefinitionError) as raised:
        load_ui("form.ui.yaml", ui, schema, languages=("en",))
    assert [problem.code for problem in raised.value.problems] == ["widget_mismatch"]
    assert "cannot be inside a repeating group" in raised.value.problems[0].message
