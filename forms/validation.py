"""Validating schemas and answers with jsonschema-rs (draft 2020-12).

Remote references are never fetched (threat T1): ``check_schema`` and ``FormValidator``
refuse any reference that does not lead into the schema, a schema shipped with the program
or a bundled meta-schema before a validator is built (``forms.references``), and every
validator is built with a retriever that refuses every request. Patterns are compiled by
the Rust ``regex`` engine, which has no catastrophic backtracking (threat T2). Schemas and
answers are measured without recursion before the validator sees them, and the cost of
reporting errors is bounded (threat T3).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any

import jsonschema_rs

from forms import references
from forms.catalogue import Catalogue, catalogue_for, fill, language_for
from forms.errors import FieldError, InvalidSchema, SchemaError, pointer_from
from forms.limits import measure

DRAFT_2020_12 = references.DRAFT_2020_12
MAX_SCHEMA_BYTES = 512 * 1024
MAX_SCHEMA_DEPTH = 32
# Answers to a form are a few kilobytes; file uploads do not travel in them.
MAX_DATA_BYTES = 1024 * 1024
MAX_DATA_DEPTH = 64
# The validator recurses natively: 10,000 levels still work, 100,000 kill the process.
MAX_SAFE_DATA_DEPTH = 1000
# At most this many errors are listed; one more, `too_many_errors`, says the list stops.
MAX_ERRORS = 1000
# jsonschema-rs copies the value an error is about into each error it reports (about
# 0.25 us per value), so many errors about one big object cost errors x size: 3,000
# `propertyNames` errors on a 3,000-key object took 3 s, and 100 missing required answers
# beside 100,000 junk keys 3 s more. An error can only come from a keyword of the schema,
# so (keywords that can fail) x (values in the answers) bounds that cost before anything
# is listed; above this many copies (about a second), only `too_many_errors` is returned.
# Ordinary submissions are far below it: a 550-keyword form passes up to 7,000 values.
MAX_ERROR_WORK = 4_000_000
# More allowed values than this are not spelt out in a message.
MAX_LISTED_VALUES = 10

type Shipped = Mapping[str, Mapping[str, Any]]
NO_SHIPPED: Shipped = MappingProxyType({})

# jsonschema-rs error kinds -> our stable codes (snake_case, documented in
# docs/reference/form-errors.md). Kinds not listed here get "invalid".
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
    "MinProperties": "too_few_properties",
    "MaxProperties": "too_many_properties",
    "Contains": "too_few_matching_items",
    "AdditionalItems": "unexpected_items",
    "UnevaluatedItems": "unexpected_items",
    "FalseSchema": "not_accepted",
    "Not": "not_accepted",
    "AnyOf": "no_matching_option",
    "OneOfNotValid": "no_matching_option",
    "OneOfMultipleValid": "multiple_options_match",
    "PropertyNames": "invalid_field_name",
    "ContentEncoding": "invalid_content",
    "ContentMediaType": "invalid_content",
}
_VARIANTS = {"ExclusiveMinimum": "exclusive", "ExclusiveMaximum": "exclusive", "Constant": "const"}
# Codes that make a schema unsafe to compile, whoever compiles it.
_UNSAFE = frozenset({"remote_ref", "schema_too_large", "schema_too_deep", "invalid_schema"})


def check_schema(schema: object, *, shipped: Shipped = NO_SHIPPED) -> list[SchemaError]:
    """Every problem that stops ``schema`` from being used as a form schema.

    ``shipped`` holds the other schemas of the program folder by name
    (``{"forms/address.schema.json": {...}}``); the form may ``$ref`` them by that name,
    relative to itself. They are checked too: their problems carry their name in
    ``SchemaError.document``.
    """
    if not isinstance(schema, Mapping):
        return [SchemaError("", "invalid_schema", "a form schema must be a JSON object")]
    form = dict(schema)
    problems = _safety_problems(form, shipped)
    if problems:
        return problems
    shipped = _plain(shipped)
    declared = form.get("$schema")
    if declared is None:
        problems.append(SchemaError("/$schema", "unsupported_draft", f"$schema must be {DRAFT_2020_12!r}"))
    problems.extend(references.check(form, shipped))
    if problems:
        return problems
    for name, other in shipped.items():
        problems.extend(_meta_problems(other, name))
    problems.extend(_meta_problems(form, ""))
    if problems:
        return problems
    try:
        for name, other in shipped.items():
            _compile(other, shipped, document=name)
        _compile(form, shipped)
    except InvalidSchema as error:
        return error.problems
    return []


class FormValidator:
    """A schema compiled once, to validate many submissions (compiling costs far more).

    ``shipped`` is as for ``check_schema``. Raises ``InvalidSchema`` (a ``ValueError``) for
    a schema that could reach outside the program, that is over the size or depth limits,
    or that the validator cannot compile; ``check_schema`` lists every problem instead.
    A boolean schema is accepted, as JSON Schema allows, though forms are objects.
    """

    def __init__(
        self,
        schema: Mapping[str, Any] | bool,
        *,
        shipped: Shipped = NO_SHIPPED,
        max_data_bytes: int = MAX_DATA_BYTES,
        max_data_depth: int = MAX_DATA_DEPTH,
    ) -> None:
        if not 0 <= max_data_depth <= MAX_SAFE_DATA_DEPTH:
            raise ValueError(f"max_data_depth must be between 0 and {MAX_SAFE_DATA_DEPTH}")
        compiled: jsonschema_rs.Validator
        if isinstance(schema, bool):
            compiled = _compile(schema, shipped)
        else:
            form = dict(schema)
            problems = _safety_problems(form, shipped)
            shipped = _plain(shipped)
            if not problems:
                problems = [problem for problem in references.check(form, shipped) if problem.code in _UNSAFE]
            if problems:
                raise InvalidSchema(problems)
            compiled = _compile(form, shipped)
        self._validator = compiled
        self._slots, self._names_checked = _error_slots([schema, *shipped.values()])
        self.max_data_bytes = max_data_bytes
        self.max_data_depth = max_data_depth

    def validate(self, data: object, *, language: str = "en") -> list[FieldError]:
        """Every error in ``data`` at once, each pointing at its field, in ``language``.

        ``language`` is a BCP 47 tag (``en``, ``zh-Hans``, ``zh-CN``); an unknown one gets
        English. Answers over the size or depth limit get one error at ``""`` (``too_large``,
        ``too_deep``) and are not validated further.
        """
        catalogue = catalogue_for(language_for(language))
        found = measure(data, max_bytes=self.max_data_bytes, max_depth=self.max_data_depth)
        if found.excess == "too_large":
            return [_error((), "too_large", catalogue, "data", {"limit": str(self.max_data_bytes)})]
        if found.excess == "too_deep":
            return [_error((), "too_deep", catalogue, "", {"limit": str(self.max_data_depth)})]
        if found.non_finite:
            # JSON has no NaN or Infinity; the validator would read them as null.
            expected = {"expected": catalogue.types["number"]}
            return [_error(path, "wrong_type", catalogue, "", expected) for path in found.non_finite]
        if self._validator.is_valid(data):
            return []
        slots = self._slots + (found.nodes if self._names_checked else 0)
        if slots * found.nodes > MAX_ERROR_WORK:
            return [_error((), "too_many_errors", catalogue, "work", {"limit": str(MAX_ERRORS)})]
        errors: list[FieldError] = []
        seen: set[FieldError] = set()
        for error in self._validator.iter_errors(data):
            for field_error in _field_errors(error, data, catalogue):
                if field_error in seen:
                    continue
                if len(errors) == MAX_ERRORS:
                    errors.append(_error((), "too_many_errors", catalogue, "", {"limit": str(MAX_ERRORS)}))
                    return errors
                seen.add(field_error)
                errors.append(field_error)
        return errors


def validate(
    schema: Mapping[str, Any],
    data: object,
    *,
    language: str = "en",
    shipped: Shipped = NO_SHIPPED,
) -> list[FieldError]:
    """Every error in ``data`` at once, each pointing at its field (compiles ``schema`` each call)."""
    return FormValidator(schema, shipped=shipped).validate(data, language=language)


def _plain(shipped: Shipped) -> dict[str, dict[str, Any]]:
    """The shipped schemas as plain dicts (the validator takes nothing else), once checked to be mappings."""
    return {name: dict(other) for name, other in shipped.items() if isinstance(other, Mapping)}


def _safety_problems(form: dict[str, Any], shipped: Shipped) -> list[SchemaError]:
    problems = _limit_problems(form, "")
    for name, other in shipped.items():
        if isinstance(other, Mapping):
            problems.extend(_limit_problems(dict(other), name))
        else:
            problems.append(SchemaError("", "invalid_schema", "a shipped schema must be a JSON object", name))
    return problems


def _limit_problems(schema: dict[str, Any], document: str) -> list[SchemaError]:
    found = measure(schema, max_bytes=MAX_SCHEMA_BYTES, max_depth=MAX_SCHEMA_DEPTH)
    if found.excess == "too_large":
        message = f"the schema is larger than the limit of {MAX_SCHEMA_BYTES} bytes (512 KiB)"
        return [SchemaError("", "schema_too_large", message, document)]
    if found.excess == "too_deep":
        message = f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels"
        return [SchemaError(pointer_from(found.where), "schema_too_deep", message, document)]
    return []


@cache
def _meta_validator() -> jsonschema_rs.Validator:
    # Validating against a $ref to the bundled meta-schema lists every problem, where
    # jsonschema_rs.meta.validate stops at the first.
    return jsonschema_rs.validator_for({"$ref": DRAFT_2020_12}, retriever=_refuse)


def _meta_problems(schema: dict[str, Any], document: str) -> list[SchemaError]:
    return [
        SchemaError(pointer_from(error.instance_path), "invalid_schema", error.message, document)
        for error in _meta_validator().iter_errors(schema)
    ]


def _refuse(uri: str) -> Any:
    """The retriever of every registry and validator: nothing is ever fetched."""
    raise OSError(f"Retrieval is disabled: CivicFlow never fetches {uri!r}")


def _compile(schema: dict[str, Any] | bool, shipped: Shipped, *, document: str = "") -> jsonschema_rs.Validator:
    try:
        registry = None
        if shipped:
            resources = [(references.shipped_uri(name), dict(other)) for name, other in shipped.items()]
            registry = jsonschema_rs.Registry(resources, draft=jsonschema_rs.Draft202012, retriever=_refuse)
        # RegexOptions selects the linear-time engine: look-arounds and back-references,
        # the constructs that backtrack, are refused when the schema is compiled.
        return jsonschema_rs.validator_for(
            schema,
            validate_formats=True,
            pattern_options=jsonschema_rs.RegexOptions(),
            retriever=_refuse,
            registry=registry,
            base_uri=references.shipped_uri(document) if document else None,
        )
    except jsonschema_rs.ValidationError as error:
        pointer = pointer_from(error.instance_path)
        raise InvalidSchema([SchemaError(pointer, "invalid_schema", error.message.splitlines()[0], document)]) from None
    except ValueError as error:
        raise InvalidSchema([SchemaError("", "invalid_schema", str(error).splitlines()[0], document)]) from None


# Keywords that never fail by themselves: annotations, identifiers, and containers of
# subschemas (whose own keywords are counted where they are).
_SILENT = frozenset(
    {
        "$anchor",
        "$comment",
        "$defs",
        "$dynamicAnchor",
        "$id",
        "$schema",
        "$vocabulary",
        "default",
        "definitions",
        "deprecated",
        "description",
        "examples",
        "properties",
        "patternProperties",
        "readOnly",
        "title",
        "writeOnly",
        "dependentSchemas",
        "allOf",
        "then",
        "else",
        "$ref",
    }
)


def _error_slots(schemas: list[Any]) -> tuple[int, bool]:
    """How many errors one value can get at most, and whether ``propertyNames`` adds one per key.

    Counts every keyword that can fail in every object of the schemas (``required`` and
    ``dependentRequired`` count each name), and each ``false`` schema. Objects that are
    not schemas (an ``enum`` of objects) are counted too: an over-estimate is safe.
    """
    slots = 0
    names_checked = False
    stack: list[Any] = list(schemas)
    while stack:
        node = stack.pop()
        if node is False:
            slots += 1
        elif isinstance(node, Mapping):
            for keyword, value in node.items():
                if keyword in ("required", "dependentRequired") and isinstance(value, (list, Mapping)):
                    slots += sum(len(names) if isinstance(names, list) else 1 for names in _lists(value))
                elif keyword not in _SILENT:
                    slots += 1
                names_checked = names_checked or keyword == "propertyNames"
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return max(slots, 1), names_checked


def _lists(value: list[Any] | Mapping[str, Any]) -> list[Any]:
    return [value] if isinstance(value, list) else list(value.values())


def _field_errors(error: jsonschema_rs.ValidationError, data: object, catalogue: Catalogue) -> Iterator[FieldError]:
    kind = error.kind
    name = type(kind).__name__
    details = kind.as_dict()
    path = tuple(error.instance_path)
    code = _CODES.get(name, "invalid")
    variant = _VARIANTS.get(name, "")
    values: dict[str, str] = {}
    if name in ("AdditionalProperties", "UnevaluatedProperties"):
        # One error per unexpected answer, each pointing at it.
        for unexpected in details.get("unexpected", []):
            yield _error((*path, unexpected), code, catalogue, "", {"property": str(unexpected)})
        return
    if name == "FalseSchema" and error.schema_path and error.schema_path[-1] == "additionalProperties":
        # jsonschema-rs reports `additionalProperties: false` beside no `properties` and no
        # `patternProperties` as one error about the object: then every answer in it is unexpected.
        found = _value_at(data, path)
        if isinstance(found, dict):
            for unexpected in found:
                yield _error((*path, unexpected), "unexpected_field", catalogue, "", {"property": str(unexpected)})
            return
    if name == "Required":
        # A missing answer points at the question, not at the group that lacks it.
        missing = str(details.get("property", ""))
        yield _error((*path, missing), code, catalogue, "", {"property": missing})
        return
    if name == "PropertyNames":
        inner = details.get("error")
        bad_name = getattr(inner, "instance", None)
        yield _error((*path, bad_name) if isinstance(bad_name, str) else path, code, catalogue, "", {})
        return
    if "limit" in details:
        values["limit"] = _number(details["limit"])
    if name == "Type":
        types = [str(each) for each in details.get("types", [])]
        values["expected"] = catalogue.either([catalogue.types.get(each, each) for each in types])
    elif name == "Format":
        form = str(details.get("format", ""))
        values["format"] = catalogue.formats.get(form, form)
        variant = "" if form in catalogue.formats else "other"
    elif name == "Enum":
        options = list(details.get("options", []))
        values["allowed"] = catalogue.listing([_shown(option) for option in options[:MAX_LISTED_VALUES]])
        variant = "many" if len(options) > MAX_LISTED_VALUES else ""
    elif name == "Constant":
        values["allowed"] = _shown(details.get("expected_value"))
    elif name == "MultipleOf":
        values["multiple_of"] = _number(details.get("multiple_of"))
    elif name == "Pattern":
        values["pattern"] = str(details.get("pattern", ""))
    elif name == "Contains" and error.schema_path and error.schema_path[-1] == "maxContains":
        code = "too_many_matching_items"
    yield _error(path, code, catalogue, variant, values)


def _value_at(data: object, path: tuple[str | int, ...]) -> object:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, (list, tuple)) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _error(
    path: tuple[str | int, ...], code: str, catalogue: Catalogue, variant: str, values: dict[str, str]
) -> FieldError:
    template = catalogue.template(code, variant, one=values.get("limit") == "1")
    return FieldError(pointer_from(path), code, fill(template, values))


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return _shown(value)


def _shown(value: object) -> str:
    """A value from the schema as a person reads it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
