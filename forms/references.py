"""Where a schema's references lead, decided before any validator exists (threat T1).

A form may refer to its own parts (``#/$defs/name``), to resources embedded in it under a
``$id``, to another schema shipped in the program folder (``forms/address.schema.json``,
written relative to the form), and to the 2020-12 meta-schemas the validator carries. It
may not refer to anything else: ``http:``, ``https:``, ``file:`` or any other URI that is
not one of those is refused here with ``remote_ref``, and the validator is also built with
a retriever that refuses every request, so nothing is ever fetched even if this check were
bypassed.

URIs are resolved by RFC 3986 against the base URI in scope, as the validator does: the
form's base is ``json-schema:///`` (the validator's default), a shipped schema's base is
``json-schema:///<its name>``, and each ``$id`` changes the base below it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from forms.errors import SchemaError, pointer_from

DEFAULT_BASE = "json-schema:///"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# Bundled in jsonschema-rs: resolved from memory, never fetched.
META_SCHEMAS = frozenset(
    {DRAFT_2020_12}
    | {
        f"https://json-schema.org/draft/2020-12/meta/{name}"
        for name in (
            "core",
            "applicator",
            "unevaluated",
            "validation",
            "meta-data",
            "format-annotation",
            "format-assertion",
            "content",
        )
    }
)
_OTHER_DRAFTS = frozenset(
    {
        "http://json-schema.org/draft-04/schema",
        "http://json-schema.org/draft-06/schema",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft/2019-09/schema",
    }
)

# Keywords whose values are schemas (one, a list, or a map of them), in every draft the
# validator knows. Anything else (enum, const, default, examples, unknown keywords) is
# data, where "$ref" and "$id" are plain names and the validator does not follow them.
_ONE = (
    "additionalItems",
    "additionalProperties",
    "contains",
    "contentSchema",
    "else",
    "if",
    "items",
    "not",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_MAP = ("$defs", "definitions", "dependencies", "dependentSchemas", "patternProperties", "properties")

_URI = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Reference:
    """One ``$ref``, ``$dynamicRef`` or ``$schema`` and the document URI it resolves to."""

    document: str
    pointer: str
    keyword: str
    value: str
    target: str


def shipped_uri(name: str) -> str:
    """The URI a schema shipped as ``name`` (``forms/address.schema.json``) is known by."""
    return resolve(DEFAULT_BASE, name)


def check(schema: Mapping[str, Any], shipped: Mapping[str, Mapping[str, Any]]) -> list[SchemaError]:
    """``remote_ref`` and ``unsupported_draft`` problems of ``schema`` and the shipped schemas."""
    known = set(META_SCHEMAS)
    references: list[Reference] = []
    documents = [("", DEFAULT_BASE, schema), *((name, shipped_uri(name), shipped[name]) for name in shipped)]
    for document, base, root in documents:
        known.add(base)
        for reference in _scan(root, document, base, known):
            references.append(reference)
    problems: list[SchemaError] = []
    for reference in references:
        if reference.keyword == "$schema":
            problem = _meta_problem(reference, known)
        elif reference.target in known:
            problem = None
        else:
            problem = SchemaError(
                reference.pointer,
                "remote_ref",
                f"{reference.keyword} {reference.value!r} resolves to {reference.target!r}, which is neither in "
                "this schema nor a schema shipped with the program; references are never fetched",
                reference.document,
            )
        if problem is not None:
            problems.append(problem)
    return problems


def _meta_problem(reference: Reference, known: set[str]) -> SchemaError | None:
    if reference.target == DRAFT_2020_12:
        return None
    if reference.target in _OTHER_DRAFTS or reference.target in known:
        return SchemaError(
            reference.pointer,
            "unsupported_draft",
            f"$schema must be {DRAFT_2020_12!r}, not {reference.value!r}",
            reference.document,
        )
    return SchemaError(
        reference.pointer,
        "remote_ref",
        f"$schema {reference.value!r} names a meta-schema that would have to be fetched; use {DRAFT_2020_12!r}",
        reference.document,
    )


def _scan(root: object, document: str, base: str, known: set[str]) -> Iterator[Reference]:
    """Every reference in ``root``'s schema positions; adds each ``$id`` found to ``known``."""
    stack: list[tuple[object, tuple[str | int, ...], str]] = [(root, (), base)]
    while stack:
        node, parts, scope = stack.pop()
        if not isinstance(node, dict):
            continue
        identifier = node.get("$id")
        if isinstance(identifier, str):
            scope = _without_fragment(resolve(scope, identifier))
            known.add(scope)
        for keyword in ("$ref", "$dynamicRef", "$schema"):
            value = node.get(keyword)
            if isinstance(value, str):
                target = _without_fragment(resolve(scope, value))
                yield Reference(document, pointer_from((*parts, keyword)), keyword, value, target)
        for keyword in _ONE:
            if isinstance(node.get(keyword), dict):
                stack.append((node[keyword], (*parts, keyword), scope))
        for keyword in _LIST:
            if isinstance(node.get(keyword), list):
                stack.extend((item, (*parts, keyword, index), scope) for index, item in enumerate(node[keyword]))
        for keyword in _MAP:
            if isinstance(node.get(keyword), dict):
                stack.extend((value, (*parts, keyword, name), scope) for name, value in node[keyword].items())


def resolve(base: str, reference: str) -> str:
    """Resolve ``reference`` against ``base`` (RFC 3986, section 5.2.2)."""
    scheme, authority, path, query, fragment = _split(reference)
    if scheme is None:
        base_scheme, base_authority, base_path, base_query, _ = _split(base)
        scheme = base_scheme
        if authority is None:
            authority = base_authority
            if path == "":
                path = base_path
                query = query if query is not None else base_query
            elif not path.startswith("/"):
                path = _merge(base_authority, base_path, path)
    uri = f"{scheme.lower()}:" if scheme is not None else ""
    if authority is not None:
        uri += f"//{authority}"
    uri += _remove_dot_segments(path)
    if query is not None:
        uri += f"?{query}"
    if fragment is not None:
        uri += f"#{fragment}"
    return uri


def _split(uri: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    match = _URI.fullmatch(uri)
    assert match is not None  # every group is optional: any string matches
    scheme, authority, path, query, fragment = match.groups()
    return scheme, authority, path or "", query, fragment


def _merge(base_authority: str | None, base_path: str, path: str) -> str:
    if base_authority is not None and base_path == "":
        return "/" + path
    return base_path[: base_path.rfind("/") + 1] + path


def _remove_dot_segments(path: str) -> str:
    # Segment by segment (RFC 3986, section 5.2.4), in one pass: paths come from schemas.
    absolute = path.startswith("/")
    output: list[str] = []
    segments = path.split("/")[1:] if absolute else path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    joined = "/".join(output)
    return "/" + joined if absolute else joined


def _without_fragment(uri: str) -> str:
    return uri.split("#", 1)[0]
