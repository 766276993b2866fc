"""Every read the pages need, built from the actor so nobody sees what is not theirs."""

from __future__ import annotations

import hashlib
import uuid

from django.contrib.auth.models import User
from django.db.models import Case as SqlCase
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When

from engine.model import EachStep, HumanStep
from workflows import privacy, programs, roles
from workflows.models import (
    ApiToken,
    Case,
    CaseEvent,
    DefinitionVersion,
    Program,
    Task,
    WebhookDelivery,
    WebhookEndpoint,
)
from workflows.roles import Actor, holds, roles_of


def programs_open() -> QuerySet[Program]:
    return Program.objects.filter(current_version__isnull=False).select_related("current_version").order_by("slug")


def program_open(slug: str) -> Program:
    return programs_open().get(slug=slug)


def program_designed_by(user: Actor, slug: str) -> Program:
    """The program, when the user is a designer for its agency; ``Program.DoesNotExist`` otherwise."""
    program = Program.objects.select_related("current_version").get(slug=slug)
    if not roles.holds(user, "designer", agency=program.agency):
        raise Program.DoesNotExist(slug)
    return program


def versions_designed_by(user: Actor, slug: str) -> tuple[Program, QuerySet[DefinitionVersion]]:
    """A program's published versions, newest first, each with ``running_cases`` counted (files deferred).

    ``Program.DoesNotExist`` unless the user is a designer for the program's agency.
    """
    program = program_designed_by(user, slug)
    return program, program_versions(program)


def program_versions(program: Program) -> QuerySet[DefinitionVersion]:
    """A program's versions, newest first, each with ``running_cases`` counted."""
    return (
        DefinitionVersion.objects.filter(program=program)
        .annotate(running_cases=Count("cases", filter=Q(cases__status=Case.Status.RUNNING)))
        .order_by("-published_at", "-pk")
    )


def case_by_public_id(public_id: str) -> Case:
    return Case.objects.select_related("program").get(public_id=public_id)


def cases_visible_to(user: Actor) -> QuerySet[Case]:
    """The cases of the programs whose roles the user holds, newest first (``-submitted_at, -pk``).

    A case belongs to the staff its own version names (``roles:`` in its program.yaml), the
    rule the services apply when staff act on a case: a case started before a role was added
    or removed keeps the roles of the version it runs on. An account without a role sees none.
    """
    roles = roles_of(user)
    if not roles:
        return Case.objects.none()
    # Versions are few and cached by hash (``programs.ready``): the files are read only once per process.
    staffed = [
        version.pk
        for version in DefinitionVersion.objects.defer("files")
        if roles & set(programs.definition_of(version).program.roles)
    ]
    return (
        Case.objects.filter(version__in=staffed)
        .select_related("program", "version")
        .defer("version__files")
        .order_by("-submitted_at", "-pk")
    )


def case_visible_to(user: Actor, public_id: uuid.UUID) -> Case:
    """One case of ``cases_visible_to``; ``Case.DoesNotExist`` for any other (answered as if it did not exist)."""
    return cases_visible_to(user).get(public_id=public_id)


def case_events_visible_to(user: Actor, public_id: uuid.UUID) -> QuerySet[CaseEvent]:
    """A case's history, oldest first (``at, pk``), for its program's staff and for auditors.

    Auditors read every case's history, as they read every access log; anyone else gets
    ``Case.DoesNotExist`` for a case that is not theirs to see.
    """
    cases = Case.objects.all() if privacy.is_auditor(user) else cases_visible_to(user)
    case_id = cases.values_list("pk", flat=True).get(public_id=public_id)
    return CaseEvent.objects.filter(case=case_id).select_related("actor").order_by("at", "pk")


PRIORITY_RANK = SqlCase(
    When(case__priority="urgent", then=Value(0)),
    When(case__priority="high", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
"""Escalated cases first: urgent, then high, then the rest."""


def tasks_visible_to(user: Actor) -> QuerySet[Task]:
    """Open tasks for the user's roles that are theirs or nobody's yet: escalated cases first,
    then the soonest due, then the oldest."""
    return (
        Task.objects.filter(status=Task.Status.OPEN, role__in=roles_of(user))
        .filter(Q(assignee__isnull=True) | Q(assignee=user.pk))
        .select_related("case", "case__program", "assignee")
        .annotate(priority_rank=PRIORITY_RANK)
        .order_by("priority_rank", F("due_at").asc(nulls_last=True), "created_at", "pk")
    )


def task_visible_to(user: Actor, task_id: int) -> Task:
    """A task the user may look at: any task (open or done) for one of their roles."""
    return (
        Task.objects.filter(role__in=roles_of(user))
        .select_related("case", "case__program", "case__version", "assignee")
        .get(pk=task_id)
    )


def role_holders(role: str) -> QuerySet[User]:
    """The active people holding ``role``, by user name (whom a task can be handed to)."""
    return User.objects.filter(groups__name=role, is_active=True).order_by("username").distinct()


def api_token_by_secret(secret: str) -> ApiToken:
    """The live (not revoked) token with this secret, its user read along; ``ApiToken.DoesNotExist`` otherwise."""
    if not secret or len(secret) > 200:
        raise ApiToken.DoesNotExist
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return ApiToken.objects.select_related("user").get(token_hash=digest, revoked_at__isnull=True)


def tasks_of_scope(user: Actor, scope: str) -> QuerySet[Task]:
    """The open tasks for the user's roles: ``mine`` (assigned to them) or ``available`` (nobody's yet).

    The same order and the same permission rule as the inbox (``tasks_visible_to``).
    """
    visible = tasks_visible_to(user)
    if scope == "mine":
        return visible.filter(assignee=user.pk)
    if scope == "available":
        return visible.filter(assignee__isnull=True)
    raise ValueError(f"unknown scope {scope!r}")


def roles_in_use() -> set[str]:
    """The roles the current version of any published program names."""
    found: set[str] = set()
    for program in programs_open():
        if program.current_version is not None:
            found.update(programs.definition_of(program.current_version).program.roles)
    return found


def task_outcomes(task: Task) -> list[str]:
    """The choices a caseworker has at the task's step (one task of an ``each`` step offers its task's)."""
    step = programs.definition_of(task.case.version).steps[task.step]
    if isinstance(step, EachStep):
        return list(step.task.outcomes)
    return list(step.outcomes) if isinstance(step, HumanStep) else []


def tasks_open_on(case: Case) -> QuerySet[Task]:
    """The case's open tasks, oldest first, with their assignees."""
    return case.tasks.filter(status=Task.Status.OPEN).select_related("assignee").order_by("created_at", "pk")


# ------------------------------------------------------------------ webhooks


def programs_administered_by(user: Actor) -> list[int]:
    """Ids of the programs whose agency the user administers (``agency_admin`` for that agency)."""
    if not holds(user, "agency_admin"):
        return []
    return [
        pk for pk, agency in Program.objects.values_list("pk", "agency") if holds(user, "agency_admin", agency=agency)
    ]


def webhook_endpoints_managed_by(user: Actor) -> QuerySet[WebhookEndpoint]:
    """The webhook endpoints of the programs the user administers, newest first (``-created_at, -pk``)."""
    return (
        WebhookEndpoint.objects.filter(program_id__in=programs_administered_by(user))
        .select_related("program", "created_by")
        .order_by("-created_at", "-pk")
    )


def webhook_endpoint_managed_by(user: Actor, endpoint_id: int) -> WebhookEndpoint:
    """One of ``webhook_endpoints_managed_by``; ``WebhookEndpoint.DoesNotExist`` for any other."""
    return webhook_endpoints_managed_by(user).get(pk=endpoint_id)


def webhook_deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's delivery log, one row per attempt, newest first (``-at, -pk``)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).select_related("outbox").order_by("-at", "-pk")
