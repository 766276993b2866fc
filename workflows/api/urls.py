"""/api/v1/ routes. Paths have no trailing slash; any other path under /api/v1/ is a problem+json 404."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView

from workflows.api import citizen_views, designer, views

app_name = "api"

urlpatterns = [
    path("programs", views.ProgramList.as_view(), name="programs"),
    path("programs/<slug:slug>", views.ProgramDetail.as_view(), name="program"),
    path("programs/<slug:slug>/versions", designer.ProgramVersions.as_view(), name="program_versions"),
    path(
        "programs/<slug:slug>/versions/<slug:content_hash>", designer.ProgramVersion.as_view(), name="program_version"
    ),
    path("definitions/check", designer.DefinitionCheck.as_view(), name="definitions_check"),
    path("programs/<slug:slug>/submissions", views.SubmissionCreate.as_view(), name="submissions"),
    path("tasks", views.TaskList.as_view(), name="tasks"),
    path("tasks/<int:task_id>/claim", views.TaskClaim.as_view(), name="task_claim"),
    path("tasks/<int:task_id>/release", views.TaskRelease.as_view(), name="task_release"),
    path("tasks/<int:task_id>/complete", views.TaskComplete.as_view(), name="task_complete"),
    path("tasks/<int:task_id>/reassign", views.TaskReassign.as_view(), name="task_reassign"),
    path("cases", views.CaseList.as_view(), name="cases"),
    path("cases/<uuid:public_id>", views.CaseDetail.as_view(), name="case"),
    path("cases/<uuid:public_id>/events", views.CaseEvents.as_view(), name="case_events"),
    path("webhooks", views.WebhookList.as_view(), name="webhooks"),
    path("webhooks/<int:endpoint_id>", views.WebhookDetail.as_view(), name="webhook"),
    path("webhooks/<int:endpoint_id>/rotate-secret", views.WebhookRotateSecret.as_view(), name="webhook_rotate_secret"),
    path("webhooks/<int:endpoint_id>/deliveries", views.WebhookDeliveries.as_view(), name="webhook_deliveries"),
    path("my/cases", citizen_views.MyCaseList.as_view(), name="my_cases"),
    path("my/cases/<uuid:public_id>", citizen_views.MyCaseDetail.as_view(), name="my_case"),
    path(
        "my/cases/<uuid:public_id>/requests/<int:token>/response",
        citizen_views.MyCaseResponse.as_view(),
        name="my_case_response",
    ),
    path("my/cases/<uuid:public_id>/withdraw", citizen_views.MyCaseWithdraw.as_view(), name="my_case_withdraw"),
    path("my/messages", citizen_views.MyMessageList.as_view(), name="my_messages"),
    path("my/messages/<int:message_id>", citizen_views.MyMessageDetail.as_view(), name="my_message"),
    path("schema", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs", views.docs, name="docs"),
    # [\s\S], not ".": a path with a newline in it is an API path too, answered as problem+json, not HTML.
    re_path(r"^[\s\S]*\Z", views.NotFoundView.as_view(), name="not_found"),
]
