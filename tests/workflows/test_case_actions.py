"""Reassigning, delegating, withdrawing, cancelling, and staff documents: services and the task page."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.conftest import DEFINITIONS, make_user
from tests.workflows.apply_steps import publish_library_card_with
from tests.workflows.racing import race
from workflows import applicants, services
from workflows.models import Case, CaseEvent, Program, Task, Upload

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def citizen(db: None) -> User:
    return make_user("cora")


@pytest.fixture
def case(library_card: Program, citizen: User) -> Case:
    """A library-card application made online by the signed-in citizen Cora, waiting for review."""
    return services.case_submit(program=library_card, data=dict(ANSWERS), user=citizen)


@pytest.fixture
def task(case: Case) -> Task:
    return Task.objects.get(case=case, status=Task.Status.OPEN)


def events(case: Case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("pk"))


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def pdf(name: str = "letter.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# ------------------------------------------------------------------ reassign


def test_any_librarian_reassigns_a_task_to_a_colleague_and_the_history_says_who(task, librarian, other_librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    third = make_user("tess", "librarian")

    services.task_reassign(task_id=task.pk, user=other_librarian, to_username="tess")

    task.refresh_from_db()
    assert task.assignee == third
    event = events(task.case, "task_reassigned")[0]
    assert event.actor == other_librarian
    assert (event.detail["to"], event.detail["previous"]) == ("tess", "lena")
    # The new assignee can decide it; the one it was taken from cannot.
    with pytest.raises(services.NotAllowed):
        services.task_complete(task_id=task.pk, user=librarian, outcome="approve")
    services.task_complete(task_id=task.pk, user=third, outcome="approve")
    assert Case.objects.get().outcome == "approved"


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("", "choose the person to give the task to"),
        ("nobody", "there is no active user named 'nobody'"),
        ("audrey", "audrey is not a librarian for city-library, so cannot be given this task"),
        ("x" * 151, "a user name has at most 150 characters"),
    ],
)
def test_a_task_is_not_reassigned_to_someone_who_cannot_take_it(task, librarian, auditor, to, message):
    with pytest.raises(services.ServiceError) as refused:
        services.task_reassign(task_id=task.pk, user=librarian, to_username=to)
    assert refused.value.message == message
    task.refresh_from_db()
    assert task.assignee is None
    assert events(task.case, "task_reassigned") == []


def test_an_inactive_librarian_cannot_be_given_a_task(task, librarian, other_librarian):
    other_librarian.is_active = False
    other_librarian.save()
    with pytest.raises(services.ServiceError, match="there is no active user named 'omar'"):
        services.task_reassign(task_id=task.pk, user=librarian, to_username="omar")


def test_reassigning_to_the_current_assignee_is_refused(task, librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    with pytest.raises(services.Conflict, match="already assigned to lena"):
        services.task_reassign(task_id=task.pk, user=librarian, to_username="lena")


def test_only_holders_of_the_role_reassign(task, auditor, librarian):
    with pytest.raises(services.NotAllowed, match="only a librarian can reassign this task"):
        services.task_reassign(task_id=task.pk, user=auditor, to_username="lena")
    with pytest.raises(services.NotAllowed):
        services.task_reassign(task_id=task.pk, user=AnonymousUser(), to_username="lena")


def test_a_decided_task_cannot_be_reassigned(task, librarian, other_librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="deny")
    with pytest.raises(services.Conflict, match=r"this case is already closed \(denied\)"):
        services.task_reassign(task_id=task.pk, user=librarian, to_username="omar")


def test_separation_of_duties_keeps_the_first_reviewer_off_the_second_review(tmp_path, librarian, other_librarian):
    """review --approve--> second_review (not same person as review) --> issued"""
    publish_library_card_with(
        tmp_path,
        "workflow.yaml",
        lambda text: (
            text.replace("approve: issued", "approve: second_review")
            + "\n  second_review:\n    kind: approval\n    title: {en: Second review, zh-Hans: 复核}\n"
            "    role: librarian\n    not same person as: review\n    outcomes: {approve: issued, deny: refused}\n"
        ),
    )
    program = Program.objects.get(slug="library-card")
    case = services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())
    first = Task.objects.get(case=case)
    services.task_claim(task_id=first.pk, user=librarian)
    services.task_complete(task_id=first.pk, user=librarian, outcome="approve")
    second = Task.objects.get(case=case, status=Task.Status.OPEN)

    with pytest.raises(services.NotAllowed, match="lena did 'review', so someone else must do 'second_review'"):
        services.task_reassign(task_id=second.pk, user=other_librarian, to_username="lena")
    second.refresh_from_db()
    assert second.assignee is None
    services.task_reassign(task_id=second.pk, user=librarian, to_username="omar")
    second.refresh_from_db()
    assert second.assignee == other_librarian


# ------------------------------------------------------------------ delegate


def test_the_assignee_delegates_and_the_task_row_records_who_delegated(task, librarian, other_librarian):
    services.task_claim(task_id=task.pk, user=librarian)

    services.task_delegate(task_id=task.pk, user=librarian, to_username="omar")

    task.refresh_from_db()
    assert (task.assignee, task.delegated_by) == (other_librarian, librarian)
    event = events(task.case, "task_delegated")[0]
    assert (event.actor, event.detail["to"]) == (librarian, "omar")
    services.task_complete(task_id=task.pk, user=other_librarian, outcome="approve")
    task.refresh_from_db()
    assert (task.status, task.completed_by) == ("completed", other_librarian)


def test_releasing_a_delegated_task_clears_the_delegation(task, librarian, other_librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_delegate(task_id=task.pk, user=librarian, to_username="omar")
    services.task_release(task_id=task.pk, user=other_librarian)
    task.refresh_from_db()
    assert (task.assignee, task.delegated_by) == (None, None)


def test_only_the_assignee_delegates(task, librarian, other_librarian):
    with pytest.raises(services.NotAllowed, match="only the person this task is assigned to can delegate it"):
        services.task_delegate(task_id=task.pk, user=librarian, to_username="omar")
    services.task_claim(task_id=task.pk, user=librarian)
    with pytest.raises(services.NotAllowed, match="only the person this task is assigned to"):
        services.task_delegate(task_id=task.pk, user=other_librarian, to_username="omar")


def test_delegating_to_oneself_or_to_someone_without_the_role_is_refused(task, librarian, auditor):
    services.task_claim(task_id=task.pk, user=librarian)
    with pytest.raises(services.ServiceError, match="the task is already yours"):
        services.task_delegate(task_id=task.pk, user=librarian, to_username="lena")
    with pytest.raises(services.ServiceError, match="audrey is not a librarian"):
        services.task_delegate(task_id=task.pk, user=librarian, to_username="audrey")
    task.refresh_from_db()
    assert (task.assignee, task.delegated_by) == (librarian, None)


# ------------------------------------------------------------------ withdraw


def test_the_applicant_withdraws_and_everything_open_is_cancelled(case, task, citizen):
    services.case_withdraw(case_id=case.pk, user=citizen)

    case.refresh_from_db()
    task.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "withdrawn")
    assert task.status == "cancelled"
    event = events(case, "case_withdrawn")[0]
    assert event.actor == citizen
    assert "on_behalf_of_applicant" not in event.detail


def test_staff_withdraw_on_the_applicants_behalf_only_with_a_reason(case, librarian):
    with pytest.raises(services.ServiceError, match="say why the applicant asked to withdraw"):
        services.case_withdraw(case_id=case.pk, user=librarian, reason="   ")
    assert Case.objects.get().status == "running"

    services.case_withdraw(case_id=case.pk, user=librarian, reason="She phoned: she moved away.")

    event = events(case, "case_withdrawn")[0]
    assert event.actor == librarian
    assert event.detail["reason"] == "She phoned: she moved away."
    assert event.detail["on_behalf_of_applicant"] is True


@pytest.mark.parametrize("who", ["another citizen", "auditor", "anonymous", "someone else's draft"])
def test_nobody_else_withdraws_an_application(case, auditor, who):
    user: Any = {
        "another citizen": make_user("carl"),
        "auditor": auditor,
        "anonymous": AnonymousUser(),
        "someone else's draft": applicants.HeldDraft(uuid.uuid4()),
    }[who]
    with pytest.raises(services.NotAllowed):
        services.case_withdraw(case_id=case.pk, user=user, reason="because")
    assert Case.objects.get().status == "running"
    assert events(case, "case_withdrawn") == []


def test_a_closed_case_cannot_be_withdrawn(case, task, citizen, librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="approve")
    with pytest.raises(services.Conflict, match=r"already closed \(approved\)"):
        services.case_withdraw(case_id=case.pk, user=citizen)
    assert Case.objects.get().outcome == "approved"


def test_an_over_long_reason_is_refused_not_cut(case, librarian):
    with pytest.raises(services.ServiceError, match="a reason can be at most 2,000 characters; this one has 2,001"):
        services.case_withdraw(case_id=case.pk, user=librarian, reason="x" * 2001)


# ------------------------------------------------------------------ cancel


def test_staff_cancel_a_case_with_a_reason_kept_in_the_history(case, task, librarian):
    services.case_cancel(case_id=case.pk, user=librarian, reason="Duplicate of LC-2026-000001")

    case.refresh_from_db()
    task.refresh_from_db()
    assert (case.status, case.outcome, task.status) == ("closed", "cancelled", "cancelled")
    event = events(case, "case_cancelled")[0]
    assert (event.actor, event.detail["reason"]) == (librarian, "Duplicate of LC-2026-000001")


def test_cancelling_needs_a_reason_the_role_and_an_open_case(case, librarian, auditor, citizen):
    with pytest.raises(services.ServiceError, match="say why the case is cancelled"):
        services.case_cancel(case_id=case.pk, user=librarian, reason="")
    for outsider in (auditor, citizen, AnonymousUser()):
        with pytest.raises(services.NotAllowed, match="only the program's staff can cancel a case"):
            services.case_cancel(case_id=case.pk, user=outsider, reason="duplicate")
    services.case_cancel(case_id=case.pk, user=librarian, reason="duplicate")
    with pytest.raises(services.Conflict, match=r"already closed \(cancelled\)"):
        services.case_cancel(case_id=case.pk, user=librarian, reason="again")
    assert len(events(case, "case_cancelled")) == 1


# ------------------------------------------------------------------ documents


def test_staff_add_a_document_that_is_stored_privately_and_recorded(task, librarian, media):
    upload = services.case_add_document(
        task_id=task.pk, user=librarian, file=pdf(), description="Phone call notes, 3 March"
    )

    assert (upload.case, upload.added_by, upload.description) == (task.case, librarian, "Phone call notes, 3 March")
    assert (upload.content_type, upload.size, upload.original_name) == ("application/pdf", len(PDF), "letter.pdf")
    assert [path.read_bytes() for path in stored_files(media)] == [PDF]
    event = events(task.case, "document_added")[0]
    assert (event.actor, event.detail["upload"], event.detail["description"]) == (
        librarian,
        str(upload.public_id),
        "Phone call notes, 3 March",
    )


def test_documents_can_be_added_after_the_task_is_decided(task, librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="approve")
    services.case_add_document(task_id=task.pk, user=librarian, file=pdf(), description="")
    assert Upload.objects.filter(case=task.case, added_by=librarian).count() == 1


@pytest.mark.parametrize(
    ("file", "code"),
    [
        (SimpleUploadedFile("page.pdf", HTML, content_type="application/pdf"), "file_type_not_allowed"),
        (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "file_empty"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_kept(task, librarian, media, file, code):
    with pytest.raises(services.DocumentRefused) as refused:
        services.case_add_document(task_id=task.pk, user=librarian, file=file, description="")
    assert refused.value.code == code
    assert Upload.objects.count() == 0
    assert stored_files(media) == []
    assert events(task.case, "document_added") == []


def test_a_file_over_the_installation_limit_is_refused(task, librarian, settings, media):
    settings.CIVICFLOW_UPLOAD_MAX_BYTES = 20
    with pytest.raises(services.DocumentRefused) as refused:
        services.case_add_document(task_id=task.pk, user=librarian, file=pdf(), description="")
    assert refused.value.code == "file_too_large"
    assert stored_files(media) == []


def test_no_file_a_long_description_or_the_wrong_role_are_refused(task, librarian, auditor, media):
    with pytest.raises(services.ServiceError, match="choose the file to add"):
        services.case_add_document(task_id=task.pk, user=librarian, file=None, description="")
    with pytest.raises(services.ServiceError, match="a description can be at most 200 characters; this one has 201"):
        services.case_add_document(task_id=task.pk, user=librarian, file=pdf(), description="d" * 201)
    with pytest.raises(services.NotAllowed, match="only a librarian can add documents"):
        services.case_add_document(task_id=task.pk, user=auditor, file=pdf(), description="")
    assert Upload.objects.count() == 0
    assert stored_files(media) == []


# ------------------------------------------------------------------ the task page


@pytest.fixture
def staff(client: Client, librarian: User) -> Client:
    client.force_login(librarian)
    return client


def post(client: Client, task: Task, **fields: Any) -> Any:
    return client.post(reverse("task", args=[task.pk]), fields, follow=True)


def test_the_task_page_offers_the_new_actions(staff, task, librarian, other_librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    page = staff.get(reverse("task", args=[task.pk])).text
    assert page.count("<h1>") == 1
    for words in ("Reassign to", "Delegate to", "Cancel the case", "Withdraw the application", "Add a document"):
        assert words in page
    assert '<option value="omar">omar</option>' in page
    assert 'enctype="multipart/form-data"' in page


def test_reassign_and_delegate_from_the_page(staff, task, librarian, other_librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    page = post(staff, task, action="delegate", to="omar")
    assert "You delegated the task to omar." in page.text
    assert "delegated by lena" in page.text
    page = post(staff, task, action="reassign", to="lena")
    assert "The task is now assigned to lena." in page.text
    task.refresh_from_db()
    assert (task.assignee, task.delegated_by) == (librarian, None)


def test_cancel_and_add_a_document_from_the_page(staff, task, librarian):
    page = post(staff, task, action="document", file=pdf("call-notes.pdf"), description="Call notes")
    assert "Document added to the case." in page.text
    upload = Upload.objects.get(added_by=librarian)
    assert "call-notes.pdf" in page.text
    assert "Call notes" in page.text
    download = staff.get(reverse("task_file", args=[task.pk, upload.public_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")

    page = post(staff, task, action="cancel_case", reason="Applied twice")
    assert f"Case {task.case.reference} is cancelled." in page.text
    assert "Cancel the case" not in page.text
    assert Case.objects.get().outcome == "cancelled"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "reassign"}, "choose the person to give the task to"),
        ({"action": "reassign", "to": "ghost"}, "there is no active user named &#x27;ghost&#x27;"),
        ({"action": "delegate", "to": "omar"}, "only the person this task is assigned to can delegate it"),
        ({"action": "cancel_case"}, "say why the case is cancelled"),
        ({"action": "cancel_case", "reason": "x" * 100_000}, "a reason can be at most 2,000 characters"),
        ({"action": "withdraw_case", "reason": ""}, "say why the applicant asked to withdraw"),
        ({"action": "document", "description": "no file"}, "choose the file to add"),
        ({"action": "document", "description": "d" * 5000}, "a description can be at most 200 characters"),
        ({"action": "reassign", "to": "o" * 100_000}, "a user name has at most 150 characters"),
    ],
)
def test_odd_posts_get_a_message_never_an_error_page(staff, task, other_librarian, fields, message):
    response = staff.post(reverse("task", args=[task.pk]), fields)
    assert response.status_code == 303
    page = staff.get(response["Location"])
    assert message in page.text
    assert Case.objects.get().status == "running"


def test_a_bad_file_on_the_page_says_what_is_wrong(staff, task, media):
    page = post(staff, task, action="document", file=SimpleUploadedFile("x.pdf", HTML), description="")
    assert "The selected file must be a PDF, JPG, PNG, GIF, WEBP, TIFF or HEIC" in page.text
    assert stored_files(media) == []


def test_staff_without_the_role_cannot_use_the_forms(client, task, auditor):
    client.force_login(auditor)
    for fields in ({"action": "cancel_case", "reason": "x"}, {"action": "document", "file": pdf()}):
        assert client.post(reverse("task", args=[task.pk]), fields).status_code == 404
    assert Case.objects.get().status == "running"
    assert Upload.objects.count() == 0


# ------------------------------------------------------------------ races (real threads)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_withdrawing_while_a_librarian_decides_leaves_one_consistent_ending(library_card):
    citizen = make_user("cora")
    librarian = make_user("lena", "librarian")
    case = services.case_submit(program=library_card, data=dict(ANSWERS), user=citizen)
    task = Task.objects.get(case=case)
    services.task_claim(task_id=task.pk, user=librarian)

    def act(number: int) -> None:
        if number % 2:
            services.case_withdraw(case_id=case.pk, user=citizen)
        else:
            services.task_complete(task_id=task.pk, user=librarian, outcome="approve")

    outcomes = race(8, act)

    assert outcomes == Counter({"done": 1, "conflict": 7})
    case.refresh_from_db()
    task.refresh_from_db()
    assert case.status == "closed"
    assert case.state["status"] == "closed"
    assert case.outcome == case.state["outcome"]
    decided = len(events(case, "task_completed"))
    withdrawn = len(events(case, "case_withdrawn"))
    if case.outcome == "approved":
        assert (decided, withdrawn, task.status) == (1, 0, "completed")
    else:
        assert (case.outcome, decided, withdrawn, task.status) == ("withdrawn", 0, 1, "cancelled")
    assert case.state["tokens"] == []
    assert not Task.objects.filter(case=case, status=Task.Status.OPEN).exists()
    assert len(events(case, "case_closed")) == 1
