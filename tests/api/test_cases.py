"""The case routes: who sees which cases, keyset pages, filters, masked answers, the access log and history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from tests.api.conftest import ANSWERS, Api, assert_problem, token_for
from tests.conftest import DEFINITIONS, make_user
from workflows import privacy, programs, services
from workflows.models import AccessLog, Case, Program, Task

HIDDEN = f"{privacy.MASK} hidden"


def publish_reading_room() -> Program:
    """A second program, staffed by archivists, whose privacy rules let nobody reveal sensitive answers."""
    files = {
        name: text.replace("librarian", "archivist")
        .replace("id: library-card", "id: reading-room")
        .replace("reference prefix: LC", "reference prefix: RR")
        .replace("sensitive fields seen by: [archivist]", "sensitive fields seen by: []")
        for name, text in programs.read_folder(DEFINITIONS / "library-card").items()
    }
    services.definition_publish(files=files, folder="reading-room")
    return Program.objects.get(slug="reading-room")


@pytest.fixture
def reading_room(library_card) -> Program:
    return publish_reading_room()


@pytest.fixture
def archivist_api(db) -> Api:
    return Api(token_for(make_user("arthur", "archivist")))


def submit(program: Program, **changes) -> Case:
    return services.case_submit(program=program, data={**ANSWERS, **changes}, user=AnonymousUser())


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [case["id"] for case in response.json()["results"]]


# -------------------------------------------------------------------- who may list and read


@pytest.mark.django_db
def test_the_case_routes_need_authentication(library_card, anonymous):
    case = submit(library_card)
    for path in ("cases", f"cases/{case.public_id}", f"cases/{case.public_id}/events"):
        response = anonymous.get(path)
        assert_problem(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == 'Bearer realm="civicflow"'


@pytest.mark.django_db
def test_an_account_without_a_staff_role_is_refused_even_for_its_own_case(library_card):
    citizen = make_user("cara")
    case = services.case_submit(program=library_card, data=ANSWERS, user=citizen)
    api = Api(token_for(citizen))
    for path in ("cases", f"cases/{case.public_id}", f"cases/{case.public_id}/events"):
        assert_problem(api.get(path), 403, "not_allowed")
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_staff_see_only_their_programs_cases(reading_room, library_card, librarian_api, archivist_api):
    ours = submit(library_card)
    theirs = submit(reading_room)
    assert ids(librarian_api.get("cases")) == [str(ours.public_id)]
    assert ids(archivist_api.get("cases")) == [str(theirs.public_id)]
    # Another program's case is answered as if it did not exist (T7), and nothing is logged.
    assert_problem(librarian_api.get(f"cases/{theirs.public_id}"), 404, "not_found")
    assert_problem(librarian_api.get(f"cases/{theirs.public_id}/events"), 404, "not_found")
    assert_problem(librarian_api.get("cases/00000000-0000-4000-8000-000000000000"), 404, "not_found")
    assert_problem(librarian_api.get("cases/not-a-uuid"), 404, "not_found")
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_an_auditor_lists_no_cases_but_reads_any_cases_history(library_card, auditor_api):
    case = submit(library_card)
    assert ids(auditor_api.get("cases")) == []
    assert_problem(auditor_api.get(f"cases/{case.public_id}"), 404, "not_found")
    events = auditor_api.get(f"cases/{case.public_id}/events")
    assert events.status_code == 200
    assert [event["kind"] for event in events.json()["results"]][:2] == ["submitted", "case_started"]


# -------------------------------------------------------------------- pages and filters


@pytest.mark.django_db
def test_pages_cover_every_case_once_newest_first_even_with_equal_times(library_card, librarian_api):
    cases = [submit(library_card) for _ in range(7)]
    # Three cases submitted at the same instant: the primary key keeps the order total.
    same = timezone.now() - timedelta(days=1)
    Case.objects.filter(pk__in=[cases[1].pk, cases[2].pk, cases[3].pk]).update(submitted_at=same)
    expected = [str(case.public_id) for case in Case.objects.order_by("-submitted_at", "-pk")]
    seen: list[str] = []
    pages = 0
    path = "cases?limit=3"
    while path:
        response = librarian_api.get(path)
        seen += ids(response)
        pages += 1
        following = response.json()["next"]
        path = following.removeprefix("/api/v1/") if following else ""
        # A case submitted while paging is newer than every cursor: it shifts no page.
        if pages == 1:
            submit(library_card)
    assert (pages, seen) == (3, expected)


@pytest.mark.django_db
def test_the_next_link_keeps_the_filters(library_card, librarian_api):
    for _ in range(3):
        submit(library_card)
    first = librarian_api.get("cases?limit=2&status=running")
    assert first.json()["next"].startswith("/api/v1/cases?limit=2&status=running&cursor=")
    last = librarian_api.get(first.json()["next"].removeprefix("/api/v1/"))
    assert (len(ids(last)), last.json()["next"]) == (1, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("limit=101", "/limit"),
        ("limit=0", "/limit"),
        ("cursor=bm90IGEgY3Vyc29y", "/cursor"),
        ("cursor=%%%", "/cursor"),
        ("cursor=MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "/cursor"),
        ("status=pending", "/status"),
        ("submitted_after=yesterday", "/submitted_after"),
        ("program=not%20a%20slug", "/program"),
    ],
)
def test_bad_paging_or_filter_parameters_are_a_422_pointing_at_them(library_card, librarian_api, query, pointer):
    body = assert_problem(librarian_api.get(f"cases?{query}"), 422, "invalid_request")
    assert [error["pointer"] for error in body["errors"]] == [pointer]


@pytest.mark.django_db
def test_filters_narrow_the_list(reading_room, library_card, librarian, librarian_api):
    old, new = submit(library_card), submit(library_card)
    Case.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=10))
    task = Task.objects.get(case=new)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="approve", data={})
    a_week_ago = (timezone.now() - timedelta(days=7)).isoformat()
    assert ids(librarian_api.get("cases?status=closed")) == [str(new.public_id)]
    assert ids(librarian_api.get("cases?status=running")) == [str(old.public_id)]
    assert ids(librarian_api.get(f"cases?reference={old.reference}")) == [str(old.public_id)]
    assert ids(librarian_api.get(f"cases?submitted_after={a_week_ago.replace('+', '%2B')}")) == [str(new.public_id)]
    assert ids(librarian_api.get(f"cases?submitted_before={a_week_ago.replace('+', '%2B')}")) == [str(old.public_id)]
    assert len(ids(librarian_api.get("cases?program=library-card"))) == 2
    assert ids(librarian_api.get("cases?program=reading-room")) == []  # not theirs: filters never widen


# -------------------------------------------------------------------- one case


@pytest.mark.django_db
def test_a_case_shows_its_state_open_tasks_and_masked_answers_and_is_logged(library_card, librarian, librarian_api):
    case = submit(library_card)
    task = Task.objects.get(case=case)
    response = librarian_api.get(f"cases/{case.public_id}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert (body["id"], body["reference"], body["program"], body["status"], body["channel"]) == (
        str(case.public_id),
        case.reference,
        "library-card",
        "running",
        "online",
    )
    assert body["version"] == case.version.content_hash
    assert (body["outcome"], body["priority"], body["closed_at"]) == ("", "normal", None)
    assert body["events_url"] == f"/api/v1/cases/{case.public_id}/events"
    assert body["open_tasks"] == [
        {"id": task.pk, "step": "review", "role": "librarian", "assignee": None, "due_at": None}
    ]
    # Librarians may reveal the proof of address, but only on the task page: here it is masked.
    assert body["answers"]["proof_of_address"] == HIDDEN
    assert body["answers"]["full_name"] == ANSWERS["full_name"]
    assert ANSWERS["proof_of_address"] not in response.content.decode()
    [row] = AccessLog.objects.all()
    assert (row.user, row.case, row.action, row.detail) == (librarian, case, "viewed", {"api": True})


def session_client(user, case: Case, revealed: list[str]) -> Client:
    """A signed-in browser that revealed ``revealed`` answers of the case on the task page a moment ago."""
    client = Client()
    client.force_login(user)
    session = client.session
    privacy.remember_revealed(session, case.pk, revealed, timezone.now())
    session.save()
    return client


@pytest.mark.django_db
def test_an_answer_revealed_on_the_task_page_shows_in_the_same_session_only_to_entitled_roles(
    reading_room, library_card, librarian
):
    ours = submit(library_card)
    client = session_client(librarian, ours, ["proof_of_address"])
    shown = client.get(f"/api/v1/cases/{ours.public_id}").json()
    assert shown["answers"]["proof_of_address"] == ANSWERS["proof_of_address"]
    # The same librarian through a token (no session, so nothing revealed): masked.
    assert Api(token_for(librarian)).get(f"cases/{ours.public_id}").json()["answers"]["proof_of_address"] == HIDDEN

    # An archivist's program lets nobody reveal: even a session claiming a reveal gets the mask.
    theirs = submit(reading_room)
    archivist = make_user("arthur", "archivist")
    client = session_client(archivist, theirs, ["proof_of_address"])
    assert client.get(f"/api/v1/cases/{theirs.public_id}").json()["answers"]["proof_of_address"] == HIDDEN


# -------------------------------------------------------------------- history


@pytest.mark.django_db
def test_the_history_is_paged_oldest_first_with_its_actors(library_card, librarian, librarian_api):
    case = submit(library_card)
    task = Task.objects.get(case=case)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="approve", data={})
    whole = list(case.events.order_by("at", "pk").values_list("kind", flat=True))
    seen: list[dict[str, Any]] = []
    path = f"cases/{case.public_id}/events?limit=2"
    while path:
        response = librarian_api.get(path)
        assert response.status_code == 200
        seen += response.json()["results"]
        path = (response.json()["next"] or "").removeprefix("/api/v1/")
    assert [event["kind"] for event in seen] == whole
    assert (seen[0]["actor"], seen[0]["detail"]) == (None, {"channel": "online"})
    claimed = next(event for event in seen if event["kind"] == "task_claimed")
    assert (claimed["actor"], claimed["detail"]["step"]) == ("lena", "review")
    assert not AccessLog.objects.exists()  # the history holds no answers
