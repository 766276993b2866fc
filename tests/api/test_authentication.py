"""Bearer tokens for systems, sessions (with CSRF) for browsers; a bad token is never anonymous."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import ANSWERS, Api, assert_problem, token_for
from workflows import services
from workflows.models import ApiToken


@pytest.mark.django_db
def test_an_unknown_token_is_refused_with_401_and_says_how_to_authenticate(library_card):
    response = Api("cfk_not-a-real-token").get("programs")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="civicflow"'


@pytest.mark.django_db
def test_a_revoked_token_is_refused_even_where_anonymous_callers_are_welcome(library_card, librarian):
    secret = token_for(librarian)
    assert Api(secret).get("programs").status_code == 200
    services.api_token_revoke(token_id=ApiToken.objects.get(user=librarian).pk)
    response = Api(secret).post("programs/library-card/submissions", ANSWERS)
    assert_problem(response, 401, "not_authenticated")


@pytest.mark.django_db
def test_a_malformed_authorization_header_is_refused(librarian):
    response = Api().get("tasks", Authorization="Bearer two words")
    assert_problem(response, 401, "not_authenticated")


@pytest.mark.django_db
def test_only_the_hash_of_a_token_is_stored_and_its_use_is_noted(librarian, librarian_api):
    stored = ApiToken.objects.get(user=librarian)
    assert librarian_api.token not in stored.token_hash
    assert librarian_api.token.startswith("cfk_")
    assert stored.last_used_at is None
    assert librarian_api.get("tasks").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.django_db
def test_staff_routes_need_authentication(anonymous):
    response = anonymous.get("tasks")
    assert_problem(response, 401, "not_authenticated")
    assert "Bearer" in response["WWW-Authenticate"]


@pytest.mark.django_db
def test_a_browser_session_works_and_its_writes_need_the_csrf_token(library_card, librarian):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(librarian)
    assert browser.get("/api/v1/tasks").status_code == 200
    services.case_submit(program=library_card, data=ANSWERS, user=librarian)
    task_id = browser.get("/api/v1/tasks?scope=available").json()[0]["id"]
    refused = browser.post(f"/api/v1/tasks/{task_id}/claim")
    body = assert_problem(refused, 403, "not_allowed")
    assert "CSRF" in body["detail"]
