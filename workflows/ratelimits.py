"""Per-IP limits on what anonymous visitors may create: applications started, submitted, resume links sent.

One counter serves both doors: ``AnonymousLimitThrottle`` is how the REST API asks it (DRF
throttling, answered 429 problem+json with ``Retry-After`` by ``problems.exception_handler``),
and the HTML views ask ``Limit.hit`` directly and draw a friendly page. Counts live in the
default cache, so every process must share one in production (``CACHE_URL``).

Token-holding systems and signed-in staff are never counted: a partner system or a counter
clerk submits on behalf of many people from one address. Saving a draft page is never
limited either, so a citizen over the limit loses nothing they typed.

The client's address is ``REMOTE_ADDR``; ``X-Forwarded-For`` is read only when
``CIVICFLOW_TRUSTED_PROXIES`` says how many proxies of ours stand in front, because anyone
can send that header and would otherwise pick their own address per request.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from workflows.roles import roles_of

WINDOW_SECONDS = 3600
"""Every limit counts over the last hour."""


def now() -> float:
    """The clock the counters read (tests move it instead of sleeping)."""
    return time.time()


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until one more is allowed (0 when allowed)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """``setting`` requests per hour from one address; the setting's value is read on each use."""

    scope: str
    setting: str

    @property
    def per_hour(self) -> int:
        return int(getattr(settings, self.setting))

    def hit(self, request: HttpRequest | Request) -> Verdict:
        """Count this request against its address, unless the limit is refused already or does not apply."""
        if exempt(request) or self.per_hour <= 0:
            return Verdict(allowed=True)
        key = f"civicflow:limit:{self.scope}:{client_ip(request)}"
        moment = now()
        recent = [stamp for stamp in cache.get(key, []) if stamp > moment - WINDOW_SECONDS]
        if len(recent) >= self.per_hour:
            # The oldest counted request leaves the window first; then one more fits.
            wait = recent[0] + WINDOW_SECONDS - moment
            return Verdict(allowed=False, retry_after=max(1, math.ceil(wait)))
        recent.append(moment)
        cache.set(key, recent, WINDOW_SECONDS)
        return Verdict(allowed=True)


SUBMISSIONS = Limit("submissions", "CIVICFLOW_ANONYMOUS_SUBMISSIONS_PER_HOUR")
"""Applications submitted (API and check answers)."""
DRAFTS = Limit("drafts", "CIVICFLOW_ANONYMOUS_DRAFTS_PER_HOUR")
"""Applications started (a draft row each)."""
RESUME_LINKS = Limit("resume-links", "CIVICFLOW_ANONYMOUS_RESUME_LINKS_PER_HOUR")
"""E-mails with a link to continue an application (each goes to an address the visitor typed)."""


def exempt(request: HttpRequest | Request) -> bool:
    """Token-holding systems and staff (anyone holding a role) are not anonymous visitors."""
    if getattr(request, "auth", None) is not None:
        return True  # a bearer token authenticated this API request
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and roles_of(user))


def client_ip(request: HttpRequest | Request) -> str:
    """The caller's address: the peer's, or the one our own proxies saw when there are some."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "unknown")
    proxies = int(getattr(settings, "CIVICFLOW_TRUSTED_PROXIES", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in str(forwarded).split(",") if hop.strip()]
    if not hops:
        return remote
    # Each of our proxies appends the address it received from: the entry `proxies` from the
    # right is the one our outermost proxy saw. Entries further left are the client's own say.
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class AnonymousLimitThrottle(BaseThrottle):
    """DRF's door to a ``Limit``: set ``limit`` on a subclass and list it in a view's ``throttle_classes``."""

    limit: Limit

    def __init__(self) -> None:
        self.verdict = Verdict(allowed=True)

    def allow_request(self, request: Request, view: Any) -> bool:
        self.verdict = self.limit.hit(request)
        return self.verdict.allowed

    def wait(self) -> float | None:
        return float(self.verdict.retry_after) if not self.verdict.allowed else None


class AnonymousSubmissionThrottle(AnonymousLimitThrottle):
    limit = SUBMISSIONS
