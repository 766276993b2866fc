"""The layers connect: a citizen applies on the web and a librarian decides, end to end."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.workflows.apply_steps import begin, fill_to_check
from workflows.models import Case, CaseEvent, Task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"


def apply(client: Client):
    """Fill every page of the library-card form and submit it."""
    draft = begin(client)
    fill_to_check(client, draft)
    return client.post(reverse("apply_check", args=[draft.public_id]))


def test_the_catalogue_lists_the_program_and_links_to_its_start_page(client, library_card):
    page = client.get("/")
    assert page.status_code == 200
    assert "Library card" in page.text
    assert 'href="/programs/library-card/"' in page.text


def test_a_citizen_applies_and_a_librarian_approves(client, library_card, librarian):
    # The citizen applies and gets a reference number.
    submitted = apply(client)
    assert submitted.status_code == 303
    confirmation = client.get(submitted["Location"])
    reference = re.search(r'class="reference" data-reference>(LC-\d{4}-\d{6})<', confirmation.text)
    assert reference is not None
    case = Case.objects.get(reference=reference.group(1))
    assert case.data["full_name"] == "Ana Lima"
    assert case.data["delivery"] == "mail"
    assert (case.status, case.channel) == ("running", "online")

    # The librarian finds it in the inbox, unassigned.
    client.force_login(librarian)
    inbox = client.get(reverse("inbox"))
    assert case.reference in inbox.text
    assert "Unassigned" in inbox.text
    task = Task.objects.get(case=case, status="open")
    page = client.get(reverse("task", args=[task.pk]))
    assert "Ana Lima" in page.text
    assert "Assign to me" in page.text
    assert 'value="approve"' not in page.text  # read-only until claimed

    # Assign to me, then approve.
    client.post(reverse("task", args=[task.pk]), {"action": "claim"})
    page = client.get(reverse("task", args=[task.pk]))
    assert 'value="approve"' in page.text
    assert 'value="deny"' in page.text
    done = client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "approve"}, follow=True)
    assert f"Recorded: approve for {case.reference}." in done.text

    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "approved")
    assert Task.objects.get(pk=task.pk).completed_by == librarian
    history = CaseEvent.objects.filter(case=case).exclude(kind="call_webhook").order_by("pk")
    assert list(history.values_list("kind", flat=True)) == [
        "submitted",
        "case_started",
        "task_claimed",
        "task_completed",
        "send_notice",
        "case_closed",
    ]
    webhooks = CaseEvent.objects.filter(case=case, kind="call_webhook").order_by("pk")
    assert [event.detail["topic"] for event in webhooks] == ["case.submitted", "task.completed", "case.closed"]
    # The citizen's bookmarked page shows the result.
    assert "approved" in Client().get(submitted["Location"]).text


def test_denying_closes_the_case_as_denied(client, library_card, librarian):
    apply(client)
    task = Task.objects.get(status="open")
    client.force_login(librarian)
    client.post(reverse("task", args=[task.pk]), {"action": "claim"})
    client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "deny"})
    assert Case.objects.get().outcome == "denied"


def test_staff_without_the_role_cannot_see_or_act_on_the_task(client, library_card, auditor):
    apply(client)
    task = Task.objects.get(status="open")
    client.force_login(auditor)
    assert task.case.reference not in client.get(reverse("inbox")).text
    assert client.get(reverse("task", args=[task.pk])).status_code == 404
    assert client.post(reverse("task", args=[task.pk]), {"action": "claim"}).status_code == 404
    assert Task.objects.get(pk=task.pk).assignee is None


def test_a_task_claimed_by_one_librarian_is_read_only_for_another(client, library_card, librarian, other_librarian):
    apply(client)
    task = Task.objects.get(status="open")
    client.force_login(librarian)
    client.post(reverse("task", args=[task.pk]), {"action": "claim"})

    client.force_login(other_librarian)
    assert task.case.reference not in client.get(reverse("inbox")).text
    page = client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "approve"}, follow=True)
    assert "assign this task to yourself before deciding it" in page.text
    claim = client.post(reverse("task", args=[task.pk]), {"action": "claim"}, follow=True)
    assert "someone else has already assigned this task to themselves" in claim.text
    assert Case.objects.get().status == "running"


def test_deciding_twice_says_it_was_already_decided(client, library_card, librarian):
    apply(client)
    task = Task.objects.get(status="open")
    client.force_login(librarian)
    client.post(reverse("task", args=[task.pk]), {"action": "claim"})
    client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "approve"})
    again = client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "deny"}, follow=True)
    assert "this task has already been completed" in again.text
    assert Case.objects.get().outcome == "approved"


def test_an_outcome_the_step_does_not_offer_is_refused(client, library_card, librarian):
    apply(client)
    task = Task.objects.get(status="open")
    client.force_login(librarian)
    client.post(reverse("task", args=[task.pk]), {"action": "claim"})
    page = client.post(reverse("task", args=[task.pk]), {"action": "complete", "outcome": "shrug"}, follow=True)
    assert "step &#x27;review&#x27; has no outcome &#x27;shrug&#x27;" in page.text
    assert Case.objects.get().status == "running"


def test_reference_numbers_count_up_per_program(client, library_card):
    apply(client)
    apply(client)
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in Case.objects.values_list("reference", flat=True))
    assert numbers == [1, 2]


def test_the_inbox_needs_a_sign_in(client):
    page = client.get(reverse("inbox"))
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")


def test_unknown_programs_and_applications_are_plain_404s(client, library_card):
    assert client.get("/programs/nope/").status_code == 404
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    assert "Page not found" in missing.text
    assert client.get("/applications/00000000-0000-0000-0000-000000000000/submitted/").status_code == 404
