"""Who may do what: roles held for agencies and queues (``RoleGrant`` rows, the only source).

A grant says "this person acts as ``role`` for the programs of ``agency``" (a program's
``agency:`` slug in program.yaml, or ``*`` for every agency), optionally only for the tasks
routed to one ``queue`` (blank: every queue of the role).

Code outside this module asks ``holds(user, role, agency=...)`` (may this person act in this
role for this agency's programs?) or ``roles_of(user)`` (every role they hold anywhere); the
selectors turn grants into querysets with ``task_scope`` / ``oversight_scope``, so every
permission rule lives here and in ``workflows.selectors``.

Two roles oversee rather than work: a ``supervisor`` reads every case of their agency and
sees every open task of it (of their queue, when the grant names one); an ``agency_admin``
reads every case and task of their agency. An ``auditor`` reads the history and access log
of their agency's cases (``workflows.privacy.is_auditor``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from workflows.models import RoleGrant

Actor = User | AnonymousUser
"""Whoever makes a request: a signed-in user or an anonymous visitor."""

STAFF_ROLES = ("designer", "supervisor", "agency_admin", "auditor")

ALL_AGENCIES = RoleGrant.ALL_AGENCIES
"""The agency of a grant that covers every agency (a state auditor, a statewide supervisor)."""

SUPERVISOR = "supervisor"
AGENCY_ADMIN = "agency_admin"
OVERSIGHT_ROLES = (SUPERVISOR, AGENCY_ADMIN)
"""Roles that read every case of their agency, whatever roles its programs name."""


@dataclass(frozen=True)
class Grant:
    role: str
    agency: str
    queue: str = ""

    def covers_agency(self, agency: str | None) -> bool:
        return agency is None or self.agency in (agency, ALL_AGENCIES)

    def covers_queue(self, queue: str | None) -> bool:
        return queue is None or self.queue in ("", queue)


def grants_of(user: Actor) -> frozenset[Grant]:
    """Every grant the user holds; none for a visitor or a deactivated account.

    Read from the database each time: a grant revoked a moment ago no longer counts.
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    rows = RoleGrant.objects.filter(user=user.pk).values_list("role", "agency", "queue")
    return frozenset(Grant(role, agency, queue) for role, agency, queue in rows)


def roles_of(user: Actor) -> frozenset[str]:
    """Every role the user holds, in any agency."""
    return frozenset(grant.role for grant in grants_of(user))


def holds(user: Actor, role: str, *, agency: str | None = None, queue: str | None = None) -> bool:
    """Does the user hold ``role`` for programs of ``agency`` (any agency when None), for tasks
    of ``queue`` (any queue when None)?"""
    return any(
        grant.role == role and grant.covers_agency(agency) and grant.covers_queue(queue) for grant in grants_of(user)
    )


def works_for(user: Actor, agency: str) -> bool:
    """Does the user hold any role for ``agency``? (Staff of another agency are told nothing exists.)"""
    return any(grant.covers_agency(agency) for grant in grants_of(user))


def oversees(user: Actor, *, agency: str, queue: str | None = None) -> bool:
    """Is the user a supervisor (of this queue) or an agency admin for ``agency``?"""
    return any(
        grant.role in OVERSIGHT_ROLES
        and grant.covers_agency(agency)
        and (grant.role == AGENCY_ADMIN or grant.covers_queue(queue))
        for grant in grants_of(user)
    )


def agency_filter(agency: str, field: str) -> Q:
    """``field`` (a path to a program's agency) matches ``agency``; anything for ``*``."""
    return Q() if agency == ALL_AGENCIES else Q(**{field: agency})


NOTHING = Q(pk__in=[])
"""A condition no row meets (for an account without grants)."""


def task_scope(grants: frozenset[Grant]) -> Q:
    """The tasks these grants work on: the grant's role, its agency's programs, its queue (or any)."""
    scope = NOTHING
    for grant in grants:
        condition = Q(role=grant.role) & agency_filter(grant.agency, "case__program__agency")
        if grant.queue:
            condition &= Q(queue=grant.queue)
        scope |= condition
    return scope


def oversight_scope(grants: frozenset[Grant]) -> Q:
    """The tasks these grants oversee: an agency admin's agency, a supervisor's agency (their queue, if named)."""
    scope = NOTHING
    for grant in grants:
        if grant.role not in OVERSIGHT_ROLES:
            continue
        condition = agency_filter(grant.agency, "case__program__agency")
        if grant.role == SUPERVISOR and grant.queue:
            condition &= Q(queue=grant.queue)
        scope |= condition
    return scope


def holders_of(role: str, *, agency: str | None = None, queue: str | None = None) -> QuerySet[User]:
    """The active people holding ``role`` for ``agency`` and ``queue`` (any when None), by user name."""
    grants = RoleGrant.objects.filter(role=role)
    if agency is not None:
        grants = grants.filter(agency__in=[agency, ALL_AGENCIES])
    if queue is not None:
        grants = grants.filter(queue__in=["", queue])
    return User.objects.filter(is_active=True, pk__in=grants.values("user")).order_by("username")
