"""The case runtime's tables. No logic here: services write, selectors read."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Program(models.Model):
    """A program citizens can apply to; its rules live in its definition versions."""

    slug = models.SlugField(max_length=63, unique=True)
    title = models.JSONField(help_text="language code -> title")
    summary = models.JSONField(default=dict)
    agency = models.CharField(max_length=100)
    reference_prefix = models.CharField(max_length=6)
    current_version = models.ForeignKey(
        "DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class DefinitionVersion(models.Model):
    """An immutable, published set of a program's definition files."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="versions")
    content_hash = models.CharField(max_length=64)
    files = models.JSONField(help_text="file name -> text, exactly as loaded")
    published_at = models.DateTimeField()
    published_by = models.CharField(max_length=150, blank=True, help_text="who published it (account or operator)")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "content_hash"], name="one_version_per_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.program.slug}@{self.content_hash[:12]}"


class ReferenceCounter(models.Model):
    """The last reference number handed out per program and year (row-locked when used)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "year"], name="one_counter_per_program_year")]


class Case(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("In progress")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        COUNTER = "counter", _("At the counter")
        PHONE = "phone", _("By phone")
        PAPER = "paper", _("On paper")
        API = "api", _("Through the API")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=32, unique=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cases")
    version = models.ForeignKey(DefinitionVersion, on_delete=models.PROTECT, related_name="cases")
    data = models.JSONField(help_text="the citizen's answers as submitted")
    state = models.JSONField(help_text="the engine's CaseState, as JSON")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    outcome = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.CharField(
        max_length=200, blank=True, help_text="the citizen a staff member applied for (assisted channels)"
    )
    submitted_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, default="en", help_text="the language the applicant applied in")
    priority = models.CharField(max_length=16, default="normal", help_text="raised by escalations")
    deadline_at = models.DateTimeField(
        null=True, blank=True, help_text="the soonest deadline of its running statutory clocks (none while paused)"
    )
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text="when the retention purge removed the personal data"
    )

    class Meta:
        indexes = [
            models.Index(fields=["program", "status", "submitted_at"], name="case_program_status"),
            models.Index(fields=["status", "closed_at"], name="case_closed"),
            models.Index(fields=["status", "deadline_at"], name="case_deadline"),
        ]

    def __str__(self) -> str:
        return self.reference


class Task(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    token = models.PositiveIntegerField(help_text="the engine token this task holds")
    step = models.CharField(max_length=64)
    role = models.CharField(max_length=64)
    queue = models.CharField(max_length=100, blank=True, help_text="the queue the definition routed it to")
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    outcome = models.CharField(max_length=64, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delegated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="who delegated this task to its assignee (kept for the history and the task page)",
    )
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The database, not the code, guarantees a token never has two open tasks.
            models.UniqueConstraint(
                fields=["case", "token"], condition=models.Q(status="open"), name="one_open_task_per_token"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "role", "created_at"], name="task_queue"),
            models.Index(fields=["assignee", "status"], name="task_assignee"),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference}/{self.step}"


class CaseEvent(models.Model):
    """The case's history, one row per transition. Append-only, and hash-chained.

    Every row carries the hash of the row written before it (across all cases) and its own
    hash over its contents and that link, so a changed, removed or inserted row breaks the
    chain where it happened (``civicflow audit verify``). On PostgreSQL a trigger also refuses
    UPDATE and DELETE. Rows are written only by ``workflows.audit``.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.JSONField(default=dict)
    previous_hash = models.CharField(
        max_length=64, blank=True, help_text="the hash of the row before; empty for the first"
    )
    hash = models.CharField(max_length=64, blank=True, help_text="sha256 of this row's contents and previous_hash")

    class Meta:
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def __str__(self) -> str:
        return f"{self.case.reference}: {self.kind}"


class Draft(models.Model):
    """An application in progress: answers saved page by page until it is submitted.

    A draft belongs to the browser session that started it, to a signed-in citizen, or to
    whoever holds its resume link (only the link's hash is stored). Once submitted it points
    at its case, so a second submit shows the first case instead of creating another.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="drafts")
    version = models.ForeignKey(DefinitionVersion, on_delete=models.PROTECT, related_name="drafts")
    data = models.JSONField(default=dict, help_text="the answers so far, hidden ones already cleared")
    page = models.CharField(max_length=64, blank=True, help_text="the page last saved")
    reviewed = models.BooleanField(default=False, help_text="reached check answers at least once")
    pages_done = models.JSONField(default=list, help_text="ids of the pages continued from without errors")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts"
    )
    email = models.EmailField(blank=True, help_text="where the resume link was sent")
    resume_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    channel = models.CharField(max_length=16, choices=Case.Channel.choices, default=Case.Channel.ONLINE)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.CharField(max_length=200, blank=True)
    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="draft")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="draft_expiry")]

    def __str__(self) -> str:
        return f"draft {self.public_id} of {self.program.slug}"


class Upload(models.Model):
    """A file a citizen attached: stored privately under a generated name, never served as-is.

    The answers hold ``public_id`` as text; the original name is kept only to show back.
    The type was sniffed from the content, and the file was scanned (or not: ``scan``).
    """

    class Scan(models.TextChoices):
        CLEAN = "clean", "Scanned, no threat found"
        NOT_SCANNED = "not_scanned", "Not scanned (no scanner configured)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    draft = models.ForeignKey(Draft, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="uploads")
    field = models.CharField(max_length=200, help_text="the dotted answer path it was uploaded for")
    stored_name = models.CharField(max_length=100, unique=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, help_text="sniffed from the content, not the name")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    scan = models.CharField(max_length=16, choices=Scan.choices)
    uploaded_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the staff member who added it to the case; empty for the applicant's own files",
    )
    description = models.CharField(max_length=200, blank=True, help_text="what staff said the document is")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.public_id})"


class AuditHead(models.Model):
    """The end of the history's hash chain: one row, locked while an event is appended, so
    events are chained one after another even when many cases change at once."""

    last_hash = models.CharField(max_length=64, blank=True)
    events = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit head after {self.events} event(s)"


class Timer(models.Model):
    """A moment the engine asked to be woken at (a wait's deadline, a reminder, a due date).

    Workers fire due timers one case at a time under the case's row lock; a fired or
    cancelled timer is never fired again, and the engine ignores a late one anyway. A timer
    whose firing fails is tried again later with a growing wait, and after
    ``CIVICFLOW_TIMER_MAX_ATTEMPTS`` failures it is marked failed for an administrator.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FIRED = "fired", "Fired"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed (gave up)"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timers")
    timer = models.PositiveIntegerField(help_text="the engine's timer number within the case")
    purpose = models.CharField(max_length=32)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="failed attempts to fire it")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="after a failure: not tried again before this")
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "timer"], name="one_row_per_engine_timer")]
        indexes = [models.Index(fields=["status", "due_at"], name="timer_due")]

    def __str__(self) -> str:
        return f"{self.case.reference} timer {self.timer} ({self.purpose}) at {self.due_at:%Y-%m-%d %H:%M}"


class Submission(models.Model):
    """What arrived, exactly as accepted, with the key that makes a retry harmless.

    A sender (a partner system, a browser resubmitting) may name an idempotency key; the same
    key for the same program always answers with the first submission's case, never a second
    one. The database's unique constraint, not the code, guarantees that under concurrency.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="submissions")
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    data = models.JSONField(help_text="the answers as accepted (hidden ones cleared)")
    channel = models.CharField(max_length=16, choices=Case.Channel.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()
    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="submission")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="one_submission_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} to {self.program.slug}"


class Note(models.Model):
    """An internal note on a case by staff: never shown to the applicant."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["case", "written_at"], name="note_case_time")]

    def __str__(self) -> str:
        return f"note on {self.case.reference} by {self.author}"


class Notice(models.Model):
    """A message to the applicant (their message centre) or to staff holding a role.

    The text is rendered once, in the recipient's language, when the engine sends the notice;
    e-mail and SMS copies go through the outbox and record their own delivery status.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    name = models.CharField(max_length=64, help_text="the notice file's name (notices/<name>.<language>.md)")
    to = models.CharField(max_length=64, help_text='"citizen" or a role')
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notices",
        help_text="the applicant's account, when they applied signed in",
    )
    language = models.CharField(max_length=16)
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown, placeholders already filled in")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="notice_recipient"),
            models.Index(fields=["case", "created_at"], name="notice_case"),
        ]

    def __str__(self) -> str:
        return f"{self.name} to {self.to} on {self.case.reference}"


class Outbox(models.Model):
    """A side effect to carry out after the case change that asked for it has committed.

    Written in the same transaction as the case change, then delivered at least once by a
    worker. ``key`` is the idempotency key handed to the receiver, so a repeated delivery
    is harmless; a row that keeps failing is retried with backoff, then parked as dead.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Gave up (dead letter)"

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox")
    notice = models.ForeignKey(Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=32, help_text='what to do: "email", "sms", "webhook"')
    key = models.CharField(max_length=200, unique=True, help_text="idempotency key for the receiver")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(help_text="not tried again before this moment (backoff)")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbox message"
        indexes = [models.Index(fields=["status", "available_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class AccessLog(models.Model):
    """Who looked at which case, and what they opened (a task page, a file, a hidden field)."""

    at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_log")
    action = models.CharField(max_length=32, help_text='"viewed", "downloaded", "revealed"')
    detail = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["case", "at"], name="access_case"),
            models.Index(fields=["user", "at"], name="access_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.case.reference} at {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A secret a partner system sends as ``Authorization: Bearer <token>``, acting as ``user``.

    Only the SHA-256 of the secret is kept: the secret is shown once, when the token is issued,
    and a copy of the database gives nobody a working token. A token is never deleted, only
    revoked, so the history of what it did still names it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the token is for (the system that holds it)")
    token_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the secret, hex")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class WebhookEndpoint(models.Model):
    """An address an agency registered to be told when its program's cases move (``workflows.webhooks``).

    Each event it subscribes to is queued in the outbox with the case change, then POSTed,
    signed with ``secret`` (HMAC-SHA256), and every attempt is logged as a ``WebhookDelivery``.
    An endpoint is never deleted, only deactivated, so its delivery log stays.
    """

    class Event(models.TextChoices):
        CASE_SUBMITTED = "case.submitted", "A case was submitted"
        TASK_COMPLETED = "task.completed", "A task was completed"
        CASE_CLOSED = "case.closed", "A case was closed"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000, help_text="checked against the SSRF rules when saved and at every delivery")
    events = models.JSONField(default=list, help_text='the event types it receives, e.g. ["case.closed"]')
    secret = models.CharField(max_length=100, help_text="signs every delivery; shown once, when made or rotated")
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["program", "active"], name="webhook_program_active")]

    def __str__(self) -> str:
        return f"{self.url} ({self.program.slug})"


class WebhookDelivery(models.Model):
    """One attempt to deliver one webhook event: the delivery log agencies and operators read."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    outbox = models.ForeignKey(Outbox, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event = models.CharField(max_length=32)
    attempt = models.PositiveIntegerField(help_text="the outbox row's attempt number (1 for the first)")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty when no answer came")
    error = models.TextField(blank=True, help_text="why the attempt failed; empty when it succeeded")
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(
        max_length=500, blank=True, help_text="the start of the receiver's answer (at most 500 characters)"
    )

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "at"], name="webhook_delivery_endpoint")]

    def __str__(self) -> str:
        return f"{self.event} to endpoint {self.endpoint_id}, attempt {self.attempt}"


class CitizenAccount(models.Model):
    """What makes a user a citizen: an e-mail address they sign in with, once they confirm it.

    A citizen is a ``User`` with ``is_staff`` false and one of these; staff never have one, and
    ``workflows.citizens`` refuses to give a citizen any staff role. The address is stored in
    lower case, so "Ana@Example.org" and "ana@example.org" are one account.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen_account")
    email = models.EmailField(max_length=254, unique=True, help_text="the sign-in address, lower case")
    verified_at = models.DateTimeField(null=True, blank=True, help_text="when the address was confirmed")
    language = models.CharField(max_length=16, default="en", help_text="the language of the account's e-mails")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.email


class RoleGrant(models.Model):
    """One role a person holds, for one agency's programs and optionally one queue.

    ``agency`` is a program's ``agency:`` slug, or ``*`` for every agency (a state auditor);
    ``queue`` blank means every queue of the role. Grants are the only source of roles.
    """

    ALL_AGENCIES = "*"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=64, help_text="a role named by programs (librarian, supervisor, auditor...)")
    agency = models.CharField(max_length=100, help_text="the agency slug of the programs it covers, or * for all")
    queue = models.CharField(max_length=100, blank=True, help_text="blank: every queue of the role")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "agency", "queue"], name="one_grant_per_scope"),
        ]
        indexes = [models.Index(fields=["role", "agency"], name="grant_role_agency")]

    def __str__(self) -> str:
        where = "every agency" if self.agency == self.ALL_AGENCIES else self.agency
        queue = f", queue {self.queue}" if self.queue else ""
        return f"{self.role} for {where}{queue}"
