"""Citizens' accounts: create, confirm the address by e-mail, sign in, reset the password, stay out of staff work."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.conftest import make_user
from tests.workflows.apply_steps import begin
from workflows import citizens, services
from workflows.models import CitizenAccount, Draft, RoleGrant

PASSWORD = "lantern orchard 1987 quilt"


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    cache.clear()  # throttling counts live in the cache; every test starts from none


def create(client: Client, email: str = "ana@example.org", password: str = PASSWORD, **more: str):
    data = {"email": email, "password": password, "password_again": more.pop("again", password), "language": "en"}
    data.update(more)
    return client.post(reverse("account_create"), data)


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+", str(message.body))
    assert found, message.body
    return found.group(0).split("testserver", 1)[1]


def sign_in(client: Client, email: str = "ana@example.org", password: str = PASSWORD, **more: str):
    return client.post(reverse("account_sign_in"), {"email": email, "password": password, **more})


def created_and_verified(client: Client, email: str = "ana@example.org") -> CitizenAccount:
    assert create(client, email).status_code == 303
    assert client.get(link_in(mail.outbox[-1])).status_code == 200
    return CitizenAccount.objects.get(email=email)


@pytest.mark.django_db
def test_create_confirm_sign_in_and_land_on_your_applications(client):
    response = create(client, "Ana@Example.org")
    assert response.status_code == 303
    assert response["Location"] == reverse("account_check_email")
    page = client.get(response["Location"]).content.decode()
    assert "ana@example.org" in page
    assert "You cannot sign in until you do" in page

    [message] = mail.outbox
    assert message.to == ["ana@example.org"]
    link = link_in(message)
    assert link.startswith("/account/verify/")

    refused = sign_in(client)
    assert refused.status_code == 403
    assert "Confirm your email address before you sign in" in refused.content.decode()
    assert "Send a new link" in refused.content.decode()
    assert "_auth_user_id" not in client.session

    confirmed = client.get(link)
    assert confirmed.status_code == 200
    assert "Your email address is confirmed" in confirmed.content.decode()

    signed_in = sign_in(client, "ANA@example.org")
    assert signed_in.status_code == 303
    assert signed_in["Location"] == reverse("my_applications")
    page = client.get(signed_in["Location"]).content.decode()
    assert "ana@example.org" in page  # the header names the signed-in address
    assert "Sign out" in page
    assert "Work inbox" not in page


@pytest.mark.django_db
def test_the_account_is_a_non_staff_user_with_an_argon2_password(client):
    create(client)
    account = CitizenAccount.objects.select_related("user").get()
    assert account.email == "ana@example.org"
    assert account.verified_at is None
    assert not account.user.is_staff
    assert account.user.password.startswith("argon2")
    assert PASSWORD not in account.user.password


@pytest.mark.django_db
def test_the_account_language_is_used_for_the_email_and_after_sign_in(client):
    create(client, language="zh-hans")
    [message] = mail.outbox
    assert "确认" in message.subject
    client.get(link_in(message))
    response = sign_in(client)
    assert response.cookies["django_language"].value == "zh-hans"


@pytest.mark.django_db
def test_a_tampered_link_is_refused_and_offers_a_new_one(client):
    create(client)
    link = link_in(mail.outbox[0])
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    response = client.get(tampered)
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert "Send a new link" in response.content.decode()
    assert CitizenAccount.objects.get().verified_at is None


@pytest.mark.django_db
def test_an_expired_link_is_refused_and_a_resent_link_works(client, settings):
    settings.CIVICFLOW_EMAIL_LINK_HOURS = 2
    create(client)
    old_link = link_in(mail.outbox[0])
    later = time.time() + 2 * 3600 + 5
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(old_link)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert CitizenAccount.objects.get().verified_at is None

    resent = client.post(reverse("account_resend"), {"email": "ANA@example.org"}, follow=True)
    assert "we have sent it a new link" in resent.content.decode()
    assert len(mail.outbox) == 2
    assert client.get(link_in(mail.outbox[1])).status_code == 200
    assert CitizenAccount.objects.get().verified_at is not None


@pytest.mark.django_db
def test_resending_says_the_same_whether_or_not_an_account_waits(client):
    for email in ("nobody@example.org", "ana@example.org"):
        response = client.post(reverse("account_resend"), {"email": email}, follow=True)
        assert f"If an account with {email} is waiting to be confirmed" in response.content.decode()
    assert mail.outbox == []  # neither exists yet
    empty = client.post(reverse("account_resend"), {"email": ""})
    assert empty.status_code == 422
    assert "Enter your email address" in empty.content.decode()


@pytest.mark.django_db
def test_a_confirmed_account_gets_no_new_link(client):
    created_and_verified(client)
    client.post(reverse("account_resend"), {"email": "ana@example.org"})
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_address_in_use_is_refused_whatever_its_case(client):
    create(client, "ana@example.org")
    response = create(Client(), "ANA@Example.ORG")
    assert response.status_code == 422
    page = response.content.decode()
    assert "An account with this email address already exists. Sign in, or reset your password." in page
    assert "There is a problem" in page
    assert "confirmed" not in page  # nothing about the other account's state
    assert CitizenAccount.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "Enter your email address"),
        ({"email": "not-an-address"}, "Enter an email address in the correct format"),
        ({"password": "short1"}, "This password is too short"),
        ({"password": "password1234"}, "This password is too common"),
        ({"password": "84736251908273"}, "This password is entirely numeric"),
        ({"again": "something else entirely"}, "The two passwords do not match"),
    ],
)
def test_bad_sign_up_answers_are_refused_with_a_message(client, fields, message):
    data = {"email": "ana@example.org", "password": PASSWORD, **fields}
    if "password" in fields and "again" not in fields:
        data["again"] = fields["password"]
    response = create(client, **data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not CitizenAccount.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_wrong_credentials_say_the_same_for_a_missing_address_and_a_wrong_password(client):
    created_and_verified(client)
    wrong_password = sign_in(client, password="not the password at all")
    no_account = sign_in(client, email="nobody@example.org")
    assert wrong_password.status_code == no_account.status_code == 422
    words = "The email address or password is not right. Try again, or reset your password."
    assert words in wrong_password.content.decode()
    assert words in no_account.content.decode()


@pytest.mark.django_db
def test_sign_in_follows_a_safe_next_and_ignores_another_site(client):
    created_and_verified(client)
    assert sign_in(client, next="/my/messages/")["Location"] == "/my/messages/"
    client.post(reverse("account_sign_out"))
    assert sign_in(client, next="https://evil.example/")["Location"] == reverse("my_applications")


@pytest.mark.django_db
def test_your_applications_sends_a_visitor_to_the_citizens_sign_in(client):
    response = client.get(reverse("my_applications"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_sign_in") + "?next=")


@pytest.mark.django_db
def test_sign_out_ends_the_session_and_the_header_offers_sign_in_again(client):
    created_and_verified(client)
    sign_in(client)
    response = client.post(reverse("account_sign_out"), follow=True)
    page = response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "You are signed out." in page
    assert "Create an account" in page
    assert 'href="/account/sign-in/"' in page


@pytest.mark.django_db
def test_a_draft_started_before_signing_in_becomes_the_citizens(client, library_card):
    created_and_verified(client)
    draft = begin(client)
    assert draft.owner is None
    sign_in(client)
    draft.refresh_from_db()
    assert draft.owner == CitizenAccount.objects.get().user
    # ... and follows them to another browser.
    elsewhere = Client()
    sign_in(elsewhere)
    start = elsewhere.get(reverse("apply_start", args=["library-card"])).content.decode()
    assert str(draft.public_id) in start


@pytest.mark.django_db
def test_a_draft_of_another_browser_is_not_taken_over(client, library_card):
    created_and_verified(client)
    other = begin(Client())
    session = client.session
    session["civicflow.drafts"] = ["not-a-uuid"]
    session.save()
    sign_in(client)
    assert Draft.objects.get(pk=other.pk).owner is None


@pytest.mark.django_db
def test_password_reset_by_email_sets_a_new_password(client):
    created_and_verified(client)
    response = client.post(reverse("account_password_reset"), {"email": "ANA@example.org"})
    assert response.status_code == 302
    assert "we have sent it a link" in client.get(response["Location"]).content.decode()
    link = link_in(mail.outbox[-1])
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new = "violet harbour 2041 kettle"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True)
    assert "Your password is changed" in done.content.decode()
    assert sign_in(Client(), password=new).status_code == 303
    assert sign_in(Client()).status_code == 422


@pytest.mark.django_db
def test_password_reset_sends_nothing_to_staff_or_unknown_addresses(client):
    staff = make_user("lena", "librarian")
    staff.email = "lena@city.example.gov"
    staff.save()
    for email in ("lena@city.example.gov", "nobody@example.org"):
        response = client.post(reverse("account_password_reset"), {"email": email})
        assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.django_db
def test_staff_cannot_become_citizens_through_the_citizens_pages(client):
    staff = make_user("lena", "librarian")
    staff.email = "lena@city.example.gov"
    staff.save()
    # Their work address cannot be taken for a citizen's account ...
    taken = create(client, "Lena@City.example.gov")
    assert taken.status_code == 422
    assert not CitizenAccount.objects.exists()
    # ... the citizens' sign-in does not open a staff account ...
    assert sign_in(client, "lena", "correct horse battery staple").status_code == 422
    # ... and signed in as staff, the create page refuses.
    client.force_login(staff)
    refused = client.get(reverse("account_create"))
    assert refused.status_code == 403
    assert "staff account" in refused.content.decode()


@pytest.mark.django_db
def test_a_citizen_cannot_reach_staff_work_or_the_staff_api(client, library_card):
    created_and_verified(client)
    sign_in(client)
    inbox = client.get(reverse("inbox"))
    assert inbox.status_code == 403
    assert "This page is for agency staff" in inbox.content.decode()
    api = client.get("/api/v1/tasks", HTTP_ACCEPT="application/json")
    assert api.status_code == 403
    assert api["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
def test_a_citizen_never_holds_a_staff_role(client):
    account = created_and_verified(client)
    with pytest.raises(services.NotAllowed, match="citizen's account: citizens cannot be staff"):
        services.staff_user_save(
            username=account.user.username, email="x@example.org", roles=["librarian"], agency="city-library"
        )
    # Inside its own savepoint: the refusal rolls back only the attempt (the admin, a shell).
    with pytest.raises(citizens.CitizenCannotBeStaff, match="cannot hold staff roles"), transaction.atomic():
        RoleGrant.objects.create(user=account.user, role="librarian", agency="city-library")
    assert not RoleGrant.objects.filter(user=account.user).exists()
    assert not User.objects.get(pk=account.user.pk).is_staff


@pytest.mark.django_db
def test_the_staff_sign_in_refuses_a_citizens_account(client):
    created_and_verified(client)
    username = CitizenAccount.objects.get().user.username
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert "This sign-in is for staff" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_mail_server_failure_is_explained_and_the_account_can_ask_again(client):
    with mock.patch("workflows.account_views.send_mail", side_effect=ConnectionRefusedError("no server")):
        created = create(client)
    assert created.status_code == 303
    response = client.get(created["Location"])
    assert "We could not send the email just now" in response.content.decode()
    assert "Send a new link" in response.content.decode()
    client.post(reverse("account_resend"), {"email": "ana@example.org"})
    assert len(mail.outbox) == 1
