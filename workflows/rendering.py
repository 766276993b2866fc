"""Turning a form schema into fields for the template, and posted text into data.

Deliberately thin: the forms issue replaces this with the UI schema and the
neutral widget tree. It only knows flat objects of strings, numbers and booleans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

import forms


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    hint: str
    input_type: str
    required: bool
    value: str
    error: str


_INPUT_TYPES = {"email": "email", "date": "date", "uri": "url"}


def fields_for(schema: dict[str, Any], values: dict[str, str], errors: list[forms.FieldError]) -> list[Field]:
    required = set(schema.get("required", []))
    by_field = {error.pointer.lstrip("/").split("/")[0]: error for error in errors}
    result = []
    for name, spec in schema.get("properties", {}).items():
        label = spec.get("title", name.replace("_", " ").capitalize())
        error = by_field.get(name)
        kind = spec.get("type")
        input_type = "number" if kind in {"number", "integer"} else _INPUT_TYPES.get(spec.get("format", ""), "text")
        result.append(
            Field(
                name=name,
                label=label,
                hint=spec.get("description", ""),
                input_type=input_type,
                required=name in required,
                value=values.get(name, ""),
                error=_message(error, label) if error else "",
            )
        )
    return result


def data_from_post(schema: dict[str, Any], post: QueryDict) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers as typed values, and the raw text to show again on error.

    Blank answers are left out so that "required" reports them; text that is not
    a number where a number is wanted is kept as text so validation reports it.
    """
    data: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for name, spec in schema.get("properties", {}).items():
        text = post.get(name, "").strip()
        raw[name] = text
        if not text:
            continue
        kind = spec.get("type")
        data[name] = _typed(text, kind)
    return data, raw


def _typed(text: str, kind: object) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    return text


# Plain words per error code; the forms issue brings translated message catalogues.
_MESSAGES = {
    "required": "Enter {label}",
    "invalid_format": "Enter {label} in the correct format",
    "too_short": "{Label} is too short",
    "too_long": "{Label} is too long",
    "wrong_type": "{Label} must be a number",
    "too_small": "{Label} is too small",
    "too_large": "{Label} is too large",
}


def _message(error: forms.FieldError, label: str) -> str:
    template = _MESSAGES.get(error.code)
    if template is None:
        return error.message
    return template.format(label=label.lower(), Label=label)
