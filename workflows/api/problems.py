"""The API's one translation point from errors to HTTP: ``application/problem+json`` (RFC 9457).

Every error the API answers — its own refusals, the services' ``ServiceError``s, and DRF's
(authentication, not found, wrong method, unreadable body) — leaves through ``exception_handler``
as one shape::

    {"type": "urn:civicflow:problem:invalid_submission", "title": "...", "status": 422,
     "detail": "...", "code": "invalid_submission",
     "errors": [{"pointer": "/email", "code": "format", "message": "..."}]}

``errors`` is there only for problems with the request's content, one entry per problem.
Bodies are parsed by ``BoundedJSONParser``, which refuses oversized and deeply nested JSON with
a 413 or 400 before anything recurses over it (threat T3): never a 500 for bad input.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response

import engine
from forms.errors import pointer_from
from forms.limits import measure
from forms.validation import MAX_DATA_DEPTH
from workflows import services

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:civicflow:problem:"
"""A problem's ``type`` is this prefix and its ``code``: stable, and documented in docs/api/reference.md."""

MAX_BODY_DEPTH = MAX_DATA_DEPTH
"""The deepest JSON body the API reads: as deep as any form's answers may be."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One error answer, before it becomes a response."""

    status: int
    code: str
    title: str
    detail: str
    errors: tuple[Mapping[str, Any], ...] | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_PREFIX + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors is not None:
            body["errors"] = [dict(error) for error in self.errors]
        return body


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(problem.body(), status=problem.status, headers=dict(headers or {}))
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class ApiProblem(exceptions.APIException):
    """A refusal raised by the API's own views and parser, carrying its code and title."""

    def __init__(self, status_code: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.title = title


def body_too_large(limit: int) -> ApiProblem:
    return ApiProblem(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "body_too_large",
        "The request body is too large",
        f"send at most {limit:,} bytes",
    )


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the limits its own lacks.

    DRF lets ``json.load``'s ``RecursionError`` escape as a 500. Here the body is read up to the
    limit (413 beyond it), decoded (400 for text that is not UTF-8 JSON, or is nested too deep to
    decode), then measured without recursion, so no later step recurses past ``MAX_BODY_DEPTH``.
    The limit is Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (DRF reads a JSON body through
    ``request.body``, which applies it too).
    """

    def parse(
        self, stream: IO[Any] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        return parse_bounded(stream, parser_context, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class DefinitionJSONParser(BaseParser):
    """For the designer routes, whose body is a whole program folder: ``CIVICFLOW_DEFINITION_MAX_BYTES``.

    Deliberately not a ``JSONParser``: DRF hands those ``request.body``, which Django refuses
    beyond ``DATA_UPLOAD_MAX_MEMORY_SIZE``; any other parser reads the request's stream itself.
    """

    media_type = "application/json"

    def parse(
        self, stream: IO[Any] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        return parse_bounded(stream, parser_context, settings.CIVICFLOW_DEFINITION_MAX_BYTES)


def parse_bounded(stream: IO[Any] | None, parser_context: Mapping[str, Any] | None, limit: int | None) -> Any:
    """A JSON body read up to ``limit`` bytes (413 beyond), decoded and measured (400 when too deep)."""
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if limit is not None and declared and declared.isdigit() and int(declared) > limit:
        raise body_too_large(limit)  # refused before a byte is read
    raw: bytes = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
    if limit is not None and len(raw) > limit:
        raise body_too_large(limit)
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as error:
        raise exceptions.ParseError(f"the body is not valid JSON: {error}") from None
    if measure(data, max_bytes=max(len(raw), 1) * 8, max_depth=MAX_BODY_DEPTH).excess == "too_deep":
        raise _too_deep()
    return data


def _too_deep() -> ApiProblem:
    return ApiProblem(
        status.HTTP_400_BAD_REQUEST,
        "body_too_deep",
        "The request body is nested too deep",
        f"nest objects and lists at most {MAX_BODY_DEPTH} levels deep",
    )


# DRF's exceptions, by class, as problems: (code, title). Their detail is DRF's message.
_DRF_TITLES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ParseError: ("malformed_body", "The request body cannot be read"),
    exceptions.AuthenticationFailed: ("not_authenticated", "Authentication failed"),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication is required"),
    exceptions.PermissionDenied: ("not_allowed", "Not allowed"),
    exceptions.NotFound: ("not_found", "Not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not_acceptable", "Not acceptable"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    exceptions.Throttled: ("throttled", "Too many requests"),
}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every error the API meets, as problem+json."""
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.APIException):
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
    return problem_response(problem_for(exc, context), headers)


def problem_for(exc: Exception, context: Mapping[str, Any]) -> Problem:
    if isinstance(exc, services.InvalidSubmission):
        errors = tuple({"pointer": e.pointer, "code": e.code, "message": e.message} for e in exc.errors)
        return Problem(422, exc.code, "The submission is not valid", exc.message, errors)
    if isinstance(exc, services.ServiceError):
        return _service_problem(exc)
    if isinstance(exc, engine.DefinitionError):
        errors = tuple(definition_problem(problem) for problem in exc.problems)
        failing = sum(1 for problem in exc.problems if problem.severity == "error")
        detail = f"{failing} error(s) found; nothing was published"
        return Problem(422, "definition_has_errors", "The definition has errors", detail, errors)
    if isinstance(exc, ApiProblem):
        return Problem(exc.status_code, exc.problem_code, exc.title, str(exc.detail))
    if isinstance(exc, exceptions.ValidationError):
        errors = tuple(_field_errors(exc.detail))
        return Problem(422, "invalid_request", "The request is not valid", f"{len(errors)} problem(s) found", errors)
    if isinstance(exc, exceptions.APIException):
        code, title = _DRF_TITLES.get(type(exc), (str(exc.default_code), "Request refused"))
        return Problem(exc.status_code, code, title, str(exc.detail))
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return Problem(404, "not_found", "Not found", "there is nothing here, or nothing you may see")
    if isinstance(exc, DjangoPermissionDenied):
        return Problem(403, "not_allowed", "Not allowed", "you may not do this")
    if isinstance(exc, RequestDataTooBig):
        too_large = body_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
        return Problem(413, too_large.problem_code, too_large.title, str(too_large.detail))
    view = context.get("view")
    log.exception("unexpected error in API view %s", type(view).__name__ if view is not None else "?")
    return Problem(500, "internal_error", "Internal error", "something went wrong on our side; try again later")


# Service refusals by kind; any other ServiceError is something the client can fix (422).
_SERVICE_STATUS: tuple[tuple[type[services.ServiceError], int, str], ...] = (
    (services.NotAllowed, 403, "Not allowed"),
    (services.Conflict, 409, "Conflict"),
    (services.ProgramNotOpen, 409, "The program is not open"),
)


def definition_problem(problem: engine.Problem) -> dict[str, Any]:
    """One of the checker's problems as the API shows it (line and column 0: the whole file)."""
    return {
        "code": problem.code,
        "message": problem.message,
        "file": problem.path,
        "location": {"line": problem.line, "column": problem.col},
        "severity": problem.severity,
    }


def _service_problem(exc: services.ServiceError) -> Problem:
    for kind, status_code, title in _SERVICE_STATUS:
        if isinstance(exc, kind):
            return Problem(status_code, exc.code, title, exc.message)
    return Problem(422, exc.code, "Refused", exc.message)


def _field_errors(detail: Any, path: tuple[str | int, ...] = ()) -> Iterator[dict[str, str]]:
    """DRF's nested error detail flattened to ``{pointer, code, message}`` entries."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            # DRF files errors about the whole object under "non_field_errors": they point at the root.
            yield from _field_errors(value, path if key == "non_field_errors" else (*path, key))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            nested = isinstance(value, (Mapping, list))
            yield from _field_errors(value, (*path, index) if nested else path)
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield {"pointer": pointer_from(path), "code": str(code), "message": str(detail)}
