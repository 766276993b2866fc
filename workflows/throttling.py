"""Login throttling for both sign-in pages (staff and citizens): guessing passwords gets slow.

Failed attempts are counted per account name and per IP address in Django's default cache
(shared by every process in production: ``CACHE_URL``). ``CIVICFLOW_LOGIN_MAX_ATTEMPTS``
failures within ``CIVICFLOW_LOGIN_LOCKOUT_MINUTES`` lock that name, or that address, for
``CIVICFLOW_LOGIN_LOCKOUT_MINUTES``: every attempt meanwhile is refused before the password is
even checked. A successful sign-in clears the account's count. Each lock-out is logged.

Counting lives here rather than in django-axes: two cache counters and a lock time are all it
takes, the cache is already there, and the refusal must be our own page with HTTP 429.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

log = logging.getLogger(__name__)

_PREFIX = "civicflow:login"


def max_attempts() -> int:
    return int(getattr(settings, "CIVICFLOW_LOGIN_MAX_ATTEMPTS", 5))


def lockout() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "CIVICFLOW_LOGIN_LOCKOUT_MINUTES", 15)))


@dataclass(frozen=True)
class Locked:
    """A refused attempt: how many whole minutes (rounded up) until trying again is allowed."""

    minutes: int


def client_address(request: HttpRequest) -> str:
    """The address the request came from, as the web server saw it (never a header a client sets)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _keys(kind: str, value: str) -> tuple[str, str]:
    # Hashed: account names are e-mail addresses, and cache keys show up in monitoring tools.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"{_PREFIX}:{kind}:{digest}:failures", f"{_PREFIX}:{kind}:{digest}:locked-until"


def _subjects(account: str, address: str) -> list[tuple[str, str]]:
    subjects = [("ip", address)]
    if account.strip():
        subjects.insert(0, ("account", account))
    return subjects


def locked(account: str, address: str, *, now: datetime | None = None) -> Locked | None:
    """Is this account name or this address locked out now? ``Locked`` with the time left, or None."""
    moment = now or timezone.now()
    until = [cache.get(_keys(kind, value)[1]) for kind, value in _subjects(account, address)]
    latest = max((when for when in until if isinstance(when, datetime) and when > moment), default=None)
    if latest is None:
        return None
    return Locked(minutes=max(1, math.ceil((latest - moment).total_seconds() / 60)))


def failed(account: str, address: str, *, now: datetime | None = None) -> Locked | None:
    """Count one failed attempt against the account name and the address; ``Locked`` if that locked either."""
    moment = now or timezone.now()
    span = lockout()
    seconds = int(span.total_seconds())
    for kind, value in _subjects(account, address):
        failures_key, locked_key = _keys(kind, value)
        cache.add(failures_key, 0, timeout=seconds)
        try:
            count = cache.incr(failures_key)
        except ValueError:  # expired between add and incr
            cache.set(failures_key, 1, timeout=seconds)
            count = 1
        if count >= max_attempts():
            # The lock time is kept as a value, not only as the entry's expiry, so the lock
            # ends when our clock says so (the cache's own clock may differ by a second).
            cache.set(locked_key, moment + span, timeout=seconds + 60)
            cache.delete(failures_key)
            shown = value if kind == "ip" else f"{value[:2]}…"
            log.warning(
                "sign-in locked for %d minutes after %d failed attempts: %s %s",
                span.total_seconds() // 60,
                count,
                kind,
                shown,
            )
    return locked(account, address, now=moment)


def succeeded(account: str) -> None:
    """A successful sign-in: the account's failures so far no longer count."""
    cache.delete(_keys("account", account)[0])
