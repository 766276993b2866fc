"""Validating answers and schemas: every error at once, each at its field; nothing fetched."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest

import forms
from forms import validation

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["full_name", "email"],
    "properties": {
        "full_name": {"type": "string", "minLength": 1, "maxLength": 10},
        "email": {"type": "string", "format": "email"},
        "age": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}


def test_valid_answers_have_no_errors():
    assert forms.validate(SCHEMA, {"full_name": "Ana", "email": "ana@example.org"}) == []


def test_every_error_is_reported_at_once_each_pointing_at_its_field():
    errors = forms.validate(SCHEMA, {"full_name": "x" * 11, "age": -1, "nickname": "a"})
    found = sorted((error.pointer, error.code) for error in errors)
    assert found == [
        ("/age", "too_small"),
        ("/email", "required"),
        ("/full_name", "too_long"),
        ("/nickname", "unexpected_field"),
    ]


def test_formats_are_checked():
    (error,) = forms.validate(SCHEMA, {"full_name": "Ana", "email": "not an address"})
    assert (error.pointer, error.code) == ("/email", "invalid_format")


def test_pointers_escape_slashes_and_tildes():
    schema = {"type": "object", "required": ["a/b~c"]}
    (error,) = forms.validate(schema, {})
    assert error.pointer == "/a~1b~0c"


def test_a_good_schema_passes_the_check():
    assert forms.check_schema(SCHEMA) == []


@pytest.fixture
def loopback_listener() -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 that records every request it gets."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"type": "string"}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/schema.json", requests
    server.shutdown()


def test_remote_references_are_refused_and_never_fetched(loopback_listener):
    url, requests = loopback_listener
    for ref in (
        url,
        "file:///etc/passwd",
        "other.json",
        "../../etc/passwd",
        "https://json-schema.org/draft/2019-09/schema",
    ):
        schema = {**SCHEMA, "properties": {"x": {"$ref": ref}}}
        (problem,) = forms.check_schema(schema)
        assert (problem.pointer, problem.code) == ("/properties/x/$ref", "remote_ref")
    # A validator handed such a schema directly refuses it before it is built...
    with pytest.raises(forms.InvalidSchema, match="remote_ref") as refused:
        forms.validate({"$ref": url}, "x")
    assert [problem.code for problem in refused.value.problems] == ["remote_ref"]
    # ...and, were that check bypassed, the validator's retriever refuses to fetch.
    with pytest.raises(forms.InvalidSchema, match="Retrieval is disabled"):
        validation._compile({"$ref": url}, validation.NO_SHIPPED)
    with pytest.raises(forms.InvalidSchema, match="Retrieval is disabled"):
        validation._compile({"$ref": "forms/a.json"}, {"forms/a.json": {"$ref": url}})
    assert requests == []


def test_an_embedded_id_is_resolved_in_memory_not_fetched(loopback_listener):
    # The listener's own URL, used as the $id of a schema embedded in the form: the
    # reference resolves to that embedded schema and nothing is requested.
    url, requests = loopback_listener
    schema = {
        **SCHEMA,
        "$defs": {"code": {"$id": url, "type": "string", "pattern": "^[A-Z]{3}$"}},
        "properties": {**SCHEMA["properties"], "code": {"$ref": url}},  # type: ignore[dict-item]
    }
    assert forms.check_schema(schema) == []
    (error,) = forms.validate(schema, {"full_name": "Ana", "email": "a@b.org", "code": "abc"})
    assert (error.pointer, error.code) == ("/code", "pattern_mismatch")
    assert requests == []


def test_a_shipped_schema_is_resolved_in_memory_not_fetched(loopback_listener):
    url, requests = loopback_listener
    base = url.rsplit("/", 1)[0]
    shipped: dict[str, dict[str, Any]] = {
        # Referenced by its name in the program folder...
        "forms/address.schema.json": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string"}, "postcode": {"$ref": "common.schema.json#/$defs/postcode"}},
        },
        "forms/common.schema.json": {"$defs": {"postcode": {"type": "string", "pattern": "^[0-9]{5}$"}}},
        # ...or by the $id it declares, even one that looks like a web address.
        "forms/phone.schema.json": {"$id": f"{base}/phone.json", "type": "string", "pattern": "^[0-9 ]+$"},
    }
    schema = {
        **SCHEMA,
        "properties": {
            **SCHEMA["properties"],  # type: ignore[dict-item]
            "home": {"$ref": "forms/address.schema.json"},
            "phone": {"$ref": f"{base}/phone.json"},
        },
    }
    assert forms.check_schema(schema, shipped=shipped) == []
    answers = {"full_name": "Ana", "email": "a@b.org", "home": {"postcode": "12AB"}, "phone": "call me"}
    errors = forms.validate(schema, answers, shipped=shipped)
    assert sorted((error.pointer, error.code) for error in errors) == [
        ("/home/city", "required"),
        ("/home/postcode", "pattern_mismatch"),
        ("/phone", "pattern_mismatch"),
    ]
    # The same names are refused when the schemas are not shipped.
    assert {problem.code for problem in forms.check_schema(schema)} == {"remote_ref"}
    assert requests == []


def test_a_shipped_schema_cannot_reach_outside_the_program_either(loopback_listener):
    url, requests = loopback_listener
    shipped = {"forms/address.schema.json": {"properties": {"city": {"$ref": url}}}}
    schema = {**SCHEMA, "properties": {"home": {"$ref": "forms/address.schema.json"}}}
    (problem,) = forms.check_schema(schema, shipped=shipped)
    assert (problem.document, problem.pointer, problem.code) == (
        "forms/address.schema.json",
        "/properties/city/$ref",
        "remote_ref",
    )
    with pytest.raises(forms.InvalidSchema, match="remote_ref"):
        forms.FormValidator(schema, shipped=shipped)
    # A shipped schema's $id moves its base: its relative references follow the $id.
    moved = {"forms/address.schema.json": {"$id": f"{url}/", "properties": {"city": {"$ref": "city.json"}}}}
    (problem,) = forms.check_schema(schema, shipped=moved)
    assert problem.code == "remote_ref"
    assert f"{url}/city.json" in problem.message
    assert requests == []


def test_a_custom_meta_schema_is_refused_not_fetched(loopback_listener):
    url, requests = loopback_listener
    (problem,) = forms.check_schema({**SCHEMA, "$schema": url})
    assert (problem.pointer, problem.code) == ("/$schema", "remote_ref")
    assert requests == []


def test_references_to_the_bundled_meta_schema_are_allowed():
    rule = {"$ref": "https://json-schema.org/draft/2020-12/schema"}
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "rule": rule}}  # type: ignore[dict-item]
    assert forms.check_schema(schema) == []
    answers = {"full_name": "Ana", "email": "a@b.org"}
    assert forms.validate(schema, {**answers, "rule": {"type": "string"}}) == []
    assert [error.pointer for error in forms.validate(schema, {**answers, "rule": {"type": 3}})] == ["/rule/type"]


def test_references_inside_the_schema_work():
    properties = {**SCHEMA["properties"], "x": {"$ref": "#/$defs/name"}}  # type: ignore[dict-item]
    schema = {**SCHEMA, "$defs": {"name": {"type": "string"}}, "properties": properties}
    assert forms.check_schema(schema) == []
    (error,) = forms.validate(schema, {"x": 1, "full_name": "a", "email": "a@b.org"})
    assert error.pointer == "/x"


@pytest.mark.parametrize("pattern", ["(unclosed", "(?=a)b", "(a)\\1"])
def test_a_pattern_the_linear_time_engine_cannot_compile_is_refused(pattern):
    problems = forms.check_schema({**SCHEMA, "properties": {"x": {"type": "string", "pattern": pattern}}})
    assert [problem.code for problem in problems] == ["invalid_schema"]


def test_a_catastrophic_pattern_stays_fast():
    # ^(a+)+$ backtracks exponentially in Python's re; the Rust engine does not.
    schema = {"type": "string", "pattern": "^(a+)+$"}
    started = time.perf_counter()
    errors = forms.validate(schema, "a" * 30 + "!")
    elapsed = time.perf_counter() - started
    assert [error.code for error in errors] == ["pattern_mismatch"]
    assert elapsed < 5  # generous: the point is "does not hang", not a benchmark


def test_only_draft_2020_12_schemas_are_accepted():
    (problem,) = forms.check_schema({**SCHEMA, "$schema": "http://json-schema.org/draft-07/schema#"})
    assert problem.code == "unsupported_draft"


def test_structurally_invalid_schemas_are_refused():
    (problem,) = forms.check_schema({**SCHEMA, "properties": {"x": {"type": "strnig"}}})
    assert (problem.pointer, problem.code) == ("/properties/x/type", "invalid_schema")


def test_every_structural_problem_is_listed_at_once():
    schema = {**SCHEMA, "properties": {"x": {"type": "strnig"}, "y": {"minLength": -1}}, "required": "x"}
    problems = forms.check_schema(schema)
    assert sorted((problem.pointer, problem.code) for problem in problems) == [
        ("/properties/x/type", "invalid_schema"),
        ("/properties/y/minLength", "invalid_schema"),
        ("/required", "invalid_schema"),
    ]


def test_a_schema_without_a_draft_is_refused_by_the_check_but_compiles():
    schema = {key: value for key, value in SCHEMA.items() if key != "$schema"}
    (problem,) = forms.check_schema(schema)
    assert (problem.pointer, problem.code) == ("/$schema", "unsupported_draft")
    assert forms.validate(schema, {"full_name": "Ana", "email": "a@b.org"}) == []


def test_an_unresolvable_fragment_is_refused_at_load():
    (problem,) = forms.check_schema({**SCHEMA, "properties": {"x": {"$ref": "#/$defs/missing"}}})
    assert problem.code == "invalid_schema"
    assert "/$defs/missing" in problem.message


def test_a_pattern_problem_in_a_shipped_schema_names_that_schema():
    shipped = {"forms/a.schema.json": {"type": "string", "pattern": "(?=x)"}}
    (problem,) = forms.check_schema({**SCHEMA, "properties": {"a": {"$ref": "forms/a.schema.json"}}}, shipped=shipped)
    assert (problem.document, problem.pointer, problem.code) == ("forms/a.schema.json", "/pattern", "invalid_schema")


def test_a_schema_that_is_not_an_object_is_refused():
    assert [problem.code for problem in forms.check_schema(["not", "a", "schema"])] == ["invalid_schema"]
    (problem,) = forms.check_schema(SCHEMA, shipped={"forms/a.json": []})  # type: ignore[dict-item]
    assert (problem.document, problem.code) == ("forms/a.json", "invalid_schema")


def test_the_form_and_each_shipped_schema_have_size_and_depth_limits():
    large = {**SCHEMA, "description": "x" * forms.MAX_SCHEMA_BYTES}
    assert [problem.code for problem in forms.check_schema(large)] == ["schema_too_large"]
    deep: dict[str, object] = {"type": "string"}
    for _ in range(forms.MAX_SCHEMA_DEPTH):
        deep = {"properties": {"a": deep}}
    (problem,) = forms.check_schema(SCHEMA, shipped={"forms/deep.json": deep})
    assert (problem.document, problem.code) == ("forms/deep.json", "schema_too_deep")
    assert problem.pointer.startswith("/properties/a/properties/a")
    with pytest.raises(forms.InvalidSchema, match="schema_too_large"):
        forms.FormValidator(large)


def test_a_schema_nested_100000_deep_is_refused_without_recursion_error():
    deep: dict[str, object] = {"type": "string"}
    for _ in range(100_000):
        deep = {"items": deep}
    (problem,) = forms.check_schema({**SCHEMA, "properties": {"x": deep}})
    assert problem.code == "schema_too_deep"
    with pytest.raises(forms.InvalidSchema, match="schema_too_deep"):
        forms.FormValidator(deep)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "additionalProperties": False, "required": ["b/c"]},
        {"type": "object", "properties": {"keep": {}}, "additionalProperties": False},
        {"type": "object", "patternProperties": {"^keep": {}}, "additionalProperties": False},
        {"type": "object", "properties": {"keep": {}}, "unevaluatedProperties": False},
    ],
    ids=["alone", "with properties", "with patternProperties", "unevaluatedProperties"],
)
def test_each_unexpected_answer_gets_its_own_error(schema):
    answers = {"a": 1, "b/c": 2} if "required" in schema else {"keep": 1, "a": 1, "b/c": 2}
    errors = forms.validate(schema, answers)
    assert [(error.pointer, error.code, error.message) for error in errors] == [
        ("/a", "unexpected_field", "This question is not on the form."),
        ("/b~1c", "unexpected_field", "This question is not on the form."),
    ]


def test_a_missing_required_answer_points_at_the_answer_at_any_depth():
    schema = {
        "type": "object",
        "properties": {
            "household": {
                "type": "object",
                "properties": {"members": {"type": "array", "items": {"type": "object", "required": ["name"]}}},
            }
        },
    }
    (error,) = forms.validate(schema, {"household": {"members": [{}]}})
    assert (error.pointer, error.code) == ("/household/members/0/name", "required")


def test_a_boolean_schema_is_accepted_by_the_validator():
    assert forms.FormValidator(True).validate({"anything": 1}) == []
    assert [error.code for error in forms.FormValidator(False).validate(1)] == ["not_accepted"]


def test_a_schema_error_says_what_and_where():
    problem = forms.SchemaError("/properties/x/$ref", "remote_ref", "no", "forms/a.json")
    assert str(forms.InvalidSchema([problem])) == "remote_ref at forms/a.json:/properties/x/$ref: no"
    assert isinstance(forms.InvalidSchema([problem]), ValueError)


def test_read_only_mappings_are_checked_like_dicts(loopback_listener):
    # The engine hands the form over as a read-only mapping; shipped schemas may come so too.
    url, requests = loopback_listener
    shipped = {"forms/a.json": MappingProxyType({"$ref": url})}
    schema = MappingProxyType({**SCHEMA, "properties": {"a": {"$ref": "forms/a.json"}}})
    (problem,) = forms.check_schema(schema, shipped=shipped)
    assert (problem.document, problem.code) == ("forms/a.json", "remote_ref")
    with pytest.raises(forms.InvalidSchema, match="remote_ref"):
        forms.FormValidator(schema, shipped=shipped)
    assert requests == []


def test_the_depth_limit_cannot_be_raised_to_where_the_validator_crashes():
    with pytest.raises(ValueError, match="max_data_depth"):
        forms.FormValidator(SCHEMA, max_data_depth=100_000)
