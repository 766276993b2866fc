"""Message catalogues: complete in every language, filled safely, chosen by language tag."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import forms
from forms import catalogue, validation
from forms.catalogue import catalogue_for, fill, language_for

MESSAGES = Path(forms.__file__).parent / "messages"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "form-errors.md"

# Every code validate() can return: those mapped from the validator's error kinds, the one
# a kind without a mapping gets, and those of the limits.
CODES = set(validation._CODES.values()) | {
    "invalid",
    "too_many_matching_items",
    "too_large",
    "too_deep",
    "too_many_errors",
}
# Placeholders each code's templates may use (the values validate() fills in).
PLACEHOLDERS = {
    "wrong_type": {"expected"},
    "invalid_format": {"format"},
    "not_allowed_value": {"allowed"},
    "not_multiple": {"multiple_of"},
    "required": {"property"},
    "unexpected_field": {"property"},
    "pattern_mismatch": {"pattern"},
}


def test_each_language_has_a_catalogue_file():
    assert sorted(path.stem for path in MESSAGES.glob("*.json")) == sorted(forms.LANGUAGES)


@pytest.mark.parametrize("language", forms.LANGUAGES)
def test_every_code_has_a_message_in_every_language(language):
    messages = catalogue_for(language).messages
    assert set(messages) >= CODES, sorted(CODES - set(messages))
    assert {key.split(".")[0] for key in messages} <= CODES, "a message for a code that does not exist"


@pytest.mark.parametrize("language", forms.LANGUAGES)
def test_templates_use_only_the_placeholders_their_code_is_given(language):
    data = json.loads((MESSAGES / f"{language}.json").read_text(encoding="utf-8"))
    assert data["language"] == language
    for key, template in data["messages"].items():
        code = key.split(".")[0]
        allowed = PLACEHOLDERS.get(code, {"limit"})
        used = set(re.findall(r"\{([^}]*)\}", template))
        assert used <= allowed, f"{language}: {key} uses {used - allowed}"


@pytest.mark.parametrize("language", forms.LANGUAGES)
def test_every_type_and_every_checked_format_has_words(language):
    loaded = catalogue_for(language)
    assert set(loaded.types) == {"string", "number", "integer", "boolean", "array", "object", "null"}
    assert {"date", "date-time", "time", "email", "uri", "uuid", "hostname", "ipv4", "ipv6"} <= set(loaded.formats)
    assert set(loaded.words) == {"or", "list_separator"}


def test_every_code_is_documented_for_designers():
    text = DOCS.read_text(encoding="utf-8")
    for code in CODES | {"invalid_schema", "remote_ref", "unsupported_draft", "schema_too_large", "schema_too_deep"}:
        assert f"`{code}`" in text, code


@pytest.mark.parametrize("language", forms.LANGUAGES)
def test_the_documented_messages_are_the_catalogues(language):
    text = DOCS.read_text(encoding="utf-8")
    for key, template in catalogue_for(language).messages.items():
        if not key.endswith(".one"):
            assert template in text, f"{language} {key}: {template}"


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("zh-Hans", "zh-Hans"),
        ("ZH-hans-CN", "zh-Hans"),
        ("zh_CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("fr", "en"),
        ("zh-Hant", "en"),
        ("zh-TW", "en"),
        ("", "en"),
        ("{limit}", "en"),
    ],
)
def test_a_language_tag_picks_a_catalogue_and_anything_unknown_gets_english(tag, language):
    assert language_for(tag) == language


def test_an_unknown_language_gets_english_messages():
    (error,) = forms.validate({"type": "object", "required": ["name"]}, {}, language="tlh")
    assert error.message == "Answer this question."


def test_filling_replaces_only_the_names_given_and_never_interprets_values():
    assert fill("at least {limit} characters", {"limit": "3"}) == "at least 3 characters"
    # A value is copied as text: a placeholder or a format field inside it stays as it is.
    assert fill("{allowed}", {"allowed": "{limit} {0.__class__} {allowed}", "limit": "9"}) == (
        "{limit} {0.__class__} {allowed}"
    )
    # Unknown names, attribute access and format specs in a template are left alone.
    assert fill("{unknown} {limit.real} {limit:>10} {}", {"limit": "3"}) == "{unknown} {limit.real} {limit:>10} {}"


def test_values_from_the_schema_reach_the_message_as_text():
    schema = {"enum": ["{limit}", "{0.__class__.__mro__}", 3, None]}
    (error,) = forms.validate(schema, "x")
    assert error.message == "Choose one of: {limit}, {0.__class__.__mro__}, 3, null."


def test_long_lists_of_allowed_values_are_not_spelt_out():
    (error,) = forms.validate({"enum": [f"option {n}" for n in range(11)]}, "x", language="zh-Hans")
    assert (error.code, error.message) == ("not_allowed_value", "请从提供的选项中选择。")


def test_a_missing_translation_falls_back_to_english_then_to_the_code():
    chinese = catalogue_for("zh-Hans")
    partial = catalogue.Catalogue("zh-Hans", {}, chinese.types, chinese.formats, chinese.words)
    assert partial.template("required") == "Answer this question."
    assert partial.template("no_such_code") == "no_such_code"


@pytest.mark.parametrize(
    ("schema", "data", "pointer", "code", "english", "chinese"),
    [
        ({"type": "integer"}, "x", "", "wrong_type", "Enter a whole number.", "请输入整数。"),
        ({"type": ["string", "null"]}, 1, "", "wrong_type", "Enter an empty answer or text.", "请输入空值或文本。"),
        (
            {"type": ["boolean", "integer", "string"]},
            [],
            "",
            "wrong_type",
            "Enter yes or no, a whole number or text.",
            "请输入是或否、整数或文本。",
        ),
        (
            {"format": "date-time"},
            "soon",
            "",
            "invalid_format",
            "Enter a date and time, for example 2026-11-28T14:30:00Z.",
            "请输入日期和时间，例如 2026-11-28T14:30:00Z。",
        ),
        ({"minLength": 3}, "ab", "", "too_short", "Enter at least 3 characters.", "请至少输入3个字符。"),
        ({"maxLength": 1}, "ab", "", "too_long", "Enter no more than 1 character.", "最多只能输入1个字符。"),
        ({"maxLength": 2}, "abc", "", "too_long", "Enter no more than 2 characters.", "最多只能输入2个字符。"),
        ({"minimum": 1.5}, 1, "", "too_small", "Enter a number that is 1.5 or more.", "请输入大于或等于1.5的数字。"),
        ({"exclusiveMinimum": 0}, 0, "", "too_small", "Enter a number greater than 0.", "请输入大于0的数字。"),
        ({"exclusiveMaximum": 10}, 10, "", "too_large", "Enter a number less than 10.", "请输入小于10的数字。"),
        ({"multipleOf": 0.01}, 1.234, "", "not_multiple", "Enter a multiple of 0.01.", "请输入0.01的倍数。"),
        (
            {"const": "yes"},
            "no",
            "",
            "not_allowed_value",
            "The only answer accepted is yes.",
            "唯一可接受的答案是：yes。",
        ),
        (
            {"minProperties": 2},
            {"a": 1},
            "",
            "too_few_properties",
            "Answer at least 2 questions in this section.",
            "本部分请至少回答2个问题。",
        ),
        (
            {"maxProperties": 1},
            {"a": 1, "b": 2},
            "",
            "too_many_properties",
            "Answer no more than 1 question in this section.",
            "本部分最多只能回答1个问题。",
        ),
        (
            {"uniqueItems": True},
            [{"a": 1}, {"a": 1}],
            "",
            "duplicate_items",
            "Remove the repeated entries: each entry must be different.",
            "请删除重复的项：每一项都必须不同。",
        ),
        (
            {"contains": {"const": 1}},
            [2],
            "",
            "too_few_matching_items",
            "Add an entry that meets the requirements.",
            "请添加一项符合要求的内容。",
        ),
        (
            {"contains": {"const": 1}, "maxContains": 1},
            [1, 1],
            "",
            "too_many_matching_items",
            "There are too many entries of this kind.",
            "此类项目过多。",
        ),
        (
            {"prefixItems": [{}], "items": False},
            [1, 2],
            "/1",
            "not_accepted",
            "This answer cannot be accepted here.",
            "此处不能接受这个答案。",
        ),
        (
            {"prefixItems": [{}], "unevaluatedItems": False},
            [1, 2],
            "",
            "unexpected_items",
            "Remove the extra entries from this list.",
            "请从列表中删除多余的项。",
        ),
        (
            {"not": {"const": 1}},
            1,
            "",
            "not_accepted",
            "This answer cannot be accepted here.",
            "此处不能接受这个答案。",
        ),
        (
            {"anyOf": [{"type": "string"}, {"type": "number"}]},
            None,
            "",
            "no_matching_option",
            "This answer does not match any of the accepted options.",
            "这个答案不符合任何一个可接受的选项。",
        ),
        (
            {"oneOf": [{"type": "string"}, {"minLength": 1}]},
            "a",
            "",
            "multiple_options_match",
            "This answer matches more than one option; it must match exactly one.",
            "这个答案符合多个选项，但只能符合其中一个。",
        ),
        (
            {"propertyNames": {"maxLength": 3}},
            {"long": 1},
            "/long",
            "invalid_field_name",
            "This field name is not accepted.",
            "不接受这个字段名。",
        ),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, "/b", "required", "Answer this question.", "请回答此问题。"),
        ({"format": "x-unknown-format"}, "a", None, None, None, None),
    ],
)
def test_each_kind_of_error_has_its_code_pointer_and_messages(schema, data, pointer, code, english, chinese):
    found = [(e.pointer, e.code, e.message) for e in forms.validate(schema, data)]
    if code is None:
        assert found == []  # unknown formats are not checked (ignore_unknown_formats)
        return
    assert found == [(pointer, code, english)]
    assert [(e.pointer, e.code, e.message) for e in forms.validate(schema, data, language="zh-Hans")] == [
        (pointer, code, chinese)
    ]
