"""What the citizen side of the API (``/api/v1/my/``) reads and writes.

Read serializers describe the answers; the write serializers (``WithdrawSerializer``) name the
only thing a client may send. Nothing here writes a case's status: answering a request and
withdrawing go through ``services``. What a case shows is what the applicant's own web page
shows: never staff notes, tasks, assignees or the case history kept for staff.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engine import localized
from workflows import applicants, notices, services
from workflows.models import Case, Notice

# -------------------------------------------------------------------- cases


def timeline(case: Case) -> list[dict[str, Any]]:
    """What the applicant's page tells of the case's life: when it was submitted, and when and how it closed."""
    events: list[dict[str, Any]] = [{"event": "submitted", "at": case.submitted_at, "outcome": None}]
    if case.status == Case.Status.CLOSED and case.closed_at is not None:
        events.append({"event": "closed", "at": case.closed_at, "outcome": case.outcome})
    return events


def open_request_row(case: Case, request: applicants.OpenRequest) -> dict[str, Any]:
    """One request for information waiting for the applicant, with the JSON Schema that answers it."""
    form = applicants.answer_form(case.version, request.step)
    return {
        "id": request.token,
        "question": localized(request.step.title, case.language),
        "answer_schema": dict(form.form.schema) if form is not None else None,
        "file_questions": list(form.file_fields) if form is not None else [],
        "expires_at": request.expires_at,
        "response_url": reverse("api:my_case_response", args=[case.public_id, request.token]),
        "web_url": reverse("my_application", args=[case.public_id]),
    }


class TimelineEntrySerializer(serializers.Serializer[Any]):  # Any: one entry, or a list of them
    event = serializers.ChoiceField(choices=["submitted", "closed"], read_only=True)
    at = serializers.DateTimeField(read_only=True)
    outcome = serializers.CharField(read_only=True, allow_null=True, help_text="for `closed`: how the case ended")


class OpenRequestSerializer(serializers.Serializer[Any]):  # Any: one request, or a list of them
    id = serializers.IntegerField(read_only=True, help_text="the request's token: answer it at `response_url`")
    question = serializers.CharField(read_only=True, help_text="what is asked, in the language of the application")
    answer_schema = serializers.JSONField(
        read_only=True, allow_null=True, help_text="JSON Schema of the answers; null when there is nothing to fill in"
    )
    file_questions = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="questions that take a file: they cannot be answered through the API, only at `web_url`",
    )
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="answer before this")
    response_url = serializers.CharField(read_only=True)
    web_url = serializers.CharField(read_only=True, help_text="the applicant's page, where files can be uploaded")


class MyCaseSummarySerializer(serializers.ModelSerializer[Case]):
    """One of the caller's own applications, as the list shows it."""

    id = serializers.UUIDField(source="public_id", read_only=True, help_text="the case's public id")
    program = serializers.SlugField(source="program.slug", read_only=True)
    program_title = serializers.SerializerMethodField()
    waiting_for_you = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields: tuple[str, ...] = (
            "id",
            "reference",
            "program",
            "program_title",
            "status",
            "outcome",
            "waiting_for_you",
            "submitted_at",
            "closed_at",
            "url",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_program_title(self, case: Case) -> str:
        return localized(case.program.title, case.language)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_waiting_for_you(self, case: Case) -> bool:
        """Is a request for information waiting for the applicant's answer?"""
        return bool(applicants.open_requests(case))

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, case: Case) -> str:
        return reverse("api:my_case", args=[case.public_id])


class MyCasePageSerializer(serializers.Serializer[dict[str, Any]]):
    results = MyCaseSummarySerializer(many=True, read_only=True)
    next = serializers.CharField(read_only=True, allow_null=True, help_text="the next page; null on the last")


class MyCaseDetailSerializer(MyCaseSummarySerializer):
    """One of the caller's applications: what their web page shows, and the requests waiting for them."""

    timeline = serializers.SerializerMethodField()
    open_requests = serializers.SerializerMethodField()
    withdraw_url = serializers.SerializerMethodField()

    class Meta(MyCaseSummarySerializer.Meta):
        fields = (*MyCaseSummarySerializer.Meta.fields, "timeline", "open_requests", "withdraw_url")
        read_only_fields = fields

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, case: Case) -> Any:
        return TimelineEntrySerializer(timeline(case), many=True).data

    @extend_schema_field(OpenRequestSerializer(many=True))
    def get_open_requests(self, case: Case) -> Any:
        rows = [open_request_row(case, request) for request in applicants.open_requests(case)]
        return OpenRequestSerializer(rows, many=True).data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_withdraw_url(self, case: Case) -> str | None:
        """Where to withdraw, while the case is running; null once it is closed."""
        if case.status != Case.Status.RUNNING:
            return None
        return reverse("api:my_case_withdraw", args=[case.public_id])


class WithdrawSerializer(serializers.Serializer[dict[str, Any]]):
    """Withdrawing: an optional reason, nothing else a client sends is read."""

    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.REASON_MAX_CHARS,
        trim_whitespace=True,
        help_text="why, if you want to say (kept in the case history)",
    )


# -------------------------------------------------------------------- messages


class MessageSummarySerializer(serializers.ModelSerializer[Notice]):
    """A message sent to the caller's account, as the list shows it."""

    case = serializers.UUIDField(source="case.public_id", read_only=True, help_text="the case it is about")
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    sent_at = serializers.DateTimeField(source="created_at", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields: tuple[str, ...] = ("id", "subject", "case", "case_reference", "sent_at", "read_at", "url")
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, notice: Notice) -> str:
        return reverse("api:my_message", args=[notice.pk])


class MessagePageSerializer(serializers.Serializer[dict[str, Any]]):
    results = MessageSummarySerializer(many=True, read_only=True)
    next = serializers.CharField(read_only=True, allow_null=True, help_text="the next page; null on the last")


class MessageDetailSerializer(MessageSummarySerializer):
    """A message with its text: the Markdown as sent, and the same rendered to safe HTML."""

    body_html = serializers.SerializerMethodField()

    class Meta(MessageSummarySerializer.Meta):
        fields = (*MessageSummarySerializer.Meta.fields, "body", "body_html")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_body_html(self, notice: Notice) -> str:
        """Rendered with raw HTML off and every answer escaped, as the message centre shows it."""
        return notices.body_html(notice)
