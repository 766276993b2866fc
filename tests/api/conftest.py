"""An HTTP client for the API, and a system account holding a bearer token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import DEFINITIONS, make_user
from workflows import programs, services
from workflows.models import Program

ANSWERS: dict[str, Any] = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())


class Api:
    """``django.test.Client`` speaking JSON to /api/v1/, with an optional bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        sent = dict(headers)
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        return sent

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(f"/api/v1/{path}", headers=self._headers(headers))

    def post(self, path: str, body: object = None, *, raw: bytes | None = None, **headers: str) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            f"/api/v1/{path}", data=data, content_type="application/json", headers=self._headers(headers)
        )

    def call(self, method: str, path: str, body: object = None) -> Any:
        """Any method, with a JSON body for those that carry one (the permission walks use it)."""
        if method == "get":
            return self.get(path)
        send = getattr(self.client, method)
        data = json.dumps(body if body is not None else {})
        return send(f"/api/v1/{path}", data=data, content_type="application/json", headers=self._headers({}))


def token_for(user) -> str:
    _, secret = services.api_token_issue(user=user, name="tests")
    return secret


def publish_library_card_without_uploads() -> Program:
    """The library card, as "library-card-text": its request for a new proof asks for text, not a file.

    Files cannot be sent through the API, so a case answered through the API alone needs a
    request that takes none.
    """
    files = programs.read_folder(DEFINITIONS / "library-card")
    proof = json.loads(files["forms/proof.schema.json"])
    for rule in ("x-accept", "x-max-bytes"):
        del proof["properties"]["proof_of_address"][rule]
    files["forms/proof.schema.json"] = json.dumps(proof, indent=2)
    files["program.yaml"] = (
        files["program.yaml"].replace("id: library-card", "id: library-card-text").replace("prefix: LC", "prefix: LT")
    )
    services.definition_publish(files=files, folder="library-card-text")
    return Program.objects.get(slug="library-card-text")


@pytest.fixture
def library_card_text(db) -> Program:
    return publish_library_card_without_uploads()


@pytest.fixture
def anonymous() -> Api:
    return Api()


@pytest.fixture
def librarian_api(librarian) -> Api:
    return Api(token_for(librarian))


@pytest.fixture
def other_librarian_api(other_librarian) -> Api:
    return Api(token_for(other_librarian))


@pytest.fixture
def auditor_api(auditor) -> Api:
    return Api(token_for(auditor))


@pytest.fixture
def no_role_api(db) -> Api:
    return Api(token_for(make_user("nora")))


def assert_problem(response, status: int, code: str) -> dict[str, Any]:
    """The response is problem+json with this status and code; its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:civicflow:problem:{code}"
    assert body["title"]
    assert isinstance(body["detail"], str)
    return body
