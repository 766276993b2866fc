"""Who may do what. Roles are Django groups named after a program's roles for now;
agency scoping and the full permission model arrive with the identity work."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

Actor = User | AnonymousUser
"""Whoever makes a request: a signed-in user or an anonymous visitor."""

STAFF_ROLES = ("designer", "supervisor", "agency_admin", "auditor")


def roles_of(user: Actor) -> frozenset[str]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(user.groups.values_list("name", flat=True))
