"""The task routes: the inbox's permission rules, and the services' refusals as HTTP statuses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.api.conftest import ANSWERS, assert_problem
from workflows import services
from workflows.models import Case, Task


@pytest.fixture
def review(library_card) -> Task:
    """The open review task of a freshly submitted library-card application."""
    case = services.case_submit(program=library_card, data=ANSWERS, user=AnonymousUser())
    return Task.objects.get(case=case, status=Task.Status.OPEN)


@pytest.mark.django_db
def test_available_tasks_are_the_unassigned_ones_for_your_roles(review, librarian_api):
    response = librarian_api.get("tasks?scope=available")
    assert response.status_code == 200
    [task] = response.json()
    assert task["id"] == review.pk
    assert task["case"] == str(review.case.public_id)
    assert task["case_reference"] == review.case.reference
    assert (task["program"], task["program_title"], task["step"], task["role"]) == (
        "library-card",
        "Library card",
        "review",
        "librarian",
    )
    assert (task["status"], task["assignee"]) == ("open", None)
    assert task["outcomes"] == ["approve", "deny", "ask_for_proof"]
    assert librarian_api.get("tasks?scope=mine").json() == []
    assert librarian_api.get("tasks").json() == []  # mine is the default


@pytest.mark.django_db
def test_an_unknown_scope_is_a_422_pointing_at_it(librarian_api):
    body = assert_problem(librarian_api.get("tasks?scope=everything"), 422, "invalid_request")
    assert [error["pointer"] for error in body["errors"]] == ["/scope"]


@pytest.mark.django_db
def test_an_account_without_a_role_is_refused_with_403(review, no_role_api):
    assert_problem(no_role_api.get("tasks"), 403, "not_allowed")
    assert_problem(no_role_api.post(f"tasks/{review.pk}/claim"), 403, "not_allowed")


@pytest.mark.django_db
def test_another_roles_task_is_a_404_as_if_it_did_not_exist(review, auditor_api):
    assert auditor_api.get("tasks?scope=available").json() == []
    assert_problem(auditor_api.post(f"tasks/{review.pk}/claim"), 404, "not_found")
    assert_problem(auditor_api.post("tasks/999999/claim"), 404, "not_found")
    review.refresh_from_db()
    assert review.assignee is None


@pytest.mark.django_db
def test_claim_release_and_complete_answer_with_the_task(review, librarian, librarian_api):
    claimed = librarian_api.post(f"tasks/{review.pk}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["assignee"] == librarian.username
    assert [task["id"] for task in librarian_api.get("tasks?scope=mine").json()] == [review.pk]

    released = librarian_api.post(f"tasks/{review.pk}/release")
    assert (released.status_code, released.json()["assignee"]) == (200, None)

    librarian_api.post(f"tasks/{review.pk}/claim")
    done = librarian_api.post(f"tasks/{review.pk}/complete", {"outcome": "approve"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["outcome"], done.json()["outcomes"]) == ("completed", "approve", [])
    assert Case.objects.get().outcome == "approved"


@pytest.mark.django_db
def test_state_fields_in_a_request_are_not_written(review, librarian_api):
    librarian_api.post(f"tasks/{review.pk}/claim")
    body = {"outcome": "deny", "status": "open", "assignee": "omar", "role": "auditor", "case": "x"}
    done = librarian_api.post(f"tasks/{review.pk}/complete", body)
    assert (done.json()["status"], done.json()["role"], done.json()["assignee"]) == ("completed", "librarian", "lena")


@pytest.mark.django_db
def test_a_task_claimed_by_someone_else_is_a_409(review, librarian_api, other_librarian_api):
    assert librarian_api.post(f"tasks/{review.pk}/claim").status_code == 200
    assert_problem(other_librarian_api.post(f"tasks/{review.pk}/claim"), 409, "conflict")
    assert_problem(other_librarian_api.post(f"tasks/{review.pk}/release"), 409, "conflict")


@pytest.mark.django_db
def test_deciding_a_task_not_assigned_to_you_is_a_403(review, librarian_api):
    assert_problem(librarian_api.post(f"tasks/{review.pk}/complete", {"outcome": "approve"}), 403, "not_allowed")


@pytest.mark.django_db
def test_acting_on_a_task_no_longer_open_is_a_409(review, librarian_api):
    librarian_api.post(f"tasks/{review.pk}/claim")
    librarian_api.post(f"tasks/{review.pk}/complete", {"outcome": "approve"})
    body = assert_problem(librarian_api.post(f"tasks/{review.pk}/claim"), 409, "conflict")
    assert "already been completed" in body["detail"]
    assert_problem(librarian_api.post(f"tasks/{review.pk}/complete", {"outcome": "deny"}), 409, "conflict")


@pytest.mark.django_db
def test_a_decision_without_an_outcome_or_with_an_unknown_one_is_a_422(review, librarian_api):
    librarian_api.post(f"tasks/{review.pk}/claim")
    missing = assert_problem(librarian_api.post(f"tasks/{review.pk}/complete", {"data": []}), 422, "invalid_request")
    assert {(error["pointer"], error["code"]) for error in missing["errors"]} == {
        ("/outcome", "required"),
        ("/data", "not_a_dict"),
    }
    unknown = librarian_api.post(f"tasks/{review.pk}/complete", {"outcome": "shrug"})
    assert_problem(unknown, 422, "refused")
    review.refresh_from_db()
    assert review.status == Task.Status.OPEN


@pytest.mark.django_db
def test_task_routes_take_post_only(review, librarian_api):
    assert_problem(librarian_api.get(f"tasks/{review.pk}/claim"), 405, "method_not_allowed")


@pytest.mark.django_db
def test_reassign_gives_the_task_to_another_holder_of_its_role(review, librarian_api, other_librarian):
    response = librarian_api.post(f"tasks/{review.pk}/reassign", {"to": other_librarian.username, "role": "auditor"})
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["role"]) == ("omar", "librarian")
    review.refresh_from_db()
    assert review.assignee == other_librarian


@pytest.mark.django_db
def test_reassigning_to_the_current_assignee_or_a_decided_task_is_a_409(review, librarian_api, other_librarian):
    librarian_api.post(f"tasks/{review.pk}/reassign", {"to": "omar"})
    assert_problem(librarian_api.post(f"tasks/{review.pk}/reassign", {"to": "omar"}), 409, "conflict")
    librarian_api.post(f"tasks/{review.pk}/reassign", {"to": "lena"})
    librarian_api.post(f"tasks/{review.pk}/complete", {"outcome": "approve"})
    assert_problem(librarian_api.post(f"tasks/{review.pk}/reassign", {"to": "omar"}), 409, "conflict")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"to": "nobody"}, "refused", "there is no active user named 'nobody'"),
        ({"to": "audrey"}, "refused", "audrey is not a librarian"),
        ({"to": "  "}, "invalid_request", "1 problem(s) found"),
        ({}, "invalid_request", "1 problem(s) found"),
        ({"to": "x" * 151}, "invalid_request", "1 problem(s) found"),
    ],
)
def test_reassigning_to_someone_who_cannot_take_it_is_a_422(review, auditor, librarian_api, body, code, says):
    problem = assert_problem(librarian_api.post(f"tasks/{review.pk}/reassign", body), 422, code)
    assert says in problem["detail"]
    review.refresh_from_db()
    assert review.assignee is None


@pytest.mark.django_db
def test_reassign_is_refused_without_a_role_and_hidden_from_another_role(review, no_role_api, auditor_api):
    assert_problem(no_role_api.post(f"tasks/{review.pk}/reassign", {"to": "lena"}), 403, "not_allowed")
    assert_problem(auditor_api.post(f"tasks/{review.pk}/reassign", {"to": "audrey"}), 404, "not_found")
