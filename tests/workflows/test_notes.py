"""Internal notes on a case: written by the program's staff, never shown to the applicant."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.workflows.apply_steps import begin, fill_to_check
from workflows.models import Case, CaseEvent, Note, Task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"


@pytest.fixture
def task(client: Client, library_card) -> Task:
    draft = begin(client)
    fill_to_check(client, draft)
    client.post(reverse("apply_check", args=[draft.public_id]))
    return Task.objects.get()


def test_a_caseworker_adds_a_note_that_the_applicant_never_sees(client, task, librarian):
    applicant = client
    staff = Client()
    staff.force_login(librarian)
    page = staff.post(
        reverse("task", args=[task.pk]), {"action": "note", "text": "Called: lease is current."}, follow=True
    )
    assert "Note added." in page.text
    assert "Called: lease is current." in page.text
    assert "not visible to the applicant" in page.text
    note = Note.objects.get()
    assert (note.author, note.case) == (librarian, task.case)
    assert CaseEvent.objects.filter(case=task.case, kind="note_added").count() == 1

    case = Case.objects.get()
    for url in (reverse("submitted", args=[case.public_id]), reverse("receipt", args=[case.public_id])):
        assert "lease is current" not in applicant.get(url).text


def test_an_empty_or_huge_note_is_refused_with_a_message(client, task, librarian):
    client.force_login(librarian)
    empty = client.post(reverse("task", args=[task.pk]), {"action": "note", "text": "   "}, follow=True)
    assert "write the note before adding it" in empty.text
    huge = client.post(reverse("task", args=[task.pk]), {"action": "note", "text": "x" * 10_001}, follow=True)
    assert "a note can be at most 10,000 characters" in huge.text
    assert Note.objects.count() == 0


def test_staff_without_the_role_cannot_add_notes(client, task, auditor):
    client.force_login(auditor)
    response = client.post(reverse("task", args=[task.pk]), {"action": "note", "text": "Looks fine."})
    assert response.status_code == 404
    assert Note.objects.count() == 0
