"""Privacy in the case runtime: masked sensitive answers, revealing them, the access log, the retention purge.

The program here is the demo library card with a national identity number question tagged
``x-sensitive`` (a canary value goes in it) and a second role, ``records_officer``, the only one
``privacy: sensitive fields seen by`` lists. The proof of address is ``x-sensitive`` already.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab
from django.contrib.auth.models import User
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import engine
from tests.conftest import DEFINITIONS, make_user
from tests.workflows.apply_steps import ABOUT_YOU, ADDRESS, CARD_MAIL, PDF, begin, post_page, proof_file
from workflows import applicants, background, privacy, programs, services, tasks
from workflows.models import (
    AccessLog,
    Case,
    CaseEvent,
    Draft,
    Note,
    Notice,
    Outbox,
    Program,
    Submission,
    Task,
    Upload,
)

pytestmark = pytest.mark.django_db

CANARY = "987-65-4320"
"""A national-identity-number-like value that must never show to staff the program does not entitle."""


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""
    return Path(settings.MEDIA_ROOT)


def copy_library_card(tmp_path: Path, name: str = "library-card") -> Path:
    """The demo program with a sensitive national ID question, seen by records officers only."""
    folder = tmp_path / name
    shutil.copytree(DEFINITIONS / "library-card", folder)
    program = folder / "program.yaml"
    text = program.read_text()
    assert "roles: [librarian]" in text
    assert "sensitive fields seen by: [librarian]" in text
    text = text.replace("roles: [librarian]", "roles: [librarian, records_officer]")
    program.write_text(
        text.replace("sensitive fields seen by: [librarian]", "sensitive fields seen by: [records_officer]")
    )
    schema_file = folder / "form.schema.json"
    schema = json.loads(schema_file.read_text())
    national_id = {"type": "string", "title": "National ID number", "maxLength": 20, "x-sensitive": True}
    schema["properties"] = {
        **schema["properties"],
        "national_id": national_id,
    }
    schema_file.write_text(json.dumps(schema, indent=2, ensure_ascii=False))
    ui = folder / "form.ui.yaml"
    phone = "      - {field: phone, label: {en: Phone number, zh-Hans: 电话号码}}\n"
    assert phone in ui.read_text()
    ui.write_text(
        ui.read_text().replace(
            phone, phone + "      - {field: national_id, label: {en: National ID number, zh-Hans: 身份证号码}}\n"
        )
    )
    return folder


def publish(folder: Path) -> Program:
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


@pytest.fixture
def program(tmp_path: Path) -> Program:
    return publish(copy_library_card(tmp_path))


@pytest.fixture
def officer(db: None) -> User:
    """A librarian who is also a records officer: the program lets them reveal sensitive answers."""
    return make_user("rita", "librarian", "records_officer")


def apply(client: Client, national_id: str = CANARY) -> Case:
    """A citizen applies on the web with the canary in the sensitive question and a proof of address."""
    draft = begin(client)
    assert post_page(client, draft, "about_you", {**ABOUT_YOU, "national_id": national_id}).status_code == 303
    assert post_page(client, draft, "address", {**ADDRESS, "proof_of_address": proof_file()}).status_code == 303
    assert post_page(client, draft, "card", CARD_MAIL).status_code == 303
    assert client.post(reverse("apply_check", args=[draft.public_id])).status_code == 303
    return Case.objects.get(draft__public_id=draft.public_id)


@pytest.fixture
def case(program: Program) -> Case:
    return apply(Client())


def task_of(case: Case) -> Task:
    return Task.objects.filter(case=case).order_by("-pk").first()  # type: ignore[return-value]


def staff(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def task_page(user: User, case: Case) -> str:
    response = staff(user).get(reverse("task", args=[task_of(case).pk]))
    assert response.status_code == 200
    return response.content.decode()


def proof_upload(case: Case) -> Upload:
    return Upload.objects.get(case=case, field="proof_of_address")


# ------------------------------------------------------------------ masking on the task page


def test_a_librarian_the_program_does_not_entitle_never_sees_the_canary(case, librarian):
    assert case.data["national_id"] == CANARY  # it is there to be shown
    page = task_page(librarian, case)

    assert CANARY not in page
    assert "•••• 4320" in page  # the last four digits, the usual check of an identity number
    assert "Ana Lima" in page
    assert "1988-03-14" in page
    assert "bill.pdf" not in page  # the proof of address is sensitive: neither its name...
    file_url = reverse("task_file", args=[task_of(case).pk, proof_upload(case).public_id])
    assert file_url not in page  # ...nor a link to it
    assert "A file for a sensitive answer" in page
    assert 'value="reveal"' not in page  # and no "Show" button


def test_the_file_of_a_sensitive_answer_is_not_there_for_them(case, librarian):
    url = reverse("task_file", args=[task_of(case).pk, proof_upload(case).public_id])
    assert staff(librarian).get(url).status_code == 404
    assert not AccessLog.objects.filter(action="downloaded").exists()


def test_an_entitled_librarian_sees_show_buttons_and_reveals_one_answer(case, officer):
    client = staff(officer)
    url = reverse("task", args=[task_of(case).pk])
    page = client.get(url).content.decode()
    assert CANARY not in page
    assert '<input type="hidden" name="field" value="national_id">' in page
    assert '<input type="hidden" name="field" value="proof_of_address">' in page

    response = client.post(url, {"action": "reveal", "field": "national_id"})
    assert response.status_code == 303
    assert response["Location"] == url + "#answers"
    page = client.get(url).content.decode()

    assert CANARY in page
    assert '<input type="hidden" name="field" value="national_id">' not in page  # shown now
    assert '<input type="hidden" name="field" value="proof_of_address">' in page  # still hidden
    revealed = AccessLog.objects.get(action="revealed")
    assert (revealed.user, revealed.case, revealed.detail) == (officer, case, {"field": "national_id"})
    assert client.get(url)["Cache-Control"] == "private, no-store"  # a revealed answer stays out of caches


def test_an_entitled_librarian_downloads_the_sensitive_file_and_it_is_logged(case, officer):
    page = task_page(officer, case)
    upload = proof_upload(case)
    url = reverse("task_file", args=[task_of(case).pk, upload.public_id])
    assert url in page
    assert "bill.pdf" in page

    download: Any = staff(officer).get(url)  # a FileResponse: its content streams

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    logged = AccessLog.objects.get(action="downloaded")
    assert (logged.user, logged.detail) == (officer, {"upload": str(upload.public_id), "field": "proof_of_address"})


def test_revealing_is_refused_to_staff_the_program_does_not_entitle(case, librarian):
    client = staff(librarian)
    url = reverse("task", args=[task_of(case).pk])
    page = client.post(url, {"action": "reveal", "field": "national_id"}, follow=True).content.decode()
    assert "only staff the program lets see sensitive answers can show them" in page
    assert CANARY not in page
    assert not AccessLog.objects.filter(action="revealed").exists()


@pytest.mark.parametrize("field", ["full_name", "address.city", "national_id.0", "no_such_question", "", "x" * 400])
def test_only_hidden_answers_can_be_revealed(case, officer, field):
    client = staff(officer)
    url = reverse("task", args=[task_of(case).pk])
    page = client.post(url, {"action": "reveal", "field": field}, follow=True).content.decode()
    assert "there is no hidden answer to show there" in page or "choose the answer to show" in page
    assert not AccessLog.objects.filter(action="revealed").exists()


def test_a_sensitive_answer_left_blank_has_nothing_to_reveal(program, officer):
    case = apply(Client(), national_id="")
    page = task_page(officer, case)
    assert '<input type="hidden" name="field" value="national_id">' not in page
    with pytest.raises(services.ServiceError, match="there is no hidden answer"):
        services.answers_reveal(case=case, user=officer, paths=["national_id"])


def test_a_reveal_lasts_for_a_few_minutes_in_that_browser_only():
    session = SessionStore()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    privacy.remember_revealed(session, 7, ["national_id"], start)
    assert privacy.revealed_in(session, 7, start + timedelta(minutes=privacy.REVEAL_MINUTES - 1)) == {"national_id"}
    assert privacy.revealed_in(session, 7, start + timedelta(minutes=privacy.REVEAL_MINUTES)) == frozenset()
    assert privacy.revealed_in(session, 8, start) == frozenset()
    assert privacy.revealed_in(SessionStore(), 7, start) == frozenset()


def test_a_role_revoked_after_revealing_masks_the_answer_again(case, officer):
    client = staff(officer)
    url = reverse("task", args=[task_of(case).pk])
    client.post(url, {"action": "reveal", "field": "national_id"})
    officer.role_grants.filter(role="records_officer").delete()
    assert CANARY not in client.get(url).content.decode()


def test_answers_to_a_request_for_information_are_masked_too(case, librarian, officer):
    task = task_of(case)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="ask_for_proof")
    draft = Draft.objects.get(case=case)
    token = applicants.open_requests(Case.objects.get(pk=case.pk))[0].token
    services.citizen_respond(
        case_id=case.pk,
        user=applicants.HeldDraft(draft.public_id),
        token=token,
        data={"note": "I moved in March."},
        files={"proof_of_address": [proof_file("new-lease.pdf")]},
    )

    page = task_page(librarian, case)
    assert "I moved in March." in page
    assert "new-lease.pdf" not in page

    client = staff(officer)
    url = reverse("task", args=[task_of(case).pk])
    page = client.get(url).content.decode()
    assert '<input type="hidden" name="field" value="request_proof.proof_of_address">' in page
    client.post(url, {"action": "reveal", "field": "request_proof.proof_of_address"})
    assert "new-lease.pdf" in client.get(url).content.decode()
    assert AccessLog.objects.get(action="revealed").detail == {"field": "request_proof.proof_of_address"}


# ------------------------------------------------------------------ the pure helpers


SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {"secret": {"type": "string", "x-sensitive": True}},
    "properties": {
        "name": {"type": "string"},
        "ssn": {"$ref": "#/$defs/secret"},
        "born": {"type": "string", "format": "date", "x-sensitive": True},
        "pin": {"type": "string", "x-sensitive": True},
        "income": {"type": "number", "x-sensitive": True},
        "status": {"type": "string", "enum": ["citizen", "resident"], "x-sensitive": True},
        "health": {"type": "object", "x-sensitive": True, "properties": {"condition": {"type": "string"}}},
        "people": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "id": {"type": "string", "x-sensitive": True}},
            },
        },
    },
    "allOf": [
        {"if": {"required": ["name"]}, "then": {"properties": {"note": {"type": "string", "x-sensitive": True}}}}
    ],
}


def test_mask_answers_masks_every_tagged_answer_and_nothing_else():
    data = {
        "name": "Ana Lima",
        "ssn": "123-45-6789",
        "born": "1988-03-14",
        "pin": "1234",
        "income": 52000,
        "status": "resident",
        "health": {"condition": "asthma"},
        "people": [{"name": "Leo", "id": "AB1234567"}, {"name": "Mia"}],
        "note": "a note under a condition",
        "computed": 3,
    }
    masked = privacy.mask_answers(SCHEMA, data)
    assert masked == {
        "name": "Ana Lima",
        "ssn": "•••• 6789",
        "born": "•••• hidden",  # a date keeps nothing
        "pin": "•••• hidden",  # too short to keep any of it
        "income": "•••• hidden",
        "status": "•••• hidden",
        "health": {"condition": "•••• hidden"},
        "people": [{"name": "Leo", "id": "•••• 4567"}, {"name": "Mia"}],
        "note": "•••• hidden",
        "computed": 3,
    }
    assert data["ssn"] == "123-45-6789"  # a copy: the answers themselves are untouched
    for secret in ("123-45-6789", "asthma", "52000", "resident", "AB1234567"):
        assert secret not in json.dumps(masked)


def test_revealed_paths_show_and_empty_answers_stay_empty():
    data = {"ssn": "123-45-6789", "pin": None, "people": [{"id": "AB1234567"}]}
    masked = privacy.mask_answers(SCHEMA, data, revealed={"people.0.id", "x.ssn"})
    assert masked == {"ssn": "•••• 6789", "pin": None, "people": [{"id": "AB1234567"}]}
    assert privacy.mask_answers(SCHEMA, {"ssn": "123-45-6789"}, revealed={"x.ssn"}, prefix="x.") == {
        "ssn": "123-45-6789"
    }


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("name", None),
        ("ssn", "ssn"),
        ("health.condition", "health"),
        ("people.3.id", "people.3.id"),
        ("people.3.name", None),
        ("note", "note"),
        ("unknown", None),
        ("", None),
    ],
)
def test_sensitive_root_is_the_outermost_tagged_answer(path: str, root: str | None):
    assert privacy.sensitive_root(SCHEMA, path) == root


@pytest.mark.parametrize(
    ("value", "keep_end", "shown"),
    [
        ("123-45-6789", True, "•••• 6789"),
        ("123456789", True, "•••• 6789"),
        ("123-45-6789", False, "•••• hidden"),
        ("1988-03-14", True, "•••• hidden"),
        ("ana@example.org", True, "•••• hidden"),
        ("Jane Q. Citizen", True, "•••• hidden"),
        ("12345", True, "•••• hidden"),
        ("", True, "•••• hidden"),
    ],
)
def test_masked_text_never_shows_the_whole_value(value: str, keep_end: bool, shown: str):
    assert privacy.masked_text(value, keep_end=keep_end) == shown


# ------------------------------------------------------------------ the access log


def test_opening_a_case_and_downloading_a_file_each_write_one_row(case, librarian):
    client = staff(librarian)
    task = task_of(case)
    client.get(reverse("task", args=[task.pk]))
    staff_document = services.case_add_document(
        task_id=task.pk, user=librarian, file=proof_file("call-notes.pdf"), description="Call notes"
    )
    assert client.get(reverse("task_file", args=[task.pk, staff_document.public_id])).status_code == 200

    rows = list(AccessLog.objects.order_by("pk").values_list("user__username", "case", "action", "detail"))
    assert rows == [
        ("lena", case.pk, "viewed", {"task": task.pk}),
        ("lena", case.pk, "downloaded", {"upload": str(staff_document.public_id)}),
    ]


def test_auditors_see_who_opened_the_case_and_others_do_not(case, librarian):
    task_page(librarian, case)
    audrey = make_user("audrey", "auditor", "librarian")

    assert "Who opened this case" not in task_page(librarian, case)
    page = task_page(audrey, case)
    assert "Who opened this case" in page
    assert "lena" in page
    assert "opened the case" in page


def test_the_admin_shows_the_case_masked_and_logs_the_view(case, officer):
    admin = User.objects.create_superuser("root", password="correct horse battery staple")
    client = staff(admin)

    page = client.get(reverse("admin:workflows_case_change", args=[case.pk])).content.decode()

    assert CANARY not in page
    assert "•••• 4320" in page
    assert "Ana Lima" in page
    assert AccessLog.objects.filter(user=admin, case=case, action="viewed", detail={"admin": True}).exists()


def test_the_access_log_admin_is_read_only_and_for_auditors(case, librarian):
    task_page(librarian, case)
    url = reverse("admin:workflows_accesslog_changelist")
    auditor = make_user("audrey", "auditor")
    auditor.is_staff = True
    auditor.save()
    clerk = make_user("carl", "librarian")
    clerk.is_staff = True
    clerk.save()

    page = staff(auditor).get(url)
    assert page.status_code == 200
    assert case.reference in page.content.decode()
    row = AccessLog.objects.get()
    change = staff(auditor).get(reverse("admin:workflows_accesslog_change", args=[row.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert staff(auditor).post(reverse("admin:workflows_accesslog_delete", args=[row.pk])).status_code == 403
    assert staff(clerk).get(url).status_code == 403
    assert AccessLog.objects.count() == 1  # reading the log is not opening a case


def access_log(*args: str) -> str:
    out = StringIO()
    call_command("access-log", *args, stdout=out)
    return out.getvalue()


def test_the_access_log_command_prints_who_opened_what(program, librarian, officer):
    first, second = apply(Client()), apply(Client())
    task_page(librarian, first)
    task_page(officer, second)
    AccessLog.objects.filter(user=librarian).update(at=timezone.now() - timedelta(days=40))

    everything = access_log()
    assert everything.splitlines()[-1] == "2 access(es)"
    assert f"lena  viewed  {first.reference}  task {task_of(first).pk}" in everything
    assert f"rita  viewed  {second.reference}" in everything
    assert everything.index("lena") < everything.index("rita")  # oldest first

    assert access_log("--case", first.reference).splitlines()[-1] == "1 access(es)"
    assert "rita" not in access_log("--case", first.reference)
    assert "lena" not in access_log("--user", "rita")
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert "lena" not in access_log("--since", since)
    assert "rita" in access_log("--since", since)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "last week"), "--since must be a date like 2026-03-01, not 'last week'"),
        (("--case", "LC-1999-000001"), "there is no case 'LC-1999-000001'"),
        (("--user", "nobody"), "there is no user 'nobody'"),
    ],
)
def test_the_access_log_command_says_what_is_wrong(db, args, message):
    with pytest.raises(CommandError, match=message):
        access_log(*args)


# ------------------------------------------------------------------ the retention purge


def decide(case: Case, librarian: User, outcome: str = "approve") -> None:
    task = task_of(case)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome=outcome)


def closed_years_ago(case: Case, years: int) -> None:
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=365 * years + 2))


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def old_case(case: Case, librarian: User) -> Case:
    """A case asked for a new proof (a notice e-mailed), answered, noted, approved, and closed 8 years ago."""
    task = task_of(case)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="ask_for_proof")
    services.citizen_respond(
        case_id=case.pk,
        user=applicants.HeldDraft(Draft.objects.get(case=case).public_id),
        token=applicants.open_requests(Case.objects.get(pk=case.pk))[0].token,
        data={"note": f"My ID is {CANARY}."},
        files={"proof_of_address": [proof_file("new-lease.pdf")]},
    )
    services.case_add_note(task_id=task.pk, user=librarian, text=f"Checked ID {CANARY} on the phone.")
    decide(case, librarian)
    closed_years_ago(case, 8)
    return Case.objects.get(pk=case.pk)


def personal_data_left(case: Case) -> str:
    """Every row the purge is meant to clean, as text."""
    rows: list[Any] = [
        list(Case.objects.filter(pk=case.pk).values("data", "state", "on_behalf_of")),
        list(Submission.objects.filter(case=case).values()),
        list(Draft.objects.filter(case=case).values()),
        list(Note.objects.filter(case=case).values()),
        list(Notice.objects.filter(case=case).values("body")),
        list(Outbox.objects.filter(case=case).values("payload", "last_error")),
        list(Upload.objects.filter(case=case).values()),
    ]
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_a_dry_run_lists_what_is_due_and_changes_nothing(old_case, media):
    before = personal_data_left(old_case)
    files = sorted(media.rglob("*"))

    out = purge("--dry-run")

    assert f"{old_case.reference} (library-card, closed " in out
    assert "kept 7 years" in out
    assert "would be purged" in out
    assert out.splitlines()[-1] == "would purge 1 case(s); nothing was changed"
    assert personal_data_left(old_case) == before
    assert sorted(media.rglob("*")) == files
    assert Case.objects.get(pk=old_case.pk).purged_at is None
    assert not CaseEvent.objects.filter(kind="purged").exists()


def test_the_purge_removes_answers_files_notes_and_messages_and_keeps_the_history(
    old_case, librarian, media, django_capture_on_commit_callbacks
):
    before = personal_data_left(old_case)
    assert CANARY in before
    assert "Ana Lima" in before
    assert "ana@example.org" in before
    stored = [upload.stored_name for upload in Upload.objects.filter(case=old_case)]
    assert len(stored) == 2
    assert all(default_storage.exists(name) for name in stored)
    events = CaseEvent.objects.filter(case=old_case).count()
    notices = Notice.objects.filter(case=old_case).count()
    assert notices >= 1  # at least the request for a new proof

    with django_capture_on_commit_callbacks(execute=True):
        out = purge()

    assert f"{old_case.reference} (library-card, closed " in out
    assert "purged; 2 file(s), 1 note(s)" in out
    assert out.splitlines()[-1] == "purged 1 case(s)"
    case = Case.objects.get(pk=old_case.pk)
    left = personal_data_left(case)
    for personal in (CANARY, "Ana Lima", "ana@example.org", "12 Harbor Street", "new-lease.pdf", "bill.pdf"):
        assert personal not in left, personal
    assert (case.data, case.state["data"]) == ({}, {})
    assert (case.reference, case.status, case.outcome) == (old_case.reference, "closed", "approved")
    assert case.closed_at == old_case.closed_at
    assert case.submitted_at == old_case.submitted_at
    assert case.purged_at is not None
    assert not Upload.objects.filter(case=case).exists()
    assert not any(default_storage.exists(name) for name in stored)  # gone from disk too
    assert Note.objects.get(case=case).text == ""
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    purged = CaseEvent.objects.get(case=case, kind="purged")
    assert purged.detail == {"closed cases": "7 years", "files": 2, "notes": 1, "notices": notices}
    assert all(body == "" for body in Notice.objects.filter(case=case).values_list("body", flat=True))
    for event in CaseEvent.objects.filter(case=case):
        assert CANARY not in json.dumps(event.detail)  # the history never held the answers
    verified = StringIO()
    call_command("audit", "verify", stdout=verified)
    assert "the chain is intact" in verified.getvalue()

    page = task_page(librarian, case)
    removed_on = timezone.localtime(case.purged_at)
    assert f"Personal data removed on {removed_on.day} {removed_on:%b %Y} under the retention policy." in page
    assert CANARY not in page
    assert "Ana Lima" not in page

    assert purge().splitlines()[-1] == "purged 0 case(s)"  # once is enough
    with pytest.raises(services.Conflict, match="personal data was removed"):
        services.case_add_note(task_id=task_of(case).pk, user=librarian, text=f"ID {CANARY}")


def test_an_assisted_application_leaves_no_name_in_the_history_once_purged(program, librarian):
    answers = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
    case = services.case_submit(
        program=program, data=answers, user=librarian, channel="phone", on_behalf_of="Pat Quinlan-Moreau"
    )
    submitted = CaseEvent.objects.get(case=case, kind="submitted")
    assert submitted.detail == {"channel": "phone", "on_behalf_of_someone": True}
    decide(case, librarian)
    closed_years_ago(case, 8)
    purge()
    assert Case.objects.get(pk=case.pk).on_behalf_of == ""
    history = json.dumps([event.detail for event in CaseEvent.objects.filter(case=case)], ensure_ascii=False)
    assert "Quinlan" not in history


def test_running_cases_and_cases_inside_their_retention_are_never_purged(program, librarian):
    running = apply(Client())
    Case.objects.filter(pk=running.pk).update(submitted_at=timezone.now() - timedelta(days=365 * 20))
    recent = apply(Client())
    decide(recent, librarian)
    closed_years_ago(recent, 6)

    assert purge().splitlines()[-1] == "purged 0 case(s)"

    for kept in (running, recent):
        assert Case.objects.get(pk=kept.pk).purged_at is None
        assert Case.objects.get(pk=kept.pk).data["national_id"] == CANARY
    with pytest.raises(services.NotDue, match="is still running"):
        services.case_purge(case_id=running.pk)
    with pytest.raises(services.NotDue, match=r"is kept until \d{4}-\d{2}-\d{2} \(closed cases: 7 years\)"):
        services.case_purge(case_id=recent.pk)


def test_each_case_follows_the_retention_of_its_own_version(tmp_path, librarian):
    publish(copy_library_card(tmp_path))
    kept_7_years = apply(Client())
    without_retention = copy_library_card(tmp_path, "v2")
    program_file = without_retention / "program.yaml"
    program_file.write_text(program_file.read_text().replace("retention: {closed cases: 7 years}\n", ""))
    publish(without_retention)
    kept_forever = apply(Client())
    assert kept_7_years.version_id != kept_forever.version_id
    for case in (kept_7_years, kept_forever):
        decide(case, librarian)
        closed_years_ago(case, 50)

    out = purge()

    assert kept_7_years.reference in out
    assert kept_forever.reference not in out
    assert Case.objects.get(pk=kept_forever.pk).data["national_id"] == CANARY
    with pytest.raises(services.NotDue, match="keeps closed cases indefinitely"):
        services.case_purge(case_id=kept_forever.pk)


def test_purge_takes_one_program_and_names_an_unknown_one(old_case):
    assert (
        purge("--dry-run", "--program", "library-card").splitlines()[-1] == "would purge 1 case(s); nothing was changed"
    )
    with pytest.raises(CommandError, match="there is no program 'parking-permit'"):
        purge("--program", "parking-permit")


def test_retention_counts_calendar_years_in_the_programs_time_zone(program):
    definition = programs.stored_definition(program.current_version.files, program.current_version.content_hash)
    closed = datetime(2020, 2, 29, 22, 30, tzinfo=UTC)  # 14:30 on 29 February in Los Angeles
    assert privacy.retention_ends(definition, closed) == datetime(2027, 2, 28, 22, 30, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_purge_a_case_once(old_case):
    from tests.workflows.racing import race

    outcomes = race(4, lambda _: services.case_purge(case_id=old_case.pk))

    assert outcomes == {"done": 1, "not_due": 3}
    assert CaseEvent.objects.filter(case=old_case, kind="purged").count() == 1


def test_summary_masks_inside_lists_and_groups_and_says_what_each_row_hides(tmp_path):
    folder = copy_library_card(tmp_path)
    schema_file = folder / "form.schema.json"
    schema = json.loads(schema_file.read_text())
    schema["properties"]["children"]["x-sensitive"] = True
    schema["properties"]["address"]["properties"]["zip"]["x-sensitive"] = True
    schema_file.write_text(json.dumps(schema))
    files = programs.read_folder(folder)
    form = programs.loaded(files, engine.content_hash(files)).pages
    answers = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
    answers["national_id"] = CANARY
    tree = form.tree(answers, [], "en", form.pages(answers)[0])

    sections = privacy.summary(form.schema, tree, answers, uploads={}, not_provided="Not provided")

    rows = {row.question: row for section in sections for row in section.rows}
    assert rows["Home address"].answer == ("12 Harbor Street", "Springfield", "•••• hidden")
    assert rows["Home address"].hidden == ("address.zip",)
    children = [row for question, row in rows.items() if question.startswith("Children")]
    assert len(children) == 1
    assert children[0].hidden == ("children",)
    assert "Leo Lima" not in json.dumps([row.answer for row in children])
    assert rows["National ID number"].answer == ("•••• 4320",)
    assert rows["Full name"].hidden == ()

    shown = privacy.summary(
        form.schema, tree, answers, uploads={}, not_provided="Not provided", revealed={"children", "address.zip"}
    )
    rows = {row.question: row for section in shown for row in section.rows}
    assert rows["Home address"].answer == ("12 Harbor Street", "Springfield", "97403")
    assert any("Leo Lima" in line for row in rows.values() for line in row.answer)
    assert rows["National ID number"].hidden == ("national_id",)


def test_celery_beat_purges_what_retention_says_once_a_day(old_case, media):
    daily = background.app.conf.beat_schedule["housekeeping"]
    assert daily["task"] == background.HOUSEKEEPING
    assert daily["schedule"] == crontab(hour=2, minute=30)
    assert tasks.housekeeping.apply().get() == {"purged": 1, "drafts": 0}
    assert Case.objects.get(pk=old_case.pk).purged_at is not None
    assert CANARY not in personal_data_left(old_case)
    assert tasks.housekeeping.apply().get() == {"purged": 0, "drafts": 0}
