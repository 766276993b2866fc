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
from workflows.roles import Actor, holds


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


def _versions_naming(role: str) -> list[int]:
    """The versions whose ``roles:`` (program.yaml) name ``role``."""
    # Versions are few and cached by hash (``programs.ready``): the files are read only once per process.
    return [
        version.pk
        for version in DefinitionVersion.objects.defer("files")
        if role in programs.definition_of(version).program.roles
    ]


def _case_scope(grants: frozenset[roles.Grant]) -> Q:
    """The cases these grants read.

    A caseworker's grant reads the cases of its agency whose own version names the role
    (``roles:`` in its program.yaml): a case started before a role was added or removed keeps
    the roles of the version it runs on. A grant for one queue reads only the cases that have
    had a task of the role in that queue. Supervisors and agency admins read every case of
    their agency (a supervisor of one queue: the cases that have had a task in it).
    """
    scope = roles.NOTHING
    for grant in grants:
        agency = roles.agency_filter(grant.agency, "program__agency")
        if grant.role in roles.OVERSIGHT_ROLES:
            if grant.role == roles.SUPERVISOR and grant.queue:
                agency &= Q(pk__in=Task.objects.filter(queue=grant.queue).values("case"))
            scope |= agency
            continue
        condition = agency & Q(version__in=_versions_naming(grant.role))
        if grant.queue:
            condition &= Q(pk__in=Task.objects.filter(role=grant.role, queue=grant.queue).values("case"))
        scope |= condition
    return scope


def cases_visible_to(user: Actor) -> QuerySet[Case]:
    """The cases the user's grants read (``_case_scope``), newest first (``-submitted_at, -pk``).

    An account without a grant sees none; staff of another agency see none of this agency's.
    """
    grants = roles.grants_of(user)
    if not grants:
        return Case.objects.none()
    return (
        Case.objects.filter(_case_scope(grants))
        .select_related("program", "version")
        .defer("version__files")
        .order_by("-submitted_at", "-pk")
    )


def case_visible_to(user: Actor, public_id: uuid.UUID) -> Case:
    """One case of ``cases_visible_to``; ``Case.DoesNotExist`` for any other (answered as if it did not exist)."""
    return cases_visible_to(user).get(public_id=public_id)


def case_events_visible_to(user: Actor, public_id: uuid.UUID) -> QuerySet[CaseEvent]:
    """A case's history, oldest first (``at, pk``), for its readers and for its agency's auditors.

    Auditors read the history of every case of their agencies (all of them with a ``*``
    grant), as they read those cases' access logs; anyone else gets ``Case.DoesNotExist`` for
    a case that is not theirs to see.
    """
    readable = cases_visible_to(user).values("pk")
    audited = privacy.audited_agencies(user)
    scope = Q(pk__in=readable)
    if roles.ALL_AGENCIES in audited:
        scope = Q()
    elif audited:
        scope |= Q(program__agency__in=audited)
    case_id = Case.objects.filter(scope).values_list("pk", flat=True).get(public_id=public_id)
    return CaseEvent.objects.filter(case=case_id).select_related("actor").order_by("at", "pk")


PRIORITY_RANK = SqlCase(
    When(case__priority="urgent", then=Value(0)),
    When(case__priority="high", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
"""Escalated cases first: urgent, then high, then the rest."""


def _inbox_order(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return (
        tasks.select_related("case", "case__program", "assignee")
        .annotate(priority_rank=PRIORITY_RANK)
        .order_by("priority_rank", F("due_at").asc(nulls_last=True), "created_at", "pk")
    )


def tasks_visible_to(user: Actor) -> QuerySet[Task]:
    """Open tasks the user works on (role, agency and queue of a grant) that are theirs or nobody's
    yet: escalated cases first, then the soonest due, then the oldest."""
    return _inbox_order(
        Task.objects.filter(roles.task_scope(roles.grants_of(user)), status=Task.Status.OPEN).filter(
            Q(assignee__isnull=True) | Q(assignee=user.pk)
        )
    )


def task_visible_to(user: Actor, task_id: int) -> Task:
    """A task the user may look at (open or done): one they work on, or one they oversee."""
    grants = roles.grants_of(user)
    return (
        Task.objects.filter(roles.task_scope(grants) | roles.oversight_scope(grants))
        .select_related("case", "case__program", "case__version", "assignee")
        .get(pk=task_id)
    )


def role_holders(role: str, *, agency: str | None = None, queue: str | None = None) -> QuerySet[User]:
    """The active people holding ``role`` for ``agency`` and ``queue`` (whom a task can be handed to)."""
    return roles.holders_of(role, agency=agency, queue=queue)


def api_token_by_secret(secret: str) -> ApiToken:
    """The live (not revoked) token with this secret, its user read along; ``ApiToken.DoesNotExist`` otherwise."""
    if not secret or len(secret) > 200:
        raise ApiToken.DoesNotExist
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return ApiToken.objects.select_related("user").get(token_hash=digest, revoked_at__isnull=True)


def tasks_of_scope(user: Actor, scope: str) -> QuerySet[Task]:
    """The open tasks of a scope, in the inbox's order:

    ``mine`` (assigned to them) and ``available`` (nobody's yet) follow the inbox's rule
    (``tasks_visible_to``); ``team`` is every open task, assigned or not, of the agencies and
    queues the user oversees as a supervisor or agency admin (none for anyone else).
    """
    if scope == "team":
        scoped = roles.oversight_scope(roles.grants_of(user))
        return _inbox_order(Task.objects.filter(scoped, status=Task.Status.OPEN))
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


def agencies_in_use() -> set[str]:
    """The agencies the programs belong to (``agency:`` in program.yaml)."""
    return set(Program.objects.values_list("agency", flat=True))


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
