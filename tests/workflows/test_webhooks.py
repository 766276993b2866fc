"""Webhooks: queued with the case change, delivered once each, signed, retried, refused for private targets."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.conftest import ANSWERS
from tests.conftest import make_user
from tests.workflows.test_settings import civicflow, deploy_check
from workflows import faults, outbox, services, webhooks
from workflows.models import Case, Outbox, Task, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["case.submitted", "task.completed", "case.closed"]


def deliver_webhooks(now: datetime | None = None) -> int:
    """Deliver the webhook rows that are due (the e-mails the case also queued are left alone)."""
    moment = now or timezone.now()
    due = Outbox.objects.filter(kind="webhook", status=Outbox.Status.PENDING, available_at__lte=moment)
    return sum(outbox.deliver_one(pk, now=moment) for pk in due.order_by("pk").values_list("pk", flat=True))


def register(program, url: str, events=ALL_EVENTS) -> WebhookEndpoint:
    return webhooks.endpoint_create(program=program, url=url, events=events, created_by=None)


def submit(program) -> Case:
    return services.case_submit(program=program, data=ANSWERS, user=make_user("cara"))


def approve(case: Case, librarian) -> Task:
    task = Task.objects.get(case=case, status="open")
    services.task_claim(task_id=task.pk, user=librarian)
    return services.task_complete(task_id=task.pk, user=librarian, outcome="approve")


@pytest.fixture
def resolving_to(monkeypatch):
    """Patch DNS: ``resolving_to({"name": ["address"]})``; an unknown name does not resolve."""

    def patch(table: dict[str, list[str]]) -> None:
        def resolve(host: str, port: int) -> list[str]:
            if host not in table:
                raise socket.gaierror(f"unknown host {host}")
            return table[host]

        monkeypatch.setattr(webhooks, "resolve", resolve)

    return patch


# ------------------------------------------------------------------ the whole case


def test_the_receiver_gets_each_event_of_a_case_once_signed(library_card, librarian, webhook_receiver):
    endpoint = register(library_card, webhook_receiver.url())
    case = submit(library_card)
    task = approve(case, librarian)
    case.refresh_from_db()
    assert case.status == "closed"

    assert deliver_webhooks() == 3
    assert deliver_webhooks() == 0  # nothing is sent twice
    assert webhook_receiver.events() == ["case.submitted", "task.completed", "case.closed"]
    for hit in webhook_receiver.received:
        assert hit.path == "/hooks"
        assert hit.headers["content-type"] == "application/json"
        assert hit.signed_by(endpoint.secret)
        assert not hit.signed_by("whsec_someone-elses-secret")
        body = hit.json()
        assert body["type"] == hit.event
        assert body["program"] == "library-card"
        assert body["case"]["id"] == str(case.public_id)
        assert body["case"]["reference"] == case.reference
    submitted, completed, closed = (hit.json() for hit in webhook_receiver.received)
    assert completed["task"] == {"id": task.pk, "step": task.step, "outcome": "approve"}
    assert "task" not in submitted
    assert "task" not in closed
    assert closed["case"]["status"] == "closed"
    assert closed["case"]["outcome"] == case.outcome
    assert len({hit.delivery for hit in webhook_receiver.received}) == 3
    # Identifiers and states only: none of the applicant's answers travel.
    sent = b"".join(hit.body for hit in webhook_receiver.received).decode()
    for answer in ("Ana Lima", "ana@example.org", "555-0142", "Harbor Street", "1988-03-14"):
        assert answer not in sent
    log = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    assert [(row.event, row.attempt, row.status_code, row.error) for row in log] == [
        ("case.submitted", 1, 204, ""),
        ("task.completed", 1, 204, ""),
        ("case.closed", 1, 204, ""),
    ]


def test_a_signature_is_refused_when_old_or_for_another_body(library_card, webhook_receiver):
    endpoint = register(library_card, webhook_receiver.url())
    submit(library_card)
    deliver_webhooks()
    [hit] = webhook_receiver.received
    header = hit.headers["civicflow-signature"]
    sent_at = int(header.split(",")[0].removeprefix("t="))
    assert abs(sent_at - time.time()) < 3600
    assert hit.signed_by(endpoint.secret, now=sent_at + 299)
    assert not hit.signed_by(endpoint.secret, now=sent_at + 301)  # a replay, too late
    assert not webhooks.verify_signature(endpoint.secret, header, hit.body + b" ")
    assert not webhooks.verify_signature(endpoint.secret, "v1=" + header.partition("v1=")[2], hit.body)


def test_only_the_events_an_active_endpoint_subscribes_to_are_queued(library_card, librarian, webhook_receiver):
    closed_only = register(library_card, webhook_receiver.url("/closed"), events=["case.closed"])
    inactive = register(library_card, webhook_receiver.url("/inactive"))
    webhooks.endpoint_deactivate(endpoint=inactive)
    case = submit(library_card)
    approve(case, librarian)
    deliver_webhooks()
    assert [(hit.path, hit.event) for hit in webhook_receiver.received] == [("/closed", "case.closed")]
    assert WebhookDelivery.objects.filter(endpoint=closed_only).count() == 1


def test_a_replayed_occurrence_is_queued_once(library_card, webhook_receiver):
    register(library_card, webhook_receiver.url())
    case = submit(library_card)
    assert webhooks.emit(case, [webhooks.SUBMITTED], now=timezone.now()) == 1  # "queued", but the key is taken
    assert Outbox.objects.filter(kind="webhook", case=case).count() == 1


def test_without_endpoints_a_case_change_costs_at_most_one_query_more(library_card, librarian):
    with CaptureQueriesContext(connection) as submitting:
        case = submit(library_card)
    task = Task.objects.get(case=case, status="open")
    with CaptureQueriesContext(connection) as claiming:
        services.task_claim(task_id=task.pk, user=librarian)
    with CaptureQueriesContext(connection) as approving:
        services.task_complete(task_id=task.pk, user=librarian, outcome="approve")

    def about_webhooks(captured: CaptureQueriesContext) -> int:
        return sum("webhookendpoint" in query["sql"] for query in captured.captured_queries)

    assert [about_webhooks(stage) for stage in (submitting, claiming, approving)] == [1, 0, 1]
    assert not Outbox.objects.filter(kind="webhook").exists()


# ------------------------------------------------------------------ delivery: repeats, retries, refusals


def test_a_repeated_delivery_carries_the_same_delivery_id(library_card, webhook_receiver, monkeypatch):
    register(library_card, webhook_receiver.url())
    submit(library_card)
    # The worker sends, then fails before acknowledging: the row goes again, later.
    monkeypatch.setenv("CIVICFLOW_FAULTS", str(faults.OUTBOX_AFTER_SIDE_EFFECT))
    now = timezone.now()
    assert deliver_webhooks(now) == 0
    monkeypatch.delenv("CIVICFLOW_FAULTS")
    assert deliver_webhooks(now + timedelta(hours=1)) == 1
    first, second = webhook_receiver.received
    assert first.delivery == second.delivery == Outbox.objects.get(kind="webhook").key
    assert first.json()["id"] == second.json()["id"]


def test_a_server_error_is_retried_with_backoff_then_delivered(library_card, webhook_receiver):
    endpoint = register(library_card, webhook_receiver.url())
    webhook_receiver.answer_with(500, body=b"database down")
    submit(library_card)
    now = timezone.now()
    assert deliver_webhooks(now) == 0
    row = Outbox.objects.get(kind="webhook")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.available_at == now + outbox.backoff(1)
    assert deliver_webhooks(now + timedelta(seconds=5)) == 0  # not before the backoff has passed
    assert len(webhook_receiver.received) == 1
    assert deliver_webhooks(now + outbox.backoff(1) + timedelta(seconds=1)) == 1
    row.refresh_from_db()
    assert row.status == "delivered"
    failed, delivered = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    assert (failed.attempt, failed.status_code, failed.response_excerpt) == (1, 500, "database down")
    assert "500" in failed.error
    assert (delivered.attempt, delivered.status_code, delivered.error) == (2, 204, "")
    assert webhook_receiver.received[0].delivery == webhook_receiver.received[1].delivery


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_receiver_asking_for_time_is_tried_again(library_card, webhook_receiver, status):
    register(library_card, webhook_receiver.url())
    webhook_receiver.answer_with(status)
    submit(library_card)
    deliver_webhooks()
    assert Outbox.objects.get(kind="webhook").status == "pending"


def test_a_client_error_is_a_dead_letter_at_once(library_card, webhook_receiver):
    endpoint = register(library_card, webhook_receiver.url())
    webhook_receiver.answer_with(400, body=b'{"error": "unknown event"}')
    submit(library_card)
    deliver_webhooks()
    row = Outbox.objects.get(kind="webhook")
    assert (row.status, row.attempts) == ("dead", 1)
    assert "400" in row.last_error
    [attempt] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (attempt.status_code, attempt.response_excerpt) == (400, '{"error": "unknown event"}')


def test_the_delivery_log_keeps_only_the_start_of_a_long_answer(library_card, webhook_receiver):
    register(library_card, webhook_receiver.url())
    webhook_receiver.answer_with(200, body=b"x" * 5000)
    submit(library_card)
    deliver_webhooks()
    assert WebhookDelivery.objects.get().response_excerpt == "x" * webhooks.RESPONSE_EXCERPT_CHARS


def test_a_redirect_is_not_followed(library_card, webhook_receiver):
    register(library_card, webhook_receiver.url())
    webhook_receiver.answer_with(302, headers={"Location": webhook_receiver.url("/elsewhere")})
    submit(library_card)
    deliver_webhooks()
    assert [hit.path for hit in webhook_receiver.received] == ["/hooks"]  # /elsewhere never asked
    row = Outbox.objects.get(kind="webhook")
    assert row.status == "dead"
    assert "redirects are not followed" in row.last_error
    assert WebhookDelivery.objects.get().status_code == 302


def test_a_refused_connection_is_tried_again(library_card, settings):
    settings.CIVICFLOW_WEBHOOK_ALLOW_HTTP = True
    settings.CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    endpoint = register(library_card, f"http://127.0.0.1:{port}/hooks")
    submit(library_card)
    deliver_webhooks()
    row = Outbox.objects.get(kind="webhook")
    assert (row.status, row.attempts) == ("pending", 1)
    attempt = WebhookDelivery.objects.get(endpoint=endpoint)
    assert attempt.status_code is None
    assert "Connection" in attempt.error


def test_the_connection_goes_to_the_address_that_was_checked(library_card, webhook_receiver, resolving_to):
    # The name resolves to the receiver's loopback address, which this test allows.
    resolving_to({"hooks.agency.test": ["127.0.0.1"]})
    endpoint = register(library_card, webhook_receiver.url(host="hooks.agency.test"))
    submit(library_card)
    deliver_webhooks()
    [hit] = webhook_receiver.received
    assert hit.headers["host"] == f"hooks.agency.test:{webhook_receiver.port}"
    assert hit.signed_by(endpoint.secret)


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_delivery(
    library_card, webhook_receiver, resolving_to, settings
):
    resolving_to({"hooks.agency.test": ["127.0.0.1"]})
    endpoint = register(library_card, webhook_receiver.url(host="hooks.agency.test"))
    settings.CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS = []  # loopback no longer allowed: as if DNS had been rebound
    submit(library_card)
    deliver_webhooks()
    assert webhook_receiver.received == []
    row = Outbox.objects.get(kind="webhook")
    assert row.status == "dead"
    assert "loopback" in row.last_error
    assert "loopback" in WebhookDelivery.objects.get(endpoint=endpoint).error


def test_a_metadata_address_is_refused_at_delivery(library_card, resolving_to):
    resolving_to({"hooks.agency.test": ["93.184.216.34"]})
    endpoint = register(library_card, "https://hooks.agency.test/civicflow")
    resolving_to({"hooks.agency.test": ["169.254.169.254"]})
    submit(library_card)
    deliver_webhooks()
    row = Outbox.objects.get(kind="webhook")
    assert row.status == "dead"
    assert "link-local" in WebhookDelivery.objects.get(endpoint=endpoint).error


def test_an_endpoint_deactivated_after_the_event_gets_nothing(library_card, webhook_receiver):
    endpoint = register(library_card, webhook_receiver.url())
    submit(library_card)
    webhooks.endpoint_deactivate(endpoint=endpoint)
    deliver_webhooks()
    assert webhook_receiver.received == []
    assert Outbox.objects.get(kind="webhook").status == "dead"


def test_a_rotated_secret_signs_the_next_delivery(library_card, webhook_receiver):
    endpoint = register(library_card, webhook_receiver.url())
    old = endpoint.secret
    submit(library_card)
    webhooks.endpoint_rotate_secret(endpoint=endpoint)
    deliver_webhooks()
    [hit] = webhook_receiver.received
    assert hit.signed_by(endpoint.secret)
    assert not hit.signed_by(old)


# ------------------------------------------------------------------ the SSRF rules at registration


@pytest.mark.parametrize(
    ("url", "because"),
    [
        ("https://localhost.agency.test/hooks", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://192.168.0.10/hooks", "private"),
        ("https://[::1]/hooks", "loopback"),
        ("https://[fd12::1]/hooks", "private"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("https://100.64.1.1/hooks", "private"),
        ("https://0.0.0.0/hooks", "unspecified"),
        ("https://224.0.0.1/hooks", "multicast"),
        ("https://240.0.0.1/hooks", "reserved"),
        ("https://private.agency.test/hooks", "private"),
        ("http://hooks.agency.test/hooks", "must start with https"),
        ("https://user:pass@hooks.agency.test/hooks", "no user name or password"),
        ("https://nowhere.agency.test/hooks", "cannot be resolved"),
        ("ftp://hooks.agency.test/hooks", "must start with https"),
        ("https:///hooks", "no host"),
        ("https://hooks.agency.test/a path", "no spaces"),
        ("https://hooks.agency.test/\r\nX-Injected: 1", "no spaces"),
        ("https://bücher.agency.test/hooks", "xn--"),
        ("", "give the URL"),
    ],
)
def test_registration_refuses_targets_the_ssrf_rules_forbid(library_card, resolving_to, url, because):
    resolving_to(
        {
            "localhost.agency.test": ["127.0.0.1"],
            "private.agency.test": ["93.184.216.34", "10.0.0.5"],  # one private address is enough to refuse
            "hooks.agency.test": ["93.184.216.34"],
        }
    )
    with pytest.raises(webhooks.WebhookRefused) as refused:
        register(library_card, url)
    assert because in refused.value.message
    assert not WebhookEndpoint.objects.exists()


def test_allowed_networks_and_http_open_exactly_what_they_name(library_card, resolving_to, settings):
    resolving_to({"intranet.agency.test": ["10.20.1.5"], "other.agency.test": ["10.30.1.5"]})
    settings.CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert register(library_card, "https://intranet.agency.test/hooks").pk
    with pytest.raises(webhooks.WebhookRefused):
        register(library_card, "https://other.agency.test/hooks")
    with pytest.raises(webhooks.WebhookRefused):
        register(library_card, "http://intranet.agency.test/hooks")
    settings.CIVICFLOW_WEBHOOK_ALLOW_HTTP = True
    assert register(library_card, "http://intranet.agency.test/hooks").pk


def test_registration_refuses_unknown_or_no_events(library_card, resolving_to):
    resolving_to({"hooks.agency.test": ["93.184.216.34"]})
    with pytest.raises(webhooks.WebhookRefused, match=r"unknown event type 'case\.opened'"):
        register(library_card, "https://hooks.agency.test/", events=["case.opened"])
    with pytest.raises(webhooks.WebhookRefused, match="at least one"):
        register(library_card, "https://hooks.agency.test/", events=[])


def test_the_payload_in_the_outbox_is_json_without_answers(library_card, resolving_to):
    resolving_to({"hooks.agency.test": ["93.184.216.34"]})
    register(library_card, "https://hooks.agency.test/", events=["case.submitted"])
    case = submit(library_card)
    row = Outbox.objects.get(kind="webhook")
    assert row.key.endswith(f":{case.public_id}:case.submitted")
    assert "Ana Lima" not in json.dumps(row.payload)


def test_a_name_that_stops_resolving_is_tried_again(library_card, resolving_to):
    resolving_to({"hooks.agency.test": ["93.184.216.34"]})
    endpoint = register(library_card, "https://hooks.agency.test/hooks")
    resolving_to({})
    submit(library_card)
    deliver_webhooks()
    assert Outbox.objects.get(kind="webhook").status == "pending"
    assert "cannot be resolved" in WebhookDelivery.objects.get(endpoint=endpoint).error


# ------------------------------------------------------------------ settings, checks and the admin


def test_the_deployment_checks_warn_when_webhooks_may_use_plain_http(tmp_path):
    result = deploy_check(tmp_path, CIVICFLOW_WEBHOOK_ALLOW_HTTP="1")
    assert result.returncode == 1
    assert "civicflow.W003" in result.stderr


def test_an_allowed_network_that_is_not_a_network_stops_the_start(tmp_path):
    result = civicflow(
        "check", tmp_path=tmp_path, CIVICFLOW_ENV="development", CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS="10.0.0.0/33"
    )
    assert result.returncode == 2
    assert "CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS lists networks like" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_admin_shows_endpoints_and_deliveries_but_never_the_secret(library_card, webhook_receiver, client):
    endpoint = register(library_card, webhook_receiver.url())
    webhook_receiver.answer_with(503, body=b"busy right now")
    submit(library_card)
    deliver_webhooks()
    client.force_login(User.objects.create_superuser("root", password="correct horse battery staple"))
    for page in (
        "/admin/workflows/webhookendpoint/",
        f"/admin/workflows/webhookendpoint/{endpoint.pk}/change/",
        "/admin/workflows/webhookdelivery/",
        f"/admin/workflows/webhookdelivery/{WebhookDelivery.objects.get().pk}/change/",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert endpoint.secret not in response.text
    assert webhook_receiver.url() in client.get("/admin/workflows/webhookendpoint/").text
    assert (
        "busy right now"
        in client.get(f"/admin/workflows/webhookdelivery/{WebhookDelivery.objects.get().pk}/change/").text
    )
