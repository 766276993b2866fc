"""A whole case through the API alone, a citizen's token and a librarian's, no page and no service call:

    submit --> claim --> ask_for_proof --> the citizen sees the request and answers it
           --> claim --> approve --> closed (approved) --> the citizen reads the closing message

The program is the library card with its request for a new proof asking for text
("library-card-text"): files cannot be sent through the API. The agency's administrator
registers a webhook first (through the API too), and a loopback receiver hears of every
event exactly once, each signed with the endpoint's secret.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ANSWERS, Api, token_for
from tests.conftest import make_user
from workflows import outbox

pytestmark = pytest.mark.django_db

# What the case's history must show once it is closed, in order (GET /cases/{id}/events, as staff).
# Webhooks: each of these transitions is where a subscriber would hear of the case; a webhook
# test asserts its deliveries against this same list (see ``assert_transitions``).
EXPECTED_TRANSITIONS = [
    "case_started",
    "task_claimed",
    "task_completed",  # ask_for_proof
    "citizen_responded",
    "task_claimed",
    "task_completed",  # approve
    "case_closed",
]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def the_only_available_task(staff: Api) -> dict[str, Any]:
    [task] = ok(staff.get("tasks?scope=available"))
    found: dict[str, Any] = task
    return found


def assert_transitions(staff: Api, case_id: str) -> None:
    """The case went through exactly the expected transitions (the place webhook deliveries are checked too)."""
    events = ok(staff.get(f"cases/{case_id}/events?limit=100"))["results"]
    kinds = [event["kind"] for event in events if event["kind"] in set(EXPECTED_TRANSITIONS)]
    assert kinds == EXPECTED_TRANSITIONS


# What the webhook receiver must hear, in order, once each (the worker delivers after each step).
EXPECTED_WEBHOOKS = ["case.submitted", "task.completed", "task.completed", "case.closed"]


def deliver() -> None:
    """What the worker does between requests: carry out every due outbox row (e-mails and webhooks)."""
    outbox.deliver_due()


def test_a_case_from_submission_to_closing_through_the_api_alone(library_card_text, webhook_receiver):
    citizen = Api(token_for(make_user("cara")))
    staff = Api(token_for(make_user("lena", "librarian")))
    admin = Api(token_for(make_user("ada", "agency_admin")))

    # The agency's administrator registers a webhook for every event of the program.
    endpoint = ok(
        admin.post(
            "webhooks",
            {"program": "library-card-text", "url": webhook_receiver.url(), "events": sorted(set(EXPECTED_WEBHOOKS))},
        ),
        201,
    )
    secret = endpoint["secret"]

    # The citizen submits.
    receipt = ok(citizen.post("programs/library-card-text/submissions", ANSWERS), 201)
    case_id = receipt["case"]
    deliver()
    [mine] = ok(citizen.get("my/cases"))["results"]
    assert (mine["id"], mine["status"], mine["waiting_for_you"]) == (case_id, "running", False)

    # A librarian claims the review and asks for a new proof of address.
    task = the_only_available_task(staff)
    assert task["case"] == case_id
    assert "ask_for_proof" in ok(staff.post(f"tasks/{task['id']}/claim"))["outcomes"]
    decided = ok(staff.post(f"tasks/{task['id']}/complete", {"outcome": "ask_for_proof"}))
    assert (decided["status"], decided["outcome"]) == ("completed", "ask_for_proof")
    deliver()

    # The citizen sees the request waiting for them, with its question and form, and answers it.
    [mine] = ok(citizen.get("my/cases"))["results"]
    assert mine["waiting_for_you"] is True
    case = ok(citizen.get(f"my/cases/{case_id}"))
    [request] = case["open_requests"]
    assert request["question"] == "Send a new proof of address"
    assert request["file_questions"] == []
    assert "proof_of_address" in request["answer_schema"]["properties"]
    answered = ok(citizen.post(request["response_url"].removeprefix("/api/v1/"), {"proof_of_address": "New lease"}))
    assert (answered["status"], answered["open_requests"]) == ("running", [])

    # The review comes back; the librarian approves.
    task = the_only_available_task(staff)
    ok(staff.post(f"tasks/{task['id']}/claim"))
    ok(staff.post(f"tasks/{task['id']}/complete", {"outcome": "approve"}))
    deliver()
    deliver()  # a second sweep finds nothing left: no event is sent twice

    # The case is closed as approved, and the citizen sees it, and the closing message.
    case = ok(citizen.get(f"my/cases/{case_id}"))
    assert (case["status"], case["outcome"]) == ("closed", "approved")
    assert case["closed_at"] is not None
    assert [entry["event"] for entry in case["timeline"]] == ["submitted", "closed"]
    assert case["withdraw_url"] is None
    messages = ok(citizen.get("my/messages"))["results"]
    assert [message["case"] for message in messages] == [case_id, case_id]  # the request, then the approval
    closing = ok(citizen.get(messages[0]["url"].removeprefix("/api/v1/")))
    assert closing["subject"] == "Your library card is ready"
    assert closing["read_at"] is not None
    assert_transitions(staff, case_id)

    # The receiver heard of each event once, in order, each signed with the endpoint's secret.
    hits = webhook_receiver.received
    assert webhook_receiver.events() == EXPECTED_WEBHOOKS
    assert all(hit.signed_by(secret) for hit in hits)
    assert len({hit.delivery for hit in hits}) == len(hits)
    assert {hit.json()["case"]["id"] for hit in hits} == {case_id}
    assert [hit.json()["task"]["outcome"] for hit in hits if hit.event == "task.completed"] == [
        "ask_for_proof",
        "approve",
    ]
    assert hits[-1].json()["case"]["outcome"] == "approved"
    log = ok(admin.get(f"webhooks/{endpoint['id']}/deliveries?limit=100"))["results"]
    assert sorted(entry["event"] for entry in log) == sorted(EXPECTED_WEBHOOKS)
    assert {entry["delivery_status"] for entry in log} == {"delivered"}
