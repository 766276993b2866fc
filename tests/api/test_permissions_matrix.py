"""Every route under /api/v1/, for every kind of caller: never a 500, never a 2xx where the caller has no right (T7).

The routes are read from the URL resolver, not listed here, so a new route is walked as soon as
it exists; a route whose parameters this test cannot fill fails it until it learns them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter, UUIDConverter
from rest_framework.permissions import AllowAny

from tests.api.conftest import ANSWERS, Api, token_for
from tests.conftest import make_user
from workflows import services, webhooks
from workflows.api.citizen_views import IsCitizen
from workflows.api.views import HoldsAStaffRole
from workflows.models import Task

CALLERS = ("anonymous", "citizen", "librarian", "agency_admin", "no_role", "designer")
STAFF_CALLERS = ("librarian", "agency_admin", "designer")
DESIGNER_ROUTES = {"definitions_check", "program_versions", "program_version"}
"""Designers only: everyone else is refused (401 anonymous, 403 signed in)."""
ELSEWHERE = "county-clerk"
"""An agency no program of the walk belongs to."""

STAFF = {
    # caller: (role, agency) of its one grant
    "librarian": ("librarian", "city-library"),
    "supervisor": ("supervisor", "city-library"),
    "agency_admin": ("agency_admin", "city-library"),
    "auditor": ("auditor", "city-library"),
    "librarian_elsewhere": ("librarian", ELSEWHERE),
    "supervisor_elsewhere": ("supervisor", ELSEWHERE),
    "agency_admin_elsewhere": ("agency_admin", ELSEWHERE),
    "auditor_elsewhere": ("auditor", ELSEWHERE),
}
"""Every staff role, of the library-card program's agency and of another one."""


def api_routes() -> list[URLPattern]:
    """The named routes of the ``api`` namespace (the catch-all 404 excepted)."""
    [api] = [entry for entry in get_resolver().url_patterns if getattr(entry, "namespace", None) == "api"]
    assert isinstance(api, URLResolver)
    return [route for route in api.url_patterns if isinstance(route, URLPattern) and route.name != "not_found"]


def methods_of(route: URLPattern) -> list[str]:
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    if view_class is None:
        return ["get"]  # a plain function view (the endpoint list page): GET only
    return [method for method in ("get", "post", "put", "patch", "delete") if hasattr(view_class, method)]


def permission_classes_of(route: URLPattern) -> tuple[type, ...]:
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    return tuple(getattr(view_class, "permission_classes", (AllowAny,)))


def staff_only(route: URLPattern) -> bool:
    return HoldsAStaffRole in permission_classes_of(route)


def citizens_only(route: URLPattern) -> bool:
    """The /my/ routes: an account without a role; staff are refused, not shown an empty list."""
    return IsCitizen in permission_classes_of(route)


def test_the_walk_covers_the_routes_it_should():
    names = {route.name for route in api_routes()}
    assert {"cases", "case", "case_events", "task_reassign", "tasks", "submissions", "schema", "docs"} <= names
    assert {"webhooks", "webhook", "webhook_rotate_secret", "webhook_deliveries"} <= names
    assert {"my_cases", "my_case", "my_case_response", "my_case_withdraw", "my_messages", "my_message"} <= names
    assert names >= DESIGNER_ROUTES


@pytest.mark.django_db
def test_no_route_answers_500_or_grants_what_the_caller_may_not_have(library_card, settings):
    citizen = make_user("cara")
    case = services.case_submit(program=library_card, data=ANSWERS, user=citizen)
    task = Task.objects.get(case=case)
    settings.CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS = ["192.0.2.0/24"]  # a documentation range: nothing is sent
    endpoint = webhooks.endpoint_create(
        program=library_card, url="https://192.0.2.1/hooks", events=["case.closed"], created_by=None
    )
    callers: dict[str, Api] = {
        "anonymous": Api(),
        "citizen": Api(token_for(citizen)),  # holds no role, but applied: their own case is in the walk
        "librarian": Api(token_for(make_user("lena", "librarian"))),
        "agency_admin": Api(token_for(make_user("ada", "agency_admin"))),
        "no_role": Api(token_for(make_user("nora"))),
        "designer": Api(token_for(make_user("dana", "designer"))),
    }
    by_converter: dict[type, Any] = {
        SlugConverter: library_card.slug,  # a version's hash too: no such version, a 404
        IntConverter: task.pk,
        UUIDConverter: case.public_id,
    }
    walked = 0
    for route in api_routes():
        converters = route.pattern.converters
        kwargs = {
            name: endpoint.pk if name == "endpoint_id" else by_converter[type(converter)]
            for name, converter in converters.items()
        }
        path = reverse(f"api:{route.name}", kwargs=kwargs).removeprefix("/api/v1/")
        for method in methods_of(route):
            for who in CALLERS:
                api = callers[who]
                # Bodies are an empty object: no route may fail on it with a 500.
                response = api.call(method, path, {})
                outcome = f"{method.upper()} {path} as {who}: {response.status_code}"
                walked += 1
                assert response.status_code < 500, outcome
                if route.name in DESIGNER_ROUTES and who != "designer":
                    expected = 401 if who == "anonymous" else 403
                    assert response.status_code == expected, outcome
                elif route.name in DESIGNER_ROUTES:
                    # The empty object carries no files; the version list is the designer's to read.
                    assert response.status_code == (
                        400 if method == "post" else 200 if route.name == "program_versions" else 404
                    ), outcome
                elif staff_only(route) and who not in STAFF_CALLERS:
                    expected = 401 if who == "anonymous" else 403
                    assert response.status_code == expected, outcome
                if (route.name or "").startswith("webhook") and who != "agency_admin":
                    assert response.status_code >= 400, outcome  # webhooks are the agency admins' alone
                if citizens_only(route):
                    if who == "anonymous":
                        assert response.status_code == 401, outcome
                    elif who in STAFF_CALLERS:
                        assert response.status_code == 403, outcome
                        assert response.json()["code"] == "staff_account", outcome
                    elif who == "no_role" and "public_id" in kwargs:
                        assert response.status_code == 404, outcome  # the citizen's case is not theirs
    assert walked >= len(CALLERS) * 10


@pytest.mark.django_db
def test_staff_of_another_agency_get_404_on_every_object_and_see_nothing_in_lists(library_card):
    """Every route, every staff role, of the same or another agency: another agency's staff learn nothing."""
    citizen = make_user("cara")
    case = services.case_submit(program=library_card, data=ANSWERS, user=citizen)
    task = Task.objects.get(case=case)
    callers = {who: Api(token_for(make_user(who, role, agency=agency))) for who, (role, agency) in STAFF.items()}
    by_converter: dict[type, Any] = {
        SlugConverter: library_card.slug,
        IntConverter: task.pk,
        UUIDConverter: case.public_id,
    }
    walked = 0
    for route in api_routes():
        converters = route.pattern.converters
        kwargs = {name: by_converter[type(converter)] for name, converter in converters.items()}
        path = reverse(f"api:{route.name}", kwargs=kwargs).removeprefix("/api/v1/")
        of_the_case = any(isinstance(converter, (IntConverter, UUIDConverter)) for converter in converters.values())
        for method in methods_of(route):
            for who, (role, agency) in STAFF.items():
                response = callers[who].call(method, path, {})
                outcome = f"{method.upper()} {path} as {who}: {response.status_code}"
                walked += 1
                assert response.status_code < 500, outcome
                if not staff_only(route):
                    continue
                # The webhook routes are the agency admins' and the version routes the designers':
                # 403 to anyone else, whatever the agency (and 422 for the empty body of a registration).
                someone_elses = (route.name or "").startswith("webhook") or route.name in DESIGNER_ROUTES
                if agency == ELSEWHERE:
                    if of_the_case:
                        assert response.status_code in ((403, 404) if someone_elses else (404,)), outcome
                    else:
                        # Lists answer empty.
                        assert response.status_code in ((200, 403, 422) if someone_elses else (200,)), outcome
                        assert str(case.public_id) not in response.text, outcome
                elif of_the_case and method == "post" and role != "librarian" and (route.name or "").startswith("task"):
                    # Only the task's own role acts on it: a supervisor or agency admin sees the task
                    # but may not act (403, or 422 first for the empty body); an auditor does not see it (404).
                    assert response.status_code in ((404,) if role == "auditor" else (403, 422)), outcome
    assert walked >= len(STAFF) * 10
    task.refresh_from_db()
    assert task.status == "open"
    same = {who: callers[who] for who, (_, agency) in STAFF.items() if agency != ELSEWHERE}
    case_path = f"cases/{case.public_id}"
    assert {who: api.get(case_path).status_code for who, api in same.items()} == {
        "librarian": 200,
        "supervisor": 200,
        "agency_admin": 200,
        "auditor": 404,  # an auditor reads histories and access logs, not the answers
    }
    assert {who: api.get(f"{case_path}/events").status_code for who, api in same.items()} == dict.fromkeys(same, 200)
    assert [row["id"] for row in same["supervisor"].get("tasks?scope=team").json()] == [task.pk]
