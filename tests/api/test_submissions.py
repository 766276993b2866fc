"""POST /api/v1/programs/{slug}/submissions: a case on the API channel, every answer problem at once."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from tests.api.conftest import ANSWERS, assert_problem
from workflows.models import Case

SUBMIT = "programs/library-card/submissions"


@pytest.mark.django_db
def test_a_valid_submission_opens_a_case_on_the_api_channel(library_card, anonymous):
    response = anonymous.post(SUBMIT, ANSWERS)
    assert response.status_code == 201
    case = Case.objects.get()
    assert response.json() == {"case": str(case.public_id), "reference": case.reference, "status": "running"}
    assert case.channel == "api"
    assert case.submitted_by is None


@pytest.mark.django_db
def test_a_system_with_a_token_submits_as_its_account(library_card, librarian, librarian_api):
    assert librarian_api.post(SUBMIT, ANSWERS).status_code == 201
    assert Case.objects.get().submitted_by == librarian


@pytest.mark.django_db
def test_every_answer_problem_comes_back_with_its_pointer(library_card, anonymous):
    answers = {**ANSWERS, "email": "not an address", "delivery": "drone", "address": {"line1": "12 Harbor Street"}}
    del answers["full_name"]
    body = assert_problem(anonymous.post(SUBMIT, answers), 422, "invalid_submission")
    found = {(error["pointer"], error["code"]) for error in body["errors"]}
    assert {pointer for pointer, _ in found} >= {"/full_name", "/email", "/delivery", "/address/city", "/address/zip"}
    assert {("/full_name", "required"), ("/email", "invalid_format"), ("/address/zip", "required")} <= found
    assert all(error["message"] for error in body["errors"])
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_repeat_with_the_same_idempotency_key_returns_the_first_case(library_card, anonymous):
    first = anonymous.post(SUBMIT, ANSWERS, **{"Idempotency-Key": "partner-7f3a"})
    again = anonymous.post(SUBMIT, ANSWERS, **{"Idempotency-Key": "partner-7f3a"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_different_answers_is_a_409(library_card, anonymous):
    anonymous.post(SUBMIT, ANSWERS, **{"Idempotency-Key": "partner-7f3a"})
    changed = {**ANSWERS, "full_name": "Someone Else"}
    assert_problem(anonymous.post(SUBMIT, changed, **{"Idempotency-Key": "partner-7f3a"}), 409, "conflict")
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_an_overlong_idempotency_key_is_refused(library_card, anonymous):
    response = anonymous.post(SUBMIT, ANSWERS, **{"Idempotency-Key": "k" * 201})
    assert_problem(response, 400, "idempotency_key_too_long")


@pytest.mark.django_db
def test_an_unknown_or_unpublished_program_is_a_404(library_card, anonymous):
    assert_problem(anonymous.post("programs/no-such-program/submissions", ANSWERS), 404, "not_found")
    library_card.current_version = None  # known, but with no version taking applications
    library_card.save()
    assert_problem(anonymous.post(SUBMIT, ANSWERS), 404, "not_found")


@pytest.mark.django_db
def test_malformed_json_is_a_400(library_card, anonymous):
    assert_problem(anonymous.post(SUBMIT, raw=b'{"full_name": "Ana",'), 400, "malformed_body")
    assert_problem(anonymous.post(SUBMIT, raw=b"\xff\xfe"), 400, "malformed_body")


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_a_400(library_card, anonymous):
    assert_problem(anonymous.post(SUBMIT, ["Ana Lima"]), 400, "not_an_object")


@pytest.mark.django_db
def test_a_body_nested_100000_deep_is_a_400_not_a_500(library_card, anonymous):
    deep = b"[" * 100_000 + b"]" * 100_000
    assert_problem(anonymous.post(SUBMIT, raw=deep), 400, "body_too_deep")
    deep_but_decodable = json.dumps({"full_name": json.loads("[" * 200 + "]" * 200)}).encode()
    assert_problem(anonymous.post(SUBMIT, raw=deep_but_decodable), 400, "body_too_deep")


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_body_over_the_size_limit_is_a_413(library_card, anonymous):
    big = {**ANSWERS, "full_name": "x" * 20_000}
    body = assert_problem(anonymous.post(SUBMIT, big), 413, "body_too_large")
    assert "10,000" in body["detail"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_browser_on_another_site_cannot_submit(library_card, anonymous):
    response = anonymous.post(SUBMIT, ANSWERS, Origin="https://evil.example")
    assert_problem(response, 403, "origin_not_allowed")
    assert_problem(anonymous.post(SUBMIT, ANSWERS, Origin="null"), 403, "origin_not_allowed")
    assert_problem(anonymous.post(SUBMIT, ANSWERS, **{"Sec-Fetch-Site": "cross-site"}), 403, "origin_not_allowed")
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_site_itself_and_the_allowed_origins_can_submit(library_card, anonymous):
    assert anonymous.post(SUBMIT, ANSWERS, Origin="http://testserver").status_code == 201
    with override_settings(CIVICFLOW_API_ALLOWED_ORIGINS=["https://kiosk.example.gov"]):
        assert anonymous.post(SUBMIT, ANSWERS, Origin="https://kiosk.example.gov").status_code == 201
    assert Case.objects.count() == 2
