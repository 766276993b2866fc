"""Every write goes through here: one command, one transaction.

Each service locks the case row, re-checks the actor's permission and the task's
state *now* (not when the page was drawn), runs ``engine.step`` in memory, and
writes the new state, tasks and history before the transaction commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

import engine
import forms
from workflows import audit, faults, programs, uploads
from workflows.models import (
    Case,
    DefinitionVersion,
    Draft,
    Note,
    Program,
    ReferenceCounter,
    Submission,
    Task,
    Timer,
    Upload,
)
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


class AlreadySubmitted(ServiceError):
    """A draft that has already become a case: the second submit shows the first case."""

    code = "already_submitted"

    def __init__(self, case: Case) -> None:
        self.case = case
        super().__init__(f"this application was already submitted as {case.reference}")


class DraftExpired(ServiceError):
    code = "draft_expired"


# ------------------------------------------------------------------ publishing


@dataclass(frozen=True)
class PublishResult:
    version: DefinitionVersion
    created: bool


def definition_publish(*, files: dict[str, str], folder: str, published_by: str = "") -> PublishResult:
    """Store a program's files as an immutable version and make it the current one.

    Refused with ``engine.DefinitionError`` (carrying every problem) when the
    checker finds any. Publishing the same files again changes nothing (and keeps who
    published them first).
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
                program=program,
                content_hash=definition.content_hash,
                files=files,
                published_at=timezone.now(),
                published_by=published_by,
            )
        program.title = dict(info.title)
        program.summary = dict(info.summary)
        program.agency = info.agency
        program.reference_prefix = info.reference_prefix
        program.current_version = version
        program.save()
    return PublishResult(version=version, created=created)


# ------------------------------------------------------------------ citizens


def case_submit(
    *,
    program: Program,
    data: dict[str, Any],
    user: Actor,
    channel: str = Case.Channel.ONLINE,
    on_behalf_of: str = "",
    language: str = "en",
    idempotency_key: str | None = None,
) -> Case:
    """Validate the answers and open a case on the program's current version.

    Hidden answers are cleared and computed ones worked out on the server first, exactly as
    the web form does, so every channel submits the same way. With an ``idempotency_key``,
    a repeat of the same submission returns the case the first one opened (``Conflict`` if
    the key was used for different answers); the database's unique constraint decides races.
    """
    version = program.current_version
    if version is None:
        raise ProgramNotOpen("this program is not accepting applications")
    ready = programs.loaded(version.files, version.content_hash)
    definition = ready.definition
    data = ready.pages.clean(data)
    key = idempotency_key or None
    if key is not None:
        earlier = _submitted_with(program, key, data)
        if earlier is not None:
            return earlier
    errors = ready.form.validate(data, language=language)
    if errors:
        raise InvalidSubmission(errors)
    now = timezone.now()
    state, effects = engine.step(definition, engine.new_state(definition), engine.Submitted(data), now)
    actor = user if user.is_authenticated else None
    try:
        return _open_case(program, version, data, state, effects, actor, channel, on_behalf_of, key, now, language)
    except IntegrityError:
        earlier = _submitted_with(program, key, data) if key is not None else None
        if earlier is None:
            raise
        return earlier  # a concurrent request with the same key won the race


def _submitted_with(program: Program, key: str, data: dict[str, Any]) -> Case | None:
    submission = Submission.objects.select_related("case").filter(program=program, idempotency_key=key).first()
    if submission is None or submission.case is None:
        return None
    if submission.data != data:
        raise Conflict("this idempotency key was already used for different answers")
    return submission.case


def _open_case(
    program: Program,
    version: DefinitionVersion,
    data: dict[str, Any],
    state: engine.CaseState,
    effects: list[engine.Effect],
    actor: User | None,
    channel: str,
    on_behalf_of: str,
    key: str | None,
    now: datetime,
    language: str,
) -> Case:
    with transaction.atomic():
        # The submission row first: its unique key is taken before any other work is done.
        submission = Submission.objects.create(
            program=program,
            idempotency_key=key,
            data=data,
            channel=channel,
            submitted_by=actor,
            on_behalf_of=on_behalf_of,
            received_at=now,
        )
        case = Case.objects.create(
            reference=_next_reference(program, timezone.localdate(now).year),
            program=program,
            version=version,
            data=data,
            state=state.to_json(),
            channel=channel,
            submitted_by=actor,
            on_behalf_of=on_behalf_of,
            submitted_at=now,
            language=language,
        )
        submission.case = case
        submission.save(update_fields=["case"])
        detail = {"channel": channel, **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})}
        audit.record(case=case, at=now, kind="submitted", actor=actor, detail=detail)
        _apply(case, effects, actor=actor, now=now)
        faults.checkpoint(faults.SERVICE_BEFORE_COMMIT)
    return case


# ------------------------------------------------------------------ drafts


ON_BEHALF_OF_MAX_CHARS = 200
"""The longest name of a person applied for on their behalf (``Draft``/``Case.on_behalf_of``)."""


def draft_start(
    *,
    program: Program,
    user: Actor,
    channel: str = Case.Channel.ONLINE,
    on_behalf_of: str = "",
) -> Draft:
    """Open a draft on the program's current version.

    A signed-in citizen owns it; a staff member starting an assisted application (any
    channel but online) is recorded with the name of the person they apply for.
    """
    version = program.current_version
    if version is None:
        raise ProgramNotOpen("this program is not accepting applications")
    info = programs.stored_definition(version.files, version.content_hash).program
    if channel not in info.channels:
        raise NotAllowed(f"this program does not take applications {Case.Channel(channel).label.lower()}")
    assisted = channel != Case.Channel.ONLINE
    if assisted and not (user.is_authenticated and roles_of(user) & set(info.roles)):
        raise NotAllowed("only the program's staff can apply on someone's behalf")
    if assisted and not on_behalf_of.strip():
        raise ServiceError("enter the name of the person you are applying for")
    if assisted and len(on_behalf_of.strip()) > ON_BEHALF_OF_MAX_CHARS:
        raise ServiceError(f"the name can be at most {ON_BEHALF_OF_MAX_CHARS} characters")
    now = timezone.now()
    signed_in = user if user.is_authenticated else None
    return Draft.objects.create(
        program=program,
        version=version,
        owner=None if assisted else signed_in,
        channel=channel,
        assisted_by=signed_in if assisted else None,
        on_behalf_of=on_behalf_of.strip() if assisted else "",
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=info.draft_days),
    )


def _draft_lifetime(version: DefinitionVersion) -> timedelta:
    definition = programs.stored_definition(version.files, version.content_hash)
    return timedelta(days=definition.program.draft_days)


def draft_save(
    *, draft: Draft, data: dict[str, Any], page: str, reviewed: bool | None = None, done: bool = False
) -> Draft:
    """Keep the answers so far (hidden ones cleared) and push the expiry back.

    Saving never validates: a citizen can always save and come back, even mid-page.
    """
    if draft.case_id is not None:
        raise AlreadySubmitted(draft.case)  # type: ignore[arg-type]
    now = timezone.now()
    if draft.expires_at <= now:
        raise DraftExpired("this application has expired")
    ready = programs.loaded(draft.version.files, draft.version.content_hash)
    draft.data = ready.pages.clean(data)
    # A file whose question was answered again, removed or hidden is not kept.
    kept = _upload_references(draft.data)
    for upload in Upload.objects.filter(draft=draft, case__isnull=True).exclude(public_id__in=kept):
        uploads.discard(upload)
    draft.page = page
    if reviewed is not None:
        draft.reviewed = reviewed
    if done and page not in draft.pages_done:
        draft.pages_done = [*draft.pages_done, page]
    draft.updated_at = now
    draft.expires_at = now + _draft_lifetime(draft.version)
    draft.save(update_fields=["data", "page", "reviewed", "pages_done", "updated_at", "expires_at"])
    return draft


def draft_submit(*, draft_id: int, user: Actor, language: str = "en") -> Case:
    """Turn a draft into a case, exactly once.

    The draft row is locked, so two submits racing (a double click, a second tab) queue up
    and the second finds the case the first made: ``AlreadySubmitted`` carries it.
    """
    with transaction.atomic():
        # The lock is taken on the draft row alone, then everything is read afresh under it.
        Draft.objects.select_for_update().filter(pk=draft_id).values_list("pk", flat=True).get()
        draft = Draft.objects.select_related("program", "case").get(pk=draft_id)
        if draft.case is not None:
            raise AlreadySubmitted(draft.case)
        if draft.expires_at <= timezone.now():
            raise DraftExpired("this application has expired")
        case = case_submit(
            program=draft.program,
            data=draft.data,
            user=draft.assisted_by or user,
            channel=draft.channel,
            on_behalf_of=draft.on_behalf_of,
            language=language,
            idempotency_key=f"draft:{draft.public_id}",
        )
        draft.case = case
        draft.submitted_at = case.submitted_at
        draft.save(update_fields=["case", "submitted_at"])
        references = _upload_references(case.data)
        Upload.objects.filter(draft=draft, public_id__in=references).update(case=case)
    return case


def _upload_references(data: Any) -> set[str]:
    """Every text in the answers that looks like an upload reference (a UUID)."""
    found: set[str] = set()
    if isinstance(data, dict):
        for value in data.values():
            found |= _upload_references(value)
    elif isinstance(data, list):
        for value in data:
            found |= _upload_references(value)
    elif isinstance(data, str) and len(data) == 36 and data.count("-") == 4:
        found.add(data)
    return found


def draft_resume_link(*, draft: Draft, email: str) -> str:
    """A new secret resume token for the draft (only its hash is stored), to be e-mailed.

    A new link replaces the old one, so a forwarded or leaked link stops working.
    """
    token = secrets.token_urlsafe(32)
    draft.resume_token_hash = _token_hash(token)
    draft.email = email
    draft.save(update_fields=["resume_token_hash", "email"])
    return token


def draft_by_resume_token(token: str) -> Draft:
    """The draft a resume link names; ``Draft.DoesNotExist`` for a wrong or replaced link."""
    if not token or len(token) > 100:
        raise Draft.DoesNotExist
    return Draft.objects.select_related("program", "version", "case").get(resume_token_hash=_token_hash(token))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def drafts_expire(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete unsubmitted drafts past their expiry, with their uploaded files. Returns how many."""
    cutoff = now or timezone.now()
    expired = Draft.objects.filter(case__isnull=True, expires_at__lte=cutoff)
    count = expired.count()
    if dry_run:
        return count
    for upload in Upload.objects.filter(draft__in=expired, case__isnull=True):
        uploads.discard(upload)
    expired.delete()
    return count


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
    faults.checkpoint(faults.SERVICE_AFTER_STEP)
    case.state = state.to_json()
    _apply(case, effects, actor=staff, now=now)
    faults.checkpoint(faults.SERVICE_BEFORE_COMMIT)
    task.refresh_from_db()


def _lock_task(task_id: int, user: Actor) -> tuple[Task, User]:
    """Lock the task's case row, then read the task as it is now; it must be open, the user must hold its role."""
    return _lock_case_of_task(task_id, user, doing="act on this task", must_be_open=True)


def _lock_case_of_task(task_id: int, user: Actor, *, doing: str, must_be_open: bool = False) -> tuple[Task, User]:
    """Lock the case row of a task, then read the task as it is now and check the user's role."""
    case_id = Task.objects.filter(pk=task_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise Task.DoesNotExist(task_id)
    Case.objects.select_for_update().filter(pk=case_id).get()
    task = Task.objects.select_related("case", "case__version").get(pk=task_id)
    if must_be_open and task.status != Task.Status.OPEN:
        raise Conflict("this task has already been completed")
    # Roles are re-read now: a role revoked since the page was drawn no longer counts.
    if isinstance(user, AnonymousUser) or task.role not in roles_of(user):
        raise NotAllowed(f"only a {task.role.replace('_', ' ')} can {doing}")
    return task, user


# ------------------------------------------------------------------ notes

NOTE_MAX_CHARS = 10_000


def case_add_note(*, task_id: int, user: Actor, text: str) -> Note:
    """An internal note on the task's case, by staff who hold the task's role (open or done).

    The note and its history event are written together under the case lock; the applicant
    never sees either.
    """
    words = text.strip()
    if not words:
        raise ServiceError("write the note before adding it")
    if len(words) > NOTE_MAX_CHARS:
        raise ServiceError(f"a note can be at most {NOTE_MAX_CHARS:,} characters; this one has {len(words):,}")
    with transaction.atomic():
        task, staff = _lock_case_of_task(task_id, user, doing="add notes to this case")
        now = timezone.now()
        note = Note.objects.create(case=task.case, author=staff, text=words, written_at=now)
        audit.record(case=task.case, at=now, kind="note_added", actor=staff, detail={"note": note.pk})
    return note


# ------------------------------------------------------------------ timers


def timers_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending timers whose time has come, earliest first (not locked: see ``timer_fire``)."""
    cutoff = now or timezone.now()
    due = Timer.objects.filter(status=Timer.Status.PENDING, due_at__lte=cutoff).order_by("due_at", "pk")
    return list(due.values_list("pk", flat=True)[:limit])


def timer_fire(*, timer_id: int, now: datetime | None = None) -> bool:
    """Fire one timer, exactly once: True if this call fired it.

    The case row is locked first, as every other service does (so a worker and a caseworker
    never wait on each other in opposite orders); then the timer is re-read. A timer another
    worker fired, or that a completed task cancelled meanwhile, is left alone.
    """
    with transaction.atomic():
        case_id = Timer.objects.filter(pk=timer_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return False
        case = Case.objects.select_for_update().select_related("version").get(pk=case_id)
        timer = Timer.objects.get(pk=timer_id)
        moment = now or timezone.now()
        if timer.status != Timer.Status.PENDING or timer.due_at > moment:
            return False
        definition = programs.stored_definition(case.version.files, case.version.content_hash)
        state, effects = engine.step(
            definition, engine.CaseState.from_json(case.state), engine.TimerFired(timer.timer), moment
        )
        timer.status = Timer.Status.FIRED
        timer.fired_at = moment
        timer.save(update_fields=["status", "fired_at"])
        case.state = state.to_json()
        _apply(case, effects, actor=None, now=moment)
    return True


def timers_run_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fire every due timer (up to ``limit``); returns how many this call fired."""
    return sum(timer_fire(timer_id=timer_id, now=now) for timer_id in timers_due(now=now, limit=limit))


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
                audit.record(case=case, at=now, kind=kind, actor=actor, detail=_jsonable(detail))
            case engine.StartTimer(timer=number, at=due_at, purpose=purpose):
                Timer.objects.create(case=case, timer=number, purpose=purpose, due_at=due_at)
                audit.record(case=case, at=now, kind="start_timer", actor=actor, detail=_jsonable(vars(effect)))
            case engine.CancelTimer(timer=number):
                Timer.objects.filter(case=case, timer=number, status=Timer.Status.PENDING).update(
                    status=Timer.Status.CANCELLED
                )
                audit.record(case=case, at=now, kind="cancel_timer", actor=actor, detail=_jsonable(vars(effect)))
            case engine.SendNotice() | engine.CallWebhook():
                audit.record(case=case, at=now, kind=_effect_kind(effect), actor=actor, detail=_jsonable(vars(effect)))
            case engine.SetPriority(priority=priority):
                case.priority = priority  # escalations raise it; the inbox shows urgent cases first
                audit.record(case=case, at=now, kind="set_priority", actor=actor, detail={"priority": priority})
            case engine.SetCaseStatus() | engine.SuspendTask():
                audit.record(case=case, at=now, kind=_effect_kind(effect), actor=actor, detail=_jsonable(vars(effect)))
    case.deadline_at = None if case.status == Case.Status.CLOSED else statutory_deadline(case.state)
    case.save()


def statutory_deadline(state: dict[str, Any]) -> datetime | None:
    """The soonest deadline among the case's running statutory clocks.

    The engine writes each clock's deadline into ``data.deadlines`` whenever it (re)schedules
    the clock; a paused clock (waiting for the citizen) or a stopped one has no deadline now.
    """
    deadlines = (state.get("data") or {}).get("deadlines") or {}
    running = [
        datetime.fromisoformat(deadlines[name])
        for name, clock in (state.get("clocks") or {}).items()
        if name in deadlines and not clock.get("paused_since") and not clock.get("stopped_at")
    ]
    return min(running, default=None)


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
