"""The citizen side of the API, under /api/v1/my/: the caller's own applications and messages.

Who is the applicant is decided in one place, ``workflows.applicants`` (the same rule as the web
pages): a case is the caller's if they applied online, or through the API with an account that
holds no role. Someone else's case or message is a 404 as if it did not exist (T6); a staff
account (one holding any role) is refused with 403, because it has no applications of its own.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import applicants, notices, services
from workflows.api import citizen_serializers as serializers
from workflows.api import pagination
from workflows.api.problems import ApiProblem
from workflows.models import Case, Notice
from workflows.roles import roles_of

_PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="application/problem+json")
_PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="from the previous page's `next` link"),
    OpenApiParameter("limit", int, description=f"default {pagination.DEFAULT_LIMIT}, at most {pagination.MAX_LIMIT}"),
]


class IsCitizen(permissions.BasePermission):
    """Citizen routes: a signed-in (or token-holding) account that holds no role."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if roles_of(request.user):
            raise ApiProblem(
                status.HTTP_403_FORBIDDEN,
                "staff_account",
                "Staff accounts have no applications of their own",
                "/api/v1/my/ is for citizens; this account holds a staff role: use /api/v1/cases and "
                "/api/v1/tasks, or sign in with a citizen account to follow your own applications",
            )
        return True


def _language(request: Request) -> str:
    return getattr(request, "LANGUAGE_CODE", "en")


def _private(response: Response) -> Response:
    response["Cache-Control"] = "private, no-store"  # personal data: keep out of caches
    return response


def _my_case(request: Request, public_id: UUID) -> Case:
    try:
        return applicants.case_of(request.user, public_id)
    except Case.DoesNotExist:
        raise exceptions.NotFound("no such application of yours") from None


# -------------------------------------------------------------------- cases


class MyCaseList(APIView):
    permission_classes = (IsCitizen,)

    @extend_schema(
        operation_id="my_cases_list",
        summary="Your own applications, newest first",
        parameters=_PAGE_PARAMETERS,
        responses={200: serializers.MyCasePageSerializer, 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM},
    )
    def get(self, request: Request) -> Response:
        query = pagination.PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        cases = applicants.cases_of(request.user).select_related("version")
        rows, next_link = pagination.page(cases, request, query.validated_data, field="submitted_at", newest_first=True)
        body = {"results": serializers.MyCaseSummarySerializer(rows, many=True).data, "next": next_link}
        return _private(Response(body))


class MyCaseDetail(APIView):
    permission_classes = (IsCitizen,)

    @extend_schema(
        operation_id="my_cases_retrieve",
        summary="One of your applications: its status, timeline and the requests for information waiting for you",
        responses={200: serializers.MyCaseDetailSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        case = _my_case(request, public_id)
        return _private(Response(serializers.MyCaseDetailSerializer(case).data))


class MyCaseResponse(APIView):
    permission_classes = (IsCitizen,)

    @extend_schema(
        operation_id="my_cases_respond",
        summary="Answer a request for information",
        description=(
            "The body is the answers, as the request's `answer_schema` describes them (`{}` when it "
            "asks nothing). Files cannot be sent through the API: a request with a required file "
            "question, or a body that answers one, is refused with 422 `upload_not_supported` on "
            "that question; answer it on the website (`web_url`)."
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: serializers.MyCaseDetailSerializer,
            400: _PROBLEM,
            401: _PROBLEM,
            403: _PROBLEM,
            404: _PROBLEM,
            409: _PROBLEM,
            413: _PROBLEM,
            422: _PROBLEM,
        },
        examples=[OpenApiExample("answers", value={"note": "The lease is in my partner's name."}, request_only=True)],
    )
    def post(self, request: Request, public_id: UUID, token: int) -> Response:
        case = _my_case(request, public_id)
        if not isinstance(request.data, dict):
            raise ApiProblem(400, "not_an_object", "The body must be a JSON object", "send the answers as an object")
        language = _language(request)
        waiting = applicants.open_request(case, token)
        if waiting is not None:  # else the service refuses with 409 (answered, expired, or the case closed)
            form = applicants.answer_form(case.version, waiting.step)
            problems = applicants.problems_without_uploads(form, request.data, language)
            if problems:
                raise services.InvalidSubmission(problems)
        services.citizen_respond(case_id=case.pk, user=request.user, token=token, data=request.data, language=language)
        case = applicants.case_of(request.user, public_id)
        return _private(Response(serializers.MyCaseDetailSerializer(case).data))


class MyCaseWithdraw(APIView):
    permission_classes = (IsCitizen,)

    @extend_schema(
        operation_id="my_cases_withdraw",
        summary="Withdraw one of your applications",
        request=serializers.WithdrawSerializer,
        responses={
            200: serializers.MyCaseDetailSerializer,
            401: _PROBLEM,
            403: _PROBLEM,
            404: _PROBLEM,
            409: _PROBLEM,
            422: _PROBLEM,
        },
    )
    def post(self, request: Request, public_id: UUID) -> Response:
        case = _my_case(request, public_id)
        asked = serializers.WithdrawSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        services.case_withdraw(case_id=case.pk, user=request.user, reason=asked.validated_data["reason"])
        case = applicants.case_of(request.user, public_id)
        return _private(Response(serializers.MyCaseDetailSerializer(case).data))


# -------------------------------------------------------------------- messages


class MyMessageList(APIView):
    permission_classes = (IsCitizen,)

    @extend_schema(
        operation_id="my_messages_list",
        summary="The messages sent to your account, newest first",
        parameters=_PAGE_PARAMETERS,
        responses={200: serializers.MessagePageSerializer, 401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM},
    )
    def get(self, request: Request) -> Response:
        query = pagination.PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        assert request.user.is_authenticated  # IsCitizen
        sent = notices.messages_of(request.user)
        rows, next_link = pagination.page(sent, request, query.validated_data, field="created_at", newest_first=True)
        body = {"results": serializers.MessageSummarySerializer(rows, many=True).data, "next": next_link}
        return _private(Response(body))


class MyMessageDetail(APIView):
    permission_classes = (IsCitizen,)

    @extend_schema(
        operation_id="my_messages_retrieve",
        summary="One of your messages, with its text; reading it marks it read",
        responses={200: serializers.MessageDetailSerializer, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
    )
    def get(self, request: Request, message_id: int) -> Response:
        assert request.user.is_authenticated  # IsCitizen
        try:
            notice = notices.messages_of(request.user).get(pk=message_id)
        except (Notice.DoesNotExist, OverflowError):
            raise exceptions.NotFound("no such message of yours") from None
        notices.message_read(notice=notice, now=timezone.now())
        return _private(Response(serializers.MessageDetailSerializer(notice).data))
