"""Anonymous submissions through the API are limited per address; systems with tokens are not."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import ANSWERS, Api, assert_problem
from workflows import ratelimits

pytestmark = pytest.mark.django_db

SUBMIT = "programs/library-card/submissions"


@pytest.fixture(autouse=True)
def _two_an_hour(settings):
    settings.CIVICFLOW_ANONYMOUS_SUBMISSIONS_PER_HOUR = 2


class Clock:
    """Stands in for ratelimits.now so an hour can pass without sleeping."""

    def __init__(self) -> None:
        self.at = 1_800_000_000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(ratelimits, "now", moved)
    return moved


def submit(api: Api, address: str = "203.0.113.7", forwarded_for: str | None = None):
    api.client.defaults["REMOTE_ADDR"] = address
    if forwarded_for is None:
        return api.post(SUBMIT, ANSWERS)
    return api.client.post(
        f"/api/v1/{SUBMIT}",
        data=json.dumps(ANSWERS),
        content_type="application/json",
        headers={**api._headers({}), "X-Forwarded-For": forwarded_for},
    )


def test_over_the_limit_an_anonymous_caller_gets_429_problem_with_retry_after(anonymous, library_card, clock):
    assert submit(anonymous).status_code == 201
    clock.at += 600
    assert submit(anonymous).status_code == 201
    clock.at += 600
    refused = submit(anonymous)
    body = assert_problem(refused, 429, "throttled")
    # The first submission leaves the hour 40 minutes from now.
    assert refused["Retry-After"] == str(3600 - 1200)
    assert "2400" in body["detail"]


def test_another_address_is_not_affected(anonymous, library_card, clock):
    for _ in range(2):
        submit(anonymous)
    assert submit(anonymous).status_code == 429
    assert submit(anonymous, address="198.51.100.4").status_code == 201


def test_a_system_with_a_token_is_not_limited(librarian_api, library_card, clock):
    for _ in range(4):
        assert submit(librarian_api).status_code == 201


def test_once_the_hour_has_passed_submissions_are_taken_again(anonymous, library_card, clock):
    for _ in range(2):
        submit(anonymous)
    assert submit(anonymous).status_code == 429
    clock.at += 3600
    assert submit(anonymous).status_code == 201


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(anonymous, library_card, clock):
    for spoofed in ("192.0.2.1", "192.0.2.2"):
        assert submit(anonymous, forwarded_for=spoofed).status_code == 201
    # A new made-up address per request does not buy more submissions.
    assert submit(anonymous, forwarded_for="192.0.2.3").status_code == 429


def test_with_one_trusted_proxy_the_address_it_saw_is_counted(anonymous, library_card, clock, settings):
    settings.CIVICFLOW_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for _ in range(2):
        assert submit(anonymous, proxy, forwarded_for="6.6.6.6, 203.0.113.9").status_code == 201
    # What the client itself put further left does not matter; the address our proxy saw does.
    assert submit(anonymous, proxy, forwarded_for="7.7.7.7, 203.0.113.9").status_code == 429
    assert submit(anonymous, proxy, forwarded_for="203.0.113.10").status_code == 201


def test_zero_turns_the_limit_off(anonymous, library_card, clock, settings):
    settings.CIVICFLOW_ANONYMOUS_SUBMISSIONS_PER_HOUR = 0
    for _ in range(4):
        assert submit(anonymous).status_code == 201


def test_the_openapi_document_lists_429_for_submissions(anonymous):
    operation = anonymous.get("schema").json()["paths"]["/api/v1/programs/{slug}/submissions"]["post"]
    assert "429" in operation["responses"]
