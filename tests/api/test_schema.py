"""The OpenAPI document describes every route, and the docs page needs nothing from the internet."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.urls import get_resolver

from workflows.api import urls as api_urls


@pytest.mark.django_db
def test_the_openapi_document_is_json_version_3_1_and_lists_every_route(anonymous):
    response = anonymous.get("schema")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.1.")
    # Every endpoint route of workflows/api/urls.py, written the OpenAPI way ({slug}, {task_id}, {public_id}).
    routes = {
        "/api/v1/" + re.sub(r"<(?:slug|int|uuid):(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in api_urls.urlpatterns
        if pattern.name not in {"schema", "docs", "not_found"}
    }
    assert set(document["paths"]) == routes
    assert document["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from civicflow createuser --token",
    }
    submit = document["paths"]["/api/v1/programs/{slug}/submissions"]["post"]
    assert {"200", "201", "409", "422"} <= set(submit["responses"])
    cases = document["paths"]["/api/v1/cases"]["get"]
    assert {"program", "status", "reference", "submitted_after", "submitted_before", "cursor", "limit"} <= {
        parameter["name"] for parameter in cases["parameters"]
    }
    assert get_resolver().resolve("/api/v1/schema").url_name == "schema"


@pytest.mark.django_db
def test_the_docs_page_lists_the_endpoints_and_loads_nothing_from_elsewhere(anonymous):
    response = anonymous.get("docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/v1/programs/{slug}/submissions" in page
    assert "/api/v1/tasks/{task_id}/complete" in page
    assert re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', page) == []  # nothing from another host


def test_the_openapi_document_is_generated_without_warnings_and_validates(tmp_path):
    # --fail-on-warn: a naming collision or an undescribed field would make clients' generated code guess.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.1.0")
