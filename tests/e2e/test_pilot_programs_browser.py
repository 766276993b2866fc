"""In a real browser, each pilot program: a citizen applies from the start page to the receipt, and a
member of staff takes the first task from their inbox and completes it.

The answers are each program's valid example (definitions/<program>/examples/), typed page by
page as a person would, with a small generated file where the form asks for one. The programs
are published exactly as shipped in definitions/.

Healthy Families also proves, with JavaScript, that a question shown by ``show if`` inside a
repeating group (a child's "Citizenship or immigration status" once "Applying for coverage?" is
Yes) appears for every person as soon as it is revealed, not only from an error on Continue.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from playwright.sync_api import Page, expect

from tests.conftest import DEFINITIONS, make_user
from tests.e2e.steps import (
    answer_address,
    answer_choice,
    answer_file,
    answer_signature,
    continue_,
    decide,
    group,
    heading,
    staff_opens_the_task,
    submit_and_read_the_receipt,
    task_answer,
)
from workflows import programs, services
from workflows.models import Case, Notice, Program, Task, Upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""


def publish(program: str) -> None:
    folder = DEFINITIONS / program
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))


def example(program: str, name: str) -> dict[str, Any]:
    answers: dict[str, Any] = json.loads((DEFINITIONS / program / "examples" / name).read_text(encoding="utf-8"))
    return answers


def start(page: Page, live_server: Any, title: str) -> None:
    """From the list of services to the program's start page, and Start now."""
    page.goto(live_server.url)
    page.get_by_role("link", name=title).click()
    heading(page, title)
    page.get_by_role("button", name="Start now").click()


def open_step(reference: str) -> list[str]:
    return sorted(Task.objects.filter(case__reference=reference, status="open").values_list("step", flat=True))


# ---------------------------------------------------------------------------- Healthy Families


def test_healthy_families_a_parent_applies_and_an_eligibility_worker_checks_the_documents(page: Page, live_server):
    publish("healthy-families")
    worker: User = make_user("ana", "eligibility_worker", agency="county-health-services", queue="Sacramento")
    answers = example("healthy-families", "valid-approve.json")
    applicant = answers["applicant"]
    start(page, live_server, "Healthy Families")

    heading(page, "About you, the parent or guardian")
    page.get_by_label("Full name").fill(applicant["full_name"])
    page.get_by_label("Date of birth").fill(applicant["date_of_birth"])
    address = applicant["address"]
    answer_address(page, "Home address", address["line1"], address["city"], address["state"], address["zip"])
    page.get_by_label("County you live in").select_option(applicant["county"])
    page.get_by_label("Phone number").fill(applicant["phone"])
    page.get_by_label("Email address").fill(applicant["email"])
    answer_choice(page, "Preferred language", "Español")
    answer_choice(page, "How should we contact you?", "By email")
    continue_(page)

    heading(page, "Your household")
    relationship = {"self": "Myself", "child": "Child"}
    for number, member in enumerate(answers["household"]["members"]):
        if number:
            page.get_by_role("button", name="Add another person").click()
        person = page.locator(f'[data-repeat-item="household.members.{number}"]')
        expect(person).to_be_visible()
        person.get_by_label("Full name").fill(member["name"])
        person.get_by_label("Date of birth").fill(member["date_of_birth"])
        person.get_by_label("Relationship to you").select_option(label=relationship[member["relationship"]])
        answer_choice(person, "Sex", member["sex"].capitalize())
        answer_choice(person, "Applying for coverage?", "Yes" if member["applying"] else "No")
        if member["applying"]:
            # "Yes" reveals the question for this person, as a person would see it, before Continue.
            expect(group(person, "Citizenship or immigration status")).to_be_visible()
            answer_choice(person, "Citizenship or immigration status", "US citizen or national")
        if "ssn" in member:
            person.get_by_label("Social Security number").fill(member["ssn"])
        answer_choice(person, "Had health coverage through an employer", "No")
        if member["sex"] == "female" and not member["applying"]:
            answer_choice(person, "Pregnant?", "No")
    continue_(page)

    heading(page, "Household income")
    answer_choice(page, "Does anyone in your household have income?", "Yes")
    [income] = answers["incomes"]
    first = page.locator('[data-repeat-item="incomes.0"]')
    first.get_by_label("Who receives it?").fill(income["earner"])
    answer_choice(first, "Type of income", "Job")
    first.get_by_label("Employer or source").fill(income["source"])
    first.get_by_label("Gross amount").fill(str(income["amount"]))
    answer_choice(first, "How often is it paid?", "Every month")
    continue_(page)

    heading(page, "Documents")
    answer_file(page, "Proof of income", "pay-stub-october.png", "image/png")
    continue_(page)

    heading(page, "Consent and signature")
    answer_choice(page, "May we share this application with the Medicaid program?", "Yes")
    answer_signature(page, answers["signature"]["name"], answers["signature"]["date"])
    answer_choice(page, "Who helped you fill in this application?", "Nobody")
    continue_(page)

    reference = submit_and_read_the_receipt(page, "HF")
    expect(page.get_by_text("Lucia Hernandez")).to_be_visible()
    case = Case.objects.get(reference=reference)
    # The same answers as the example, with the income worked out on the server.
    assert (case.data["household_annual_income"], case.data["household_monthly_income"]) == (44400, 3700)
    assert case.data["household"]["members"][1]["ssn"] == "612-44-0193"
    assert Upload.objects.get(case=case, field="proof_of_income").original_name == "pay-stub-october.png"
    assert case.state["data"]["band"] == "B"
    assert Notice.objects.filter(case=case, name="receipt").exists()

    # The eligibility worker of Sacramento county checks the documents.
    staff_opens_the_task(page, live_server, worker, reference, "Check the documents")
    expect(task_answer(page, "Full name")).to_have_text("Maria Hernandez")
    expect(task_answer(page, "Proof of income")).to_contain_text("pay-stub-october.png")
    decide(page, reference, "Complete")
    # Retain familiar: the eligibility review comes to the same worker.
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    assert open_step(reference) == ["eligibility_review"]
    assert Task.objects.get(case__reference=reference, step="eligibility_review").assignee == worker


# ---------------------------------------------------------------------------- FOIA


def test_foia_a_member_of_the_public_requests_records_and_the_intake_officer_reviews_it(page: Page, live_server):
    publish("foia-request")
    officer = make_user("olga", "intake_officer", agency="city-records-office", queue="intake")
    answers = example("foia-request", "valid-full-grant.json")
    requester = answers["requester"]
    start(page, live_server, "Public records request (FOIA)")

    heading(page, "About you")
    page.get_by_label("Full name").fill(requester["name"])
    page.get_by_label("Email address").fill(requester["email"])
    page.get_by_label("Phone number").fill(requester["phone"])
    continue_(page)

    heading(page, "Your fee category")
    answer_choice(page, "Fee category", "Other: any other requester, such as a member of the public")
    continue_(page)

    heading(page, "The records you want")
    page.get_by_label("Describe the records you want").fill(answers["description"])
    page.get_by_label("Records dated from").fill(answers["date_from"])
    page.get_by_label("Records dated up to").fill(answers["date_to"])
    page.get_by_label("Which part of the city holds the records?").select_option(label="Police Department")
    answer_choice(page, "How would you like the records?", "Electronic copies, by download")
    continue_(page)

    heading(page, "Fees")
    page.get_by_label("The most you are willing to pay").fill(str(answers["max_fee"]))
    answer_choice(page, "Do you ask us to waive the fees?", "No")
    continue_(page)

    heading(page, "Expedited processing")
    answer_choice(page, "Do you ask for expedited processing?", "No")
    continue_(page)

    heading(page, "Attachments")
    answer_file(page, "Attachments", "collision-scene.png", "image/png")
    continue_(page)

    reference = submit_and_read_the_receipt(page, "FOI")
    expect(page.get_by_text("Oak Street and 5th Avenue")).to_be_visible()
    case = Case.objects.get(reference=reference)
    assert {key: case.data[key] for key in answers} == answers
    assert Notice.objects.get(case=case, name="acknowledgement").subject == (
        f"We received your public records request {reference}"
    )

    # The intake officer finds the request reasonably described.
    staff_opens_the_task(page, live_server, officer, reference, "Review the request")
    expect(task_answer(page, "Full name")).to_have_text("Maria Gonzalez")
    expect(task_answer(page, "Attachments")).to_contain_text("collision-scene.png")
    decide(page, reference, "Reasonably described")
    assert open_step(reference) == ["assign_track"]


# ---------------------------------------------------------------------------- building permit


def test_building_permit_an_owner_applies_and_a_permit_technician_accepts_the_application(page: Page, live_server):
    publish("building-permit")
    technician = make_user("tess", "permit_technician", agency="building-department")
    answers = example("building-permit", "valid-owner-alteration.json")
    start(page, live_server, "Residential building permit")

    heading(page, "About you")
    answer_choice(page, "Who is applying?", "The owner of the property")
    page.get_by_label("Your full name").fill(answers["applicant_name"])
    page.get_by_label("Your email address").fill(answers["applicant_email"])
    page.get_by_label("Your phone number").fill(answers["applicant_phone"])
    continue_(page)

    heading(page, "The site")  # the owner applies: no page about the owner
    page.get_by_label("Parcel number (APN)").fill(answers["parcel_number"])
    site = answers["site_address"]
    answer_address(page, "Address of the site", site["line1"], site["city"], site["state"], site["zip"])
    continue_(page)

    heading(page, "The project")
    answer_choice(page, "What kind of project is it?", "An alteration inside an existing building")
    page.get_by_label("Describe the work").fill(answers["scope_of_work"])
    page.get_by_label("Value of the work (USD)").fill(str(answers["valuation"]))
    page.get_by_label("Floor area added").fill(str(answers["added_floor_area"]))
    answer_choice(page, "Does the work change the structure?", "No")
    answer_choice(page, "Which trades are involved?", "Electrical")
    continue_(page)

    heading(page, "Your plans")
    answer_file(page, "Plans", "kitchen-plans.pdf")
    continue_(page)

    heading(page, "Declaration")
    answer_signature(page, answers["declaration"]["name"], answers["declaration"]["date"], legend="Declaration")
    continue_(page)

    reference = submit_and_read_the_receipt(page, "BP")
    expect(page.get_by_text("2218 NE Knott Street")).to_be_visible()
    case = Case.objects.get(reference=reference)
    assert (case.data["valuation"], case.data["trades"], case.data["project_type"]) == (
        8000,
        ["electrical"],
        "alteration",
    )
    assert Upload.objects.get(case=case, field="plans").original_name == "kitchen-plans.pdf"

    # The permit technician finds the application complete: the fee is worked out and notified.
    staff_opens_the_task(page, live_server, technician, reference, "Check the application is complete")
    expect(task_answer(page, "Your full name")).to_have_text("Grace Liu")
    expect(task_answer(page, "Plans")).to_contain_text("kitchen-plans.pdf")
    decide(page, reference, "Complete")
    expect(page.get_by_text("Nothing to do: no open tasks for your roles.")).to_be_visible()
    case.refresh_from_db()
    assert (case.state["data"]["total_fee"], case.status) == (200, "running")  # $150 minimum + $50 electrical
    assert Notice.objects.get(case=case, name="fee_notice").subject == (
        f"Fee notice for your building permit application {reference}: $200"
    )
    assert re.search(r"\$200", Notice.objects.get(case=case, name="fee_notice").body)


def test_foia_the_intake_officer_records_the_track_and_offices_on_the_task_page(page: Page, live_server):
    """The second FOIA task's form (forms/track.schema.json) is on its task page, beside the outcomes."""
    publish("foia-request")
    officer = make_user("olga", "intake_officer", agency="city-records-office", queue="intake")
    case = services.case_submit(
        program=Program.objects.get(slug="foia-request"),
        data=example("foia-request", "valid-full-grant.json"),
        user=AnonymousUser(),
    )
    intake = Task.objects.get(case=case, step="intake_review")
    services.task_claim(task_id=intake.pk, user=officer)
    services.task_complete(task_id=intake.pk, user=officer, outcome="reasonably_described")

    staff_opens_the_task(page, live_server, officer, case.reference, "Choose the track and the offices to search")
    expect(page.get_by_role("button", name="Simple", exact=True)).to_be_visible()
    expect(group(page, "Offices that hold records and must search")).to_be_visible()
    expect(page.get_by_label("Estimated pages")).to_be_visible()
    # Deciding without what the form requires: every problem shown, nothing recorded.
    page.get_by_role("button", name="Simple", exact=True).click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator(".error-summary")).to_contain_text("Offices that hold records and must search")
    assert Task.objects.get(case=case, step="assign_track").status == Task.Status.OPEN
    # With the offices and the estimate, the searches open in those offices.
    group(page, "Offices that hold records and must search").locator(
        "label", has_text=re.compile("police", re.IGNORECASE)
    ).click()
    page.get_by_label("Estimated pages").fill("120")
    group(page, "Unusual circumstances?").locator("label", has_text=re.compile("^No$")).click()
    page.get_by_role("button", name="Simple", exact=True).click()
    heading(page, "Work inbox")
    track = Task.objects.get(case=case, step="assign_track")
    assert (track.status, track.outcome) == (Task.Status.COMPLETED, "simple")
    assert [search.queue for search in Task.objects.filter(case=case, step="search")] == ["police/simple"]
