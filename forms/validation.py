"""Validating schemas and answers with jsonschema-rs (draft 2020-12).

Remote references are never fetched: the validator runs with retrieval off, and
``check_schema`` refuses any ``$ref`` that does not resolve inside the schema
before a validator is even built (threat T1). Patterns are compiled by the Rust
regex engine, which has no catastrophic backtracking (threat T2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema_rs

from forms.errors import FieldError, SchemaError, pointer_from

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_SCHEMA_BYTES = 512 * 1024
MAX_SCHEMA_DEPTH = 32

# jsonschema-rs error kinds -> our stable codes (snake_case, documented in docs/).
_CODES = {
    "Required": "required",
    "Type": "wrong_type",
    "Format": "invalid_format",
    "MinLength": "too_short",
    "MaxLength": "too_long",
    "Minimum": "too_small",
    "ExclusiveMinimum": "too_small",
    "Maximum": "too_large",
    "ExclusiveMaximum": "too_large",
    "Pattern": "pattern_mismatch",
    "Enum": "not_allowed_value",
    "Constant": "not_allowed_value",
    "AdditionalProperties": "unexpected_field",
    "UnevaluatedProperties": "unexpected_field",
    "MinItems": "too_few_items",
    "MaxItems": "too_many_items",
    "UniqueItems": "duplicate_items",
    "MultipleOf": "not_multiple",
}


def check_schema(schema: object) -> list[SchemaError]:
    """Every problem that stops ``schema`` from being used as a form schema."""
    if not isinstance(schema, dict):
        return [SchemaError("", "invalid_schema", "a form schema must be a JSON object")]
    problems: list[SchemaError] = []
    size = len(json.dumps(schema).encode("utf-8"))
    if size > MAX_SCHEMA_BYTES:
        problems.append(
            SchemaError("", "schema_too_large", f"the schema is {size} bytes; the limit is {MAX_SCHEMA_BYTES}")
        )
    declared = schema.get("$schema")
    if declared != DRAFT_2020_12:
        problems.append(SchemaError("/$schema", "unsupported_draft", f"$schema must be {DRAFT_2020_12!r}"))
    for pointer, depth, node in _walk(schema):
        if depth > MAX_SCHEMA_DEPTH:
            problems.append(SchemaError(pointer, "schema_too_deep", f"the schema nests deeper than {MAX_SCHEMA_DEPTH}"))
            break
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str) and not ref.startswith("#"):
            problems.append(
                SchemaError(
                    pointer + "/$ref",
                    "remote_ref",
                    f"$ref {ref!r} points outside the schema; only references inside it (#/...) are allowed",
                )
            )
    if problems:
        return problems
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as error:
        return [SchemaError(pointer_from(list(error.instance_path)), "invalid_schema", error.message)]
    try:
        _validator(schema)
    except jsonschema_rs.ValidationError as error:
        return [SchemaError("", "invalid_schema", error.message.splitlines()[0])]
    except ValueError as error:
        return [SchemaError("", "invalid_schema", str(error).splitlines()[0])]
    return []


class FormValidator:
    """A schema compiled once, to validate many submissions (compiling costs far more)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._validator = _validator(schema)

    def validate(self, data: object) -> list[FieldError]:
        """Every error in ``data`` at once, each pointing at its field."""
        return _field_errors(self._validator, data)


def validate(schema: Mapping[str, Any], data: object) -> list[FieldError]:
    """Every error in ``data`` at once, each pointing at its field (compiles ``schema`` each call)."""
    return _field_errors(_validator(schema), data)


def _field_errors(validator: Any, data: object) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in validator.iter_errors(data):
        kind = type(error.kind).__name__
        path: list[str | int] = list(error.instance_path)
        if kind == "Required":
            missing = getattr(error.kind, "property", None)
            if isinstance(missing, str):
                path.append(missing)
        errors.append(FieldError(pointer_from(path), _CODES.get(kind, "invalid"), error.message))
    return errors


def _validator(schema: Mapping[str, Any]) -> Any:
    # RegexOptions selects the linear-time engine: look-arounds and back-references,
    # the constructs that backtrack, are refused when the schema is compiled.
    return jsonschema_rs.validator_for(
        dict(schema), validate_formats=True, offline=True, pattern_options=jsonschema_rs.RegexOptions()
    )


def _walk(node: object, pointer: str = "", depth: int = 0) -> Iterator[tuple[str, int, Any]]:
    yield pointer, depth, node
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from _walk(value, f"{pointer}/{pointer_from([key])[1:]}", depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (dict, list)):
                yield from _walk(value, f"{pointer}/{index}", depth + 1)
