"""What the API reads and writes: read serializers describe answers, write serializers requests.

Read and write representations are separate classes (threat T12): a write serializer names
only what a client may send, so a ``status``, ``assignee`` or ``case`` in a request body is
ignored, never written. No serializer lists ``__all__``.

The program representation is built from a loaded version (``programs.ready``) by plain
functions here: the form's JSON Schema as published, and its UI — pages, questions, widgets
and texts — already picked in each language the program offers, as the web form shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engine import localized
from forms.ui import Text, UiField, UiSchema, schema_at
from workflows import programs, selectors
from workflows.api.pagination import PageQuerySerializer
from workflows.models import Case, CaseEvent, Program, Task, WebhookDelivery, WebhookEndpoint

# -------------------------------------------------------------------- programs


def program_summary(program: Program) -> dict[str, Any]:
    """A program as the catalogue lists it, with its current version."""
    version = program.current_version
    assert version is not None  # selectors.programs_open lists published programs only
    definition = programs.ready(version).definition
    return {
        "slug": program.slug,
        "title": dict(program.title),
        "summary": dict(program.summary),
        "agency": program.agency,
        "languages": list(definition.program.languages),
        "version": {"content_hash": version.content_hash, "published_at": version.published_at},
        "url": reverse("api:program", args=[program.slug]),
        "submissions_url": reverse("api:submissions", args=[program.slug]),
    }


def program_detail(program: Program) -> dict[str, Any]:
    """``program_summary`` with the form: its JSON Schema, and its UI in every language of the program."""
    version = program.current_version
    assert version is not None
    loaded = programs.ready(version)
    ui = loaded.pages.ui
    schema = loaded.pages.schema
    return {
        **program_summary(program),
        "form_schema": dict(schema),
        "ui": {lang: _ui_in(ui, schema, lang) for lang in loaded.definition.program.languages},
    }


def _ui_in(ui: UiSchema, schema: Mapping[str, Any], lang: str) -> dict[str, Any]:
    return {
        "navigation": ui.navigation,
        "pages": [
            {
                "id": page.id,
                "title": page.title.pick(lang),
                "intro": _pick(page.intro, lang),
                "show_if": page.show_if.logic if page.show_if is not None else None,
                "fields": [_field_in(ui, schema, field, lang, within=None) for field in page.fields],
            }
            for page in ui.pages
        ],
    }


def _field_in(
    ui: UiSchema, schema: Mapping[str, Any], field: UiField, lang: str, *, within: Mapping[str, Any] | None
) -> dict[str, Any]:
    """One question: the UI's own texts, else the schema's (translated by the locale files), as the web form."""
    node = schema_at(schema, field.name, within=within) or {}
    title = node.get("title")
    description = node.get("description")
    label = _pick(field.label, lang) or (ui.translate(title, lang) if isinstance(title, str) else field.name)
    hint = _pick(field.hint, lang) or (ui.translate(description, lang) if isinstance(description, str) else None)
    shown: dict[str, Any] = {
        "name": field.name,
        "widget": field.widget,
        "label": label,
        "hint": hint,
        "show_if": field.show_if.logic if field.show_if is not None else None,
    }
    if field.options:
        shown["options"] = [{"value": value, "label": text.pick(lang)} for value, text in field.options]
    if field.items:
        item_schema = schema_at(schema, f"{field.name}.*")
        shown["items"] = [_field_in(ui, schema, item, lang, within=item_schema) for item in field.items]
    return shown


def _pick(text: Text | None, lang: str) -> str | None:
    return text.pick(lang) if text is not None else None


class ProgramVersionSerializer(serializers.Serializer[dict[str, Any]]):
    content_hash = serializers.CharField(read_only=True, help_text="SHA-256 of the version's files")
    published_at = serializers.DateTimeField(read_only=True)


class ProgramSummarySerializer(serializers.Serializer[Any]):  # Any: one program's dict, or a list of them
    slug = serializers.SlugField(read_only=True)
    title = serializers.DictField(child=serializers.CharField(), read_only=True, help_text="language -> title")
    summary = serializers.DictField(child=serializers.CharField(), read_only=True, help_text="language -> summary")
    agency = serializers.CharField(read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    version = ProgramVersionSerializer(read_only=True, help_text="the version new applications are made on")
    url = serializers.CharField(read_only=True)
    submissions_url = serializers.CharField(read_only=True)


class ProgramDetailSerializer(ProgramSummarySerializer):
    form_schema = serializers.JSONField(read_only=True, help_text="the form's JSON Schema (draft 2020-12)")
    ui = serializers.DictField(
        child=serializers.JSONField(),
        read_only=True,
        help_text="language -> {navigation, pages: [{id, title, intro, show_if, fields: [...]}]}",
    )


# -------------------------------------------------------------------- submissions


class SubmissionReceiptSerializer(serializers.Serializer[Case]):
    """What a submission answers: the case it opened (or, for a repeat, opened before)."""

    case = serializers.UUIDField(source="public_id", read_only=True, help_text="the case's public id")
    reference = serializers.CharField(read_only=True, help_text="the reference the applicant quotes")
    status = serializers.CharField(read_only=True)


# -------------------------------------------------------------------- tasks


class TaskSerializer(serializers.ModelSerializer[Task]):
    """A task as staff see it in their inbox (the case's answers are not part of it)."""

    case = serializers.UUIDField(source="case.public_id", read_only=True)
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    program = serializers.SlugField(source="case.program.slug", read_only=True)
    program_title = serializers.SerializerMethodField()
    assignee = serializers.CharField(source="assignee.username", read_only=True, allow_null=True, default=None)
    outcomes = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = (
            "id",
            "case",
            "case_reference",
            "program",
            "program_title",
            "step",
            "role",
            "queue",
            "status",
            "assignee",
            "outcomes",
            "outcome",
            "due_at",
            "created_at",
            "completed_at",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_program_title(self, task: Task) -> str:
        language = self.context.get("language", "en")
        return localized(task.case.program.title, language)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_outcomes(self, task: Task) -> list[str]:
        """The outcomes the task can be completed with (none once it is closed)."""
        return selectors.task_outcomes(task) if task.status == Task.Status.OPEN else []


class TaskCompleteSerializer(serializers.Serializer[dict[str, Any]]):
    """The decision on a task: nothing else a client sends is read."""

    outcome = serializers.CharField(max_length=64, help_text="one of the task's outcomes")
    # DRF's metaclass moves declared fields off the class, so this does not hide ``Serializer.data``.
    data = serializers.DictField(  # type: ignore[assignment]
        required=False, default=dict, help_text="answers the step asks for, if any"
    )


class CaseEventPostSerializer(serializers.Serializer[dict[str, Any]]):
    """An event for a waiting case: its name, and its data when the workflow gives the event a form."""

    event = serializers.RegexField(
        r"^[a-z][a-z0-9_]*\Z", max_length=64, help_text="the event's name, as the workflow's wait step names it"
    )
    # DRF's metaclass moves declared fields off the class, so this does not hide ``Serializer.data``.
    data = serializers.DictField(  # type: ignore[assignment]
        required=False, default=dict, help_text="the event's data, as its form in the workflow's events asks"
    )


class TaskReassignSerializer(serializers.Serializer[dict[str, Any]]):
    """Whom to give the task to: nothing else a client sends is read."""

    to = serializers.CharField(max_length=150, help_text="the user name of an active holder of the task's role")


# -------------------------------------------------------------------- cases


class CaseQuerySerializer(PageQuerySerializer):
    """The filters of the case list (all optional; together they narrow it)."""

    program = serializers.SlugField(required=False, max_length=50, help_text="a program's slug")
    status = serializers.ChoiceField(choices=Case.Status.values, required=False)
    reference = serializers.CharField(required=False, max_length=32, help_text="the exact reference")
    submitted_after = serializers.DateTimeField(required=False, help_text="submitted at or after (ISO 8601)")
    submitted_before = serializers.DateTimeField(required=False, help_text="submitted before (ISO 8601)")


class CaseSummarySerializer(serializers.ModelSerializer[Case]):
    """A case as the case list shows it (no answers)."""

    id = serializers.UUIDField(source="public_id", read_only=True, help_text="the case's public id")
    program = serializers.SlugField(source="program.slug", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields: tuple[str, ...] = (
            "id",
            "reference",
            "program",
            "status",
            "outcome",
            "channel",
            "priority",
            "submitted_at",
            "closed_at",
            "deadline_at",
            "url",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, case: Case) -> str:
        return reverse("api:case", args=[case.public_id])


class CasePageSerializer(serializers.Serializer[dict[str, Any]]):
    results = CaseSummarySerializer(many=True, read_only=True)
    next = serializers.CharField(read_only=True, allow_null=True, help_text="the next page; null on the last")


class OpenTaskSerializer(serializers.ModelSerializer[Task]):
    assignee = serializers.CharField(source="assignee.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Task
        fields = ("id", "step", "role", "assignee", "due_at")
        read_only_fields = fields


class CaseDetailSerializer(CaseSummarySerializer):
    """A case as its program's staff see it: its open tasks, and its answers with sensitive ones masked.

    ``answers`` comes from the view (``context["answers"]``), masked there by ``workflows.privacy``
    for the reader; this class never sees the stored answers' sensitive values.
    """

    version = serializers.CharField(source="version.content_hash", read_only=True, help_text="SHA-256 of the version")
    open_tasks = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()

    class Meta(CaseSummarySerializer.Meta):
        fields = (*CaseSummarySerializer.Meta.fields, "version", "open_tasks", "answers", "events_url")
        read_only_fields = fields

    @extend_schema_field(OpenTaskSerializer(many=True))
    def get_open_tasks(self, case: Case) -> Any:
        return OpenTaskSerializer(selectors.tasks_open_on(case), many=True).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_answers(self, case: Case) -> dict[str, Any]:
        answers: dict[str, Any] = self.context["answers"]
        return answers

    @extend_schema_field(OpenApiTypes.STR)
    def get_events_url(self, case: Case) -> str:
        return reverse("api:case_events", args=[case.public_id])


class CaseEventSerializer(serializers.ModelSerializer[CaseEvent]):
    """One entry of a case's history, as the audit chain stores it."""

    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CaseEvent
        fields = ("kind", "at", "actor", "detail")
        read_only_fields = fields


class CaseEventPageSerializer(serializers.Serializer[dict[str, Any]]):
    results = CaseEventSerializer(many=True, read_only=True)
    next = serializers.CharField(read_only=True, allow_null=True, help_text="the next page; null on the last")


# -------------------------------------------------------------------- webhooks

_EVENT_CHOICES = WebhookEndpoint.Event.values


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    """A registered endpoint, without its secret (shown once, by ``WebhookEndpointWithSecretSerializer``)."""

    program = serializers.SlugField(source="program.slug", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=_EVENT_CHOICES), read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)
    deliveries_url = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields: tuple[str, ...] = (
            "id",
            "program",
            "url",
            "events",
            "description",
            "active",
            "created_by",
            "created_at",
            "deliveries_url",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_deliveries_url(self, endpoint: WebhookEndpoint) -> str:
        return reverse("api:webhook_deliveries", args=[endpoint.pk])


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The endpoint with its signing secret: answered once, when it is made or its secret rotated."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")
        read_only_fields = fields


class WebhookEndpointPageSerializer(serializers.Serializer[dict[str, Any]]):
    results = WebhookEndpointSerializer(many=True, read_only=True)
    next = serializers.CharField(read_only=True, allow_null=True, help_text="the next page; null on the last")


class WebhookCreateSerializer(serializers.Serializer[dict[str, Any]]):
    """A new endpoint: nothing else a client sends (a secret, ``active``, who made it) is read."""

    program = serializers.SlugField(max_length=63, help_text="the slug of a program of an agency you administer")
    url = serializers.CharField(max_length=2000, help_text="https (and public) unless the operator allows otherwise")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=_EVENT_CHOICES), allow_empty=False, max_length=len(_EVENT_CHOICES) * 2
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    """What may change on an endpoint (each optional). The program and the secret are not among them."""

    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=_EVENT_CHOICES),
        allow_empty=False,
        max_length=len(_EVENT_CHOICES) * 2,
        required=False,
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    """One delivery attempt, as the log keeps it (``response_excerpt``: at most 500 characters)."""

    delivery = serializers.CharField(source="outbox.key", read_only=True, help_text="the CivicFlow-Delivery header")
    delivery_status = serializers.CharField(
        source="outbox.status", read_only=True, help_text="pending, delivered or dead, now"
    )

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event",
            "delivery",
            "delivery_status",
            "attempt",
            "at",
            "status_code",
            "error",
            "duration_ms",
            "response_excerpt",
        )
        read_only_fields = fields


class WebhookDeliveryPageSerializer(serializers.Serializer[dict[str, Any]]):
    results = WebhookDeliverySerializer(many=True, read_only=True)
    next = serializers.CharField(read_only=True, allow_null=True, help_text="the next page; null on the last")


# -------------------------------------------------------------------- designer: definitions and versions


class DefinitionFilesSerializer(serializers.Serializer[dict[str, Any]]):
    """A program folder's files. Documents the request; ``api.designer.uploaded_files`` reads it."""

    files = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        help_text="path relative to the program folder (program.yaml, notices/approval.en.md, …) -> the file's text",
    )


class DefinitionPublishSerializer(DefinitionFilesSerializer):
    replaces = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=(
            'the content hash of the version you checked against ("" for a new program): '
            "409 if the current version is another by now"
        ),
    )


class DefinitionProblemLocationSerializer(serializers.Serializer[dict[str, Any]]):
    line = serializers.IntegerField(help_text="1-based; 0: the whole file")
    column = serializers.IntegerField(help_text="1-based; 0: the whole file")


class DefinitionProblemSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(help_text="stable, listed in the designer docs' problems page")
    message = serializers.CharField()
    file = serializers.CharField(help_text="path relative to the program folder")
    location = DefinitionProblemLocationSerializer()
    severity = serializers.ChoiceField(choices=["error", "warning"])


class DefinitionChangeSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.CharField(help_text="e.g. step_added, field_changed, notice_removed")
    subject = serializers.CharField()
    detail = serializers.CharField()


class DefinitionDiffSerializer(serializers.Serializer[dict[str, Any]]):
    against = serializers.CharField(help_text="the content hash of the program's current version")
    unchanged = serializers.BooleanField()
    changes = DefinitionChangeSerializer(many=True)
    running_cases = serializers.IntegerField(help_text="cases running on the current version")
    affected_cases = serializers.IntegerField(help_text="of those, how many the changes touch")


class DefinitionCheckSerializer(serializers.Serializer[dict[str, Any]]):
    ok = serializers.BooleanField(help_text="no errors: publishing these files would succeed")
    program = serializers.CharField(allow_null=True, help_text="the id in program.yaml, when readable")
    content_hash = serializers.CharField(allow_null=True, help_text="the version these files would publish")
    current_version = serializers.CharField(allow_null=True, help_text="the hash of the published version")
    problems = DefinitionProblemSerializer(many=True)
    diff = DefinitionDiffSerializer(allow_null=True, help_text="against the published version, when there is one")


class VersionSerializer(serializers.Serializer[Any]):  # Any: one version row, or a list of them
    content_hash = serializers.CharField()
    published_at = serializers.DateTimeField()
    published_by = serializers.CharField()
    current = serializers.SerializerMethodField()
    running_cases = serializers.IntegerField(help_text="cases running on this version")

    def get_current(self, version: Any) -> bool:
        return bool(version.pk == self.context["current_id"])


class VersionDetailSerializer(VersionSerializer):
    program = serializers.CharField(source="program.slug")
    files = serializers.DictField(child=serializers.CharField(), help_text="path -> text, as published")
