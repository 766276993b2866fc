import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from engine.loading import NAME
from workflows import outbox, privacy, selectors, services
from workflows.models import (
    AccessLog,
    ApiToken,
    Case,
    CaseEvent,
    DefinitionVersion,
    Outbox,
    Program,
    RoleGrant,
    Task,
    Timer,
    WebhookDelivery,
    WebhookEndpoint,
)
from workflows.roles import ALL_AGENCIES


def _cases_for_admin(request: HttpRequest) -> QuerySet[Case]:
    """The cases a non-superuser may open in the admin: the ones they read anywhere else, plus
    the ones of the agencies they audit (superusers: all)."""
    user = request.user
    if user.is_superuser:
        return Case.objects.all()
    audited = privacy.audited_agencies(user)
    if ALL_AGENCIES in audited:
        return Case.objects.all()
    return Case.objects.filter(Q(pk__in=selectors.cases_visible_to(user).values("pk")) | Q(program__agency__in=audited))


class _ReadOnlyAdmin[Row: Model](admin.ModelAdmin[Row]):
    """Rows written only by CivicFlow's own code: administrators read them, never add, change or delete."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin[Program]):
    list_display = ["slug", "agency", "current_version"]
    readonly_fields = ["slug", "title", "summary", "agency", "reference_prefix", "current_version", "created_at"]


@admin.register(DefinitionVersion)
class DefinitionVersionAdmin(admin.ModelAdmin[DefinitionVersion]):
    """Published versions are immutable: viewable, never editable."""

    list_display = ["program", "content_hash", "published_at", "published_by"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ["reference", "program", "status", "outcome", "channel", "submitted_at"]
    list_filter = ["program", "status", "channel"]
    search_fields = ["reference"]
    # The answers show with the sensitive ones masked: revealing one happens on the task page,
    # for staff the program entitles, and is logged there.
    exclude = ["data", "state"]
    readonly_fields = ["answers", "engine_state"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # cases change only through services, which keep the history

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        # Another agency's case is not found here either (404), as on the pages and the API.
        return super().get_queryset(request).filter(pk__in=_cases_for_admin(request).values("pk"))

    @admin.display(description="answers (sensitive ones masked)")
    def answers(self, obj: Case) -> str:
        if obj.purged_at is not None:
            return f"Personal data removed on {obj.purged_at:%Y-%m-%d} under the retention policy."
        return _as_json(privacy.mask_answers(privacy.schemas_of(obj.version).form, obj.data))

    @admin.display(description="engine state (sensitive answers masked)")
    def engine_state(self, obj: Case) -> str:
        state = dict(obj.state)
        state["data"] = privacy.schemas_of(obj.version).mask_state_data(state.get("data") or {})
        return _as_json(state)

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        response = super().change_view(request, object_id, form_url, extra_context)
        case = self.get_object(request, object_id) if request.method == "GET" else None
        if case is not None and response.status_code == 200:
            services.access_record(user=request.user, case=case, action=privacy.VIEWED, detail={"admin": True})
        return response


def _as_json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


@admin.register(AccessLog)
class AccessLogAdmin(_ReadOnlyAdmin[AccessLog]):
    """Who opened which case, file or hidden answer: read-only, for auditors and superusers."""

    list_display = ["at", "user", "action", "case", "detail"]
    list_filter = ["action"]
    search_fields = ["case__reference", "user__username"]
    list_select_related = ["user", "case"]
    date_hierarchy = "at"

    def has_view_permission(self, request: HttpRequest, obj: AccessLog | None = None) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or privacy.is_auditor(user)))

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLog]:
        """An auditor reads the access logs of their agencies' cases (every case with a ``*`` grant)."""
        found = super().get_queryset(request)
        if request.user.is_superuser:
            return found
        audited = privacy.audited_agencies(request.user)
        return found if ALL_AGENCIES in audited else found.filter(case__program__agency__in=audited)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    list_display = ["case", "step", "role", "status", "assignee", "created_at"]
    list_filter = ["status", "role"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return super().get_queryset(request).filter(case__in=_cases_for_admin(request).values("pk"))

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin[CaseEvent]):
    list_display = ["case", "at", "kind", "actor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return super().get_queryset(request).filter(case__in=_cases_for_admin(request).values("pk"))

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin[Timer]):
    """The engine's timers; ones that kept failing are marked failed and can be put back."""

    list_display = ["pk", "case", "purpose", "due_at", "status", "attempts", "retry_at", "last_error"]
    list_filter = ["status", "purpose"]
    search_fields = ["case__reference"]
    actions = ["retry_failed_timers"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Put the selected failed timers back, to fire at the next sweep")
    def retry_failed_timers(self, request, queryset):  # type: ignore[no-untyped-def]
        count = services.timers_retry(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed timer(s) put back.")


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin[Outbox]):
    """Side effects waiting to be carried out; dead letters can be put back in the queue."""

    list_display = ["pk", "kind", "case", "status", "attempts", "available_at", "last_error"]
    list_filter = ["status", "kind"]
    actions = ["retry_dead_letters"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Put the selected dead letters back in the queue")
    def retry_dead_letters(self, request, queryset):  # type: ignore[no-untyped-def]
        count = outbox.retry(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} dead letter(s) put back in the queue.")


@admin.register(ApiToken)
class ApiTokenAdmin(_ReadOnlyAdmin[ApiToken]):
    """Issued API tokens, read-only: revoking is the one change (tokens are issued by ``civicflow createuser``).

    The secret's hash is never shown: it is no use to a reader, and one less copy to leak. A
    token is never deleted: the history of what it did still names it.
    """

    list_display = ["name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username"]
    list_select_related = ["user"]
    fields = ["name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "user", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    @admin.action(description="Revoke the selected tokens (the API refuses them from the next request)")
    def revoke_tokens(self, request, queryset):  # type: ignore[no-untyped-def]
        count = services.api_tokens_revoke(token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} token(s) revoked.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnlyAdmin[WebhookEndpoint]):
    """Registered webhook endpoints, read-only: agency admins manage them through the API.

    The signing secret is never shown here (it is shown once, when made or rotated).
    """

    list_display = ["pk", "program", "url", "events", "active", "created_by", "created_at"]
    list_filter = ["active", "program"]
    search_fields = ["url", "description"]
    list_select_related = ["program", "created_by"]
    fields = ["program", "url", "events", "description", "active", "created_by", "created_at"]
    readonly_fields = ["program", "url", "events", "description", "active", "created_by", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnlyAdmin[WebhookDelivery]):
    """Every attempt to deliver a webhook: when, the answer's status, why it failed, how long it took."""

    list_display = ["at", "endpoint", "event", "attempt", "status_code", "duration_ms", "error"]
    list_filter = ["event", "status_code"]
    list_select_related = ["endpoint", "endpoint__program"]
    fields = [
        "endpoint",
        "outbox",
        "event",
        "attempt",
        "at",
        "status_code",
        "error",
        "duration_ms",
        "response_excerpt",
    ]
    readonly_fields = [
        "endpoint",
        "outbox",
        "event",
        "attempt",
        "at",
        "status_code",
        "error",
        "duration_ms",
        "response_excerpt",
    ]


class RoleGrantForm(forms.ModelForm[RoleGrant]):
    class Meta:
        model = RoleGrant
        fields = ["role", "agency", "queue"]

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"]).strip()
        if not NAME.fullmatch(role):
            raise forms.ValidationError(
                f"{role!r} is not a role name: write it as programs do (librarian, case_worker)"
            )
        return role

    def clean_agency(self) -> str:
        agency = str(self.cleaned_data["agency"]).strip()
        if agency != ALL_AGENCIES and not services.AGENCY_PATTERN.fullmatch(agency):
            raise forms.ValidationError(
                f"{agency!r} is not an agency: write its slug as program.yaml does (city-library), or * for all"
            )
        return agency

    def clean_queue(self) -> str:
        return str(self.cleaned_data.get("queue") or "").strip()


class RoleGrantInline(admin.TabularInline[RoleGrant, User]):
    """The roles a person holds, each for one agency (``*``: every agency) and optionally one queue."""

    model = RoleGrant
    form = RoleGrantForm
    extra = 0
    fields = ["role", "agency", "queue", "granted_at"]
    readonly_fields = ["granted_at"]
    verbose_name = "role grant"

    def _superuser(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._superuser(request)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._superuser(request)


class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]
    """Django's user admin, with the person's role grants (roles are grants, not groups)."""

    inlines = [RoleGrantInline]


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
