"""Hostile answers stay bounded (threat T3): size, depth, many keys, many items, many errors.

The wall-clock assertions are hang guards, not benchmarks: each limit is generous (5 s)
so that a slow CI machine passes, while the unguarded behaviour they stand in front of
takes minutes to hours (100 missing answers beside 10^6 junk keys: 88 s measured;
3,000 ``propertyNames`` errors: 3 s, growing with the square) or kills the process (the
validator overflows the native stack on data nested 100,000 deep).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import forms
from forms.limits import measure

HANG_GUARD_SECONDS = 60.0
"""Not a speed target (bench/ measures speed): a catch for runaway work. The inputs here take
well under a second alone; quadratic work on a million keys would take hours, so a generous
bound catches it without failing on a loaded CI machine (it took 7-10 s under heavy load)."""

MEMBERS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "members": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
        }
    },
}


@contextmanager
def hang_guard() -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    assert elapsed < HANG_GUARD_SECONDS, f"took {elapsed:.1f} s"


def _nested_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def _nested_object(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("nested", [_nested_list(100_000), _nested_object(100_000)], ids=["list", "object"])
def test_answers_nested_100000_deep_get_one_error_not_a_crash(nested):
    validator = forms.FormValidator({"items": {"$ref": "#"}, "additionalProperties": {"$ref": "#"}})
    with hang_guard():
        errors = validator.validate(nested)
    assert errors == [
        forms.FieldError(
            "",
            "too_deep",
            f"These answers are nested too deeply to accept (the limit is {forms.MAX_DATA_DEPTH} levels).",
        )
    ]
    (error,) = validator.validate(nested, language="zh-Hans")
    assert (error.code, error.message) == (
        "too_deep",
        f"提交的答案嵌套层级过深，无法接受（上限为{forms.MAX_DATA_DEPTH}层）。",
    )


def test_answers_at_the_depth_limit_are_validated():
    validator = forms.FormValidator({"items": {"$ref": "#"}, "type": "array"})
    assert validator.validate(_nested_list(forms.MAX_DATA_DEPTH)) == []
    assert [error.code for error in validator.validate(_nested_list(forms.MAX_DATA_DEPTH + 1))] == ["too_deep"]


def test_answers_over_the_size_limit_get_one_error():
    validator = forms.FormValidator(MEMBERS)
    too_big = {"members": [{"name": "x" * 1000}] * 2000}
    with hang_guard():
        errors = validator.validate(too_big)
    assert errors == [
        forms.FieldError(
            "", "too_large", f"These answers are too large to accept (the limit is {forms.MAX_DATA_BYTES} bytes)."
        )
    ]


def test_the_size_estimate_counts_utf8_bytes():
    # 100 Chinese characters are 300 bytes of UTF-8, plus the quotes.
    assert measure("中" * 100, max_bytes=302, max_depth=1).excess is None
    assert measure("中" * 100, max_bytes=301, max_depth=1).excess == "too_large"
    # {"ab":[1,null,true]} is 20 bytes.
    assert measure({"ab": [1, None, True]}, max_bytes=20, max_depth=5).excess is None
    assert measure({"ab": [1, None, True]}, max_bytes=19, max_depth=5).excess == "too_large"


def test_huge_integers_do_not_stall_the_size_estimate():
    with hang_guard():
        assert measure(10**100_000, max_bytes=1000, max_depth=1).excess == "too_large"


def test_unique_items_over_20000_objects_stays_bounded():
    validator = forms.FormValidator(MEMBERS)
    members = [{"name": f"person {n}", "age": n % 90} for n in range(20_000)]
    with hang_guard():
        assert validator.validate({"members": members}) == []
    with hang_guard():
        errors = validator.validate({"members": [*members, dict(members[123])]})
    assert [(error.pointer, error.code) for error in errors] == [("/members", "duplicate_items")]


def test_a_million_keys_are_refused_by_the_size_limit_at_once():
    junk = {f"k{n}": n for n in range(1_000_000)}
    validator = forms.FormValidator({"type": "object", "additionalProperties": False})
    with hang_guard():
        errors = validator.validate(junk)
    assert [error.code for error in errors] == ["too_large"]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "additionalProperties": False},
        {"type": "object", "propertyNames": {"maxLength": 3}},
        {"type": "object", "required": [f"question_{n}" for n in range(100)]},
        {"type": "object", "additionalProperties": {"type": "integer"}},
    ],
    ids=["additionalProperties", "propertyNames", "100 required", "valid"],
)
def test_a_million_keys_stay_bounded_even_with_the_size_limit_raised(schema):
    junk = {f"k{n}": n for n in range(1_000_000)}
    validator = forms.FormValidator(schema, max_data_bytes=64 * 1024 * 1024)
    with hang_guard():
        errors = validator.validate(junk)
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        assert errors == []
    else:
        assert [(error.pointer, error.code) for error in errors] == [("", "too_many_errors")]
        assert errors[0].message == "There are too many problems with these answers to list them."


def test_missing_answers_beside_junk_keys_under_the_size_limit_stay_bounded():
    # 100 required questions unanswered, and as many junk keys as fit under the size limit:
    # each error would copy the whole object.
    schema = {"type": "object", "required": [f"question_{n}" for n in range(100)]}
    junk = {f"k{n}": 0 for n in range(60_000)}
    with hang_guard():
        errors = forms.validate(schema, junk)
    assert [error.code for error in errors] == ["too_many_errors"]


def test_errors_are_listed_up_to_a_limit_then_one_more_says_so():
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": False}
    errors = forms.validate(schema, {f"field_{n}": 0 for n in range(forms.MAX_ERRORS + 50)})
    assert len(errors) == forms.MAX_ERRORS + 1
    assert errors[0].pointer == "/field_0"
    assert {error.code for error in errors[:-1]} == {"unexpected_field"}
    assert errors[-1] == forms.FieldError(
        "",
        "too_many_errors",
        f"There are more than {forms.MAX_ERRORS} problems with these answers. Correct these first.",
    )


def test_many_items_each_with_an_error_are_all_listed():
    validator = forms.FormValidator(MEMBERS)
    errors = validator.validate({"members": [{"age": "old"}] * 3 + [{"age": n} for n in range(500)]})
    assert [(error.pointer, error.code) for error in errors] == [
        ("/members", "duplicate_items"),
        ("/members/0/age", "wrong_type"),
        ("/members/1/age", "wrong_type"),
        ("/members/2/age", "wrong_type"),
    ]


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_numbers_json_cannot_carry_are_refused_not_read_as_null(number):
    schema = {"type": "object", "properties": {"income": {"type": ["number", "null"]}}}
    errors = forms.validate(schema, {"income": number})
    assert errors == [forms.FieldError("/income", "wrong_type", "Enter a number.")]
