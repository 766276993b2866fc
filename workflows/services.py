"""Every write goes through here: one command, one transaction.

Each service locks the case row, re-checks the actor's permission and the task's
state *now* (not when the page was drawn), runs ``engine.step`` in memory, and
writes the new state, tasks and history before the transaction commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone

import engine
import forms
from engine.model import RequestStep
from forms.errors import pointer_from
from forms.ui import schema_at
from workflows import applicants, audit, citizens, faults, notices, outbox, privacy, programs, roles, uploads, webhooks
from workflows.models import (
    AccessLog,
    ApiToken,
    Case,
    DefinitionVersion,
    Draft,
    Note,
    Notice,
    Outbox,
    Program,
    ReferenceCounter,
    RoleGrant,
    Submission,
    Task,
    Timer,
    Upload,
)
from workflows.roles import ALL_AGENCIES, Actor, holds

log = logging.getLogger(__name__)


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


def definition_publish(
    *, files: dict[str, str], folder: str, published_by: str = "", replaces: str | None = None
) -> PublishResult:
    """Store a program's files as an immutable version and make it the current one.

    Refused with ``engine.DefinitionError`` (carrying every problem) when the
    checker finds any. Publishing the same files again changes nothing (and keeps who
    published them first). With ``replaces`` (the content hash of the version the designer
    checked against; ``""`` for a program not published yet), ``Conflict`` when the program's
    current version is another one by now: someone published in between.
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
        if replaces is not None:
            current_hash = program.current_version.content_hash if program.current_version else ""
            if current_hash != replaces:
                raise Conflict(
                    f"the current version of {info.id} is {current_hash[:12] or 'none'}, not "
                    f"{replaces[:12] or 'none'}: someone published meanwhile; check against it again"
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


# ------------------------------------------------------------------ people and API tokens

API_TOKEN_PREFIX = "cfk_"  # noqa: S105 - a public marker, not a secret
"""Starts every API token, so a leaked one is easy to recognise (and to search for in logs)."""


AGENCY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
"""An agency as program.yaml names it (``agency: city-library``); ``*`` stands for every agency."""


def staff_user_save(
    *, username: str, email: str, roles: Sequence[str], agency: str = "", queue: str = ""
) -> tuple[User, bool]:
    """Create a staff account, or update the one with this user name: e-mail and roles set as given.

    Roles are grants (``workflows.roles``) for ``agency`` (``*``: every agency) and ``queue``
    (blank: every queue): the account's grants for that agency and queue become exactly
    ``roles``; its grants elsewhere stay. Without an agency and without roles the account is
    left with no role at all. A new account gets no usable password: people sign in after an
    administrator sets one, and a system uses an API token. ``ServiceError`` for a blank name,
    an invalid e-mail address, roles without an agency or a malformed agency or queue.
    """
    name = username.strip()
    if not name:
        raise ServiceError("give a user name")
    if len(name) > User._meta.get_field("username").max_length:  # type: ignore[operator]
        raise ServiceError("a user name can be at most 150 characters")
    try:
        User.username_validator(name)
    except ValidationError:
        raise ServiceError(f"{name!r} is not a valid user name: use letters, digits and @ . + - _ only") from None
    address = email.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ServiceError(f"{address!r} is not a valid e-mail address") from None
    wanted = sorted({role.strip() for role in roles if role.strip()})
    where = agency.strip()
    line = queue.strip()
    if wanted and not where:
        raise ServiceError("say which agency the roles are for (an agency slug such as city-library, or * for all)")
    if where and where != ALL_AGENCIES and not AGENCY_PATTERN.fullmatch(where):
        raise ServiceError(f"{where!r} is not an agency: write it as in program.yaml (city-library), or * for all")
    if line and not where:
        raise ServiceError("a queue belongs to an agency: give the agency too")
    if len(line) > 100:
        raise ServiceError("a queue name can be at most 100 characters")
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(username=name)
        if not created and citizens.is_citizen(user):
            raise NotAllowed(
                f"{name} is a citizen's account: citizens cannot be staff or hold staff roles, so a "
                "citizen's password never opens staff work. Choose another user name for the staff account"
            )
        if created:
            user.set_unusable_password()
        user.email = address
        user.is_staff = True
        user.is_active = True
        user.save()
        if where:
            RoleGrant.objects.filter(user=user, agency=where, queue=line).exclude(role__in=wanted).delete()
            for role in wanted:
                RoleGrant.objects.get_or_create(user=user, role=role, agency=where, queue=line)
        else:
            RoleGrant.objects.filter(user=user).delete()
    return user, created


def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``user``: the row (holding only the secret's hash) and the secret, to show once."""
    label = name.strip() or "api"
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=label[:100], token_hash=_token_hash(secret), created_at=timezone.now()
    )
    return token, secret


def api_token_revoke(*, token_id: int) -> None:
    """Revoke a token: it is refused from now on (revoking twice keeps the first time)."""
    api_tokens_revoke(token_ids=[token_id])


def api_tokens_revoke(*, token_ids: Iterable[int] | None = None, user: User | None = None, name: str = "") -> int:
    """Revoke the live tokens chosen by id, by account, and by name (each given narrows); how many were revoked.

    Revoked tokens are kept, so the history of what they did still names them; revoking one
    twice keeps the first time. Choosing nothing revokes nothing.
    """
    if token_ids is None and user is None:
        return 0
    live = ApiToken.objects.filter(revoked_at__isnull=True)
    if token_ids is not None:
        live = live.filter(pk__in=list(token_ids))
    if user is not None:
        live = live.filter(user=user)
    if name:
        live = live.filter(name=name)
    return live.update(revoked_at=timezone.now())


API_TOKEN_TOUCH_SECONDS = 60
"""``last_used_at`` is written at most this often per token: one write per request would
make every API call a database write, and nobody needs it to the second."""


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Note that the token was used, unless that was noted less than a minute ago."""
    moment = now or timezone.now()
    if token.last_used_at is not None and moment - token.last_used_at < timedelta(seconds=API_TOKEN_TOUCH_SECONDS):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
    token.last_used_at = moment


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
    ready = programs.ready(version)
    definition = ready.definition
    # A partner system submits through the API in its own name: only counter, phone and paper are on someone's behalf.
    assisted = channel in (Case.Channel.COUNTER, Case.Channel.PHONE, Case.Channel.PAPER)
    _may_apply_on(program, definition.program, channel, user, assisted=assisted)
    data = ready.pages.clean(data)
    key = idempotency_key or None
    if key is not None:
        earlier = _submitted_with(program, key, data)
        if earlier is not None:
            return earlier
    # The schema's rules, then the form's checks between answers: the same on every channel.
    errors = ready.pages.errors(data, language)
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


def _may_apply_on(program: Program, info: engine.Program, channel: str, user: Actor, *, assisted: bool) -> None:
    """The program takes applications on ``channel``, and only its staff apply on someone's behalf."""
    if channel not in info.channels:
        raise NotAllowed(f"this program does not take applications {Case.Channel(channel).label.lower()}")
    if assisted and not any(holds(user, role, agency=program.agency) for role in info.roles):
        raise NotAllowed("only the program's staff can apply on someone's behalf")


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
        faults.checkpoint(faults.SERVICE_AFTER_STEP)
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
        # The submission's unique key decides a race between two requests with one key: the
        # second waits for the first to commit, then fails here and its whole transaction
        # (case and reference number included) is rolled back; ``case_submit`` returns the first.
        Submission.objects.create(
            program=program,
            case=case,
            idempotency_key=key,
            data=data,
            channel=channel,
            submitted_by=actor,
            on_behalf_of=on_behalf_of,
            received_at=now,
        )
        # Whether it was made for someone else, not their name: the history outlives the purge.
        detail = {"channel": channel, **({"on_behalf_of_someone": True} if on_behalf_of else {})}
        history = audit.History()
        history.add(case=case, at=now, kind="submitted", actor=actor, detail=detail)
        _apply(case, effects, actor=actor, now=now, history=history, occurred=[webhooks.SUBMITTED])
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
    info = programs.definition_of(version).program
    assisted = channel != Case.Channel.ONLINE
    _may_apply_on(program, info, channel, user, assisted=assisted)
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
    definition = programs.definition_of(version)
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
    ready = programs.ready(draft.version)
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
    # UPDATE … RETURNING takes the row lock and reads the new number in one statement, so
    # concurrent submissions get distinct numbers; the year's first submission makes the row.
    number = _take_number(program, year)
    if number is None:
        ReferenceCounter.objects.get_or_create(program=program, year=year)
        number = _take_number(program, year) or 0  # the row exists now, so there is a number
    return f"{program.reference_prefix}-{year}-{number:06d}"


def _take_number(program: Program, year: int) -> int | None:
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + 1 "  # noqa: S608 - the table name is ours
            "WHERE program_id = %s AND year = %s RETURNING last_number",
            [program.pk, year],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


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


def task_complete(
    *, task_id: int, user: Actor, outcome: str, data: dict[str, Any] | None = None, language: str = "en"
) -> Task:
    """Record the assignee's decision, with what the step's ``form`` asks, and move the case on.

    The answers must fit the step's form (every problem at once, ``InvalidSubmission``); a step
    without a form takes no answers.
    """
    answers = dict(data or {})
    with transaction.atomic():
        task, staff = _lock_task(task_id, user)
        if task.assignee_id != staff.pk:
            raise NotAllowed("assign this task to yourself before deciding it")
        form = applicants.task_form(task.case.version, task.step)
        if form is not None:
            errors = form.form.errors(answers, language)
            if errors:
                raise InvalidSubmission(errors)
        elif answers:
            raise ServiceError("this task records no answers: its step has no form")
        event = engine.TaskCompleted(token=task.token, outcome=outcome, actor=staff.get_username(), data=answers)
        _step(task, staff, event)
    return task


def _step(task: Task, staff: User, event: engine.Event) -> None:
    """Run one engine step for the task's (locked) case and write what it decided."""
    case = task.case
    version = case.version
    definition = programs.definition_of(version)
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
    # One statement finds the task's case and locks its row, by id only (the row is read below,
    # with the task; a task never moves to another case). The version's files are read only
    # when the version is not cached yet (``programs.ready``).
    case_of_task = Task.objects.filter(pk=task_id).values("case_id")[:1]
    locked = Case.objects.select_for_update().filter(pk=Subquery(case_of_task)).values_list("pk", flat=True).first()
    if locked is None:
        raise Task.DoesNotExist(task_id)
    task = (
        Task.objects.select_related("case", "case__version", "case__program")
        .defer("case__version__files")
        .get(pk=task_id)
    )
    agency = task.case.program.agency
    # Staff of another agency are told the task does not exist, as the selectors tell them.
    if user.is_authenticated and not roles.works_for(user, agency):
        raise Task.DoesNotExist(task_id)
    if must_be_open and task.status != Task.Status.OPEN:
        raise Conflict("this task has already been completed")
    # Grants are re-read now: a role revoked since the page was drawn no longer counts.
    if isinstance(user, AnonymousUser) or not holds(user, task.role, agency=agency, queue=task.queue):
        where = f" of the {task.queue} queue" if task.queue else ""
        raise NotAllowed(f"only a {task.role.replace('_', ' ')}{where} can {doing}")
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
        if task.case.purged_at is not None:
            raise Conflict("this case's personal data was removed by the retention rules; nothing can be added")
        now = timezone.now()
        note = Note.objects.create(case=task.case, author=staff, text=words, written_at=now)
        audit.record(case=task.case, at=now, kind="note_added", actor=staff, detail={"note": note.pk})
    return note


# ------------------------------------------------------------------ case actions

REASON_MAX_CHARS = 2_000
DOCUMENT_DESCRIPTION_MAX_CHARS = 200  # the width of Upload.description


class DocumentRefused(ServiceError):
    """A file was not kept (empty, too large, a type that is not allowed, a virus): ``code`` says which."""

    def __init__(self, refusal: uploads.UploadRefused) -> None:
        self.refusal = refusal
        super().__init__(refusal.message)
        self.code = refusal.code


def task_reassign(*, task_id: int, user: Actor, to_username: str) -> Task:
    """Give an open task to another active holder of its role (reallocation).

    Anyone holding the task's role may do it, whether the task is theirs, someone else's or
    nobody's. The new assignee must be active, hold the role, and not be kept off the step by
    separation of duties (the engine decides that, from who did which step).
    """
    with transaction.atomic():
        task, staff = _lock_open_task(task_id, user, doing="reassign this task")
        person = _role_holder(task, to_username)
        if task.assignee_id == person.pk:
            raise Conflict(f"the task is already assigned to {person.get_username()}")
        event = engine.TaskReassigned(token=task.token, to=person.get_username(), actor=staff.get_username())
        _step(task, staff, event)
    return task


def task_delegate(*, task_id: int, user: Actor, to_username: str) -> Task:
    """The assignee hands their task to another holder of its role; the task remembers who delegated it.

    The person it is delegated to decides it (the decision is final, as any other); releasing it
    or reassigning it clears the delegation.
    """
    with transaction.atomic():
        task, staff = _lock_open_task(task_id, user, doing="delegate this task")
        if task.assignee_id != staff.pk:
            raise NotAllowed("only the person this task is assigned to can delegate it; assign it to yourself first")
        person = _role_holder(task, to_username)
        if person.pk == staff.pk:
            raise ServiceError("the task is already yours: choose a colleague to delegate it to")
        event = engine.TaskDelegated(token=task.token, to=person.get_username(), actor=staff.get_username())
        _step(task, staff, event)
    return task


def case_withdraw(*, case_id: int, user: applicants.Applicant, reason: str = "") -> Case:
    """Withdraw an application: by the applicant, or by the program's staff on their behalf.

    Staff must say why (the applicant asked by phone, by letter...): the reason is kept with the
    withdrawal in the case history. Everything still open on the case is cancelled.
    """
    words = _reason_text(reason)
    with transaction.atomic():
        case = _lock_case(case_id)
        detail: dict[str, Any] = {"reason": words} if words else {}
        actor: User | None
        if applicants.is_applicant(case, user):
            actor = user if isinstance(user, User) else None
        elif isinstance(user, User) and _holds_program_role(case, user):
            if not words:
                raise ServiceError("say why the applicant asked to withdraw; the reason is kept in the case history")
            actor = user
            detail["on_behalf_of_applicant"] = True
        else:
            raise NotAllowed(
                "only the applicant, or the program's staff on their behalf, can withdraw this application"
            )
        _still_running(case)
        name = actor.get_username() if actor is not None else "applicant"
        _step_case(case, actor, engine.Withdrawn(actor=name), annotate={"case_withdrawn": detail})
    return case


def case_cancel(*, case_id: int, user: Actor, reason: str) -> Case:
    """End a case as ``cancelled`` (a duplicate, an application made in error...), by the program's staff.

    The reason is required and kept in the case history; everything still open is cancelled.
    """
    words = _reason_text(reason)
    with transaction.atomic():
        case = _lock_case(case_id)
        if not (isinstance(user, User) and _holds_program_role(case, user)):
            raise NotAllowed("only the program's staff can cancel a case")
        if not words:
            raise ServiceError("say why the case is cancelled; the reason is kept in the case history")
        _still_running(case)
        _step_case(case, user, engine.CaseCancelled(actor=user.get_username(), reason=words))
    return case


EVENT_DATA_MAX_BYTES = 64 * 1024
"""An event's data is a few facts (an amount, a receipt number), never a document."""


def case_send_event(*, case_id: int, user: Actor, name: str, data: Mapping[str, Any] | None = None) -> Case:
    """Post a named event to a case waiting for it: a payment confirmed, a hearing held.

    Allowed to the roles the workflow's ``events`` names in ``sent by`` (any role of the program
    when it names none, or does not declare the event). The data must fit the event's ``form``;
    an event without a form carries no data. A case not waiting for the event refuses it
    (``Conflict``), so a payment confirmed twice moves the case once.
    """
    payload = dict(data or {})
    with transaction.atomic():
        case = _lock_case(case_id)
        definition = programs.definition_of(case.version)
        spec = definition.events.get(name)
        senders = spec.sent_by if spec is not None and spec.sent_by else definition.program.roles
        staff = user if isinstance(user, User) else None
        if staff is None or not any(holds(staff, role, agency=definition.program.agency) for role in senders):
            raise NotAllowed(f"only {', '.join(senders)} may post the event {name!r} to this case")
        _still_running(case)
        if len(json.dumps(payload, ensure_ascii=False).encode()) > EVENT_DATA_MAX_BYTES:
            raise ServiceError(f"an event's data can be at most {EVENT_DATA_MAX_BYTES // 1024} KB")
        if spec is not None and spec.form:
            schema = json.loads(definition.files[spec.form])
            errors = forms.validate(schema, payload)
            if errors:
                raise InvalidSubmission(errors)
        elif payload:
            raise ServiceError(f"the event {name!r} carries no data: its workflow declares no form for it")
        by = {"event_received": {"by": staff.get_username()}}
        _step_case(case, staff, engine.EventReceived(name, payload), annotate=by)
    return case


def case_add_document(*, task_id: int, user: Actor, file: UploadedFile[Any] | None, description: str = "") -> Upload:
    """A file staff add to the task's case (a letter, a scanned paper proof), open task or done.

    The file goes through the same checks as the applicant's (sniffed type, size limit, virus
    scan) and is stored privately; the caseworkers of the program see it beside the applicant's
    files. It is checked and stored before the case is locked (scanning takes time), and removed
    again if the row cannot be written.
    """
    words = description.strip()
    if len(words) > DOCUMENT_DESCRIPTION_MAX_CHARS:
        raise ServiceError(
            f"a description can be at most {DOCUMENT_DESCRIPTION_MAX_CHARS} characters; this one has {len(words):,}"
        )
    if file is None:
        raise ServiceError("choose the file to add")
    # A quick refusal before the file is read; the role is checked again under the lock.
    found = Task.objects.filter(pk=task_id).values_list("role", "queue", "case__program__agency").first()
    if found is None:
        raise Task.DoesNotExist(task_id)
    role, queue, agency = found
    if user.is_authenticated and not roles.works_for(user, agency):
        raise Task.DoesNotExist(task_id)
    if not holds(user, role, agency=agency, queue=queue):
        raise NotAllowed(f"only a {role.replace('_', ' ')} can add documents to this case")
    try:
        kept = uploads.keep(file, rules=uploads.staff_rules(), where=f"task {task_id}, staff document")
    except uploads.UploadRefused as refusal:
        raise DocumentRefused(refusal) from None
    try:
        with transaction.atomic():
            task, staff = _lock_case_of_task(task_id, user, doing="add documents to this case")
            case = task.case
            if case.purged_at is not None:
                raise Conflict("this case's personal data was removed by the retention rules; nothing can be added")
            upload = Upload.objects.create(case=case, field="", added_by=staff, description=words, **kept.row())
            detail = {
                "upload": str(upload.public_id),
                "content_type": upload.content_type,
                "size": upload.size,
                "sha256": upload.sha256,
                **({"description": words} if words else {}),
            }
            audit.record(case=case, at=upload.uploaded_at, kind="document_added", actor=staff, detail=detail)
    except BaseException:
        uploads.forget(kept)
        raise
    return upload


def citizen_respond(
    *,
    case_id: int,
    user: applicants.Applicant,
    token: int,
    data: Mapping[str, Any],
    files: Mapping[str, Sequence[UploadedFile[Any]]] | None = None,
    language: str = "en",
) -> Case:
    """The applicant's answer to a request for information; the case then goes on.

    The answers are validated against the request's answer form, every problem at once
    (``InvalidSubmission``). Files are checked and stored first, outside the lock, and removed
    again if the answer is refused; an upload reference typed into the answers is never taken.
    A request that was answered already, ran out of time, or whose case closed is refused
    (``Conflict``), and so is anyone but the applicant (``NotAllowed``).
    """
    case = Case.objects.select_related("version").get(pk=case_id)
    request = _request_of(case, user, token)  # a quick refusal before any file is read
    form = applicants.answer_form(case.version, request.step)
    kept: list[tuple[uploads.KeptFile, uuid.UUID, str]] = []
    try:
        answers = _answers(form, request.step, data, files or {}, kept, case.reference, language)
        with transaction.atomic():
            case = _lock_case(case_id)
            request = _request_of(case, user, token)
            for stored, public_id, field in kept:
                Upload.objects.create(
                    public_id=public_id, case=case, field=f"{request.step.name}.{field}", **stored.row()
                )
            actor = user if isinstance(user, User) else None
            _step_case(case, actor, engine.CitizenResponded(token=token, data=answers))
    except BaseException:
        for stored, _public_id, _field in kept:
            uploads.forget(stored)
        raise
    return case


def _answers(
    form: applicants.AnswerForm | None,
    step: RequestStep,
    data: Mapping[str, Any],
    files: Mapping[str, Sequence[UploadedFile[Any]]],
    kept: list[tuple[uploads.KeptFile, uuid.UUID, str]],
    reference: str,
    language: str,
) -> dict[str, Any]:
    """The answers with each posted file stored and referenced; ``InvalidSubmission`` with every problem."""
    if form is None:
        return {}  # nothing to fill in: sending the answer says "done"
    answers = {name: value for name, value in data.items() if name not in form.file_fields}
    errors: list[forms.FieldError] = []
    refused: set[str] = set()
    for field in form.file_fields:
        posted = list(files.get(field, ()))
        rules = form.file_rules(field)
        pointer = pointer_from([field])
        refs: list[str] = []
        if len(posted) > rules.max_files:
            errors.append(
                applicants.upload_error(pointer, uploads.UploadRefused.too_many_files(rules.max_files), language)
            )
            refused.add(pointer)
            continue
        for file in posted:
            try:
                stored = uploads.keep(file, rules=rules, where=f"case {reference}, request {step.name}, field {field}")
            except uploads.UploadRefused as refusal:
                errors.append(applicants.upload_error(pointer, refusal, language))
                refused.add(pointer)
                continue
            public_id = uuid.uuid4()
            kept.append((stored, public_id, field))
            refs.append(str(public_id))
        if refs:
            many = (schema_at(form.form.schema, field) or {}).get("type") == "array"
            answers[field] = refs if many else refs[0]
    errors.extend(error for error in form.form.errors(answers, language) if error.pointer not in refused)
    if errors:
        raise InvalidSubmission(errors)
    return answers


def _request_of(case: Case, user: applicants.Applicant, token: int) -> applicants.OpenRequest:
    if not applicants.is_applicant(case, user):
        raise NotAllowed("only the applicant can answer this request")
    if case.status != Case.Status.RUNNING:
        raise Conflict("this application is closed, so the request can no longer be answered")
    request = applicants.open_request(case, token)
    if request is None:
        raise Conflict("this request is no longer open: it was answered already, or the time to answer it ran out")
    return request


def _lock_case(case_id: int) -> Case:
    """Lock the case row, then read it as it is now (``Case.DoesNotExist`` if there is none)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("version", "program")
        .defer("version__files")  # read only if the version is not cached (``programs.ready``)
        .get(pk=case_id)
    )


def _lock_open_task(task_id: int, user: Actor, *, doing: str) -> tuple[Task, User]:
    """Lock the task's case, check the user holds the task's role, then that the task is still open."""
    task, staff = _lock_case_of_task(task_id, user, doing=doing)
    _still_running(task.case)
    if task.status != Task.Status.OPEN:
        raise Conflict(
            "this task has already been decided" if task.status == Task.Status.COMPLETED else "this task was cancelled"
        )
    return task, staff


def _still_running(case: Case) -> None:
    if case.status != Case.Status.RUNNING:
        outcome = case.outcome.replace("_", " ") or "closed"
        raise Conflict(f"this case is already closed ({outcome}), so it cannot change any more")


def _role_holder(task: Task, username: str) -> User:
    """The active user named ``username`` who holds the task's role, or a refusal saying what is wrong."""
    name = username.strip()
    if not name:
        raise ServiceError("choose the person to give the task to")
    if len(name) > 150:
        raise ServiceError("a user name has at most 150 characters")
    person = User.objects.filter(username=name, is_active=True).first()
    if person is None:
        raise ServiceError(f"there is no active user named {name!r}")
    if not holds(person, task.role, agency=task.case.program.agency, queue=task.queue):
        where = f" of the {task.queue} queue" if task.queue else ""
        raise ServiceError(
            f"{name} is not a {task.role.replace('_', ' ')}{where} for {task.case.program.agency}, "
            "so cannot be given this task"
        )
    return person


def _holds_program_role(case: Case, user: User) -> bool:
    definition = programs.definition_of(case.version)
    return any(holds(user, role, agency=definition.program.agency) for role in definition.program.roles)


def _reason_text(reason: str) -> str:
    words = reason.strip()
    if len(words) > REASON_MAX_CHARS:
        raise ServiceError(f"a reason can be at most {REASON_MAX_CHARS:,} characters; this one has {len(words):,}")
    return words


def _step_case(
    case: Case,
    actor: User | None,
    event: engine.Event,
    *,
    annotate: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Run one engine step on the (locked) case and write what it decided.

    ``annotate`` adds details to the history events the engine records, by kind: what the
    engine's event does not carry (why a withdrawal was asked for on the applicant's behalf).
    """
    definition = programs.definition_of(case.version)
    now = timezone.now()
    try:
        state, effects = engine.step(definition, engine.CaseState.from_json(case.state), event, now)
    except (engine.SeparationOfDuties, engine.RetainFamiliar, engine.NotAssignee) as error:
        raise NotAllowed(str(error)) from None
    except engine.EngineError as error:
        raise Conflict(str(error)) from None
    if annotate:
        effects = [
            replace(effect, detail={**effect.detail, **annotate[effect.kind]})
            if isinstance(effect, engine.RecordAudit) and effect.kind in annotate
            else effect
            for effect in effects
        ]
    faults.checkpoint(faults.SERVICE_AFTER_STEP)
    case.state = state.to_json()
    _apply(case, effects, actor=actor, now=now)
    faults.checkpoint(faults.SERVICE_BEFORE_COMMIT)


# ------------------------------------------------------------------ timers


def timers_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending timers whose time has come, earliest first (not locked: ``timer_fire`` claims each).

    A timer waiting to be tried again after a failure is due once its ``retry_at`` has passed.
    """
    cutoff = now or timezone.now()
    due = Timer.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=cutoff), status=Timer.Status.PENDING, due_at__lte=cutoff
    ).order_by("due_at", "pk")
    return list(due.values_list("pk", flat=True)[:limit])


def timer_max_attempts() -> int:
    return int(getattr(settings, "CIVICFLOW_TIMER_MAX_ATTEMPTS", 8))


def timer_fire(*, timer_id: int, now: datetime | None = None) -> bool:
    """Fire one timer, exactly once: True if this call fired it.

    When firing fails (an error in the transition, not the database going away), the failure
    is counted in its own transaction and the error raised again: the timer is tried again
    after a growing wait (30 s, 1 min, 2 min, … as the outbox), and after
    ``CIVICFLOW_TIMER_MAX_ATTEMPTS`` failures it is marked failed, with a ``timer_failed``
    event in the case's history, for an administrator to look at and put back (the admin's
    Timers page). One broken timer never holds up the others.
    """
    moment = now or timezone.now()
    try:
        return _timer_fire(timer_id, moment)
    except (faults.InjectedFault, DatabaseError):
        raise  # a crash or a lost connection: the timer is simply still pending
    except Exception as error:
        _timer_failed(timer_id, error, moment)
        raise


def _timer_failed(timer_id: int, error: Exception, moment: datetime) -> None:
    with transaction.atomic():
        timer = Timer.objects.select_for_update().filter(pk=timer_id, status=Timer.Status.PENDING).first()
        if timer is None:
            return
        timer.attempts += 1
        timer.last_error = f"{type(error).__name__}: {error}"[:2000]
        if timer.attempts >= timer_max_attempts():
            timer.status = Timer.Status.FAILED
            timer.retry_at = None
            audit.record(
                case=timer.case,
                at=moment,
                kind="timer_failed",
                actor=None,
                detail={"timer": timer.timer, "purpose": timer.purpose, "attempts": timer.attempts},
            )
            log.error("timer %s (%s) gave up after %s attempts: %s", timer.pk, timer, timer.attempts, timer.last_error)
        else:
            timer.retry_at = moment + outbox.backoff(timer.attempts)
        timer.save(update_fields=["attempts", "last_error", "status", "retry_at"])


def timers_retry(timer_ids: list[int]) -> int:
    """Put failed timers back to be fired at the next sweep, their count of failures reset
    (the last error stays on show until the timer fires)."""
    return Timer.objects.filter(pk__in=timer_ids, status=Timer.Status.FAILED).update(
        status=Timer.Status.PENDING, attempts=0, retry_at=None
    )


def _timer_fire(timer_id: int, moment: datetime) -> bool:
    """Fire one timer, exactly once: True if this call fired it.

    The timer is claimed by locking its case's row with ``SKIP LOCKED``: the case row first,
    as every other service does, because a service holding a case lock may update that case's
    timer rows, so a worker holding a timer lock while waiting on the case could deadlock.
    When another transaction holds the case (a caseworker deciding, another worker firing one
    of its timers), the timer is left pending for the next sweep instead of waiting: False.
    Under the lock the timer is re-read; one another worker fired, or that a completed task
    cancelled meanwhile, is left alone. (SQLite has no row locks; its transactions take the
    database's write lock when they begin, so they run one at a time.)
    """
    with transaction.atomic():
        case_id = Timer.objects.filter(pk=timer_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return False
        # of=("self",): lock the case row only, not the version row joined to it, which every
        # case of the program shares.
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("version")
            .defer("version__files")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return False  # busy: the next sweep fires it
        timer = Timer.objects.get(pk=timer_id)
        if timer.status != Timer.Status.PENDING or timer.due_at > moment or (timer.retry_at or moment) > moment:
            return False
        definition = programs.definition_of(case.version)
        state, effects = engine.step(
            definition, engine.CaseState.from_json(case.state), engine.TimerFired(timer.timer), moment
        )
        timer.status = Timer.Status.FIRED
        timer.fired_at = moment
        timer.save(update_fields=["status", "fired_at"])
        case.state = state.to_json()
        _apply(case, effects, actor=None, now=moment)
        faults.checkpoint(faults.TIMER_BEFORE_COMMIT)
    return True


def timers_run_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fire every due timer (up to ``limit``), each in its own transaction; how many this call fired.

    A timer whose case is busy is skipped and stays due: a later call fires it. One that fails
    is logged and counted against it (``timer_fire``) and does not hold up the others.
    """
    fired = 0
    for timer_id in timers_due(now=now, limit=limit):
        try:
            fired += timer_fire(timer_id=timer_id, now=now)
        except Exception:  # rolled back; timer_fire counted the failure
            log.exception("timer %s could not fire; it is tried again later", timer_id)
    return fired


def _user_named(username: str | None, *, known: User | None = None) -> User | None:
    """The user with this name; ``known`` (usually the actor) saves a query when it is them."""
    if known is not None and username and known.get_username() == username:
        return known
    return User.objects.filter(username=username).first() if username else None


def _assignee_for(task: engine.OpenTask, *, agency: str) -> User | None:
    """Who gets a new task straight away: named by the definition, or picked by its strategy.

    ``least loaded`` picks the holder of the role with the fewest open tasks; ``round robin``
    the holder after the one who got this step last (by user name, wrapping around). People
    the engine excluded (separation of duties) are never picked; only holders of the role for
    the case's agency and the task's queue are candidates. Nobody suitable: the task waits in
    the queue.
    """
    if task.assign_to:
        return _user_named(task.assign_to)
    if task.assign is None:
        return None
    candidates = list(
        roles.holders_of(task.role, agency=agency, queue=task.queue or "").exclude(username__in=task.excluded)
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


def _apply(
    case: Case,
    effects: list[engine.Effect],
    *,
    actor: User | None,
    now: datetime,
    history: audit.History | None = None,
    occurred: Sequence[webhooks.Occurrence] = (),
) -> None:
    """Write what the engine decided. Runs inside the caller's transaction.

    The history events (``history``, after any the caller added) are appended in one go at
    the end.

    Notices are stored for the message centre and queued in the outbox (``workflows.notices``).
    The agency's webhooks (``workflows.webhooks``) for what happened (``occurred``, which the
    caller starts, e.g. with the submission, and tasks completed and the case closed here) are
    queued in the outbox too; a definition's own ``CallWebhook`` steps are recorded in the
    case history for now.
    """
    history = history if history is not None else audit.History()
    happened = list(occurred)
    for effect in effects:
        match effect:
            case engine.OpenTask(token=token, step=step, role=role, queue=queue, due_at=due_at):
                # No savepoint: a duplicate open task (the partial unique index) ends the whole
                # transition, which the caller's transaction rolls back.
                try:
                    Task.objects.create(
                        case=case,
                        token=token,
                        step=step,
                        role=role,
                        queue=queue or "",
                        due_at=due_at,
                        created_at=now,
                        assignee=_assignee_for(effect, agency=case.program.agency),
                    )
                except IntegrityError:
                    raise Conflict("this step already has an open task") from None
            case engine.AssignTask(token=token, assignee=assignee, actor=by, how=how):
                # The row follows the engine's token: a delegation records who handed the task
                # on; releasing or reassigning clears it; claiming leaves it as it was.
                changes: dict[str, Any] = {"assignee": _user_named(assignee, known=actor)}
                if how == "delegated":
                    changes["delegated_by"] = _user_named(by, known=actor)
                elif how in ("released", "reassigned"):
                    changes["delegated_by"] = None
                Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(**changes)
            case engine.CloseTask(token=token, outcome=outcome):
                Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(
                    status=Task.Status.COMPLETED, outcome=outcome, completed_at=now, completed_by=actor
                )
                happened.append(webhooks.task_completed(token))
            case engine.CancelTask(token=token):
                Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(
                    status=Task.Status.CANCELLED, outcome="cancelled", completed_at=now
                )
            case engine.CloseCase(outcome=outcome):
                case.status = Case.Status.CLOSED
                case.outcome = outcome
                case.closed_at = now
                happened.append(webhooks.CLOSED)
            case engine.RecordAudit(kind=kind, detail=detail):
                history.add(case=case, at=now, kind=kind, actor=actor, detail=_jsonable(detail))
            case engine.StartTimer(timer=number, at=due_at, purpose=purpose):
                Timer.objects.create(case=case, timer=number, purpose=purpose, due_at=due_at)
                history.add(case=case, at=now, kind="start_timer", actor=actor, detail=_jsonable(vars(effect)))
            case engine.CancelTimer(timer=number):
                Timer.objects.filter(case=case, timer=number, status=Timer.Status.PENDING).update(
                    status=Timer.Status.CANCELLED
                )
                history.add(case=case, at=now, kind="cancel_timer", actor=actor, detail=_jsonable(vars(effect)))
            case engine.SendNotice():
                notices.send(case, effect, now=now, actor=actor, history=history)  # adds send_notice to history
            case engine.CallWebhook():
                history.add(case=case, at=now, kind=_effect_kind(effect), actor=actor, detail=_jsonable(vars(effect)))
            case engine.SetPriority(priority=priority):
                case.priority = priority  # escalations raise it; the inbox shows urgent cases first
                history.add(case=case, at=now, kind="set_priority", actor=actor, detail={"priority": priority})
            case engine.SetCaseStatus() | engine.SuspendTask():
                history.add(case=case, at=now, kind=_effect_kind(effect), actor=actor, detail=_jsonable(vars(effect)))
    case.deadline_at = None if case.status == Case.Status.CLOSED else statutory_deadline(case.state)
    case.save()
    history.write()
    webhooks.emit(case, happened, now=now)  # one query when there are events, none otherwise


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


# ------------------------------------------------------------------ moving cases between versions


class MigrationRefused(ServiceError):
    """The case cannot move to the other version as it stands; ``problems`` says why (nothing changed)."""

    code = "migration_refused"

    def __init__(self, reference: str, problems: Sequence[engine.MigrationProblem]) -> None:
        self.problems = list(problems)
        errors = [problem for problem in problems if problem.severity == "error"]
        super().__init__(f"{reference} cannot move: " + "; ".join(str(problem) for problem in errors))


@dataclass(frozen=True)
class CaseMigration:
    """What moving one case found: its problems (errors and warnings), and whether it moved."""

    reference: str
    problems: tuple[engine.MigrationProblem, ...]
    moved: bool

    @property
    def errors(self) -> tuple[engine.MigrationProblem, ...]:
        return tuple(problem for problem in self.problems if problem.severity == "error")

    @property
    def warnings(self) -> tuple[engine.MigrationProblem, ...]:
        return tuple(problem for problem in self.problems if problem.severity != "error")


def case_migrate(
    *,
    case_id: int,
    target_version: DefinitionVersion,
    step_map: Mapping[str, str],
    actor: User | None = None,
    by: str = "",
    dry_run: bool = False,
) -> CaseMigration:
    """Move a running case to ``target_version`` of its program, renaming steps by ``step_map``.

    All or nothing: under the case's row lock the engine rewrites the state (``engine.migrate_state``);
    with any error the case is left exactly as it was and ``MigrationRefused`` carries every
    problem. Otherwise the case's state and version, the step names of its open tasks and one
    ``migrated`` history event (old and new hashes, the map, who) are written together. Answers
    that the new version's form would not accept are a warning: they were valid when submitted.

    ``dry_run`` rehearses: the same checks, nothing locked or written, the problems returned.
    """
    with transaction.atomic():
        case = Case.objects.select_related("version", "program").get(pk=case_id) if dry_run else _lock_case(case_id)
        problems = _migration_refusals(case, target_version)
        state = engine.CaseState.from_json(case.state)
        migrated = state
        if not problems:
            source = programs.definition_of(case.version)
            target = programs.definition_of(target_version)
            migrated, problems = engine.migrate_state(state, source, target, step_map)
            if not any(problem.severity == "error" for problem in problems):
                problems.extend(_answers_no_longer_valid(case, target_version))
        result = CaseMigration(case.reference, tuple(problems), moved=False)
        if dry_run:
            return result
        if result.errors:
            raise MigrationRefused(case.reference, problems)
        renamed = {
            before.id: after.step
            for before, after in zip(state.tokens, migrated.tokens, strict=True)
            if before.step != after.step
        }
        for token, step in renamed.items():
            Task.objects.filter(case=case, token=token, status=Task.Status.OPEN).update(step=step)
        old_hash = case.version.content_hash
        case.state = migrated.to_json()
        case.version = target_version
        case.save(update_fields=["state", "version"])
        detail: dict[str, Any] = {
            "from": old_hash,
            "to": target_version.content_hash,
            "steps": dict(step_map),
            **({"by": by} if by else {}),
            **({"warnings": [str(problem) for problem in result.warnings]} if result.warnings else {}),
        }
        audit.record(case=case, at=timezone.now(), kind="migrated", actor=actor, detail=detail)
    return replace(result, moved=True)


def _migration_refusals(case: Case, target_version: DefinitionVersion) -> list[engine.MigrationProblem]:
    """What the case's row alone says against moving it (the engine checks its state after)."""
    if target_version.program_id != case.program_id:
        return [engine.MigrationProblem("other_program", f"{target_version} is not a version of {case.program.slug}")]
    if case.status != Case.Status.RUNNING:
        return [engine.MigrationProblem("case_not_running", f"the case is {case.status}; only running cases move")]
    if case.version_id == target_version.pk:
        return [engine.MigrationProblem("same_version", f"the case already runs on {target_version}")]
    return []


def _answers_no_longer_valid(case: Case, target_version: DefinitionVersion) -> list[engine.MigrationProblem]:
    if case.purged_at is not None:
        return []  # the answers were removed by the retention rules: nothing to check
    form = programs.ready(target_version).form
    return [
        engine.MigrationProblem(
            "answers_invalid",
            f"the answer at {error.pointer or '/'} would not be accepted by the new version's form: {error.message}",
            "warning",
        )
        for error in form.validate(case.data)
    ]


# ------------------------------------------------------------------ privacy: the access log, reveals, the purge

REVEAL_PATH_MAX_CHARS = 300


def access_record(*, user: Actor, case: Case, action: str, detail: dict[str, Any] | None = None) -> AccessLog:
    """One access-log row: ``user`` opened the case (``viewed``) or one of its files (``downloaded``).

    A single INSERT, outside any case lock: reading a case never waits on one.
    """
    if not isinstance(user, User):
        raise NotAllowed("sign in to open cases")
    if action not in privacy.ACTIONS:
        raise ValueError(f"unknown access-log action {action!r}")
    return AccessLog.objects.create(at=timezone.now(), user=user, case=case, action=action, detail=detail or {})


def answers_reveal(*, case: Case, user: Actor, paths: Sequence[str]) -> list[str]:
    """Log that ``user`` revealed masked answers of ``case`` (one ``revealed`` row each); returns the paths.

    Only staff holding a role of ``privacy: sensitive fields seen by`` may (``NotAllowed``), and
    only answers that are masked and have a value (``ServiceError``): nothing else is logged.
    """
    definition = programs.definition_of(case.version)
    if not isinstance(user, User) or not privacy.may_reveal(user, definition):
        raise NotAllowed("only staff the program lets see sensitive answers can show them")
    schemas = privacy.schemas_of(case.version)
    chosen = list(dict.fromkeys(path for path in paths if path))
    if not chosen:
        raise ServiceError("choose the answer to show")
    for path in chosen:
        if (
            len(path) > REVEAL_PATH_MAX_CHARS
            or schemas.root_of(path) != path
            or schemas.value(case, path) in (None, "", [], {})
        ):
            raise ServiceError("there is no hidden answer to show there")
    now = timezone.now()
    AccessLog.objects.bulk_create(
        AccessLog(at=now, user=user, case=case, action=privacy.REVEALED, detail={"field": path}) for path in chosen
    )
    return chosen


class NotDue(ServiceError):
    """The case is running, already purged, kept indefinitely, or still inside its retention."""

    code = "not_due"


@dataclass(frozen=True)
class Purged:
    """What the purge removed from one case."""

    reference: str
    files: int
    notes: int
    notices: int


PURGED_NOTE = "personal data removed by the retention purge"


def case_purge(*, case_id: int, now: datetime | None = None) -> Purged:
    """Remove a closed case's personal data once its version's ``retention: closed cases`` has passed.

    In one transaction, under the case lock: the answers (the case's, the engine state's data and
    lists, the submission's, the draft's), the notes' text, the notices' body and their e-mail
    and SMS copies go; the uploaded files are deleted (from disk once committed) with their rows.
    The reference, program, outcome, dates, tasks and the hash-chained history stay, and a
    ``purged`` event is appended to it. ``NotDue`` when the case may not be purged now.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        case = _lock_case(case_id)
        if case.purged_at is not None:
            raise NotDue(f"{case.reference}: the personal data was already removed on {case.purged_at:%Y-%m-%d}")
        if case.status != Case.Status.CLOSED or case.closed_at is None:
            raise NotDue(f"{case.reference} is still running; only closed cases are purged")
        definition = programs.definition_of(case.version)
        due = privacy.retention_ends(definition, case.closed_at)
        if due is None:
            raise NotDue(f"{case.reference}: its program keeps closed cases indefinitely (no retention: closed cases)")
        kept_for = definition.program.retention.closed_cases
        if due > moment:
            raise NotDue(f"{case.reference} is kept until {due:%Y-%m-%d} (closed cases: {kept_for})")
        files = 0
        for upload in Upload.objects.filter(Q(case=case) | Q(draft__case=case)).distinct():
            uploads.discard(upload)
            files += 1
        notes = Note.objects.filter(case=case).update(text="")
        notices_removed = Notice.objects.filter(case=case).update(body="")
        # The copies carry addresses and text; one not sent yet never will be (a closed case, years on).
        Outbox.objects.filter(case=case).exclude(status=Outbox.Status.PENDING).update(payload={}, last_error="")
        Outbox.objects.filter(case=case, status=Outbox.Status.PENDING).update(
            payload={}, status=Outbox.Status.DEAD, last_error=PURGED_NOTE
        )
        Submission.objects.filter(case=case).update(data={}, on_behalf_of="")
        Draft.objects.filter(case=case).update(data={}, email="", on_behalf_of="", resume_token_hash="")
        state = dict(case.state)
        state["data"] = {}
        # An ``each`` step keeps the list items it ran over, and panels and lists their results.
        state["groups"] = [{**group, "items": [], "results": []} for group in state.get("groups") or []]
        case.state = state
        case.data = {}
        case.on_behalf_of = ""
        case.purged_at = moment
        case.save(update_fields=["state", "data", "on_behalf_of", "purged_at"])
        detail = {
            "closed cases": str(kept_for),
            "files": files,
            "notes": notes,
            "notices": notices_removed,
        }
        audit.record(case=case, at=moment, kind="purged", actor=None, detail=detail)
    return Purged(case.reference, files, notes, notices_removed)
