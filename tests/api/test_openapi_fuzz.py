"""Every operation of the OpenAPI document, fuzzed by schemathesis through WSGI (no server).

For each operation a bounded, derandomized number of generated requests (valid and invalid)
is sent anonymously and with a staff bearer token, against a database holding the published
library card, a few cases and their tasks. Each answer must be no 5xx, a documented status
code, a documented content type, and a body that matches the documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import AnonymousUser, User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ANSWERS, assert_problem, token_for
from workflows import services
from workflows.models import Case, Program
from workflows.wsgi import application

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# Bounded: a handful of cases per operation and generation mode, the same ones on every run.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 6,
        "generation": {"max-examples": 8, "deterministic": True},
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
FUZZ = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# Loaded once, at collection, from the app itself: one test per operation. (schemathesis's
# fixture-based lazy loading reaches into a pytest internal that pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema", application, config=CONFIG)


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open() -> Iterator[None]:
    """Django closes the database connection when a request finishes; the test's transaction lives
    on that connection, so (as Django's own test client does) that is switched off here."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(library_card: Program, librarian: User) -> str:
    """A few cases with open tasks, and the bearer token of a librarian who may work them."""
    for _ in range(3):
        services.case_submit(
            program=library_card, data=ANSWERS, user=AnonymousUser(), channel=Case.Channel.API, language="en"
        )
    return token_for(librarian)


@schema.parametrize()
@FUZZ
def test_anonymous_calls_get_documented_answers(case: schemathesis.Case[Any], world: str) -> None:
    response = case.call()
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_staff_calls_get_documented_answers(case: schemathesis.Case[Any], world: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {world}"})
    case.validate_response(response, checks=CHECKS, headers={"Authorization": f"Bearer {world}"})


# What the fuzzing found, pinned down as plain tests.


@pytest.mark.django_db
def test_an_api_path_with_a_newline_in_it_is_a_problem_json_404(anonymous):
    response = anonymous.get("cases/not%0Aa-case/events")
    assert_problem(response, 404, "not_found")


@pytest.mark.django_db
def test_every_error_response_is_documented_as_problem_json(anonymous):
    document = anonymous.get("schema").json()
    for item in document["paths"].values():
        for operation in item.values():
            errors = {code: response for code, response in operation["responses"].items() if int(code) >= 400}
            assert "401" in errors
            for response in errors.values():
                assert list(response["content"]) == ["application/problem+json"]
