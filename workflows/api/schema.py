"""What the OpenAPI document says about errors, written once for every operation.

drf-spectacular describes each response as ``application/json``; every error the API answers
is ``application/problem+json`` in the one shape of ``problems.Problem``. This post-processing
hook gives each 4xx/5xx response that media type and a shared ``Problem`` schema, and adds the
answers any operation can give whatever its view says: 401 (a bearer token that is unknown or
revoked is refused on every route, open ones too), for operations whose path names something,
404 (no such thing, or a value that cannot name one), and, for operations that take a body,
400 (unreadable JSON), 413 (too large) and 415 (not JSON).
"""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details (docs/api/reference.md#errors).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "urn:civicflow:problem: and the code"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, snake_case: what client code should test"},
        "errors": {
            "type": "array",
            "description": "only for problems with the request's content: every one of them",
            "items": {
                "type": "object",
                "required": ["pointer", "code", "message"],
                "properties": {
                    "pointer": {"type": "string", "description": "RFC 6901 JSON pointer; empty for the whole body"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_ALWAYS = {"401": "application/problem+json: the bearer token is unknown or revoked, or credentials are needed"}
_WITH_PATH_PARAMETERS = {"404": "application/problem+json: nothing by that name (or one you may not see)"}
_WITH_BODY = {
    "400": "application/problem+json: the body is not JSON, or is nested too deep",
    "413": "application/problem+json: the body is too large",
    "415": "application/problem+json: the body is not application/json",
}
RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 0},
    "required": True,
}


def problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: errors as problem+json, everywhere."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            added = {
                **_ALWAYS,
                **(_WITH_PATH_PARAMETERS if "{" in path else {}),
                **(_WITH_BODY if "requestBody" in operation else {}),
            }
            for code, description in added.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": reference}}
                    if code == "429":
                        response.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
            operation["responses"] = dict(sorted(responses.items()))
    return result
