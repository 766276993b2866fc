"""A webhook receiver for tests: a loopback HTTP server in a thread that records what it is sent.

Use the ``webhook_receiver`` fixture (tests/conftest.py): it starts a receiver on 127.0.0.1,
lets webhooks go to plain http on loopback for the test (``CIVICFLOW_WEBHOOK_ALLOW_HTTP`` and
``CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8``), and stops the server afterwards::

    endpoint = webhooks.endpoint_create(program=..., url=webhook_receiver.url(), events=[...], created_by=None)
    ...  # move the case
    outbox.deliver_due()
    assert webhook_receiver.events() == ["case.submitted"]
    assert all(hit.signed_by(endpoint.secret) for hit in webhook_receiver.received)

``answer_with(status, ...)`` queues the next answers (204 once the queue is empty).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workflows import webhooks


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers.get("civicflow-event", "")

    @property
    def delivery(self) -> str:
        return self.headers.get("civicflow-delivery", "")

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str, *, now: float | None = None) -> bool:
        """Verified as a receiver would: the HMAC over the timestamp and raw body, and a recent timestamp."""
        return webhooks.verify_signature(secret, self.headers.get("civicflow-signature", ""), self.body, now=now)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 (a free port), answering each request from a queue of answers."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received("POST", self.path, {name.lower(): value for name, value in self.headers.items()}, body)
                    )
                    answer = receiver._answers.popleft() if receiver._answers else Answer(204)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def answer_with(self, status: int, *, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        with self._lock:
            self._answers.append(Answer(status, headers or {}, body))

    def events(self) -> list[str]:
        return [hit.event for hit in self.received]


def allow_loopback(settings: Any) -> None:
    """Let webhooks go to plain http on loopback (pytest-django's ``settings`` fixture)."""
    settings.CIVICFLOW_WEBHOOK_ALLOW_HTTP = True
    settings.CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
