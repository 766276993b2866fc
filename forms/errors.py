"""Errors as data for forms: each names the field (a JSON pointer) and a stable code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with the citizen's answers.

    ``pointer`` is an RFC 6901 JSON pointer to the field (``/household/members/0/name``);
    a missing required answer points at the missing field itself, not its parent, and an
    unexpected answer points at that answer. ``""`` is the whole set of answers (used by
    the size and depth limits). ``code`` is stable and snake_case (see
    ``docs/reference/form-errors.md``); ``message`` is in the language asked for.
    """

    pointer: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One problem with a form schema, located by a JSON pointer into the schema.

    ``document`` names the shipped schema the pointer is in (``forms/address.schema.json``);
    it is empty for the form's own schema.
    """

    pointer: str
    code: str
    message: str
    document: str = ""


class InvalidSchema(ValueError):
    """A schema that cannot be compiled safely; raised by ``FormValidator`` and ``validate``.

    Load-time code should call ``check_schema`` first and report its list; this exception
    is the boundary for code that compiles a schema without checking it.
    """

    def __init__(self, problems: Iterable[SchemaError]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else SchemaError("", "invalid_schema", "invalid schema")
        where = f"{first.document}:" if first.document else ""
        super().__init__(f"{first.code} at {where}{first.pointer or '/'}: {first.message}")


def pointer_from(parts: Iterable[str | int]) -> str:
    """Build an RFC 6901 pointer, escaping ``~`` and ``/`` in names."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)
