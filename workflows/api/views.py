"""The REST API's views: read through selectors, write through services, answer with serializers.

Errors are raised, never built here: ``problems.exception_handler`` turns each into
problem+json. A task the caller may not see is answered 404 as if it did not exist (T7).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import privacy, programs, ratelimits, selectors, services, webhooks
from workflows.api import pagination, serializers
from workflows.api.problems import ApiProblem
from workflows.models import Case, Program, Task, WebhookEndpoint
from workflows.roles import holds, roles_of

IDEMPOTENCY_KEY_MAX_CHARS = 200  # the width of Submission.idempotency_key

_PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="application/problem+json")


def _language(request: Request) -> str:
    """The language of error messages and titles: Accept-Language, through Django's locale middleware."""
    return getattr(request, "LANGUAGE_CODE", "en")


class HoldsAStaffRole(permissions.BasePermission):
    """Staff routes: a signed-in (or token-holding) account with at least one role."""

    message = "this account holds no staff role"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        return bool(roles_of(request.user))


# -------------------------------------------------------------------- programs


class ProgramList(APIView):
    permission_classes = (permissions.AllowAny,)

    @extend_schema(
        operation_id="programs_list",
        summary="The published programs",
        responses={200: serializers.ProgramSummarySerializer(many=True), 401: _PROBLEM},
    )
    def get(self, request: Request) -> Response:
        rows = [serializers.program_summary(program) for program in selectors.programs_open()]
        return Response(serializers.ProgramSummarySerializer(rows, many=True).data)


class ProgramDetail(APIView):
    permission_classes = (permissions.AllowAny,)

    @extend_schema(
        operation_id="programs_retrieve",
        summary="A published program with its current version, form schema and UI per language",
        responses={200: serializers.ProgramDetailSerializer, 404: _PROBLEM},
    )
    def get(self, request: Request, slug: str) -> Response:
        program = _open_program(slug)
        return Response(serializers.ProgramDetailSerializer(serializers.program_detail(program)).data)


def _open_program(slug: str) -> Program:
    try:
        return selectors.program_open(slug)
    except Program.DoesNotExist:
        raise exceptions.NotFound(f"no published program {slug!r}") from None


# -------------------------------------------------------------------- submissions


class SubmissionCreate(APIView):
    """Anonymous submissions are allowed (a citizen's browser, a kiosk, a partner system).

    A browser sends cookies with a cross-site request, and DRF checks CSRF only for signed-in
    session users, so a request from another site's page is refused by its ``Origin`` (T9):
    only the site itself and ``CIVICFLOW_API_ALLOWED_ORIGINS`` may submit from a browser.
    """

    permission_classes = (permissions.AllowAny,)
    # Per address for anonymous callers; bearer tokens and staff sessions are not counted.
    throttle_classes = (ratelimits.AnonymousSubmissionThrottle,)

    @extend_schema(
        operation_id="submissions_create",
        summary="Submit an application to a program",
        description=(
            "The body is the form's answers, as the program's `form_schema` describes them. "
            "With an `Idempotency-Key`, a repeat with the same answers returns the case the first "
            "request opened (200); the same key with different answers is a 409."
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description=f"up to {IDEMPOTENCY_KEY_MAX_CHARS} characters, unique per application",
            )
        ],
        responses={
            201: serializers.SubmissionReceiptSerializer,
            200: OpenApiResponse(serializers.SubmissionReceiptSerializer, description="a repeat of an earlier key"),
            400: _PROBLEM,
            403: _PROBLEM,
            404: _PROBLEM,
            409: _PROBLEM,
            413: _PROBLEM,
            422: _PROBLEM,
            429: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="application/problem+json: too many submissions from this address; see Retry-After",
            ),
        },
        examples=[
            OpenApiExample("receipt", value={"case": "6f1c…", "reference": "LC-2026-000001", "status": "running"})
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        _refuse_foreign_origin(request)
        program = _open_program(slug)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX_CHARS:
            raise ApiProblem(
                400,
                "idempotency_key_too_long",
                "The idempotency key is too long",
                f"use at most {IDEMPOTENCY_KEY_MAX_CHARS} characters",
            )
        if not isinstance(request.data, dict):
            raise ApiProblem(400, "not_an_object", "The body must be a JSON object", "send the answers as an object")
        started = timezone.now()
        case = services.case_submit(
            program=program,
            data=request.data,
            user=request.user,
            channel=Case.Channel.API,
            language=_language(request),
            idempotency_key=key,
        )
        # A case submitted before this request began is a repeat of an earlier one.
        repeat = key is not None and case.submitted_at < started
        receipt = serializers.SubmissionReceiptSerializer(case).data
        return Response(receipt, status=status.HTTP_200_OK if repeat else status.HTTP_201_CREATED)


def _refuse_foreign_origin(request: Request) -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise _foreign_origin("a cross-site request")
        return  # not a browser's cross-origin request: a system, curl, or the site's own page
    own = f"{request.scheme}://{request.get_host()}"
    allowed = {own, *settings.CIVICFLOW_API_ALLOWED_ORIGINS}
    parts = urlsplit(origin)
    if origin == "null" or f"{parts.scheme}://{parts.netloc}" not in allowed:
        raise _foreign_origin(origin)


def _foreign_origin(origin: str) -> ApiProblem:
    return ApiProblem(
        403,
        "origin_not_allowed",
        "Submissions from this origin are not allowed",
        f"{origin} may not submit here (see CIVICFLOW_API_ALLOWED_ORIGINS)",
    )


# -------------------------------------------------------------------- tasks


def _task_response(request: Request, task: Task, status_code: int = status.HTTP_200_OK) -> Response:
    context = {"language": _language(request)}
    return Response(serializers.TaskSerializer(task, context=context).data, status=status_code)


def _visible_task(request: Request, task_id: int) -> Task:
    try:
        return selectors.task_visible_to(request.user, task_id)
    except Task.DoesNotExist:
        raise exceptions.NotFound("no such task") from None


class TaskList(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="tasks_list",
        summary="Open tasks: assigned to you, nobody's yet, or (supervisors) your team's",
        parameters=[
            OpenApiParameter(
                "scope",
                str,
                enum=["mine", "available", "team"],
                description=(
                    "mine (default): assigned to you; available: nobody's yet, for your roles; "
                    "team: every open task of the agencies and queues you oversee (supervisors, agency admins)"
                ),
            )
        ],
        responses={200: serializers.TaskSerializer(many=True), 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM},
    )
    def get(self, request: Request) -> Response:
        scope = request.query_params.get("scope", "mine")
        if scope not in {"mine", "available", "team"}:
            raise exceptions.ValidationError({"scope": ["choose mine, available or team"]})
        tasks = selectors.tasks_of_scope(request.user, scope)[:500]
        context = {"language": _language(request)}
        return Response(serializers.TaskSerializer(tasks, many=True, context=context).data)


_TASK_ACTION_RESPONSES = {
    200: serializers.TaskSerializer,
    401: _PROBLEM,
    403: _PROBLEM,
    404: _PROBLEM,
    409: _PROBLEM,
    422: _PROBLEM,
}


class TaskClaim(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="tasks_claim",
        summary="Assign the task to yourself",
        request=None,
        responses=_TASK_ACTION_RESPONSES,
    )
    def post(self, request: Request, task_id: int) -> Response:
        _visible_task(request, task_id)
        return _task_response(request, services.task_claim(task_id=task_id, user=request.user))


class TaskRelease(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="tasks_release",
        summary="Give the task back to its queue",
        request=None,
        responses=_TASK_ACTION_RESPONSES,
    )
    def post(self, request: Request, task_id: int) -> Response:
        _visible_task(request, task_id)
        return _task_response(request, services.task_release(task_id=task_id, user=request.user))


class TaskComplete(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="tasks_complete",
        summary="Decide the task (it must be assigned to you)",
        request=serializers.TaskCompleteSerializer,
        responses=_TASK_ACTION_RESPONSES,
    )
    def post(self, request: Request, task_id: int) -> Response:
        _visible_task(request, task_id)
        decision = serializers.TaskCompleteSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        task = services.task_complete(
            task_id=task_id,
            user=request.user,
            outcome=decision.validated_data["outcome"],
            data=decision.validated_data["data"],
        )
        return _task_response(request, task)


class TaskReassign(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="tasks_reassign",
        summary="Give the task to another holder of its role",
        request=serializers.TaskReassignSerializer,
        responses=_TASK_ACTION_RESPONSES,
    )
    def post(self, request: Request, task_id: int) -> Response:
        _visible_task(request, task_id)
        chosen = serializers.TaskReassignSerializer(data=request.data)
        chosen.is_valid(raise_exception=True)
        task = services.task_reassign(task_id=task_id, user=request.user, to_username=chosen.validated_data["to"])
        return _task_response(request, task)


# -------------------------------------------------------------------- cases

_PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="from the previous page's `next` link"),
    OpenApiParameter("limit", int, description=f"default {pagination.DEFAULT_LIMIT}, at most {pagination.MAX_LIMIT}"),
]


class CaseList(APIView):
    """Staff only: an account without a role is refused (citizens follow their cases on the site's pages)."""

    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="cases_list",
        summary="The cases of the programs whose roles you hold, newest first",
        parameters=[
            OpenApiParameter("program", str, description="a program's slug"),
            OpenApiParameter("status", str, enum=Case.Status.values),
            OpenApiParameter("reference", str, description="the exact reference"),
            OpenApiParameter("submitted_after", OpenApiTypes.DATETIME, description="submitted at or after"),
            OpenApiParameter("submitted_before", OpenApiTypes.DATETIME, description="submitted before"),
            *_PAGE_PARAMETERS,
        ],
        responses={200: serializers.CasePageSerializer, 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM},
    )
    def get(self, request: Request) -> Response:
        query = serializers.CaseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        cases = selectors.cases_visible_to(request.user)
        if "program" in wanted:
            cases = cases.filter(program__slug=wanted["program"])
        if "status" in wanted:
            cases = cases.filter(status=wanted["status"])
        if "reference" in wanted:
            cases = cases.filter(reference=wanted["reference"])
        if "submitted_after" in wanted:
            cases = cases.filter(submitted_at__gte=wanted["submitted_after"])
        if "submitted_before" in wanted:
            cases = cases.filter(submitted_at__lt=wanted["submitted_before"])
        rows, next_link = pagination.page(cases, request, wanted, field="submitted_at", newest_first=True)
        return Response({"results": serializers.CaseSummarySerializer(rows, many=True).data, "next": next_link})


def _visible_case(request: Request, public_id: UUID) -> Case:
    try:
        return selectors.case_visible_to(request.user, public_id)
    except Case.DoesNotExist:
        raise exceptions.NotFound("no such case") from None


class CaseDetail(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="cases_retrieve",
        summary="A case: its state, open tasks and answers (sensitive answers masked)",
        description=(
            "Sensitive answers are masked exactly as on the task page: shown only to a role the program "
            "lets see them, and only those revealed on the task page in the same browser session in the "
            "last few minutes. Every read is written to the case's access log."
        ),
        responses={200: serializers.CaseDetailSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        case = _visible_case(request, public_id)
        services.access_record(user=request.user, case=case, action=privacy.VIEWED, detail={"api": True})
        return _case_response(request, case)


def _case_response(request: Request, case: Case) -> Response:
    """The case for a staff reader: its answers masked as on the task page, except what an
    entitled reader revealed in this session; kept out of caches (personal data)."""
    definition = programs.definition_of(case.version)
    entitled = privacy.may_reveal(request.user, definition)
    revealed = privacy.revealed_in(request.session, case.pk, timezone.now()) if entitled else frozenset()
    answers = privacy.mask_answers(programs.ready(case.version).pages.schema, case.data, revealed=revealed)
    response = Response(serializers.CaseDetailSerializer(case, context={"answers": answers}).data)
    response["Cache-Control"] = "private, no-store"
    return response


class CaseEvents(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="cases_events",
        summary="A case's history, oldest first: for its program's staff and for auditors",
        parameters=_PAGE_PARAMETERS,
        responses={
            200: serializers.CaseEventPageSerializer,
            401: _PROBLEM,
            403: _PROBLEM,
            404: _PROBLEM,
            422: _PROBLEM,
        },
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        query = pagination.PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            events = selectors.case_events_visible_to(request.user, public_id)
        except Case.DoesNotExist:
            raise exceptions.NotFound("no such case") from None
        rows, next_link = pagination.page(events, request, query.validated_data, field="at", newest_first=False)
        return Response({"results": serializers.CaseEventSerializer(rows, many=True).data, "next": next_link})

    @extend_schema(
        operation_id="cases_events_create",
        summary="Post an event the case is waiting for (a payment confirmed by the payment provider)",
        description=(
            "The case must be waiting for the event at a `wait` step, or the answer is 409. Only the roles the "
            "workflow's `events` section names in `sent by` may post it (any role of the program when it names "
            "none). `data` must fit the event's form (422 with every field's error); an event without a form "
            "carries no data. Answers the case as `GET /cases/{id}` does."
        ),
        request=serializers.CaseEventPostSerializer,
        responses={
            200: serializers.CaseDetailSerializer,
            401: _PROBLEM,
            403: _PROBLEM,
            404: _PROBLEM,
            409: _PROBLEM,
            422: _PROBLEM,
        },
    )
    def post(self, request: Request, public_id: UUID) -> Response:
        case = _visible_case(request, public_id)
        posted = serializers.CaseEventPostSerializer(data=request.data)
        posted.is_valid(raise_exception=True)
        services.case_send_event(
            case_id=case.pk, user=request.user, name=posted.validated_data["event"], data=posted.validated_data["data"]
        )
        case.refresh_from_db()
        return _case_response(request, case)


# -------------------------------------------------------------------- webhooks

_WEBHOOK_RESPONSES: dict[int, Any] = {401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM}


def _agency_admin_only(request: Request) -> None:
    if not holds(request.user, "agency_admin"):
        raise exceptions.PermissionDenied("only an agency administrator manages webhooks")


def _managed_endpoint(request: Request, endpoint_id: int) -> WebhookEndpoint:
    _agency_admin_only(request)
    try:
        return selectors.webhook_endpoint_managed_by(request.user, endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise exceptions.NotFound("no such webhook endpoint") from None


def _refused(refusal: webhooks.WebhookRefused) -> exceptions.ValidationError:
    """An endpoint the SSRF rules or the URL's shape refuse: a 422 pointing at the field."""
    return exceptions.ValidationError({refusal.field: [exceptions.ErrorDetail(refusal.message, code="not_allowed")]})


class WebhookList(APIView):
    """Agency administrators register the endpoints their programs' events are sent to."""

    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="webhooks_list",
        summary="The webhook endpoints of your agencies' programs, newest first",
        parameters=_PAGE_PARAMETERS,
        responses={200: serializers.WebhookEndpointPageSerializer, 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM},
    )
    def get(self, request: Request) -> Response:
        _agency_admin_only(request)
        query = pagination.PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        endpoints = selectors.webhook_endpoints_managed_by(request.user)
        rows, next_link = pagination.page(
            endpoints, request, query.validated_data, field="created_at", newest_first=True
        )
        return Response({"results": serializers.WebhookEndpointSerializer(rows, many=True).data, "next": next_link})

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register an endpoint; the answer carries its signing secret, shown this once",
        request=serializers.WebhookCreateSerializer,
        responses={201: serializers.WebhookEndpointWithSecretSerializer, **_WEBHOOK_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        _agency_admin_only(request)
        given = serializers.WebhookCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        wanted = given.validated_data
        program = Program.objects.filter(slug=wanted["program"]).first()
        if program is None:
            raise exceptions.ValidationError({"program": [f"there is no program {wanted['program']!r}"]})
        if not holds(request.user, "agency_admin", agency=program.agency):
            raise exceptions.PermissionDenied("you do not administer this program's agency")
        try:
            endpoint = webhooks.endpoint_create(
                program=program,
                url=wanted["url"],
                events=wanted["events"],
                description=wanted["description"],
                created_by=request.user if isinstance(request.user, User) else None,
            )
        except webhooks.WebhookRefused as refusal:
            raise _refused(refusal) from None
        body = serializers.WebhookEndpointWithSecretSerializer(endpoint).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class WebhookDetail(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="An endpoint (without its secret)",
        responses={200: serializers.WebhookEndpointSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _managed_endpoint(request, endpoint_id)
        return Response(serializers.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_partial_update",
        summary="Change an endpoint's URL, events, description or whether it is active",
        request=serializers.WebhookUpdateSerializer,
        responses={200: serializers.WebhookEndpointSerializer, **_WEBHOOK_RESPONSES},
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _managed_endpoint(request, endpoint_id)
        given = serializers.WebhookUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        wanted = given.validated_data
        try:
            webhooks.endpoint_update(
                endpoint=endpoint,
                url=wanted.get("url"),
                events=wanted.get("events"),
                description=wanted.get("description"),
                active=wanted.get("active"),
            )
        except webhooks.WebhookRefused as refusal:
            raise _refused(refusal) from None
        return Response(serializers.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Deactivate an endpoint: nothing more is sent to it; it and its delivery log are kept",
        responses={200: serializers.WebhookEndpointSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def delete(self, request: Request, endpoint_id: int) -> Response:
        endpoint = webhooks.endpoint_deactivate(endpoint=_managed_endpoint(request, endpoint_id))
        return Response(serializers.WebhookEndpointSerializer(endpoint).data)


class WebhookRotateSecret(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="Give the endpoint a new signing secret, shown this once; the old one stops at once",
        request=None,
        responses={200: serializers.WebhookEndpointWithSecretSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = webhooks.endpoint_rotate_secret(endpoint=_managed_endpoint(request, endpoint_id))
        body = serializers.WebhookEndpointWithSecretSerializer(endpoint).data
        return Response(body, headers={"Cache-Control": "no-store"})


class WebhookDeliveries(APIView):
    permission_classes = (HoldsAStaffRole,)

    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="The endpoint's delivery log: one entry per attempt, newest first",
        parameters=_PAGE_PARAMETERS,
        responses={200: serializers.WebhookDeliveryPageSerializer, **_WEBHOOK_RESPONSES},
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _managed_endpoint(request, endpoint_id)
        query = pagination.PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = selectors.webhook_deliveries_of(endpoint)
        rows, next_link = pagination.page(deliveries, request, query.validated_data, field="at", newest_first=True)
        return Response({"results": serializers.WebhookDeliverySerializer(rows, many=True).data, "next": next_link})


# -------------------------------------------------------------------- the rest


class NotFoundView(APIView):
    """Any other path under /api/v1/: a problem+json 404, not the site's HTML page."""

    permission_classes = (permissions.AllowAny,)
    schema = None  # not an endpoint: left out of the OpenAPI document

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("there is no such API endpoint; see /api/v1/docs")


@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    """The endpoints, drawn on the server from the OpenAPI document: no script, nothing fetched from elsewhere.

    Swagger UI and Redoc load their code from a CDN unless drf-spectacular-sidecar is
    installed, which it is not; this page lists what they would, and links the document.
    """
    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "responses": sorted(operation.get("responses", {})),
        }
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    context = {"info": schema.get("info", {}), "openapi": schema.get("openapi", ""), "operations": operations}
    return render(request, "workflows/api_docs.html", context)
