"""Validating answers and schemas: every error at once, each at its field; nothing fetched."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

import forms

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
        ("", "unexpected_field"),
        ("/age", "too_small"),
        ("/email", "required"),
        ("/full_name", "too_long"),
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
    for ref in (url, "file:///etc/passwd", "other.json"):
        schema = {**SCHEMA, "properties": {"x": {"$ref": ref}}}
        (problem,) = forms.check_schema(schema)
        assert (problem.pointer, problem.code) == ("/properties/x/$ref", "remote_ref")
    # Even a validator handed such a schema directly must not fetch it.
    with pytest.raises(Exception, match="Retrieval is disabled"):
        forms.validate({"$ref": url}, "x")
    assert requests == []


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
    assert problem.code == "invalid_schema"
