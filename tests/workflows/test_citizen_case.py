"""The applicant after submitting: "Your applications", a case page, answering a request, withdrawing.

The demo program's review can ask for a new proof of address:

    review --ask_for_proof--> request_proof --answered--> review --approve--> issued
                                           --14 days, no answer--> withdrawn
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import DEFINITIONS, make_user
from tests.workflows.apply_steps import PDF, begin, fill_to_check
from workflows import applicants, programs, services
from workflows.models import Case, CaseEvent, Program, Task, Upload

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def citizen(db: None) -> User:
    return make_user("cora")


@pytest.fixture
def cora(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    return client


def apply_on_the_web(client: Client) -> Case:
    draft = begin(client)
    fill_to_check(client, draft)
    response = client.post(reverse("apply_check", args=[draft.public_id]))
    assert response.status_code == 303
    return Case.objects.get(draft__public_id=draft.public_id)


def ask_for_proof(case: Case, librarian: User) -> None:
    """The librarian decides the review with "Ask for proof" on the task page."""
    staff = Client()
    staff.force_login(librarian)
    task = Task.objects.get(case=case, status=Task.Status.OPEN)
    page = staff.get(reverse("task", args=[task.pk]))
    assert "Ask for proof" not in page.text  # offered once the task is theirs
    staff.post(reverse("task", args=[task.pk]), {"action": "claim"})
    assert 'value="ask_for_proof"' in staff.get(reverse("task", args=[task.pk])).text
    staff.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "ask_for_proof"})
    assert applicants.open_requests(Case.objects.get(pk=case.pk))


def case_url(case: Case) -> str:
    return reverse("my_application", args=[case.public_id])


def request_token(case: Case) -> int:
    return applicants.open_requests(Case.objects.get(pk=case.pk))[0].token


def proof(name: str = "new-bill.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# ------------------------------------------------------------------ your applications


def test_your_applications_lists_the_citizens_cases_newest_first(cora, citizen, library_card):
    first = apply_on_the_web(cora)
    second = services.case_submit(program=library_card, data=dict(ANSWERS), user=citizen)
    Case.objects.filter(pk=second.pk).update(submitted_at=first.submitted_at + timedelta(days=1))
    services.case_submit(program=library_card, data=dict(ANSWERS), user=make_user("carl"))  # someone else's

    page = cora.get(reverse("my_applications"))

    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    references = [case.reference for case in Case.objects.order_by("pk")]
    assert page.text.index(second.reference) < page.text.index(first.reference)
    assert references[2] not in page.text
    assert "Library card" in page.text
    assert "In progress" in page.text
    assert first.submitted_at.strftime("%Y") in page.text
    assert case_url(first) in page.text


def test_your_applications_needs_a_sign_in_and_is_empty_for_a_newcomer(client, citizen):
    response = client.get(reverse("my_applications"))
    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/?next=")  # the citizens' own sign-in
    client.force_login(citizen)
    assert "You have no applications yet" in client.get(reverse("my_applications")).text


# ------------------------------------------------------------------ the case page and T6


def test_the_case_page_shows_the_status_and_a_withdraw_button(cora, library_card):
    case = apply_on_the_web(cora)
    page = cora.get(case_url(case))
    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    assert f"Application {case.reference}" in page.text
    assert "In progress" in page.text
    assert reverse("my_application_withdraw", args=[case.public_id]) in page.text


def test_another_persons_case_is_a_plain_404_on_every_route(cora, library_card, librarian):
    theirs = services.case_submit(program=library_card, data=dict(ANSWERS), user=make_user("carl"))
    unknown = uuid.uuid4()
    for public_id in (theirs.public_id, unknown):
        for name in ("my_application", "my_application_withdraw"):
            url = reverse(name, args=[public_id])
            assert cora.get(url).status_code == 404
            assert cora.post(url, {"reason": "x", "request": "1"}).status_code == 404
    staff = Client()
    staff.force_login(librarian)  # staff see cases through tasks, not as applicants
    assert staff.get(case_url(theirs)).status_code == 404
    assert Case.objects.get(pk=theirs.pk).status == "running"


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_whether_the_case_exists_or_not(client, library_card):
    theirs = services.case_submit(program=library_card, data=dict(ANSWERS), user=make_user("carl"))
    for public_id in (theirs.public_id, uuid.uuid4()):
        response = client.post(reverse("my_application_withdraw", args=[public_id]))
        assert response.status_code == 302
        assert response["Location"].startswith("/account/sign-in/?next=")
    assert Case.objects.get(pk=theirs.pk).status == "running"


def test_an_assisted_application_has_no_applicant_page(client, library_card, librarian):
    case = services.case_submit(
        program=library_card, data=dict(ANSWERS), user=librarian, channel="counter", on_behalf_of="Ana Lima"
    )
    client.force_login(librarian)
    assert client.get(case_url(case)).status_code == 404


# ------------------------------------------------------------------ withdrawing


def test_the_applicant_withdraws_after_confirming(cora, citizen, library_card):
    case = apply_on_the_web(cora)
    confirm = cora.get(reverse("my_application_withdraw", args=[case.public_id]))
    assert confirm.status_code == 200
    assert confirm.text.count("<h1>") == 1
    assert f"Withdraw application {case.reference}?" in confirm.text
    assert Case.objects.get(pk=case.pk).status == "running"  # looking is not withdrawing

    response = cora.post(reverse("my_application_withdraw", args=[case.public_id]), {"reason": "Moved away"})

    assert response.status_code == 303
    assert response["Location"] == case_url(case)
    page = cora.get(response["Location"])
    assert f"Your application {case.reference} is withdrawn." in page.text
    assert "Closed (withdrawn)" in page.text
    assert "Withdraw this application" not in page.text
    event = CaseEvent.objects.get(case=case, kind="case_withdrawn")
    assert (event.actor, event.detail["reason"]) == (citizen, "Moved away")
    assert Task.objects.get(case=case).status == "cancelled"

    again = cora.post(reverse("my_application_withdraw", args=[case.public_id]), follow=True)
    assert "This application is already closed, so it cannot be withdrawn." in again.text
    assert CaseEvent.objects.filter(case=case, kind="case_withdrawn").count() == 1


def test_a_huge_reason_is_refused_with_a_message(cora, library_card):
    case = apply_on_the_web(cora)
    response = cora.post(reverse("my_application_withdraw", args=[case.public_id]), {"reason": "x" * 50_000})
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert "A reason can be at most 2,000 characters; this one has 50,000." in response.text
    assert Case.objects.get(pk=case.pk).status == "running"


# ------------------------------------------------------------------ answering a request for information


def test_the_request_for_a_new_proof_goes_round_trip_through_the_pages(cora, citizen, library_card, librarian):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    assert Case.objects.get(pk=case.pk).status == "running"
    assert not Task.objects.filter(case=case, status=Task.Status.OPEN).exists()
    assert CaseEvent.objects.filter(case=case, kind="send_notice", detail__notice="request_proof").exists()

    page = cora.get(case_url(case))
    assert "Waiting for information from you" in page.text
    assert "We need information from you: Send a new proof of address" in page.text
    assert "New proof of address" in page.text
    assert 'type="file"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "Answer by" in page.text

    response = cora.post(
        case_url(case), {"request": str(request_token(case)), "note": "I moved in March.", "proof_of_address": proof()}
    )

    assert response.status_code == 303
    page = cora.get(response["Location"])
    assert "Thank you: we have your answer" in page.text
    assert "We need information from you" not in page.text
    upload = Upload.objects.get(case=case, field="request_proof.proof_of_address")
    assert (upload.original_name, upload.added_by) == ("new-bill.pdf", None)
    case.refresh_from_db()
    assert case.state["data"]["request_proof"] == {
        "proof_of_address": str(upload.public_id),
        "note": "I moved in March.",
    }
    event = CaseEvent.objects.get(case=case, kind="citizen_responded")
    assert event.actor == citizen

    # The review opens again; the librarian sees the answer and the new file, and approves.
    review = Task.objects.get(case=case, status=Task.Status.OPEN)
    assert review.step == "review"
    staff = Client()
    staff.force_login(librarian)
    task_page = staff.get(reverse("task", args=[review.pk])).text
    assert "Answers to requests for information" in task_page
    assert "I moved in March." in task_page
    assert "new-bill.pdf" in task_page
    download: Any = staff.get(reverse("task_file", args=[review.pk, upload.public_id]))  # a streamed file
    assert b"".join(download.streaming_content) == PDF
    services.task_claim(task_id=review.pk, user=librarian)
    services.task_complete(task_id=review.pk, user=librarian, outcome="approve")
    assert Case.objects.get(pk=case.pk).outcome == "approved"


def test_a_missing_file_shows_the_problem_and_keeps_the_request_open(cora, library_card, librarian):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    response = cora.post(case_url(case), {"request": str(request_token(case)), "note": "here"})
    assert response.status_code == 422
    assert response.text.count("<h1>") == 1
    assert "There is a problem" in response.text
    assert "New proof of address: " in response.text
    assert 'value="here"' in response.text  # the typed note is shown again
    assert applicants.open_requests(Case.objects.get(pk=case.pk))


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"proof_of_address": SimpleUploadedFile("bill.pdf", HTML)}, "The selected file must be a PDF, JPG or PNG."),
        ({"proof_of_address": SimpleUploadedFile("bill.pdf", b"")}, "The selected file is empty."),
        ({"proof_of_address": "3f2b8c1e-5d7a-4e1b-9c3d-2a6f8e0b4d71"}, "New proof of address: "),
        ({"proof_of_address": proof(), "note": "n" * 200_000}, "There is a problem"),
    ],
)
def test_bad_answers_are_refused_and_no_file_is_left_behind(cora, library_card, librarian, media, fields, words):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    before = set(stored_files(media))
    response = cora.post(case_url(case), {"request": str(request_token(case)), **fields})
    assert response.status_code == 422
    assert words in response.text
    assert set(stored_files(media)) == before
    assert not Upload.objects.filter(case=case, field__startswith="request_proof").exists()
    assert applicants.open_requests(Case.objects.get(pk=case.pk))


@pytest.mark.parametrize("token", ["", "999", "not a number", "1" * 500])
def test_an_unknown_or_missing_request_gets_a_message(cora, library_card, librarian, token):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    response = cora.post(case_url(case), {"request": token, "proof_of_address": proof()})
    assert response.status_code == 303
    assert "This request is no longer open" in cora.get(response["Location"]).text
    assert applicants.open_requests(Case.objects.get(pk=case.pk))


def test_an_answered_request_cannot_be_answered_again(cora, citizen, library_card, librarian):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    token = request_token(case)
    cora.post(case_url(case), {"request": str(token), "proof_of_address": proof()})
    again = cora.post(case_url(case), {"request": str(token), "proof_of_address": proof()}, follow=True)
    assert "This request is no longer open" in again.text
    with pytest.raises(services.Conflict, match="this request is no longer open"):
        services.citizen_respond(
            case_id=case.pk, user=citizen, token=token, data={}, files={"proof_of_address": [proof()]}
        )
    assert CaseEvent.objects.filter(case=case, kind="citizen_responded").count() == 1
    assert Upload.objects.filter(case=case, field__startswith="request_proof").count() == 1


def test_only_the_applicant_answers(cora, library_card, librarian):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    for outsider in (make_user("carl"), librarian, applicants.HeldDraft(uuid.uuid4())):
        with pytest.raises(services.NotAllowed, match="only the applicant can answer this request"):
            services.citizen_respond(
                case_id=case.pk,
                user=outsider,
                token=request_token(case),
                data={},
                files={"proof_of_address": [proof()]},
            )
    assert applicants.open_requests(Case.objects.get(pk=case.pk))


def test_a_request_nobody_answers_in_time_withdraws_the_application(cora, citizen, library_card, librarian):
    case = apply_on_the_web(cora)
    ask_for_proof(case, librarian)
    token = request_token(case)

    services.timers_run_due(now=timezone.now() + timedelta(days=15))

    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "withdrawn")
    page = cora.get(case_url(case))
    assert "Closed (withdrawn)" in page.text
    assert "We need information from you" not in page.text
    with pytest.raises(services.Conflict, match="this application is closed"):
        services.citizen_respond(
            case_id=case.pk, user=citizen, token=token, data={}, files={"proof_of_address": [proof()]}
        )
    response = cora.post(case_url(case), {"request": str(token), "proof_of_address": proof()}, follow=True)
    assert "This request is no longer open" in response.text


# ------------------------------------------------------------------ applicants who did not sign in


def test_an_applicant_who_did_not_sign_in_answers_and_withdraws_from_the_same_browser(client, library_card, librarian):
    case = apply_on_the_web(client)
    confirmation = client.get(reverse("submitted", args=[case.public_id]))
    assert case_url(case) in confirmation.text  # "Follow your application"
    stranger = Client()
    assert case_url(case) not in stranger.get(reverse("submitted", args=[case.public_id])).text
    assert stranger.get(case_url(case)).status_code == 302  # to sign in: the link alone is not enough

    ask_for_proof(case, librarian)
    response = client.post(case_url(case), {"request": str(request_token(case)), "proof_of_address": proof()})
    assert response.status_code == 303
    event = CaseEvent.objects.get(case=case, kind="citizen_responded")
    assert event.actor is None

    client.post(reverse("my_application_withdraw", args=[case.public_id]))
    assert Case.objects.get(pk=case.pk).outcome == "withdrawn"


# ------------------------------------------------------------------ the demo program


def test_the_demo_program_checks_clean_and_its_answer_form_is_translated(library_card):
    folder = DEFINITIONS / "library-card"
    definition, problems = programs.check(programs.read_folder(folder), folder=str(folder))
    assert definition is not None
    assert problems == []  # the locale entries of forms/proof.schema.json are not "unused"
    version = Program.objects.get().current_version
    assert version is not None
    step = programs.stored_definition(version.files, version.content_hash).steps["request_proof"]
    form = applicants.answer_form(version, step)  # type: ignore[arg-type]
    assert form is not None
    assert form.file_fields == ("proof_of_address",)
    tree = form.form.tree({}, [], "zh-Hans", "answers")
    assert [field.label for field in tree.current.fields] == ["新的住址证明", "还有什么需要告诉我们的吗？"]
