"""The three pilot programs, each driven from submission to its outcome through /api/v1 alone.

One test per program, on its main happy route, as the people involved would use the API:

* Healthy Families: a family in band B (valid-approve.json) is approved by one eligibility
  worker with a $26 monthly premium; the case stays open with coverage active, and 11 months
  later (the worker's timer sweep, run at that moment) the renewal notice goes and it closes.
* Public records request: the intake officer accepts the request on the simple track, the
  police office searches, the fee is worked out under the requester's maximum, and the
  disclosure officer releases everything: a full grant.
* Building permit: a contractor's addition is found complete, the $3,850 fee is paid by the
  payment provider's account (an event), five plan reviews approve in parallel, the permit is
  issued, the contractor books each inspection through /api/v1/my/ and the inspector passes
  them: finaled.

Each test asserts what a person would notice: the status and outcome, the figures (premium,
fee), the notices sent to the applicant (workflows.models.Notice, in English) and the case's
history. The figures the workflow works out (premium, fee) are kept in the case's state, not
in its answers: the API shows the answers, so those are read from the case row.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime, time, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests.api.conftest import Api, token_for
from tests.conftest import DEFINITIONS, make_user
from workflows import outbox, services
from workflows.models import Case, Notice

pytestmark = pytest.mark.django_db

PACIFIC = ZoneInfo("America/Los_Angeles")  # the time zone of all three programs


@pytest.fixture
def published(db) -> None:
    """Every program of definitions/, published as the operator loads them."""
    call_command("load-definitions", str(DEFINITIONS), stdout=StringIO(), stderr=StringIO())


def example(program: str, name: str) -> dict[str, Any]:
    answers: dict[str, Any] = json.loads((DEFINITIONS / program / "examples" / name).read_text(encoding="utf-8"))
    return answers


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def staff(name: str, role: str, *, agency: str, queue: str = "") -> Api:
    return Api(token_for(make_user(name, role, agency=agency, queue=queue)))


def task_at(api: Api, case_id: str, step: str) -> dict[str, Any]:
    """The one open task of ``case_id`` at ``step`` this account sees, assigned to it or free to claim."""
    found = [
        task
        for scope in ("mine", "available")
        for task in ok(api.get(f"tasks?scope={scope}"))
        if task["case"] == case_id and task["step"] == step
    ]
    assert len(found) == 1, found
    task: dict[str, Any] = found[0]
    return task


def work(api: Api, case_id: str, step: str, outcome: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Claim the case's task at ``step`` and complete it with ``outcome`` and the task form's ``data``."""
    task = task_at(api, case_id, step)
    claimed = ok(api.post(f"tasks/{task['id']}/claim"))
    assert outcome in claimed["outcomes"], claimed["outcomes"]
    done = ok(api.post(f"tasks/{task['id']}/complete", {"outcome": outcome, "data": data or {}}))
    assert (done["status"], done["outcome"]) == ("completed", outcome)
    outbox.deliver_due()  # what the worker does between requests: send the e-mails
    decided: dict[str, Any] = done
    return decided


def open_steps(api: Api, case_id: str) -> list[str]:
    return sorted(task["step"] for task in ok(api.get(f"cases/{case_id}"))["open_tasks"])


def history(api: Api, case_id: str) -> list[dict[str, Any]]:
    """The case's whole history, oldest first, page after page."""
    events: list[dict[str, Any]] = []
    page: str | None = f"cases/{case_id}/events?limit=100"
    while page is not None:
        body = ok(api.get(page))
        events.extend(body["results"])
        page = body["next"].removeprefix("/api/v1/") if body["next"] else None
    return events


def completed_steps(api: Api, case_id: str) -> list[tuple[str, str]]:
    """(step, outcome) of each task completed, in the order the history records them."""
    return [
        (event["detail"]["step"], event["detail"]["outcome"])
        for event in history(api, case_id)
        if event["kind"] == "task_completed"
    ]


def notices_to_applicant(case_id: str) -> list[tuple[str, str]]:
    """(notice, subject) of every notice sent to the applicant, oldest first."""
    rows = Notice.objects.filter(case__public_id=case_id, to="citizen").order_by("created_at", "pk")
    return [(row.name, row.subject) for row in rows]


def email(subject: str) -> str:
    """The text of the one e-mail sent with this subject, as the applicant reads it."""
    [sent] = [message for message in mail.outbox if message.subject == subject]
    return str(sent.body)


def state_data(case_id: str) -> dict[str, Any]:
    data: dict[str, Any] = Case.objects.get(public_id=case_id).state["data"]
    return data


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it has no such day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------------------- Healthy Families

HF_AGENCY = "county-health-services"


def test_healthy_families_a_band_b_family_is_approved_with_a_premium_and_renewed_after_eleven_months(published):
    # The county's staff: an eligibility worker of Sacramento county and a supervisor.
    ana = staff("ana", "eligibility_worker", agency=HF_AGENCY, queue="Sacramento")
    supervisor = staff("sue", "supervisor", agency=HF_AGENCY)
    citizen = Api(token_for(make_user("maria")))

    # Maria applies for her two children: $3,700 a month for a household of three.
    receipt = ok(
        citizen.post("programs/healthy-families/submissions", example("healthy-families", "valid-approve.json")), 201
    )
    case_id, reference = receipt["case"], receipt["reference"]
    assert reference.startswith("HF-")
    outbox.deliver_due()
    case = ok(ana.get(f"cases/{case_id}"))
    assert (case["status"], case["priority"]) == ("running", "normal")
    assert case["deadline_at"] is not None  # the 10-business-day decision clock runs
    # The yearly and monthly income are worked out on the server from the incomes.
    assert (case["answers"]["household_annual_income"], case["answers"]["household_monthly_income"]) == (44400, 3700)
    # The children's immigration status and SSN are masked through a token.
    assert case["answers"]["household"]["members"][1]["ssn"] == "•••• 0193"
    assert open_steps(ana, case_id) == ["document_check"]
    screened = state_data(case_id)
    assert (screened["household_size"], screened["children_applying"], screened["annual_fpl"]) == (3, 2, 26650)
    assert (screened["percent_fpl"], screened["band"]) == (166.6, "B")  # 44,400 / 26,650 = 166.60 %

    # The worker of Sacramento county checks the documents and approves: band B, far from both
    # edges, no employer coverage, no override, so no supervisor is needed.
    work(ana, case_id, "document_check", "complete", {"note": "Pay stub for October matches the income."})
    assert open_steps(ana, case_id) == ["eligibility_review"]
    approved_on = timezone.localdate(timezone=PACIFIC)
    work(ana, case_id, "eligibility_review", "approve", {"note": "Income and household verified."})

    # Approved: the case stays open while the children are covered, waiting for the renewal.
    case = ok(ana.get(f"cases/{case_id}"))
    assert (case["status"], case["outcome"], case["open_tasks"]) == ("running", "", [])
    assert case["deadline_at"] is None  # the decision clock stopped at the approval
    premium = state_data(case_id)
    assert (premium["final_band"], premium["premium_per_child"], premium["family_max"]) == ("B", 13, 39)
    assert premium["monthly_premium"] == 26  # 2 children x $13, under the $39 family maximum
    coverage_starts = add_months(approved_on, 1).replace(day=1)
    renewal_on = add_months(approved_on, 11)
    assert (premium["approved_on"], premium["coverage_starts"], premium["coverage_ends"]) == (
        approved_on.isoformat(),
        coverage_starts.isoformat(),
        (add_months(coverage_starts, 12) - timedelta(days=1)).isoformat(),
    )
    assert premium["renewal_notice_on"] == renewal_on.isoformat()
    [mine] = ok(citizen.get("my/cases"))["results"]
    assert (mine["id"], mine["status"], mine["waiting_for_you"]) == (case_id, "running", False)
    approval = email("Your children are covered by Healthy Families")
    assert "**Children covered:** 2" in approval
    assert "**Your monthly premium is $26** for the family" in approval
    assert f"**Coverage starts on {coverage_starts.isoformat()}**" in approval

    # The day before the renewal date nothing happens; at midnight Pacific time on that day the
    # worker's timer sweep sends the renewal notice and closes the case as approved.
    renewal_midnight = datetime.combine(renewal_on, time(0, 0), tzinfo=PACIFIC)
    services.timers_run_due(now=renewal_midnight - timedelta(minutes=1))
    assert ok(ana.get(f"cases/{case_id}"))["status"] == "running"
    assert services.timers_run_due(now=renewal_midnight + timedelta(minutes=1)) >= 1
    outbox.deliver_due()

    case = ok(supervisor.get(f"cases/{case_id}"))
    assert (case["status"], case["outcome"], case["priority"]) == ("closed", "approved", "normal")
    assert case["closed_at"] is not None
    assert notices_to_applicant(case_id) == [
        ("receipt", f"We received your Healthy Families application {reference}"),
        ("approval", "Your children are covered by Healthy Families"),
        ("renewal", "Renew your children's Healthy Families coverage"),
    ]
    assert not Notice.objects.filter(case__public_id=case_id).exclude(to="citizen").exists()  # no escalation
    assert completed_steps(ana, case_id) == [("document_check", "complete"), ("eligibility_review", "approve")]
    kinds = [event["kind"] for event in history(supervisor, case_id)]
    assert (kinds[0], kinds[-1]) == ("submitted", "case_closed")
    assert "timer_fired" in kinds  # the renewal came from the wait's timer, not from a person
    # The family reads the same story in their message centre.
    mine = ok(citizen.get(f"my/cases/{case_id}"))
    assert (mine["status"], mine["outcome"]) == ("closed", "approved")
    assert [entry["event"] for entry in mine["timeline"]] == ["submitted", "closed"]
    subjects = [message["subject"] for message in ok(citizen.get("my/messages"))["results"]]
    assert subjects == [
        "Renew your children's Healthy Families coverage",
        "Your children are covered by Healthy Families",
        f"We received your Healthy Families application {reference}",
    ]


# ---------------------------------------------------------------------------- FOIA

FOIA_AGENCY = "city-records-office"

# The fee table's rates for requester category "other" (tables/foia_fees.yaml): search per hour
# after 2 free hours, and per page after 100 free pages, by the year they came into force.
FOIA_OTHER_RATES = {2026: (40, 0.15), 2027: (44, 0.12)}


def test_foia_a_request_is_searched_priced_under_the_maximum_and_granted_in_full(published):
    olga = staff("olga", "intake_officer", agency=FOIA_AGENCY, queue="intake")
    sam = staff("sam", "records_searcher", agency=FOIA_AGENCY, queue="police/simple")
    dora = staff("dora", "disclosure_officer", agency=FOIA_AGENCY, queue="simple")
    requester = Api(token_for(make_user("mgonzalez")))

    receipt = ok(
        requester.post("programs/foia-request/submissions", example("foia-request", "valid-full-grant.json")), 201
    )
    case_id, reference = receipt["case"], receipt["reference"]
    assert reference.startswith("FOI-")
    outbox.deliver_due()
    case = ok(olga.get(f"cases/{case_id}"))
    assert (case["status"], case["priority"]) == ("running", "normal")
    response_due = case["deadline_at"]
    assert response_due is not None  # 20 business days from receipt
    assert open_steps(olga, case_id) == ["intake_review"]
    acknowledgement = email(f"We received your public records request {reference}")
    assert f"**Your tracking number is {reference}.**" in acknowledgement
    assert f"by\n  **{response_due[:10]}**, unless we have to wait for you" in acknowledgement

    # Intake: reasonably described, component known (police): straight to the track.
    work(olga, case_id, "intake_review", "reasonably_described", {"notes": "Clear dates and location."})
    work(
        olga,
        case_id,
        "assign_track",
        "simple",
        {"offices": ["police"], "estimated_pages": 120, "unusual_circumstances": False},
    )
    assert (state_data(case_id)["track"], state_data(case_id)["responsible_component"]) == ("simple", "police")

    # The police office's searcher (queue police/simple) finds 120 pages in 3 hours.
    work(
        sam,
        case_id,
        "search",
        "records_found",
        {"search_hours": 3, "review_hours": 1, "pages": 120, "notes": "Records management system and dispatch archive"},
    )
    fee = state_data(case_id)
    search_per_hour, copy_per_page = FOIA_OTHER_RATES[min(timezone.localdate(timezone=PACIFIC).year, 2027)]
    assert (fee["offices_with_records"], fee["total_search_hours"], fee["total_pages"]) == (1, 3, 120)
    assert (fee["billable_search_hours"], fee["billable_pages"]) == (1, 20)  # 2 free hours, 100 free pages
    expected_fee = round(1 * search_per_hour + 20 * copy_per_page, 2)  # $43.00 at the 2026 rates
    assert (fee["search_per_hour"], fee["copy_per_page"]) == (search_per_hour, copy_per_page)
    assert fee["estimated_fee"] == fee["chargeable_fee"] == expected_fee
    assert expected_fee <= 50  # under the requester's maximum: no question to them
    assert open_steps(dora, case_id) == ["exemption_review"]

    # The disclosure officer releases all 120 pages: nothing withheld, no legal review.
    work(dora, case_id, "exemption_review", "full_grant", {"pages_released": 120, "pages_withheld": 0})

    case = ok(olga.get(f"cases/{case_id}"))
    assert (case["status"], case["outcome"], case["priority"]) == ("closed", "full_grant", "normal")
    assert case["deadline_at"] is None
    # The requester may appeal within 90 calendar days of the response, sent today.
    assert state_data(case_id)["appeal_by"] == (timezone.localdate(timezone=PACIFIC) + timedelta(days=90)).isoformat()
    assert notices_to_applicant(case_id) == [
        ("acknowledgement", f"We received your public records request {reference}"),
        ("full_grant", f"Records released in full: request {reference}"),
    ]
    grant = email(f"Records released in full: request {reference}")
    assert "- Pages released: 120" in grant
    assert f"- Fee: ${expected_fee:,.2f}".removesuffix(".00") + "\n" in grant  # $43 at the 2026 rates
    assert completed_steps(olga, case_id) == [
        ("intake_review", "reasonably_described"),
        ("assign_track", "simple"),
        ("search", "records_found"),
        ("exemption_review", "full_grant"),
    ]
    mine = ok(requester.get(f"my/cases/{case_id}"))
    assert (mine["status"], mine["outcome"]) == ("closed", "full_grant")


# ---------------------------------------------------------------------------- building permit

PERMIT_AGENCY = "building-department"
REVIEWS = {
    "building_review": "building_reviewer",
    "structural_review": "structural_reviewer",
    "electrical_review": "electrical_reviewer",
    "plumbing_review": "plumbing_reviewer",
    "zoning_review": "zoning_reviewer",
}


def test_building_permit_an_addition_is_paid_reviewed_issued_inspected_and_finaled(published):
    tess = staff("tess", "permit_technician", agency=PERMIT_AGENCY)
    payments = staff("payments", "payment_system", agency=PERMIT_AGENCY)
    reviewers = {
        step: staff(role.removesuffix("_reviewer"), role, agency=PERMIT_AGENCY) for step, role in REVIEWS.items()
    }
    ian = staff("ian", "inspector", agency=PERMIT_AGENCY)
    contractor = Api(token_for(make_user("marisol")))

    receipt = ok(
        contractor.post("programs/building-permit/submissions", example("building-permit", "valid-full-review.json")),
        201,
    )
    case_id, reference = receipt["case"], receipt["reference"]
    assert reference.startswith("BP-")
    assert open_steps(tess, case_id) == ["completeness_check"]

    # Application accepted: the technician finds it complete; the fee is worked out and notified.
    work(tess, case_id, "completeness_check", "complete")
    fee = state_data(case_id)
    assert (fee["base_fee"], fee["trade_count"], fee["trade_fee"], fee["total_fee"]) == (3750, 2, 100, 3850)
    assert (fee["amount_paid"], fee["balance_due"]) == (0, 3850)
    case = ok(tess.get(f"cases/{case_id}"))
    assert (case["status"], case["open_tasks"]) == ("running", [])  # waiting for the fee
    fee_notice = email(f"Fee notice for your building permit application {reference}: $3,850")
    assert "**Amount due: $3,850**" in fee_notice
    assert "**Base fee: $3,750**" in fee_notice

    # The payment provider's account tells the case the fee is paid.
    paid = ok(
        payments.post(
            f"cases/{case_id}/events",
            {
                "event": "payment_received",
                "data": {
                    "amount": 3850,
                    "receipt": "PAY-88341",
                    "paid_on": timezone.localdate().isoformat(),
                    "method": "card",
                },
            },
        )
    )
    assert paid["status"] == "running"
    assert sorted(task["step"] for task in paid["open_tasks"]) == sorted(REVIEWS)  # no mechanical review
    settled = state_data(case_id)
    assert (settled["paid_cents"], settled["amount_paid"], settled["balance_due"], settled["review_round"]) == (
        385000,
        3850,
        0,
        1,
    )

    # Five plan reviews, in parallel; the structural reviewer adds a condition.
    for step, reviewer in reviewers.items():
        extra = (
            {"conditions": "Special inspection of the steel beam connections."} if step == "structural_review" else {}
        )
        work(reviewer, case_id, step, "approve", extra)
    assert open_steps(tess, case_id) == ["issue_permit"]

    conditions = (
        "Keep the approved plans on site. Special inspection of the steel beam connections by the engineer of record."
    )
    work(
        tess,
        case_id,
        "issue_permit",
        "issue",
        {"standard_conditions": ["keep_plans_on_site", "special_inspections"], "conditions": conditions},
    )
    issued = email(f"Your building permit {reference} is issued")
    assert conditions in issued
    assert "**Fee paid:** $3,850 (fee $3,850)" in issued
    assert state_data(case_id)["required_inspections"] == [
        "footing",
        "framing",
        "electrical_rough",
        "plumbing_rough",
        "final",
    ]

    # Inspections: the contractor books each one through /api/v1/my/; the inspector passes it.
    booking_day = timezone.localdate(timezone=PACIFIC)
    for number, inspection in enumerate(["footing", "framing", "electrical_rough", "plumbing_rough", "final"]):
        [listed] = ok(contractor.get("my/cases"))["results"]
        assert listed["waiting_for_you"] is True
        [request] = ok(contractor.get(f"my/cases/{case_id}"))["open_requests"]
        assert request["question"] == "Book an inspection"
        assert request["file_questions"] == []
        preferred = booking_day + timedelta(days=7 * (number + 1))
        answered = ok(
            contractor.post(
                request["response_url"].removeprefix("/api/v1/"),
                {
                    "inspection": inspection,
                    "preferred_date": preferred.isoformat(),
                    "site_contact": "Marisol, gate code 4120",
                },
            )
        )
        assert answered["open_requests"] == []
        outbox.deliver_due()
        work(ian, case_id, "inspect", "passed", {"inspected_on": preferred.isoformat()})

    case = ok(tess.get(f"cases/{case_id}"))
    assert (case["status"], case["outcome"], case["priority"]) == ("closed", "finaled", "normal")
    passed = state_data(case_id)
    assert all(
        passed[f"{name}_passed"] for name in ("footing", "framing", "electrical_rough", "plumbing_rough", "final")
    )
    assert [name for name, _ in notices_to_applicant(case_id)] == [
        "fee_notice",
        "permit_issued",
        "book_inspection",
        "book_inspection",
        "book_inspection",
        "book_inspection",
        "book_inspection",
        "finaled",
    ]
    assert dict(notices_to_applicant(case_id))["finaled"] == f"Your building permit {reference} is finaled"
    assert completed_steps(tess, case_id) == [
        ("completeness_check", "complete"),
        *[(step, "approve") for step in REVIEWS],
        ("issue_permit", "issue"),
        *[("inspect", "passed")] * 5,
    ]
    kinds = [event["kind"] for event in history(tess, case_id)]
    assert kinds.count("event_received") == 1
    assert kinds.count("citizen_responded") == 5
    assert kinds[-1] == "case_closed"
    mine = ok(contractor.get(f"my/cases/{case_id}"))
    assert (mine["status"], mine["outcome"], mine["withdraw_url"]) == ("closed", "finaled", None)


def test_foia_a_track_without_the_offices_its_form_requires_is_refused_not_closed_as_no_records(published):
    """The task form (forms/track.schema.json requires ``offices``) is checked when the task is completed:
    unknown fields, wrong types and missing required answers are a 422 with every problem, and
    the request does not close as "no records" for want of an office."""
    olga = staff("olga", "intake_officer", agency=FOIA_AGENCY, queue="intake")
    receipt = ok(Api().post("programs/foia-request/submissions", example("foia-request", "valid-full-grant.json")), 201)
    case_id = receipt["case"]
    work(olga, case_id, "intake_review", "reasonably_described")
    task = task_at(olga, case_id, "assign_track")
    ok(olga.post(f"tasks/{task['id']}/claim"))
    refused = olga.post(f"tasks/{task['id']}/complete", {"outcome": "simple", "data": {}})
    assert refused.status_code == 422, refused.content
    assert {error["pointer"] for error in refused.json()["errors"]} >= {"/offices", "/estimated_pages"}
    case = ok(olga.get(f"cases/{case_id}"))
    assert (case["status"], [task["step"] for task in case["open_tasks"]]) == ("running", ["assign_track"])
    assert not Notice.objects.filter(case__public_id=case_id, name="no_records").exists()
