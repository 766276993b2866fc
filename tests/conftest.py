"""Shared fixtures: the shipped library-card program, and people with roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings

from tests.webhook_receiver import WebhookReceiver, allow_loopback
from workflows import programs, services
from workflows.models import Program, RoleGrant

# Hypothesis's per-example deadline is a timing assertion: on a loaded machine it fails
# properties that hold. Speed is measured in bench/, never asserted in a test.
hypothesis_settings.register_profile("civicflow", deadline=None)
hypothesis_settings.load_profile("civicflow")

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "definitions"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the cache: each test starts with none, as if from a new address."""
    cache.clear()


@pytest.fixture
def library_card(db: None) -> Program:
    """The walking-skeleton program, published exactly as shipped in definitions/."""
    folder = DEFINITIONS / "library-card"
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


LIBRARY_AGENCY = "city-library"
"""The agency of the shipped library-card program."""


def make_user(username: str, *roles: str, agency: str = LIBRARY_AGENCY, queue: str = "") -> User:
    """A user holding ``roles`` for ``agency`` (``*``: every agency) and ``queue`` (blank: every queue)."""
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    for role in roles:
        RoleGrant.objects.create(user=user, role=role, agency=agency, queue=queue)
    return user


@pytest.fixture
def librarian(db: None) -> User:
    return make_user("lena", "librarian")


@pytest.fixture
def other_librarian(db: None) -> User:
    return make_user("omar", "librarian")


@pytest.fixture
def auditor(db: None) -> User:
    return make_user("audrey", "auditor")


@pytest.fixture
def webhook_receiver(settings) -> Iterator[WebhookReceiver]:
    """A loopback webhook receiver (tests/webhook_receiver.py), with loopback http allowed for the test."""
    allow_loopback(settings)
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
