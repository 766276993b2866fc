"""Login throttling on both sign-in pages: N failures per account name or per IP lock it for a while."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from workflows.models import CitizenAccount

GOOD = "correct horse battery staple"
LOCKED = "Too many attempts. Try again in 15 minutes."


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    cache.clear()


def staff_attempt(client: Client, name: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("login"), {"username": name, "password": password}, REMOTE_ADDR=ip)


def citizen_attempt(client: Client, name: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("account_sign_in"), {"email": name, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture(params=["staff", "citizen"])
def form(request, db) -> tuple[Callable[..., object], str, str]:
    """Each sign-in page, with an account on it: (attempt, account name, its landing page)."""
    if request.param == "staff":
        make_user("lena", "librarian")
        return staff_attempt, "lena", reverse("inbox")
    user = make_user("citizen-ana")
    CitizenAccount.objects.create(
        user=user, email="ana@example.org", verified_at=timezone.now(), created_at=timezone.now()
    )
    return citizen_attempt, "ana@example.org", reverse("my_applications")


def later(minutes: float):
    return mock.patch("workflows.throttling.timezone.now", return_value=timezone.now() + timedelta(minutes=minutes))


def test_the_fifth_failure_locks_the_account_with_a_429_and_a_message(client, form, caplog):
    attempt, name, _home = form
    for _ in range(4):
        response = attempt(client, name, "wrong password")
        assert response.status_code in {200, 422}
        assert LOCKED not in response.content.decode()
    with caplog.at_level(logging.WARNING, logger="workflows.throttling"):
        fifth = attempt(client, name, "wrong password")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    assert any("sign-in locked for 15 minutes" in record.getMessage() for record in caplog.records)
    # The right password does not get in while the lock lasts, and is not even checked.
    with (
        mock.patch("django.contrib.auth.forms.authenticate") as staff_check,
        mock.patch("workflows.account_views.authenticate") as citizen_check,
    ):
        right = attempt(client, name, GOOD)
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    staff_check.assert_not_called()
    citizen_check.assert_not_called()
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_the_lockout_time(client, form):
    attempt, name, home = form
    for _ in range(5):
        attempt(client, name, "wrong password")
    with later(10):
        response = attempt(client, name, GOOD)
        assert response.status_code == 429
        assert "Try again in 5 minutes." in response.content.decode()
    with later(15.1):
        response = attempt(client, name, GOOD)
    assert response.status_code in {302, 303}
    assert response["Location"] == home


def test_failures_are_counted_per_account_across_addresses(client, form):
    attempt, name, _home = form
    for number in range(5):
        last = attempt(client, name, "wrong password", ip=f"10.0.1.{number}")
    assert last.status_code == 429
    assert attempt(client, name, GOOD, ip="10.0.9.9").status_code == 429


def test_failures_are_counted_per_address_across_accounts(client, form):
    attempt, name, _home = form
    for number in range(5):
        last = attempt(client, f"guess{number}@example.org", "wrong password", ip="10.0.2.1")
    assert last.status_code == 429
    assert attempt(client, name, GOOD, ip="10.0.2.1").status_code == 429
    # The same account from another address is not locked: only the address is.
    assert attempt(Client(), name, GOOD, ip="10.0.2.2").status_code in {302, 303}


def test_a_successful_sign_in_resets_the_accounts_count(client, form):
    attempt, name, _home = form
    for number in range(4):
        attempt(client, name, "wrong password", ip=f"10.0.3.{number}")
    assert attempt(Client(), name, GOOD, ip="10.0.3.50").status_code in {302, 303}
    for number in range(4):
        response = attempt(client, name, "wrong password", ip=f"10.0.4.{number}")
        assert response.status_code != 429
    assert attempt(Client(), name, GOOD, ip="10.0.4.50").status_code in {302, 303}


@pytest.mark.django_db
def test_the_limit_and_the_lockout_come_from_settings(client, settings):
    settings.CIVICFLOW_LOGIN_MAX_ATTEMPTS = 2
    settings.CIVICFLOW_LOGIN_LOCKOUT_MINUTES = 1
    make_user("lena", "librarian")
    assert staff_attempt(client, "lena", "wrong").status_code == 200
    response = staff_attempt(client, "lena", "wrong")
    assert response.status_code == 429
    assert "Too many attempts. Try again in 1 minute." in response.content.decode()
