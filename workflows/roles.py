"""Who may do what. Roles are Django groups named after a program's roles for now;
agency scoping and the full permission model arrive with the identity work.

Code outside this module asks ``holds(user, role, agency=...)`` (may this person act in this
role for this agency's programs?) or ``roles_of(user)`` (every role they hold anywhere), so the
rule can grow agency and queue scopes without its callers changing.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

Actor = User | AnonymousUser
"""Whoever makes a request: a signed-in user or an anonymous visitor."""

STAFF_ROLES = ("designer", "supervisor", "agency_admin", "auditor")


def roles_of(user: Actor) -> frozenset[str]:
    """Every role the user holds, in any agency."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(user.groups.values_list("name", flat=True))


def holds(user: Actor, role: str, *, agency: str | None = None) -> bool:
    """Does the user hold ``role`` for programs of ``agency`` (any agency when ``agency`` is None)?"""
    return role in roles_of(user)
