"""Revoking API tokens: civicflow revoke-token, and the admin's read-only list with its revoke action."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from tests.api.conftest import Api, assert_problem
from tests.conftest import make_user
from workflows import services
from workflows.models import ApiToken


def revoke_token(*args: str) -> str:
    out = StringIO()
    call_command("revoke-token", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_revoke_token_refuses_every_live_token_of_the_account_from_the_next_request(library_card, librarian):
    _, first = services.api_token_issue(user=librarian, name="kiosk")
    _, second = services.api_token_issue(user=librarian, name="crm")
    _, others = services.api_token_issue(user=make_user("omar", "librarian"), name="kiosk")
    assert Api(first).get("tasks").status_code == 200

    assert revoke_token("--username", "lena") == "revoked 2 token(s) of lena\n"
    for secret in (first, second):
        assert_problem(Api(secret).get("tasks"), 401, "not_authenticated")
    assert Api(others).get("tasks").status_code == 200  # another account's token is untouched
    assert ApiToken.objects.filter(user=librarian).count() == 2  # kept, revoked, for the history
    assert revoke_token("--username", "lena") == "lena has no live token: nothing revoked\n"


@pytest.mark.django_db
def test_revoke_token_with_a_name_revokes_only_those(library_card, librarian):
    _, kiosk = services.api_token_issue(user=librarian, name="kiosk")
    _, crm = services.api_token_issue(user=librarian, name="crm")
    assert revoke_token("--username", "lena", "--name", "kiosk") == "revoked 1 token(s) named 'kiosk' of lena\n"
    assert_problem(Api(kiosk).get("tasks"), 401, "not_authenticated")
    assert Api(crm).get("tasks").status_code == 200


@pytest.mark.django_db
def test_revoke_token_for_an_unknown_account_is_an_error():
    with pytest.raises(CommandError, match="there is no account named 'nobody'"):
        revoke_token("--username", "nobody")


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.gov", "correct horse battery staple"))
    return client


@pytest.mark.django_db
def test_the_admin_lists_tokens_without_their_hash_and_revokes_the_selected(library_card, librarian, admin_client):
    token, secret = services.api_token_issue(user=librarian, name="kiosk")
    kept, kept_secret = services.api_token_issue(user=librarian, name="crm")
    listing = admin_client.get("/admin/workflows/apitoken/")
    assert listing.status_code == 200
    assert "kiosk" in listing.content.decode()
    detail = admin_client.get(f"/admin/workflows/apitoken/{token.pk}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        assert token.token_hash not in page.content.decode()
        assert secret not in page.content.decode()
    assert "Save" not in detail.content.decode()  # read-only
    assert admin_client.get("/admin/workflows/apitoken/add/").status_code == 403

    done = admin_client.post(
        "/admin/workflows/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}, follow=True
    )
    assert "1 token(s) revoked." in done.content.decode()
    token.refresh_from_db()
    kept.refresh_from_db()
    assert (token.revoked_at is not None, kept.revoked_at) == (True, None)
    assert_problem(Api(secret).get("tasks"), 401, "not_authenticated")
    assert Api(kept_secret).get("tasks").status_code == 200
