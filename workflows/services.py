"""Every write goes through here: one command, one transaction.

Each service locks the case row, re-checks the actor's permission and the task's
state *now* (not when the page was drawn), runs ``engine.step`` in memory, and
writes the new state, tasks and history before the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

import engine
import forms
from workflows import programs
from workflows.models import Case, CaseEvent, DefinitionVersion, Program, ReferenceCounter, Task
from workflows.roles import Actor, roles_of


class ServiceError(Exception):
    """A refusal the user can act on; ``code`` is stable, ``message`` is for people."""

    code = "refused"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotAllowed(ServiceError):
    code = "not_allowed"


class Conflict(ServiceError):
    """The thing changed under the user (someone else claimed or completed it)."""

    code = "conflict"


class InvalidSubmission(ServiceError):
    code = "invalid_submission"

    def __init__(self, errors: list[forms.FieldError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} answer(s) need attention")


class ProgramNotOpen(ServiceError):
    code = "program_not_open"


# ------------------------------------------------------------------ publishing


@dataclass(frozen=True)
class PublishResult:
    version: DefinitionVersion
    created: bool


def definition_publish(*, files: dict[str, str], folder: str) -> PublishResult:
    """Store a program's files as an immutable version and make it the current one.

    Refused with ``engine.DefinitionError`` (carrying every problem) when the
    checker finds any. Publishing the same files again changes nothing.
    """
    definition, problems = programs.check(files, folder=folder)
    if definition is None:
        raise engine.DefinitionError([problem for problem in problems if problem.severity == "error"])
    info = definition.program
    with transaction.atomic():
        program, _ = Program.objects.select_for_update().get_or_create(
            slug=info.id,
            defaults={
                "title": dict(info.title),
                "summary": dict(info.summary),
                "agency": info.agency,
                "reference_prefix": info.reference_prefix,
            },
        )
        version = DefinitionVersion.objects.filter(program=program, content_hash=definition.content_hash).first()
        created = version is None
        if version is None:
            version = DefinitionVersion.objects.create(
                program=program, content_hash=definition.content_hash, files=files, published_at=timezone.now()
            )
        program.title = dict(info.title)
        program.summary = dict(info.summary)
        program.agency = info.agency
        program.reference_prefix = info.reference_prefix
        program.current_version = version
        program.save()
    return PublishResult(version=version, created=created)


# ------------------------------------------------------------------ citizens


def case_submit(*, program: Program, data: dict[str, Any], user: Actor, channel: str = Case.Channel.ONLINE) -> Case:
    """Validate the answers and open a case on the program's current version."""
    version = program.current_version
    if version is None:
        raise ProgramNotOpen("this program is not accepting applications")
    ready = programs.loaded(version.files, version.content_hash)
    definition = ready.definition
    errors = ready.form.validate(data)
    if errors:
        raise InvalidSubmission(errors)
    now = timezone.now()
    state, effects = engine.step(definition, engine.new_state(definition), engine.Submitted(data), now)
    actor = user if user.is_authenticated else None
    with transaction.atomic():
        case = Case.objects.create(
            reference=_next_reference(program, timezone.localdate(now).year),
            program=program,
            version=version,
            data=data,
            state=state.to_json(),
            channel=channel,
            submitted_by=actor,
            submitted_at=now,
        )
        CaseEvent.objects.create(case=case, at=now, kind="submitted", actor=actor, detail={"channel": channel})
        _apply(case, effects, actor=actor, now=now)
    return case


def _next_reference(program: Program, year: int) -> str:
    """``LC-2026-000042``: numbered per program and year, never reused."""
    counter, _ = ReferenceCounter.objects.get_or_create(program=program, year=year)
    # UPDATE takes the row lock, so concurrent submissions get distinct numbers.
    ReferenceCounter.objects.filter(pk=counter.pk).update(last_number=F("last_number") + 1)
    number = ReferenceCounter.objects.values_list("last_number", flat=True).get(pk=counter.pk)
    return f"{program.reference_prefix}-{year}-{number:06d}"


# ------------------------------------------------------------------ caseworkers


def task_claim(*, task_id: int, user: Actor) -> Task:
    """Assign an open task to ``user``, who must hold the task's role."""
    with transaction.atomic():
        task, staff = _lock_task(task_id, user)
        if task.assignee_id is not None and task.assignee_id != staff.pk:
            raise Conflict("someone else has already assigned this task to themselves")
        if task.assignee_id is None:
            _step(task, staff, engine.TaskClaimed(token=task.token, actor=staff.get_username()))
    return task


def task_release(*, task_id: int, user: Actor) -> Task:
    """Give a task back to its queue."""
    with transaction.atomic():
        task, staff = _lock_task(task_id, user)
        if task.assignee_id != staff.pk:
            raise Conflict("this task is not assigned to you")
        _step(task, staff, engine.TaskReleased(token=task.token, actor=staff.get_username()))
    return task


def task_complete(*, task_id: int, user: Actor, outcome: str, data: dict[str, Any] | None = None) -> Task:
    """Record the assignee's decision and move the case on."""
    with transaction.atomic():
        task, staff = _lock_task(task_id, user)
        if task.assignee_id != staff.pk:
            raise NotAllowed("assign this task to yourself before deciding it")
        event = engine.TaskCompleted(token=task.token, outcome=outcome, actor=staff.get_username(), data=data or {})
        _step(task, staff, event)
    return task


def _step(task: Task, staff: User, event: engine.Event) -> None:
    """Run one engine step for the task's (locked) case and write what it decided."""
    case = task.case
    version = case.version
    definition = programs.stored_definition(version.files, version.content_hash)
    now = timezone.now()
    try:
        state, effects = engine.step(definition, engine.CaseState.from_json(case.state), event, now)
    except engine.UnknownOutcome as error:
        raise ServiceError(str(error)) from None
    except (engine.SeparationOfDuties, engine.RetainFamiliar, engine.NotAssignee) as error:
        raise NotAllowed(str(error)) from None
    except engine.EngineError as error:
        raise Conflict(str(error)) from None
    case.state = state.to_json()
    _apply(case, effects, actor=staff, now=now)
    task.refresh_from_db()


def _lock_task(task_id: int, user: Actor) -> tuple[Task, User]:
    """Lock the task's case row, then read the task as it is now and check the user's role."""
    case_id = Task.objects.filter(pk=task_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise Task.DoesNotExist(task_id)
    Case.objects.select_for_update().filter(pk=case_id).get()
    task = Task.objects.select_related("case", "case__version").get(pk=task_id)
    if task.status != Task.Status.OPEN:
        raise Conflict("this task has already been completed")
    # Roles are re-read now: a role revoked since the page was drawn no longer counts.
    if isinstance(user, AnonymousUser) or task.role not in roles_of(user):
        raise NotAllowed(f"only a {task.role.replace('_', ' ')} can act on this task")
    return task, user


def _user_named(username: str | None) -> User | None:
    return User.objects.filter(username=username).first() if username else None


def _assignee_for(task: engine.OpenTask) -> User | None:
    """Who gets a new task straight away: named by the definition, or picked by its strategy.

    ``least loaded`` picks the holder of the role with the fewest open tasks; ``round robin``
    the holder after the one who got this step last (by user name, wrapping around). People
    the engine excluded (separation of duties) are never picked. Nobody suitable: the task
    waits in the queue.
    """
    if task.assign_to:
        return _user_named(task.assign_to)
    if task.assign is None:
        return None
    candidates = list(
        User.objects.filter(groups__name=task.role, is_active=True)
        .exclude(username__in=task.excluded)
        .order_by("username")
        .distinct()
    )
    if not candidates:
        return None
    if task.assign == "least loaded":
        loads = {
            row["assignee"]: row["open_tasks"]
            for row in Task.objects.filter(status=Task.Status.OPEN, assignee__in=candidates)
            .values("assignee")
            .annotate(open_tasks=Count("pk"))
        }
        return min(candidates, key=lambda user: (loads.get(user.pk, 0), user.username))
    last = (
        Task.objects.filter(step=task.step, role=task.role, assignee__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("assignee__username", flat=True)
        .first()
    )
    after = [user for user in candidates if last is not None and user.username > last]
    return (after or candidates)[0]


def _apply(case: Case, effects: list[engine.Effect], *, actor: User | None, now: datetime) -> None:
    """Write what the engine decided. Runs inside the caller's transaction.

    Timers, notices and webhooks are recorded in the case history for now; the case
    runtime (workers, outbox, message centre) delivers them.
    """
    for effect in effects:
        match effect:
            case engine.OpenTask(token=token, step=step, role=role, queue=queue, due_at=due_at):
                try:
                    with transaction.atomic():
                        Task.objects.create(
                            case=case,
                            token=token,
                            step=step,
                            role=role,
                            queue=queue or "",
                            due_at=due_at,
                            created_at=now,
                            assignee=_assignee_for(effect),
                        )
                except IntegrityError:
                    raise Conflict("this step already has an open task") from None
            case engine.AssignTask(token=token, assignee=assignee):
                Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(
                    assignee=_user_named(assignee)
                )
            case engine.CloseTask(token=token, outcome=outcome):
                Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(
                    status=Task.Status.COMPLETED, outcome=outcome, completed_at=now, completed_by=actor
                )
            case engine.CancelTask(token=token):
                Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(
                    status=Task.Status.CANCELLED, outcome="cancelled", completed_at=now
                )
            case engine.CloseCase(outcome=outcome):
                case.status = Case.Status.CLOSED
                case.outcome = outcome
                case.closed_at = now
            case engine.RecordAudit(kind=kind, detail=detail):
                CaseEvent.objects.create(case=case, at=now, kind=kind, actor=actor, detail=_jsonable(detail))
            case engine.SendNotice() | engine.StartTimer() | engine.CancelTimer() | engine.CallWebhook():
                CaseEvent.objects.create(
                    case=case, at=now, kind=_effect_kind(effect), actor=actor, detail=_jsonable(vars(effect))
                )
            case engine.SetCaseStatus() | engine.SetPriority() | engine.SuspendTask():
                CaseEvent.objects.create(
                    case=case, at=now, kind=_effect_kind(effect), actor=actor, detail=_jsonable(vars(effect))
                )
    case.save()


def _effect_kind(effect: object) -> str:
    """``SendNotice`` -> ``send_notice``: the history names effects in snake case."""
    name = type(effect).__name__
    return "".join("_" + char.lower() if char.isupper() else char for char in name).lstrip("_")


def _jsonable(value: Any) -> Any:
    """Effect details as JSON: datetimes as ISO text, mappings and tuples as objects and lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value
