"""POST /api/v1/cases/{id}/events: a partner system (a payment provider) moves a waiting case on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.api.conftest import Api, assert_problem, token_for
from tests.conftest import make_user
from workflows import services
from workflows.models import Case, CaseEvent, Program

pytestmark = pytest.mark.django_db

AGENCY = "building-test"

PERMIT = {
    "program.yaml": f"id: fees\ntitle: {{en: Fee permit}}\nagency: {AGENCY}\nreference prefix: FE\n"
    "roles: [technician, cashier]\n",
    "form.schema.json": json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["valuation"],
            "properties": {"valuation": {"type": "number", "minimum": 0}},
        }
    ),
    "forms/payment.schema.json": json.dumps(
        {
            "type": "object",
            "required": ["amount", "receipt"],
            "properties": {
                "amount": {"type": "number", "minimum": 0},
                "receipt": {"type": "string", "pattern": "^R-[0-9]{6}$"},
            },
        }
    ),
    "workflow.yaml": """\
start: price
events:
  payment_received:
    form: forms/payment.schema.json
    sent by: [cashier]
steps:
  price:
    kind: decide
    compute: {fee: "max(150, valuation * 0.015)"}
    next: await_payment
  await_payment:
    kind: wait
    any of:
      - {event: payment_received, to: check_amount}
      - {after: 30 days, to: expired}
  check_amount:
    kind: decide
    routes:
      - {when: payment_received.amount >= fee, to: issued}
      - {to: underpaid}
  issued: {kind: end, outcome: issued}
  underpaid: {kind: end, outcome: underpaid}
  expired: {kind: end, outcome: expired}
""",
}


@pytest.fixture
def waiting_case(db) -> Case:
    services.definition_publish(files=PERMIT, folder="fees")
    program = Program.objects.get(slug="fees")
    return services.case_submit(program=program, data={"valuation": 250_000}, user=AnonymousUser(), language="en")


def cashier(name: str = "cass", agency: str = AGENCY) -> Api:
    return Api(token_for(make_user(name, "cashier", agency=agency)))


def pay(api: Api, case: Case, body: Any) -> Any:
    return api.post(f"cases/{case.public_id}/events", body)


def test_the_payment_provider_confirms_payment_and_the_case_goes_on(waiting_case):
    answered = pay(
        cashier(), waiting_case, {"event": "payment_received", "data": {"amount": 3750, "receipt": "R-000042"}}
    )
    assert answered.status_code == 200, answered.content
    assert (answered.json()["status"], answered.json()["outcome"]) == ("closed", "issued")
    received = CaseEvent.objects.get(case=waiting_case, kind="event_received")
    assert received.detail == {"event": "payment_received", "fields": ["amount", "receipt"], "by": "cass"}


def test_an_amount_below_the_fee_takes_the_other_route(waiting_case):
    answered = pay(
        cashier(), waiting_case, {"event": "payment_received", "data": {"amount": 100, "receipt": "R-000043"}}
    )
    assert answered.json()["outcome"] == "underpaid"


def test_data_that_does_not_fit_the_events_form_is_refused_with_every_error(waiting_case):
    refused = pay(cashier(), waiting_case, {"event": "payment_received", "data": {"amount": -5, "receipt": "42"}})
    body = assert_problem(refused, 422, "invalid_submission")
    assert sorted((error["pointer"], error["code"]) for error in body["errors"]) == [
        ("/amount", "too_small"),
        ("/receipt", "pattern_mismatch"),
    ]
    waiting_case.refresh_from_db()
    assert waiting_case.status == Case.Status.RUNNING, "nothing moved"


def test_a_second_confirmation_conflicts_and_changes_nothing(waiting_case):
    api = cashier()
    assert (
        pay(
            api, waiting_case, {"event": "payment_received", "data": {"amount": 3750, "receipt": "R-000042"}}
        ).status_code
        == 200
    )
    again = pay(api, waiting_case, {"event": "payment_received", "data": {"amount": 3750, "receipt": "R-000042"}})
    assert again.status_code == 409
    assert CaseEvent.objects.filter(case=waiting_case, kind="event_received").count() == 1


def test_an_event_the_case_is_not_waiting_for_is_a_conflict(waiting_case):
    assert_problem(pay(cashier(), waiting_case, {"event": "hearing_held"}), 409, "conflict")


def test_only_the_roles_named_may_send_it_and_other_agencies_do_not_see_the_case(waiting_case):
    technician = Api(token_for(make_user("tess", "technician", agency=AGENCY)))
    assert_problem(
        pay(technician, waiting_case, {"event": "payment_received", "data": {"amount": 1, "receipt": "R-000001"}}),
        403,
        "not_allowed",
    )
    elsewhere = cashier("carl", agency="another-city")
    assert_problem(
        pay(elsewhere, waiting_case, {"event": "payment_received", "data": {"amount": 1, "receipt": "R-000001"}}),
        404,
        "not_found",
    )
    assert_problem(pay(Api(), waiting_case, {"event": "payment_received"}), 401, "not_authenticated")


@pytest.mark.parametrize("body", [{}, {"event": "Payment Received"}, {"event": "payment_received", "data": [1]}])
def test_a_malformed_body_is_a_422(waiting_case, body):
    assert_problem(pay(cashier(), waiting_case, body), 422, "invalid_request")
