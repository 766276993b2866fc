"""/api/v1/my/: a citizen's own applications and messages, and who counts as the applicant.

The library card's review can ask for a new proof of address (a file); "library-card-text" is
the same program asking for it as text, so it can be answered through the API.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from tests.api.conftest import ANSWERS, Api, assert_problem, token_for
from tests.conftest import make_user
from workflows import applicants, services
from workflows.models import Case, CaseEvent, Notice, Program, RoleGrant, Task

pytestmark = pytest.mark.django_db

CSRF_SECRET = "A" * 32  # a CSRF cookie value Django accepts; the test sends the same in the header


@pytest.fixture
def citizen() -> User:
    return make_user("cara")


@pytest.fixture
def citizen_api(citizen) -> Api:
    return Api(token_for(citizen))


def submit_through_api(api: Api, program: Program) -> Case:
    response = api.post(f"programs/{program.slug}/submissions", ANSWERS)
    assert response.status_code == 201, response.content
    return Case.objects.get(public_id=response.json()["case"])


def ask_for_proof(case: Case, librarian: User) -> None:
    task = Task.objects.get(case=case, status=Task.Status.OPEN)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="ask_for_proof")


def request_id(api: Api, case: Case) -> int:
    [request] = api.get(f"my/cases/{case.public_id}").json()["open_requests"]
    return int(request["id"])


# -------------------------------------------------------------------- who is the applicant


def test_a_citizen_who_submits_through_the_api_with_their_token_is_its_applicant(library_card, citizen, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    assert case.channel == Case.Channel.API
    listed = citizen_api.get("my/cases").json()["results"]
    assert [row["reference"] for row in listed] == [case.reference]
    # The web pages follow the same rule: the case is on "Your applications" and opens.
    browser = Client()
    browser.force_login(citizen)
    assert case.reference in browser.get(reverse("my_applications")).text
    assert browser.get(reverse("my_application", args=[case.public_id])).status_code == 200


def test_a_citizen_signed_in_in_the_browser_who_submits_through_the_api_is_its_applicant(library_card, citizen):
    browser = Client()
    browser.force_login(citizen)
    response = browser.post(
        "/api/v1/programs/library-card/submissions", data=json.dumps(ANSWERS), content_type="application/json"
    )
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.channel, case.submitted_by) == (Case.Channel.API, citizen)
    assert applicants.is_applicant(case, citizen)
    assert browser.get("/api/v1/my/cases").json()["results"][0]["reference"] == case.reference


def test_a_case_a_staff_account_submits_through_the_api_is_never_theirs(library_card, librarian, librarian_api):
    case = submit_through_api(librarian_api, library_card)
    assert case.submitted_by == librarian
    assert not applicants.is_applicant(case, librarian)
    assert not applicants.cases_of(librarian).exists()
    assert applicants.applicant_account(case) is None
    browser = Client()
    browser.force_login(librarian)
    assert case.reference not in browser.get(reverse("my_applications")).text
    assert browser.get(reverse("my_application", args=[case.public_id])).status_code == 404
    # Its notices go to nobody's message centre: not to the librarian who submitted it.
    ask_for_proof(case, librarian)
    assert Notice.objects.filter(case=case, to="citizen").exists()
    assert not Notice.objects.filter(recipient=librarian).exists()


def test_a_citizens_api_case_sends_its_notices_to_their_account(library_card, librarian, citizen, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    ask_for_proof(case, librarian)
    assert Notice.objects.get(case=case, to="citizen").recipient == citizen


def test_online_and_assisted_cases_keep_their_rule(library_card, librarian, citizen):
    online = services.case_submit(program=library_card, data=ANSWERS, user=citizen)
    at_the_counter = services.case_submit(
        program=library_card, data=ANSWERS, user=librarian, channel=Case.Channel.COUNTER, on_behalf_of="Ana Lima"
    )
    # Online is the submitter's, whatever roles they hold; assisted is never the staff member's.
    assert applicants.is_applicant(online, citizen)
    assert not applicants.is_applicant(at_the_counter, librarian)
    RoleGrant.objects.create(user=citizen, role="librarian", agency="city-library")
    assert applicants.is_applicant(online, citizen)
    assert list(applicants.cases_of(citizen)) == [online]


def test_an_api_case_stops_being_theirs_once_the_account_holds_a_role(library_card, librarian, citizen, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    RoleGrant.objects.create(user=citizen, role="librarian", agency="city-library")
    assert not applicants.is_applicant(case, citizen)
    assert not applicants.cases_of(citizen).exists()


# -------------------------------------------------------------------- who may call


MY_ROUTES = ("my/cases", "my/messages")


@pytest.mark.parametrize("path", MY_ROUTES)
def test_anonymous_callers_are_asked_to_authenticate(anonymous, path):
    response = anonymous.get(path)
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", MY_ROUTES)
def test_staff_accounts_are_refused_with_a_clear_message(librarian_api, path):
    body = assert_problem(librarian_api.get(path), 403, "staff_account")
    assert "staff role" in body["detail"]


def test_staff_cannot_withdraw_a_case_through_the_citizen_routes(library_card, citizen_api, librarian_api):
    case = submit_through_api(citizen_api, library_card)
    assert_problem(librarian_api.post(f"my/cases/{case.public_id}/withdraw", {}), 403, "staff_account")
    assert Case.objects.get(pk=case.pk).status == Case.Status.RUNNING


def test_an_unknown_token_is_refused(anonymous):
    anonymous.token = "not-a-token"
    assert_problem(anonymous.get("my/cases"), 401, "not_authenticated")


def test_session_callers_must_send_the_csrf_token(library_card, citizen, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    assert browser.get("/api/v1/my/cases").status_code == 200
    path = f"/api/v1/my/cases/{case.public_id}/withdraw"
    refused = browser.post(path, data="{}", content_type="application/json")
    assert_problem(refused, 403, "not_allowed")
    assert "CSRF" in refused.json()["detail"]
    browser.cookies["csrftoken"] = CSRF_SECRET
    done = browser.post(path, data="{}", content_type="application/json", headers={"X-CSRFToken": CSRF_SECRET})
    assert done.status_code == 200
    assert done.json()["outcome"] == "withdrawn"


# -------------------------------------------------------------------- my cases


def test_my_cases_lists_only_mine_newest_first_a_page_at_a_time(library_card, citizen_api, no_role_api):
    first = submit_through_api(citizen_api, library_card)
    second = submit_through_api(citizen_api, library_card)
    someone_elses = submit_through_api(no_role_api, library_card)
    page = citizen_api.get("my/cases?limit=1").json()
    assert [row["reference"] for row in page["results"]] == [second.reference]
    assert page["next"]
    rest = citizen_api.get(page["next"].removeprefix("/api/v1/")).json()
    assert [row["reference"] for row in rest["results"]] == [first.reference]
    assert rest["next"] is None
    row = rest["results"][0]
    assert row["program"] == "library-card"
    assert row["program_title"] == "Library card"
    assert row["status"] == "running"
    assert row["waiting_for_you"] is False
    assert row["url"] == f"/api/v1/my/cases/{first.public_id}"
    assert someone_elses.reference not in json.dumps(page) + json.dumps(rest)


def test_a_broken_cursor_or_limit_is_a_422_with_its_pointer(citizen_api):
    body = assert_problem(citizen_api.get("my/cases?limit=0"), 422, "invalid_request")
    assert [(error["pointer"], error["code"]) for error in body["errors"]] == [("/limit", "min_value")]
    body = assert_problem(citizen_api.get("my/messages?cursor=bm90IGEgY3Vyc29y"), 422, "invalid_request")
    assert [error["pointer"] for error in body["errors"]] == ["/cursor"]


def test_someone_elses_case_is_not_found(library_card, citizen_api, no_role_api):
    case = submit_through_api(no_role_api, library_card)
    assert_problem(citizen_api.get(f"my/cases/{case.public_id}"), 404, "not_found")
    assert_problem(citizen_api.post(f"my/cases/{case.public_id}/withdraw", {}), 404, "not_found")
    assert_problem(citizen_api.post(f"my/cases/{case.public_id}/requests/1/response", {}), 404, "not_found")
    assert Case.objects.get(pk=case.pk).status == Case.Status.RUNNING


def test_a_case_shows_what_the_applicants_page_shows_and_no_staff_notes(library_card, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    task = Task.objects.get(case=case)
    services.case_add_note(task_id=task.pk, user=librarian, text="Caller sounded unsure; check the lease.")
    response = citizen_api.get(f"my/cases/{case.public_id}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["reference"] == case.reference
    assert body["status"] == "running"
    assert body["outcome"] == ""
    assert body["closed_at"] is None
    assert [entry["event"] for entry in body["timeline"]] == ["submitted"]
    assert body["open_requests"] == []
    assert body["withdraw_url"] == f"/api/v1/my/cases/{case.public_id}/withdraw"
    text = response.content.decode()
    assert "Caller sounded unsure" not in text
    assert "librarian" not in text  # no roles, tasks or assignees
    assert "lena" not in text
    assert not {"answers", "open_tasks", "events_url", "notes"} & set(body)


def test_an_open_request_comes_with_its_question_schema_and_expiry(library_card, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    ask_for_proof(case, librarian)
    body = citizen_api.get(f"my/cases/{case.public_id}").json()
    assert body["waiting_for_you"] is True
    [request] = body["open_requests"]
    assert request["question"] == "Send a new proof of address"
    assert request["answer_schema"]["required"] == ["proof_of_address"]
    assert set(request["answer_schema"]["properties"]) == {"proof_of_address", "note"}
    assert request["file_questions"] == ["proof_of_address"]
    assert request["expires_at"]
    assert request["response_url"] == f"/api/v1/my/cases/{case.public_id}/requests/{request['id']}/response"
    assert request["web_url"] == reverse("my_application", args=[case.public_id])


def test_the_question_is_in_the_language_of_the_application(library_card, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    Case.objects.filter(pk=case.pk).update(language="zh-Hans")
    ask_for_proof(case, librarian)
    [request] = citizen_api.get(f"my/cases/{case.public_id}").json()["open_requests"]
    assert request["question"] == "提交新的住址证明"


# -------------------------------------------------------------------- answering a request


def test_a_request_that_needs_a_file_is_refused_with_every_problem_at_once(library_card, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    ask_for_proof(case, librarian)
    token = request_id(citizen_api, case)
    path = f"my/cases/{case.public_id}/requests/{token}/response"
    body = assert_problem(citizen_api.post(path, {"note": "x" * 1001}), 422, "invalid_submission")
    found = {(error["pointer"], error["code"]) for error in body["errors"]}
    assert found == {("/proof_of_address", "upload_not_supported"), ("/note", "too_long")}
    assert all(error["message"] for error in body["errors"])
    assert "website" in next(e["message"] for e in body["errors"] if e["pointer"] == "/proof_of_address")
    # An upload reference typed in is not taken either.
    typed = {"proof_of_address": "3f2b8c1e-5d7a-4e1b-9c3d-2a6f8e0b4d71"}
    body = assert_problem(citizen_api.post(path, typed), 422, "invalid_submission")
    assert [error["code"] for error in body["errors"]] == ["upload_not_supported"]
    assert citizen_api.get(f"my/cases/{case.public_id}").json()["waiting_for_you"] is True


def test_answering_a_request_moves_the_case_on_and_a_second_answer_is_a_409(library_card_text, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card_text)
    ask_for_proof(case, librarian)
    token = request_id(citizen_api, case)
    path = f"my/cases/{case.public_id}/requests/{token}/response"
    # A state field in the body is not a question: refused with the other problems, never written.
    body = assert_problem(citizen_api.post(path, {"status": "closed"}), 422, "invalid_submission")
    found = {(error["pointer"], error["code"]) for error in body["errors"]}
    assert found == {("/status", "unexpected_field"), ("/proof_of_address", "required")}
    answered = citizen_api.post(path, {"proof_of_address": "Lease, 12 Harbor Street"})
    assert answered.status_code == 200, answered.content
    assert answered.json()["waiting_for_you"] is False
    assert answered.json()["status"] == "running"
    assert CaseEvent.objects.filter(case=case, kind="citizen_responded").exists()
    assert Task.objects.filter(case=case, status=Task.Status.OPEN, step="review").exists()
    again = assert_problem(citizen_api.post(path, {"proof_of_address": "again"}), 409, "conflict")
    assert "no longer open" in again["detail"]


def test_answering_a_request_that_never_existed_is_a_409(library_card, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    assert_problem(citizen_api.post(f"my/cases/{case.public_id}/requests/99/response", {}), 409, "conflict")


def test_an_answer_that_is_not_an_object_is_a_400(library_card_text, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card_text)
    ask_for_proof(case, librarian)
    path = f"my/cases/{case.public_id}/requests/{request_id(citizen_api, case)}/response"
    assert_problem(citizen_api.post(path, ["a list"]), 400, "not_an_object")
    assert_problem(citizen_api.post(path, raw=b"{not json"), 400, "malformed_body")


def test_an_oversize_answer_is_a_413(library_card_text, librarian, citizen_api):
    case = submit_through_api(citizen_api, library_card_text)
    ask_for_proof(case, librarian)
    path = f"my/cases/{case.public_id}/requests/{request_id(citizen_api, case)}/response"
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000):
        response = citizen_api.post(path, {"proof_of_address": "x" * 2_000})
    assert_problem(response, 413, "body_too_large")
    assert citizen_api.get(f"my/cases/{case.public_id}").json()["waiting_for_you"] is True


# -------------------------------------------------------------------- withdrawing


def test_withdrawing_closes_the_case_and_keeps_the_reason(library_card, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    path = f"my/cases/{case.public_id}/withdraw"
    response = citizen_api.post(path, {"reason": "I moved away.", "outcome": "approved", "status": "running"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"]) == ("closed", "withdrawn")
    assert body["withdraw_url"] is None
    assert [entry["event"] for entry in body["timeline"]] == ["submitted", "closed"]
    assert body["timeline"][1]["outcome"] == "withdrawn"
    event = CaseEvent.objects.get(case=case, kind="case_withdrawn")
    assert (event.actor, event.detail["reason"]) == (case.submitted_by, "I moved away.")
    again = assert_problem(citizen_api.post(path, {}), 409, "conflict")
    assert "already closed" in again["detail"]


def test_a_reason_that_is_too_long_is_a_422_pointing_at_it(library_card, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    body = assert_problem(
        citizen_api.post(f"my/cases/{case.public_id}/withdraw", {"reason": "x" * 2_001}), 422, "invalid_request"
    )
    assert [error["pointer"] for error in body["errors"]] == ["/reason"]
    assert Case.objects.get(pk=case.pk).status == Case.Status.RUNNING


def test_withdrawing_with_no_body_at_all_works(library_card, citizen_api):
    case = submit_through_api(citizen_api, library_card)
    response = citizen_api.post(f"my/cases/{case.public_id}/withdraw", raw=b"")
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "withdrawn"


# -------------------------------------------------------------------- messages


def test_my_messages_lists_mine_and_reading_one_marks_it_read(library_card, librarian, citizen_api, no_role_api):
    case = submit_through_api(citizen_api, library_card)
    ask_for_proof(case, librarian)
    other = submit_through_api(no_role_api, library_card)
    ask_for_proof(other, librarian)
    listed = citizen_api.get("my/messages").json()
    assert listed["next"] is None
    [row] = listed["results"]
    assert row["case_reference"] == case.reference
    assert row["read_at"] is None
    message = citizen_api.get(row["url"].removeprefix("/api/v1/"))
    assert message.status_code == 200
    assert message["Cache-Control"] == "private, no-store"
    body: dict[str, Any] = message.json()
    assert body["subject"] == row["subject"]
    assert "new proof of address" in body["body"]
    assert case.reference in body["body_html"]
    assert "<h1" not in body["body_html"]  # the subject is the reader's heading, as on the message page
    assert body["read_at"] is not None
    assert citizen_api.get("my/messages").json()["results"][0]["read_at"] == body["read_at"]


def test_someone_elses_message_is_not_found(library_card, librarian, citizen_api, no_role_api):
    other = submit_through_api(no_role_api, library_card)
    ask_for_proof(other, librarian)
    notice = Notice.objects.get(case=other, to="citizen")
    assert_problem(citizen_api.get(f"my/messages/{notice.pk}"), 404, "not_found")
    assert_problem(citizen_api.get("my/messages/99999999999999999999"), 404, "not_found")
    assert Notice.objects.get(pk=notice.pk).read_at is None


def test_a_citizen_with_nothing_yet_gets_empty_lists(no_role_api):
    assert no_role_api.get("my/cases").json() == {"results": [], "next": None}
    assert no_role_api.get("my/messages").json() == {"results": [], "next": None}
