"""Staff single sign-on (OpenID Connect): who it lets in, and that it is there only when switched on."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.urls import NoReverseMatch, clear_url_caches, reverse

from tests.conftest import make_user
from workflows import oidc, system_checks
from workflows import urls as site_urls
from workflows.models import RoleGrant

pytestmark = pytest.mark.django_db

PROVIDER = {
    "OIDC_RP_CLIENT_ID": "civicflow",
    "OIDC_RP_CLIENT_SECRET": "s3cret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.gov/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.gov/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.example.gov/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.gov/jwks",
    "OIDC_RP_SIGN_ALGO": "RS256",
}


def _reload_urls() -> None:
    clear_url_caches()
    importlib.reload(site_urls)


@pytest.fixture
def sso(settings):
    """Single sign-on switched on (as settings.py does it), with the site's URLs built again."""
    settings.CIVICFLOW_OIDC_ENABLED = True
    settings.CIVICFLOW_OIDC_PROVIDER_NAME = "Agency ID"
    settings.OIDC_CREATE_USER = False
    for name, value in PROVIDER.items():
        setattr(settings, name, value)
    _reload_urls()
    yield settings
    settings.CIVICFLOW_OIDC_ENABLED = False
    _reload_urls()


def sign_in(claims: dict[str, Any], monkeypatch) -> User | None:
    """What the callback does once the provider has answered: the account signed in, or None (refused)."""
    backend = oidc.StaffOIDCBackend()
    monkeypatch.setattr(backend, "get_userinfo", lambda access_token, id_token, payload: claims)
    try:
        user: User | None = backend.get_or_create_user("access", "id", {})
    except SuspiciousOperation:
        return None  # the library's authenticate() answers None for these
    return user


def verified(email: str) -> dict[str, Any]:
    return {"sub": "abc", "email": email, "email_verified": True}


def staff(username: str, email: str, *roles: str) -> User:
    user = make_user(username, *roles)
    user.email = email
    user.save()
    return user


def test_a_verified_email_signs_in_the_active_staff_account_that_has_it(sso, monkeypatch):
    lena = staff("lena", "Lena@Library.example.gov", "librarian")
    assert sign_in(verified("lena@library.example.gov"), monkeypatch) == lena


def test_an_unverified_email_is_refused(sso, monkeypatch):
    staff("lena", "lena@library.example.gov", "librarian")
    assert sign_in({"email": "lena@library.example.gov", "email_verified": False}, monkeypatch) is None
    assert sign_in({"email": "lena@library.example.gov"}, monkeypatch) is None


def test_a_citizen_account_is_refused(sso, monkeypatch):
    staff("ana", "ana@example.org")  # no role: a citizen who signed up to follow their applications
    assert sign_in(verified("ana@example.org"), monkeypatch) is None


def test_a_disabled_staff_account_is_refused(sso, monkeypatch):
    lena = staff("lena", "lena@library.example.gov", "librarian")
    lena.is_active = False
    lena.save()
    assert sign_in(verified("lena@library.example.gov"), monkeypatch) is None


def test_an_address_shared_by_two_accounts_is_refused(sso, monkeypatch):
    staff("lena", "lena@library.example.gov", "librarian")
    staff("lena2", "lena@library.example.gov")
    assert sign_in(verified("lena@library.example.gov"), monkeypatch) is None


def test_an_unknown_address_creates_no_account_by_default(sso, monkeypatch):
    assert sign_in(verified("new@library.example.gov"), monkeypatch) is None
    assert not User.objects.filter(email="new@library.example.gov").exists()


def test_with_create_users_an_unknown_address_gets_an_account_with_no_roles_that_cannot_sign_in_yet(sso, monkeypatch):
    sso.OIDC_CREATE_USER = True
    assert sign_in(verified("new@library.example.gov"), monkeypatch) is None
    created = User.objects.get(email="new@library.example.gov")
    assert not created.role_grants.exists()
    assert not created.is_staff
    assert not created.has_usable_password()
    # Once an administrator gives it a role, it signs in.
    RoleGrant.objects.create(user=created, role="librarian", agency="city-library")
    assert sign_in(verified("new@library.example.gov"), monkeypatch) == created


def test_the_sign_in_routes_exist_only_when_switched_on(client, sso):
    assert reverse("oidc_authentication_init") == "/oidc/authenticate/"
    sso.CIVICFLOW_OIDC_ENABLED = False
    _reload_urls()
    with pytest.raises(NoReverseMatch):
        reverse("oidc_authentication_init")
    assert client.get("/oidc/authenticate/").status_code == 404


def test_the_staff_sign_in_page_offers_the_provider_only_when_switched_on(client, sso):
    page = client.get(reverse("login") + "?next=/work/")
    assert "Sign in with Agency ID" in page.text
    assert 'href="/oidc/authenticate/?next=/work/"' in page.text
    refused = client.get(reverse("login") + "?sso=refused")
    assert "there is no active staff account with your verified email address" in refused.text
    sso.CIVICFLOW_OIDC_ENABLED = False
    _reload_urls()
    assert "Sign in with" not in client.get(reverse("login")).text


def test_the_sign_in_button_leads_to_the_provider(client, sso):
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://id.example.gov/authorize?")
    assert "client_id=civicflow" in response["Location"]


def test_the_system_check_names_what_is_missing(sso):
    assert system_checks.oidc_settings_complete() == []
    sso.OIDC_OP_JWKS_ENDPOINT = ""
    sso.OIDC_RP_CLIENT_SECRET = ""
    [error] = system_checks.oidc_settings_complete()
    assert error.id == "civicflow.E001"
    assert "OIDC_RP_CLIENT_SECRET, OIDC_OP_JWKS_ENDPOINT are not set" in error.msg


def test_switched_on_but_incomplete_civicflow_refuses_to_start_and_names_what_is_missing():
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("OIDC_")},
        "CIVICFLOW_ENV": "development",
        "CIVICFLOW_OIDC_ENABLED": "1",
        **{
            name: value
            for name, value in PROVIDER.items()
            if name not in {"OIDC_OP_USER_ENDPOINT", "OIDC_RP_SIGN_ALGO"}
        },
    }
    started = subprocess.run(
        [sys.executable, "-c", "import workflows.settings"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode != 0
    assert "CIVICFLOW_OIDC_ENABLED=1 needs OIDC_OP_USER_ENDPOINT, OIDC_RP_SIGN_ALGO" in started.stderr
