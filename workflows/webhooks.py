"""Webhooks: an agency's systems are told when its program's cases move.

**Emitting.** ``emit`` runs inside the transaction that changes the case (``services._apply``)
and queues one outbox row (kind ``webhook``) per active endpoint subscribed to the program and
the event. The row's key names the endpoint and the occurrence (``webhook:<endpoint>:<case>:<event>``,
plus the task's id for ``task.completed``), so a transition retried after a rollback, or
replayed, never queues a second row. The payload carries identifiers, states and outcomes only,
never the applicant's answers: a receiver that needs them asks the API, which checks who asks.

**Delivering.** ``deliver`` is the outbox handler: a JSON POST signed with the endpoint's secret
(``CivicFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``), sent
to the very address that passed the SSRF check (no second DNS lookup to be fooled by), with
short timeouts and no redirects followed. A 2xx is delivered; a 4xx other than 408 and 429 is
a dead letter at once; anything else is retried with the outbox's backoff. Every attempt is
logged as a ``WebhookDelivery``.

**SSRF.** A target must be ``https`` (``http`` too with ``CIVICFLOW_WEBHOOK_ALLOW_HTTP``), carry
no credentials, and every address its host resolves to must be a public unicast address, unless
it lies in ``CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS``. Checked when an endpoint is saved and again
before every delivery (DNS may have changed in between).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from workflows import outbox
from workflows.models import Case, Outbox, Program, Task, WebhookDelivery, WebhookEndpoint

KIND = "webhook"
EVENTS: tuple[str, ...] = tuple(WebhookEndpoint.Event.values)
SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret
URL_MAX_CHARS = 2000
DESCRIPTION_MAX_CHARS = 200
RESPONSE_EXCERPT_CHARS = 500
"""How much of a receiver's answer the delivery log keeps (the rest is never read)."""
SIGNATURE_TOLERANCE_SECONDS = 300
"""How old a signature's timestamp a receiver should accept (``verify_signature``'s default)."""
USER_AGENT = "CivicFlow-Webhooks/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(Exception):
    """An endpoint's target is not allowed (the SSRF rules) or is not a usable URL."""

    def __init__(self, message: str, *, field: str = "url", may_pass: bool = False) -> None:
        self.message = message
        self.field = field
        # At delivery: a refusal that may not last (a name that does not resolve now) is tried again later.
        self.may_pass = may_pass
        super().__init__(message)


class DeliveryFailed(Exception):
    """This attempt failed in a way that may pass (a 5xx, 408, 429, a timeout): tried again later."""


# ------------------------------------------------------------------ the SSRF rules


def timeout_seconds() -> float:
    return float(getattr(settings, "CIVICFLOW_WEBHOOK_TIMEOUT_SECONDS", 5))


def http_allowed() -> bool:
    return bool(getattr(settings, "CIVICFLOW_WEBHOOK_ALLOW_HTTP", False))


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS``: the non-public networks targets may be in anyway."""
    return [ipaddress.ip_network(str(cidr), strict=False) for cidr in settings.CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this, never the network)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
"""Carrier-grade NAT (RFC 6598): not global, yet not ``is_private`` to Python."""


def address_refusal(address: Address) -> str | None:
    """Why a request may not go to ``address`` (None: it may)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in network for network in allowed_networks()):
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (this includes cloud metadata services)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or address in _SHARED_ADDRESS_SPACE:
        return "a private address"
    if not address.is_global:
        return "a reserved address"  # documentation, benchmarking and other special-purpose ranges
    return None


@dataclass(frozen=True)
class Target:
    """A checked target: where to connect (``address``) and what to say to it (``host``, ``path``)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_target(url: str) -> Target:
    """Parse ``url``, resolve its host and apply the SSRF rules; ``WebhookRefused`` says what is wrong."""
    text = url.strip()
    if not text:
        raise WebhookRefused("give the URL the events are sent to")
    if len(text) > URL_MAX_CHARS:
        raise WebhookRefused(f"a URL can be at most {URL_MAX_CHARS:,} characters")
    if not text.isascii() or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in text):
        raise WebhookRefused(
            "the URL may hold no spaces, control characters or non-ASCII letters "
            "(write an international host name in its xn-- form, and percent-encode the path)"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise WebhookRefused(f"this is not a usable URL: {error}") from None
    schemes = ("https", "http") if http_allowed() else ("https",)
    if parts.scheme not in schemes:
        needed = "http or https" if http_allowed() else "https (http only with CIVICFLOW_WEBHOOK_ALLOW_HTTP)"
        raise WebhookRefused(f"the URL must start with {needed}")
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused("put no user name or password in the URL: receivers check the signature instead")
    host = parts.hostname
    if not host:
        raise WebhookRefused("the URL has no host name")
    if parts.fragment:
        raise WebhookRefused("the URL may not have a #fragment")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(found) for found in resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            raise WebhookRefused(f"the host name {host!r} cannot be resolved", may_pass=True) from None
    if not addresses:
        raise WebhookRefused(f"the host name {host!r} cannot be resolved", may_pass=True)
    for address in addresses:
        refusal = address_refusal(address)
        if refusal is not None:
            raise WebhookRefused(
                f"{host} is {refusal} ({address}); webhooks go only to public addresses "
                "unless CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS allows it"
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


# ------------------------------------------------------------------ managing endpoints (services)


def _clean_events(events: Iterable[Any]) -> list[str]:
    chosen = list(dict.fromkeys(str(event) for event in events))
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise WebhookRefused(f"unknown event type {unknown[0]!r}; choose from {', '.join(EVENTS)}", field="events")
    if not chosen:
        raise WebhookRefused(f"choose at least one event type: {', '.join(EVENTS)}", field="events")
    return [event for event in EVENTS if event in chosen]


def _clean_description(description: str) -> str:
    text = description.strip()
    if len(text) > DESCRIPTION_MAX_CHARS:
        raise WebhookRefused(f"a description can be at most {DESCRIPTION_MAX_CHARS} characters", field="description")
    return text


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def endpoint_create(
    *, program: Program, url: str, events: Sequence[str], description: str = "", created_by: User | None
) -> WebhookEndpoint:
    """Register an endpoint (its secret is on the returned row: show it once). ``WebhookRefused`` for bad input."""
    check_target(url)
    return WebhookEndpoint.objects.create(
        program=program,
        url=url.strip(),
        events=_clean_events(events),
        description=_clean_description(description),
        secret=new_secret(),
        created_by=created_by,
        created_at=timezone.now(),
    )


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; the URL is checked again. Reactivating checks the URL too."""
    if url is not None:
        check_target(url)
        endpoint.url = url.strip()
    elif active:
        check_target(endpoint.url)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = _clean_description(description)
    if active is not None:
        endpoint.active = active
    endpoint.save(update_fields=["url", "events", "description", "active"])
    return endpoint


def endpoint_deactivate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to it; the row and its delivery log stay."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    endpoint.active = False
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret from now on: deliveries after this are signed with it, retries included."""
    endpoint.secret = new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=endpoint.secret)
    return endpoint


# ------------------------------------------------------------------ emitting, inside the case's transaction


@dataclass(frozen=True)
class Occurrence:
    """Something a webhook may be sent for: ``event``, and the engine token of the task it concerns."""

    event: str
    token: int | None = None


SUBMITTED = Occurrence(WebhookEndpoint.Event.CASE_SUBMITTED.value)
CLOSED = Occurrence(WebhookEndpoint.Event.CASE_CLOSED.value)


def task_completed(token: int) -> Occurrence:
    return Occurrence(WebhookEndpoint.Event.TASK_COMPLETED.value, token)


def emit(case: Case, occurrences: Sequence[Occurrence], *, now: datetime) -> int:
    """Queue the webhooks for what just happened to ``case``; how many rows were queued.

    Call inside the case's transaction. One query when the program has no endpoint; the
    completed tasks are read only when an endpoint wants them.
    """
    if not occurrences:
        return 0
    endpoints = list(
        WebhookEndpoint.objects.filter(program_id=case.program_id, active=True).values_list("pk", "events")
    )
    wanted = {event for _pk, events in endpoints for event in events}
    happened = [occurrence for occurrence in occurrences if occurrence.event in wanted]
    if not happened:
        return 0
    tasks: dict[int, Task] = {}
    tokens = [occurrence.token for occurrence in happened if occurrence.token is not None]
    if tokens:
        # A token holds one task at a time: the one it completed in this transition has this moment.
        closed_now = Task.objects.filter(case=case, token__in=tokens, status=Task.Status.COMPLETED, completed_at=now)
        tasks = {task.token: task for task in closed_now.order_by("pk")}
    program_slug = case.program.slug  # loaded with the case on most paths; read once otherwise
    queued = 0
    for occurrence in happened:
        task = tasks.get(occurrence.token) if occurrence.token is not None else None
        if occurrence.token is not None and task is None:
            continue
        body = event_body(case, occurrence.event, program_slug, task, now)
        for endpoint_id, events in endpoints:
            if occurrence.event not in events:
                continue
            key = f"webhook:{endpoint_id}:{case.public_id}:{occurrence.event}" + (f":{task.pk}" if task else "")
            payload = {"endpoint": endpoint_id, "event": occurrence.event, "body": body}
            outbox.enqueue(kind=KIND, key=key, payload=payload, now=now, case=case)
            queued += 1
    return queued


def event_body(case: Case, event: str, program_slug: str, task: Task | None, now: datetime) -> dict[str, Any]:
    """What a receiver is sent: identifiers, states and outcomes, never the applicant's answers."""
    occurrence = f"{case.public_id}:{event}" + (f":{task.pk}" if task else "")
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"civicflow:{occurrence}")),
        "type": event,
        "occurred_at": now.isoformat(),
        "program": program_slug,
        "case": {
            "id": str(case.public_id),
            "reference": case.reference,
            "status": case.status,
            "outcome": case.outcome,
        },
    }
    if task is not None:
        body["task"] = {"id": task.pk, "step": task.step, "outcome": task.outcome}
    return body


# ------------------------------------------------------------------ signing


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``CivicFlow-Signature`` header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: the header's HMAC matches the body, and its timestamp is recent."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


# ------------------------------------------------------------------ delivering (the outbox handler)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address; the certificate and SNI are checked against the host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _connection(target: Target) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout_seconds())
    return _PinnedHTTPConnection(target, timeout_seconds())


@dataclass
class _Attempt:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""


@outbox.handles(KIND)
def deliver(row: Outbox) -> None:
    """POST one event to its endpoint, logging the attempt; raise to have the outbox retry or give up."""
    endpoint_id = row.payload.get("endpoint")
    event = str(row.payload.get("event", ""))
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None or "body" not in row.payload:
        raise outbox.PermanentFailure("the webhook's endpoint or event is gone")
    if not endpoint.active:
        raise outbox.PermanentFailure("the endpoint was deactivated before the event could be sent")
    started = time.monotonic()
    attempt = _Attempt()
    try:
        _send(endpoint, row, event, attempt)
    except outbox.PermanentFailure as refused:
        attempt.error = attempt.error or str(refused)
        raise
    except Exception as failed:  # a timeout, a refused connection, a TLS failure: logged, re-raised, retried
        attempt.error = attempt.error or (
            f"{type(failed).__name__}: {failed}" if str(failed) else type(failed).__name__
        )
        raise
    finally:
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            outbox=row,
            event=event,
            attempt=row.attempts,
            at=timezone.now(),
            status_code=attempt.status_code,
            error=attempt.error[: outbox.ERROR_TEXT_LIMIT],
            duration_ms=round((time.monotonic() - started) * 1000),
            response_excerpt=attempt.excerpt,
        )


def _send(endpoint: WebhookEndpoint, row: Outbox, event: str, attempt: _Attempt) -> None:
    try:
        target = check_target(endpoint.url)
    except WebhookRefused as refused:
        if refused.may_pass:
            raise DeliveryFailed(refused.message) from None  # the name may resolve again
        raise outbox.PermanentFailure(refused.message) from None
    body = json.dumps(row.payload["body"], separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "CivicFlow-Event": event,
        "CivicFlow-Delivery": row.key,
        "CivicFlow-Signature": signature(endpoint.secret, timestamp, body),
    }
    connection = _connection(target)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        attempt.status_code = response.status
        attempt.excerpt = response.read(RESPONSE_EXCERPT_CHARS * 4).decode("utf-8", "replace")[:RESPONSE_EXCERPT_CHARS]
        location = response.getheader("Location", "")
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise outbox.PermanentFailure(
            f"answered {status} (a redirect to {location[:200] or 'nowhere'}); redirects are not followed: "
            "register the final URL"
        )
    if 400 <= status < 500 and status not in (408, 429):
        raise outbox.PermanentFailure(f"the receiver refused the event with {status}")
    raise DeliveryFailed(f"the receiver answered {status}")
