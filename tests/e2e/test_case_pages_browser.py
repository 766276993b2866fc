"""In a real browser, after submitting: the applicant's case pages and messages, and the librarian's task page.

A signed-in citizen reads the librarian's request for a new proof of address in their message
centre and answers it on their case page; a citizen withdraws an application; a librarian works
a task page with every form on it and shows a hidden answer. axe-core checks each page.
The cases are set up with Django's test client and the services, to keep the tests short;
what the citizen and the librarian do themselves happens in the browser.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import FilePayload, Locator, Page, expect

from tests.conftest import make_user
from tests.e2e.steps import PDF, check_page, citizen_sign_in, heading, sign_in
from tests.workflows.apply_steps import begin, fill_to_check
from workflows import applicants, services
from workflows.models import AccessLog, Case, CaseEvent, CitizenAccount, Task, Upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REQUEST_SUBJECT = "We need a new proof of address for your library card application"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""


@pytest.fixture
def citizen(db: None) -> User:
    """A citizen with a confirmed account (workflows/citizens.py), signing in as cora@example.org."""
    user = make_user("cora")
    CitizenAccount.objects.create(
        user=user, email="cora@example.org", verified_at=timezone.now(), created_at=timezone.now()
    )
    return user


def applied_signed_in(citizen: User) -> Case:
    """The citizen applies online while signed in (card by mail, proof of address "bill.pdf")."""
    client = Client()
    client.force_login(citizen)
    draft = begin(client)
    fill_to_check(client, draft)
    assert client.post(reverse("apply_check", args=[draft.public_id])).status_code == 303
    return Case.objects.get(draft__public_id=draft.public_id)


def ask_for_proof(case: Case, librarian: User) -> None:
    """The librarian takes the review and decides "Ask for proof"."""
    review = Task.objects.get(case=case, status=Task.Status.OPEN)
    services.task_claim(task_id=review.pk, user=librarian)
    services.task_complete(task_id=review.pk, user=librarian, outcome="ask_for_proof")
    assert applicants.open_requests(Case.objects.get(pk=case.pk))


def status(page: Page) -> Locator:
    return page.locator("[data-status]")


def answer(page: Page, question: str) -> Locator:
    """The answer to ``question`` on the task page (its ``dd``)."""
    return page.locator(f"dl.answers dt:text-is('{question}') + dd")


def test_a_citizen_reads_the_request_in_their_messages_and_sends_a_new_proof(
    page: Page, live_server, library_card, librarian, citizen
):
    case = applied_signed_in(citizen)
    ask_for_proof(case, librarian)

    # Your applications: the case is waiting for the citizen.
    page.goto(f"{live_server.url}/my/applications/")
    citizen_sign_in(page, "cora@example.org")
    heading(page, "Your applications")
    row = page.get_by_role("row", name=re.compile(case.reference))
    expect(row).to_contain_text("Library card")
    expect(row).to_contain_text("Waiting for information from you")
    check_page(page, "your applications")

    # The message centre: the request, unread.
    page.get_by_role("link", name="Messages 1 unread").click()
    heading(page, "Your messages")
    row = page.get_by_role("row", name=re.compile(REQUEST_SUBJECT))
    expect(row).to_contain_text("Unread")
    expect(row).to_contain_text(case.reference)
    check_page(page, "your messages")
    row.get_by_role("link", name=REQUEST_SUBJECT).click()

    # One message, in full; opening it marked it read.
    heading(page, REQUEST_SUBJECT)
    expect(page.get_by_text("We could not accept the proof of address you sent")).to_be_visible()
    expect(page.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    check_page(page, "one message")
    page.get_by_role("link", name=case.reference).click()

    # The case page asks for the new proof.
    heading(page, f"Application {case.reference}")
    expect(status(page)).to_have_text("Waiting for information from you")
    request = page.locator("section.request")
    expect(request.get_by_role("heading", level=2)).to_have_text(
        "We need information from you: Send a new proof of address"
    )
    expect(request).to_contain_text("Answer by")
    check_page(page, "case page with a request for information")

    # Sent without the file: the problem is said, the note is kept.
    request.get_by_label("Anything else we should know?").fill("I moved in March.")
    request.get_by_role("button", name="Send your answer").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="New proof of address: Answer this question.")).to_be_visible()
    expect(page.locator(".usa-error-message")).to_have_text(
        re.compile(r"^\s*Error:\s+New proof of address: Answer this question\.\s*$")
    )
    expect(page.get_by_label("Anything else we should know?")).to_have_value("I moved in March.")
    expect(page.get_by_text("Files are not kept when there is a problem with the answer")).to_be_visible()
    check_page(page, "case page, the answer with an error")
    assert applicants.open_requests(Case.objects.get(pk=case.pk))

    # With the file, the answer goes.
    page.get_by_label("New proof of address").set_input_files(
        files=[FilePayload(name="new-lease.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    page.get_by_role("button", name="Send your answer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Thank you: we have your answer and will carry on with your application."
    )
    heading(page, f"Application {case.reference}")
    expect(status(page)).to_have_text("In progress")
    expect(page.get_by_text("We need information from you")).to_have_count(0)
    expect(page.get_by_role("button", name="Send your answer")).to_have_count(0)

    # The case is back with the librarians: a new review, open to them.
    review = Task.objects.get(case=case, status=Task.Status.OPEN)
    assert (review.step, review.assignee) == ("review", None)
    upload = Upload.objects.get(case=case, field="request_proof.proof_of_address")
    assert upload.original_name == "new-lease.pdf"
    assert Case.objects.get(pk=case.pk).state["data"]["request_proof"]["note"] == "I moved in March."
    assert CaseEvent.objects.get(case=case, kind="citizen_responded").actor == citizen


def test_a_citizen_withdraws_an_application_after_confirming(any_page: Page, live_server, library_card, citizen):
    page = any_page
    case = applied_signed_in(citizen)

    page.goto(f"{live_server.url}/my/applications/{case.public_id}/")
    citizen_sign_in(page, "cora@example.org")
    heading(page, f"Application {case.reference}")
    expect(status(page)).to_have_text("In progress")

    # Looking at the question changes nothing.
    page.get_by_role("link", name="Withdraw this application").click()
    heading(page, f"Withdraw application {case.reference}?")
    expect(page.get_by_text("You cannot undo this")).to_be_visible()
    check_page(page, "withdraw confirmation")
    page.get_by_role("link", name="No, keep it").click()
    heading(page, f"Application {case.reference}")
    expect(status(page)).to_have_text("In progress")

    page.get_by_role("link", name="Withdraw this application").click()
    page.get_by_label("Why are you withdrawing? (optional)").fill("I moved away.")
    page.get_by_role("button", name="Yes, withdraw my application").click()
    expect(page.get_by_role("status")).to_have_text(f"Your application {case.reference} is withdrawn.")
    heading(page, f"Application {case.reference}")
    expect(status(page)).to_have_text("Closed (withdrawn)")
    expect(page.get_by_role("link", name="Withdraw this application")).to_have_count(0)
    check_page(page, "case page, withdrawn")

    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "withdrawn")
    event = CaseEvent.objects.get(case=case, kind="case_withdrawn")
    assert (event.actor, event.detail["reason"]) == (citizen, "I moved away.")
    assert not Task.objects.filter(case=case, status=Task.Status.OPEN).exists()


def test_a_librarian_works_the_task_page_and_shows_a_hidden_answer(
    any_page: Page, live_server, library_card, citizen, other_librarian
):
    page = any_page
    # An auditor too, so the access log is on the page; the program lets librarians show hidden answers.
    lena = make_user("lena", "librarian", "auditor")
    case = applied_signed_in(citizen)
    ask_for_proof(case, lena)
    services.citizen_respond(
        case_id=case.pk,
        user=citizen,
        token=applicants.open_requests(Case.objects.get(pk=case.pk))[0].token,
        data={"note": "I moved in March."},
        files={"proof_of_address": [SimpleUploadedFile("new-lease.pdf", PDF)]},
    )
    review = Task.objects.get(case=case, status=Task.Status.OPEN)

    page.goto(f"{live_server.url}/work/tasks/{review.pk}/")
    sign_in(page, lena)
    heading(page, "Review the application")
    expect(page.get_by_text("This task is not assigned to anyone.")).to_be_visible()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_have_text("The task is assigned to you.")

    # Sensitive answers are masked, each with a Show button; the others are shown.
    expect(answer(page, "Full name")).to_have_text("Ana Lima")
    proof = answer(page, "Proof of address")
    expect(proof).to_contain_text("•••• hidden")
    expect(proof).to_contain_text("sensitive")
    expect(proof).not_to_contain_text("bill.pdf")
    expect(page.get_by_role("heading", name="Answers to requests for information")).to_be_visible()
    expect(answer(page, "New proof of address")).to_contain_text("•••• hidden")
    expect(answer(page, "Anything else we should know?")).to_have_text("I moved in March.")

    # The request's notice, the forms to hand the task on and to close the case.
    notices = page.locator(".notice-sent")
    expect(notices).to_have_count(1)
    expect(notices).to_contain_text(f"{REQUEST_SUBJECT} – to the applicant")
    expect(notices).to_contain_text("not yet read in the message centre")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    expect(page.get_by_label("Reassign to")).to_contain_text("omar")
    expect(page.get_by_label("Delegate to")).to_contain_text("omar")
    for form in ("Cancel the case", "Withdraw the application", "Add document", "Add note"):
        expect(page.get_by_role("button", name=form, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Who opened this case")).to_be_visible()
    check_page(page, "task page with every form and masked answers")

    # Show: the answer is shown to this librarian, and the access log says so.
    proof.get_by_role("button", name="Show Proof of address").click()
    heading(page, "Review the application")
    expect(answer(page, "Proof of address")).to_contain_text("bill.pdf")
    expect(answer(page, "Proof of address")).not_to_contain_text("hidden")
    expect(answer(page, "Proof of address").get_by_role("button", name=re.compile("^Show"))).to_have_count(0)
    expect(answer(page, "New proof of address")).to_contain_text("•••• hidden")  # only what was asked for
    expect(page.locator(".access-log")).to_contain_text("showed the hidden answer proof_of_address")
    check_page(page, "task page with a shown answer")
    assert AccessLog.objects.filter(case=case, user=lena, action="revealed").count() == 1

    # Add a document of one's own.
    page.get_by_label("Add a document").set_input_files(
        files=[FilePayload(name="call-notes.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    page.get_by_label("What is it? (optional)").fill("Call notes")
    page.get_by_role("button", name="Add document").click()
    expect(page.get_by_role("status")).to_have_text("Document added to the case.")
    added = page.locator("li", has_text="call-notes.pdf")
    expect(added).to_contain_text("added by staff")
    expect(added).to_contain_text("Call notes")
    assert Upload.objects.get(case=case, original_name="call-notes.pdf").added_by == lena
