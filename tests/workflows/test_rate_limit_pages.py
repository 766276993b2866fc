"""The site's anonymous entry points that create rows are limited per address, with a page that says when
to try again and loses nothing typed; staff at a counter are never limited."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import make_user
from tests.workflows.apply_steps import ABOUT_YOU, begin, fill_to_check, post_page
from workflows import ratelimits
from workflows.models import Case, Draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"


@pytest.fixture
def clock(monkeypatch):
    moment = {"at": 1_800_000_000.0}
    monkeypatch.setattr(ratelimits, "now", lambda: moment["at"])
    return moment


def test_starting_too_many_applications_shows_when_to_try_again(client, library_card, settings, clock):
    settings.CIVICFLOW_ANONYMOUS_DRAFTS_PER_HOUR = 1
    begin(client)
    clock["at"] += 60
    refused = client.post(reverse("apply_begin", args=["library-card"]))
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(3600 - 60)
    assert "Please wait before trying again" in refused.text
    assert "Try again in 59 minutes." in refused.text
    assert reverse("apply_start", args=["library-card"]) in refused.text
    assert Draft.objects.count() == 1
    # Another address may start one.
    elsewhere = Client(REMOTE_ADDR="198.51.100.4")
    assert elsewhere.post(reverse("apply_begin", args=["library-card"])).status_code == 303


def test_a_refused_submit_keeps_every_answer_and_saving_pages_is_never_limited(client, library_card, settings, clock):
    draft = begin(client)
    fill_to_check(client, draft)
    settings.CIVICFLOW_ANONYMOUS_SUBMISSIONS_PER_HOUR = 1
    ratelimits.SUBMISSIONS.hit(client.get("/").wsgi_request)  # this address used its one already
    refused = client.post(reverse("apply_check", args=[draft.public_id]))
    assert refused.status_code == 429
    assert "Nothing you typed has been lost" in refused.text
    assert reverse("apply_check", args=[draft.public_id]) in refused.text
    assert not Case.objects.exists()
    # The citizen can still change and save answers while they wait.
    assert post_page(client, draft, "about_you", {**ABOUT_YOU, "full_name": "Ana M. Lima"}).status_code == 303
    draft.refresh_from_db()
    assert draft.data["full_name"] == "Ana M. Lima"
    clock["at"] += 3600
    assert client.post(reverse("apply_check", args=[draft.public_id])).status_code == 303
    assert Case.objects.get().data["full_name"] == "Ana M. Lima"


def test_continue_links_by_email_are_limited(client, library_card, settings, clock):
    settings.CIVICFLOW_ANONYMOUS_RESUME_LINKS_PER_HOUR = 1
    draft = begin(client)
    saved = reverse("apply_saved", args=[draft.public_id])
    assert client.post(saved, {"email": "ana@example.org"}).status_code == 200
    refused = client.post(saved, {"email": "someone@example.org"})
    assert refused.status_code == 429
    assert len(mail.outbox) == 1


def test_staff_at_a_counter_are_not_limited(client, library_card, settings, clock):
    settings.CIVICFLOW_ANONYMOUS_DRAFTS_PER_HOUR = 1
    client.force_login(make_user("carla", "librarian"))
    for _ in range(3):
        begin(client)


def test_the_page_is_translated(client, library_card, settings, clock):
    settings.CIVICFLOW_ANONYMOUS_DRAFTS_PER_HOUR = 1
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    begin(client)
    refused = client.post(reverse("apply_begin", args=["library-card"]))
    assert refused.status_code == 429
    assert "Please wait before trying again" not in refused.text
    assert '<html lang="zh-hans"' in refused.text
