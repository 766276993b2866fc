from django.contrib import admin

from workflows import outbox
from workflows.models import Case, CaseEvent, DefinitionVersion, Outbox, Program, Task


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

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # cases change only through services, which keep the history


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    list_display = ["case", "step", "role", "status", "assignee", "created_at"]
    list_filter = ["status", "role"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin[CaseEvent]):
    list_display = ["case", "at", "kind", "actor"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


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
