"""/api/v1/webhooks: agency administrators register endpoints, see the secret once, read the delivery log."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from tests.api.conftest import ANSWERS, Api, assert_problem, token_for
from tests.conftest import make_user
from workflows import outbox, services, webhooks
from workflows.models import Outbox, WebhookEndpoint

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["case.submitted", "task.completed", "case.closed"]


def patch(api: Api, path: str, body: object) -> Any:
    return api.client.patch(
        f"/api/v1/{path}", data=json.dumps(body), content_type="application/json", headers=api._headers({})
    )


def delete(api: Api, path: str) -> Any:
    return api.client.delete(f"/api/v1/{path}", headers=api._headers({}))


@pytest.fixture
def admin_api(db) -> Api:
    return Api(token_for(make_user("ada", "agency_admin")))


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.agency.test is a public address; metadata.agency.test is the cloud metadata service."""
    table = {"hooks.agency.test": ["93.184.216.34"], "metadata.agency.test": ["169.254.169.254"]}

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(f"unknown host {host}")
        return table[host]

    monkeypatch.setattr(webhooks, "resolve", resolve)


def create(api: Api, url: str = "https://hooks.agency.test/civicflow", **extra: Any) -> Any:
    return api.post("webhooks", {"program": "library-card", "url": url, "events": ALL_EVENTS, **extra})


def test_an_agency_admin_registers_an_endpoint_and_sees_the_secret_once(library_card, admin_api, public_dns):
    made = create(admin_api, description="case system")
    assert made.status_code == 201, made.content
    assert made["Cache-Control"] == "no-store"
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert body["program"] == "library-card"
    assert body["events"] == ALL_EVENTS
    assert body["active"] is True
    assert body["created_by"] == "ada"
    assert body["description"] == "case system"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]

    shown = admin_api.get(f"webhooks/{endpoint.pk}")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = admin_api.get("webhooks").json()
    assert [row["id"] for row in listed["results"]] == [endpoint.pk]
    assert "secret" not in listed["results"][0]
    assert listed["next"] is None


def test_what_a_client_may_not_set_is_ignored(library_card, admin_api, public_dns):
    made = create(admin_api, secret="whsec_mine", active=False, created_by="someone", created_at="2001-01-01T00:00:00Z")
    assert made.status_code == 201
    body = made.json()
    assert body["secret"] != "whsec_mine"
    assert body["active"] is True
    assert body["created_by"] == "ada"
    assert not body["created_at"].startswith("2001")


@pytest.mark.parametrize(
    ("url", "because"),
    [
        ("https://metadata.agency.test/latest", "link-local"),
        ("https://10.0.0.8/hooks", "private"),
        ("https://[::1]/hooks", "loopback"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("http://hooks.agency.test/hooks", "https"),
        ("https://me:secret@hooks.agency.test/hooks", "password"),
        ("https://unknown.agency.test/hooks", "cannot be resolved"),
    ],
)
def test_a_target_the_ssrf_rules_forbid_is_a_422_at_the_url(library_card, admin_api, public_dns, url, because):
    body = assert_problem(create(admin_api, url), 422, "invalid_request")
    [error] = body["errors"]
    assert error["pointer"] == "/url"
    assert error["code"] == "not_allowed"
    assert because in error["message"]
    assert not WebhookEndpoint.objects.exists()


def test_bad_fields_are_a_422_pointing_at_each(library_card, admin_api, public_dns):
    body = assert_problem(
        admin_api.post("webhooks", {"program": "library-card", "url": "https://hooks.agency.test/", "events": ["x"]}),
        422,
        "invalid_request",
    )
    assert [error["pointer"] for error in body["errors"]] == ["/events/0"]
    body = assert_problem(admin_api.post("webhooks", {}), 422, "invalid_request")
    assert {error["pointer"] for error in body["errors"]} == {"/program", "/url", "/events"}
    unknown_program = {"program": "nope", "url": "https://hooks.agency.test/", "events": ALL_EVENTS}
    body = assert_problem(admin_api.post("webhooks", unknown_program), 422, "invalid_request")
    assert [error["pointer"] for error in body["errors"]] == ["/program"]
    body = assert_problem(create(admin_api, events=[]), 422, "invalid_request")
    assert [error["pointer"] for error in body["errors"]] == ["/events"]


def test_only_agency_admins_manage_webhooks(library_card, librarian_api, anonymous, public_dns, admin_api):
    endpoint_id = create(admin_api).json()["id"]
    assert_problem(anonymous.get("webhooks"), 401, "not_authenticated")
    assert_problem(librarian_api.get("webhooks"), 403, "not_allowed")
    assert_problem(create(librarian_api), 403, "not_allowed")
    assert_problem(librarian_api.get(f"webhooks/{endpoint_id}"), 403, "not_allowed")
    assert_problem(librarian_api.post(f"webhooks/{endpoint_id}/rotate-secret"), 403, "not_allowed")
    assert_problem(librarian_api.get(f"webhooks/{endpoint_id}/deliveries"), 403, "not_allowed")
    assert_problem(patch(librarian_api, f"webhooks/{endpoint_id}", {"active": False}), 403, "not_allowed")
    assert_problem(delete(librarian_api, f"webhooks/{endpoint_id}"), 403, "not_allowed")
    assert WebhookEndpoint.objects.get(pk=endpoint_id).active


def test_an_unknown_endpoint_is_a_404(library_card, admin_api):
    for response in (
        admin_api.get("webhooks/999999"),
        patch(admin_api, "webhooks/999999", {"active": False}),
        delete(admin_api, "webhooks/999999"),
        admin_api.post("webhooks/999999/rotate-secret"),
        admin_api.get("webhooks/999999/deliveries"),
    ):
        assert_problem(response, 404, "not_found")


def test_patch_changes_what_it_names_and_checks_a_new_url(library_card, admin_api, public_dns):
    endpoint_id = create(admin_api).json()["id"]
    changed = patch(admin_api, f"webhooks/{endpoint_id}", {"events": ["case.closed"], "description": "closures"})
    assert changed.status_code == 200
    assert changed.json()["events"] == ["case.closed"]
    assert changed.json()["description"] == "closures"
    assert changed.json()["url"] == "https://hooks.agency.test/civicflow"
    refused = assert_problem(
        patch(admin_api, f"webhooks/{endpoint_id}", {"url": "https://metadata.agency.test/"}), 422, "invalid_request"
    )
    assert refused["errors"][0]["pointer"] == "/url"
    assert WebhookEndpoint.objects.get(pk=endpoint_id).url == "https://hooks.agency.test/civicflow"
    ignored = patch(admin_api, f"webhooks/{endpoint_id}", {"secret": "whsec_mine", "program": "other"})
    assert ignored.status_code == 200
    assert WebhookEndpoint.objects.get(pk=endpoint_id).secret != "whsec_mine"


def test_delete_deactivates_and_keeps_the_endpoint(library_card, admin_api, public_dns):
    endpoint_id = create(admin_api).json()["id"]
    gone = delete(admin_api, f"webhooks/{endpoint_id}")
    assert gone.status_code == 200
    assert gone.json()["active"] is False
    assert admin_api.get(f"webhooks/{endpoint_id}").json()["active"] is False
    services.case_submit(program=library_card, data=ANSWERS, user=make_user("cara"))
    assert not Outbox.objects.filter(kind="webhook").exists()  # nothing is queued for it
    back = patch(admin_api, f"webhooks/{endpoint_id}", {"active": True})
    assert back.json()["active"] is True


def test_rotating_the_secret_shows_a_new_one_once(library_card, admin_api, public_dns):
    first = create(admin_api).json()
    rotated = admin_api.post(f"webhooks/{first['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated["Cache-Control"] == "no-store"
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != first["secret"]
    assert WebhookEndpoint.objects.get(pk=first["id"]).secret == rotated.json()["secret"]


def test_the_delivery_log_lists_each_attempt_newest_first(library_card, admin_api, webhook_receiver):
    endpoint_id = create(admin_api, webhook_receiver.url()).json()["id"]
    webhook_receiver.answer_with(503, body=b"busy")
    services.case_submit(program=library_card, data=ANSWERS, user=make_user("cara"))
    [row] = Outbox.objects.filter(kind="webhook")
    outbox.deliver_one(row.pk)
    Outbox.objects.filter(pk=row.pk).update(available_at=row.created_at)  # due again at once
    outbox.deliver_one(row.pk)

    log = admin_api.get(f"webhooks/{endpoint_id}/deliveries")
    assert log.status_code == 200
    latest, earlier = log.json()["results"]
    assert (latest["attempt"], latest["status_code"], latest["error"], latest["delivery_status"]) == (
        2,
        204,
        "",
        "delivered",
    )
    assert (earlier["attempt"], earlier["status_code"], earlier["response_excerpt"]) == (1, 503, "busy")
    assert "503" in earlier["error"]
    assert latest["event"] == "case.submitted"
    assert latest["delivery"] == row.key == webhook_receiver.received[0].delivery
    assert log.json()["next"] is None
    paged = admin_api.get(f"webhooks/{endpoint_id}/deliveries?limit=1").json()
    assert [entry["attempt"] for entry in paged["results"]] == [2]
    assert paged["next"]
