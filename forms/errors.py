"""Errors as data for forms: each names the field (a JSON pointer) and a stable code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with the citizen's answers.

    ``pointer`` is an RFC 6901 JSON pointer to the field (``/household/0/name``);
    a missing required answer points at the missing field itself, not its parent.
    """

    pointer: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One problem with a form schema, located by a JSON pointer into the schema."""

    pointer: str
    code: str
    message: str


def pointer_from(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Build an RFC 6901 pointer, escaping ``~`` and ``/`` in names."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)
