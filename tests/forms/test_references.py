"""Resolving references as the validator does (RFC 3986), to decide what a schema reaches."""

from __future__ import annotations

import pytest

from forms.references import DEFAULT_BASE, check, resolve, shipped_uri

# RFC 3986, section 5.4: every normal and abnormal example.
RFC_BASE = "http://a/b/c/d;p?q"
RFC_EXAMPLES = {
    "g:h": "g:h",
    "g": "http://a/b/c/g",
    "./g": "http://a/b/c/g",
    "g/": "http://a/b/c/g/",
    "/g": "http://a/g",
    "//g": "http://g",
    "?y": "http://a/b/c/d;p?y",
    "g?y": "http://a/b/c/g?y",
    "#s": "http://a/b/c/d;p?q#s",
    "g#s": "http://a/b/c/g#s",
    "g?y#s": "http://a/b/c/g?y#s",
    ";x": "http://a/b/c/;x",
    "g;x": "http://a/b/c/g;x",
    "g;x?y#s": "http://a/b/c/g;x?y#s",
    "": "http://a/b/c/d;p?q",
    ".": "http://a/b/c/",
    "./": "http://a/b/c/",
    "..": "http://a/b/",
    "../": "http://a/b/",
    "../g": "http://a/b/g",
    "../..": "http://a/",
    "../../": "http://a/",
    "../../g": "http://a/g",
    "../../../g": "http://a/g",
    "../../../../g": "http://a/g",
    "/./g": "http://a/g",
    "/../g": "http://a/g",
    "g.": "http://a/b/c/g.",
    ".g": "http://a/b/c/.g",
    "g..": "http://a/b/c/g..",
    "..g": "http://a/b/c/..g",
    "./../g": "http://a/b/g",
    "./g/.": "http://a/b/c/g/",
    "g/./h": "http://a/b/c/g/h",
    "g/../h": "http://a/b/c/h",
    "g;x=1/./y": "http://a/b/c/g;x=1/y",
    "g;x=1/../y": "http://a/b/c/y",
    "g?y/./x": "http://a/b/c/g?y/./x",
    "g#s/../x": "http://a/b/c/g#s/../x",
    "http:g": "http:g",
}


@pytest.mark.parametrize(("reference", "expected"), RFC_EXAMPLES.items())
def test_references_resolve_as_rfc_3986_says(reference, expected):
    assert resolve(RFC_BASE, reference) == expected


def test_shipped_schemas_are_named_relative_to_the_form():
    assert shipped_uri("forms/address.schema.json") == "json-schema:///forms/address.schema.json"
    assert resolve(shipped_uri("forms/address.schema.json"), "common.schema.json") == (
        "json-schema:///forms/common.schema.json"
    )
    # Climbing out of the program folder leads nowhere that is shipped.
    assert resolve(DEFAULT_BASE, "../../etc/passwd") == "json-schema:///etc/passwd"


def test_ids_inside_data_keywords_do_not_count():
    # "$id" and "$ref" inside enum, const or an unknown keyword are data, not schemas.
    schema = {
        "enum": [{"$ref": "https://example.org/x"}],
        "x-note": {"$ref": "https://example.org/y"},
        "$defs": {"fake": {"const": {"$id": "https://example.org/z"}}},
        "properties": {"z": {"$ref": "https://example.org/z"}},
    }
    problems = check(schema, {})
    assert [(problem.pointer, problem.code) for problem in problems] == [("/properties/z/$ref", "remote_ref")]


def test_a_relative_id_moves_the_base_of_the_references_below_it():
    schema = {
        "$id": "https://example.org/root/form.json",
        "$defs": {"a": {"$id": "parts/a.json", "$defs": {"b": {"$id": "b.json"}}}},
        "properties": {
            "one": {"$ref": "parts/a.json"},
            "two": {"$ref": "https://example.org/root/parts/b.json#/type"},
            "three": {"$ref": "parts/c.json"},
        },
    }
    problems = check(schema, {})
    assert [(problem.pointer, problem.code) for problem in problems] == [("/properties/three/$ref", "remote_ref")]
