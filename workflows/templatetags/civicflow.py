"""Small template helpers for drawing the neutral widget tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """``{{ file_fields|lookup:field.name }}``: a mapping's value by a variable key."""
    return mapping.get(key) if isinstance(mapping, Mapping) else None


@register.simple_tag
def described_by(field: Any) -> str:
    """The ids a field's input is described by: its hint, then its error (as rendered)."""
    ids = []
    if getattr(field, "hint", None):
        ids.append(f"{field.html_id}-hint")
    if getattr(field, "error", None):
        ids.append(f"{field.html_id}-error")
    return " ".join(ids)
