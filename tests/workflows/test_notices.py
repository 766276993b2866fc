"""Notices reach people: the message centre, e-mail and SMS, each delivery's status recorded.

Two programs: the shipped library card (approval and denial notices in English and Chinese),
and a small permit program with a contact phone, a free-text answer quoted in its notice, and
a notice to the clerks on every new application:

    tell_clerks (notice to clerk) --> review --approve--> issued (notice: approval)
                                             --deny--> refused
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

import engine
from tests.conftest import DEFINITIONS, make_user
from workflows import notices, outbox, services
from workflows.models import Case, CaseEvent, Notice, Outbox, Program, Task

pytestmark = pytest.mark.django_db

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())

PERMIT = {
    "program.yaml": """\
id: permit
title: {en: Street party permit}
agency: city
reference prefix: SP
roles: [clerk]
contact: {email: email, phone: phone}
""",
    "form.schema.json": json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["email"],
            "properties": {
                # Free text on purpose: the tests hand over addresses the form would not accept.
                "email": {"type": "string", "x-pii": True},
                "phone": {"type": "string", "x-pii": True},
                "street": {"type": "string"},
            },
        }
    ),
    "workflow.yaml": """\
start: tell_clerks
steps:
  tell_clerks: {kind: notice, notice: new_application, to: clerk, next: review}
  review:
    kind: approval
    title: {en: Review}
    role: clerk
    outcomes: {approve: issued, deny: refused}
  issued: {kind: end, outcome: approved, notice: approval}
  refused: {kind: end, outcome: denied}
""",
    "notices/approval.en.md": """\
# Permit {{ reference }} approved

Your party on {{ answers.street }} may go ahead: {{ outcome }}.

[Your application]({{ link }})
""",
    "notices/new_application.en.md": "# New permit application {{ reference }}\n\nStreet: {{ answers.street }}\n\n"
    "<{{ link }}>\n",
}

HOSTILE = "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>"


@pytest.fixture(autouse=True)
def _sms_and_links(settings: Any, tmp_path: Path) -> None:
    settings.CIVICFLOW_PUBLIC_URL = "https://apply.example.gov"
    settings.CIVICFLOW_SMS_BACKEND = "workflows.sms.FileBackend"
    settings.CIVICFLOW_SMS_FILE_DIR = tmp_path / "sms"


@pytest.fixture
def permit(db: None) -> Program:
    services.definition_publish(files=PERMIT, folder="permit")
    return Program.objects.get(slug="permit")


def person(username: str, email: str, *roles: str, active: bool = True) -> User:
    user = make_user(username, *roles, agency="city")  # the permit program's agency
    User.objects.filter(pk=user.pk).update(email=email, is_active=active)
    user.refresh_from_db()
    return user


@pytest.fixture
def clerk(db: None) -> User:
    return person("carla", "carla@city.example.gov", "clerk")


def submit(program: Program, *, user: Any = None, language: str = "en", **answers: Any) -> Case:
    data = dict(answers) if program.slug == "permit" else {**ANSWERS, **answers}
    return services.case_submit(program=program, data=data, user=user or AnonymousUser(), language=language)


def decide(case: Case, user: User, outcome: str) -> None:
    task = Task.objects.get(case=case, status=Task.Status.OPEN)
    services.task_claim(task_id=task.pk, user=user)
    services.task_complete(task_id=task.pk, user=user, outcome=outcome)
    case.refresh_from_db()


def deliveries(case: Case, kind: str = "email") -> list[Outbox]:
    return list(Outbox.objects.filter(case=case, kind=kind).order_by("pk"))


def html_part(message: EmailMessage) -> str:
    """The e-mail's one alternative to its plain text: HTML."""
    assert isinstance(message, EmailMultiAlternatives)
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(html)


def redeliver(row: Outbox) -> None:
    """What a worker that died before acknowledging leaves behind: the row due again."""
    Outbox.objects.filter(pk=row.pk).update(status=Outbox.Status.PENDING, available_at=timezone.now())


# ---------------------------------------------------------------- the library card


def test_approving_sends_the_approval_in_the_applicants_language(library_card, librarian):
    case = submit(library_card, language="zh-hans")
    decide(case, librarian, "approve")

    notice = Notice.objects.get(case=case)
    assert (notice.name, notice.to, notice.language) == ("approval", "citizen", "zh-Hans")
    assert notice.subject == "您的借书证已办好"
    assert f"我们已批准您的借书证申请 {case.reference}" in notice.body.replace("\\-", "-")
    assert notice.recipient is None, "an applicant who did not sign in has no message centre"
    [email] = deliveries(case)
    assert email.payload["to"] == "ana@example.org", "sent to the program's contact e-mail answer"
    assert email.status == Outbox.Status.PENDING, "sent after the commit, by the worker"
    event = CaseEvent.objects.get(case=case, kind="send_notice")
    assert event.detail["notice"] == "approval"
    assert event.detail["message"] == notice.pk


def test_a_language_the_notice_lacks_falls_back_to_the_programs_first(library_card, librarian):
    case = submit(library_card, language="es")
    decide(case, librarian, "deny")
    notice = Notice.objects.get(case=case)
    assert (notice.name, notice.language, notice.subject) == (
        "denial",
        "en",
        "We could not approve your library card application",
    )


def test_the_worker_sends_one_email_with_text_and_html_and_a_stable_message_id(library_card, librarian):
    case = submit(library_card)
    decide(case, librarian, "approve")
    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0

    [message] = mail.outbox
    assert message.to == ["ana@example.org"]
    assert message.subject == "Your library card is ready"
    assert f"approved your library card application {case.reference}" in message.body
    link = f"https://apply.example.gov/my/applications/{case.public_id}/"
    assert f"[{case.reference}]({link})" in message.body, "the plain-text part is the Markdown, filled in"
    html = html_part(message)
    assert '<html lang="en">' in html
    assert "<h1>Your library card is ready</h1>" in html
    assert f'<a href="{link}">{case.reference}</a>' in html
    first_id = message.message()["Message-ID"]
    assert first_id.startswith("<notice.")
    assert first_id.endswith("@apply.example.gov>")
    [row] = deliveries(case)
    assert row.status == Outbox.Status.DELIVERED

    redeliver(row)
    assert outbox.deliver_due() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].message()["Message-ID"] == first_id, "a redelivery is recognisably the same message"


def test_the_applicant_signed_in_gets_the_notice_in_their_message_centre(library_card, librarian, client):
    cora = make_user("cora")
    case = submit(library_card, user=cora)
    decide(case, librarian, "approve")
    notice = Notice.objects.get(case=case)
    assert notice.recipient == cora

    client.force_login(cora)
    home = client.get(reverse("catalogue"))
    assert "1 unread" in home.text, "the header counts unread messages"
    listing = client.get(reverse("my_messages"))
    assert listing.status_code == 200
    assert listing.text.count("<h1") == 1
    assert "Your library card is ready" in listing.text
    assert case.reference in listing.text
    assert "Unread" in listing.text

    page = client.get(reverse("my_message", args=[notice.pk]))
    assert page.status_code == 200
    assert page.text.count("<h1") == 1, "the subject is the page's only h1"
    assert f"approved your library card application {case.reference}" in page.text
    assert f'href="https://apply.example.gov/my/applications/{case.public_id}/"' in page.text
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "unread" not in client.get(reverse("my_messages")).text.lower()


def test_someone_elses_message_and_odd_ids_are_not_found(library_card, librarian, client):
    cora = make_user("cora")
    case = submit(library_card, user=cora)
    decide(case, librarian, "approve")
    notice = Notice.objects.get(case=case)

    client.force_login(make_user("mallory"))
    assert client.get(reverse("my_message", args=[notice.pk])).status_code == 404
    assert "Your library card is ready" not in client.get(reverse("my_messages")).text
    for path in ("/my/messages/0/", "/my/messages/99999999999999999999999999/", "/my/messages/abc/"):
        assert client.get(path).status_code == 404, path
    notice.refresh_from_db()
    assert notice.read_at is None, "looking for someone else's message does not mark it read"


def test_the_message_centre_asks_visitors_to_sign_in(library_card, client):
    response = client.get(reverse("my_messages"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_sign_in"))


def test_staff_see_each_notices_deliveries_on_the_task_page(library_card, librarian, client):
    first = submit(library_card, language="en")
    decide(first, librarian, "approve")
    case = submit(library_card)
    Case.objects.filter(pk=case.pk).update(data={**ANSWERS, "email": "not an address"})
    case.refresh_from_db()
    decide(case, librarian, "deny")
    task = Task.objects.get(case=case)

    client.force_login(librarian)
    page = client.get(reverse("task", args=[task.pk]))
    assert "Notices sent" in page.text
    assert "We could not approve your library card application" in page.text
    assert 'E-mail (the applicant): <span class="delivery delivery--waiting">waiting to be sent' in page.text

    outbox.deliver_due()
    page = client.get(reverse("task", args=[task.pk]))
    assert "gave up: PermanentFailure: the recipient&#x27;s e-mail address is not a valid address" in page.text
    other = client.get(reverse("task", args=[Task.objects.get(case=first).pk]))
    assert '<span class="delivery delivery--delivered">delivered</span>' in other.text


# ---------------------------------------------------------------- the permit program


def test_an_answer_is_text_never_markup_in_the_html(permit, clerk, client):
    applicant = make_user("pat")
    case = submit(permit, user=applicant, email="pat@example.org", street=HOSTILE)
    decide(case, clerk, "approve")
    outbox.deliver_due()

    message = next(sent for sent in mail.outbox if sent.to == ["pat@example.org"])
    html = html_part(message)
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [click](javascript:alert(2)) &lt;img src=x" in html
    assert HOSTILE in message.body, "the plain-text part quotes the answer as it was given"
    assert html.count("<a ") == 1, "only the notice's own link is a link"

    client.force_login(applicant)
    notice = Notice.objects.get(case=case, to="citizen")
    page = client.get(reverse("my_message", args=[notice.pk]))
    assert "<script>alert(1)" not in page.text
    assert 'href="javascript' not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_role_notices_reach_every_active_holder_with_an_address(permit, clerk):
    person("colin", "colin@city.example.gov", "clerk")
    person("nomail", "", "clerk")
    person("gone", "gone@city.example.gov", "clerk", active=False)
    person("outsider", "out@example.org")

    case = submit(permit, email="pat@example.org", street="Elm Street")
    notice = Notice.objects.get(case=case, to="clerk")
    assert notice.recipient is None
    assert notice.subject == f"New permit application {case.reference}"
    assert [row.payload["to"] for row in deliveries(case)] == ["carla@city.example.gov", "colin@city.example.gov"]

    assert outbox.deliver_due() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["carla@city.example.gov", "colin@city.example.gov"]
    # Sent as the case arrives, before the review task opens: the link is the work inbox.
    assert "<https://apply.example.gov/work/>" in mail.outbox[0].body
    html = html_part(mail.outbox[0])
    assert '<a href="https://apply.example.gov/work/">https://apply.example.gov/work/</a>' in html
    assert "Street: Elm Street" in mail.outbox[0].body


def test_a_text_message_goes_to_the_contact_phone_once_per_key(permit, clerk, settings):
    case = submit(permit, email="pat@example.org", phone="(555) 014-2000", street="Elm Street")
    decide(case, clerk, "approve")
    [row] = deliveries(case, "sms")
    assert outbox.deliver_due() == 3  # the e-mails to the clerk and the applicant, and this text

    folder = Path(settings.CIVICFLOW_SMS_FILE_DIR)
    [written] = list(folder.glob("*.json"))
    sent = json.loads(written.read_text())
    assert sent["to"] == "5550142000"
    assert sent["key"] == row.key
    link = f"https://apply.example.gov/my/applications/{case.public_id}/"
    assert sent["text"] == f"Permit {case.reference} approved\n{link}", "the subject and the link, not the body"

    redeliver(row)
    assert outbox.deliver_due() == 1
    assert list(folder.glob("*.json")) == [written], "a repeat overwrites the same message"


def test_no_text_message_without_a_backend(permit, clerk, settings):
    settings.CIVICFLOW_SMS_BACKEND = ""
    case = submit(permit, email="pat@example.org", phone="555 014 2000", street="Elm Street")
    decide(case, clerk, "approve")
    assert deliveries(case, "sms") == []


@pytest.mark.parametrize(
    ("kind", "answers", "reason"),
    [
        ("email", {"email": "pat at example.org"}, "the recipient's e-mail address is not a valid address"),
        ("sms", {"email": "pat@example.org", "phone": "call me maybe"}, "the recipient's phone number is not a phone"),
    ],
    ids=["email", "phone"],
)
def test_a_bad_address_ends_as_a_dead_letter_with_a_reason(permit, clerk, kind, answers, reason):
    case = submit(permit, street="Elm Street", **answers)
    decide(case, clerk, "approve")
    outbox.deliver_due()
    [row] = [row for row in deliveries(case, kind) if row.payload.get("who") == "applicant"]
    assert row.status == Outbox.Status.DEAD
    assert row.attempts == 1, "not retried: it can never succeed"
    assert reason in row.last_error
    assert answers.get("phone", answers["email"]) not in row.last_error, "the reason never repeats the address"


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every recipient with the code the test sets."""

    code = 550

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        for message in email_messages:
            raise smtplib.SMTPRecipientsRefused(dict.fromkeys(message.to, (self.code, b"no")))
        return 0


class UnreachableBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        raise ConnectionRefusedError("the mail server is not answering")


@pytest.mark.parametrize(
    ("backend", "code", "status", "words"),
    [
        ("RefusingBackend", 550, Outbox.Status.DEAD, "the mail server refused the recipient (SMTP 550)"),
        ("RefusingBackend", 450, Outbox.Status.PENDING, "the mail server refused the recipient (SMTP 450), for now"),
        ("UnreachableBackend", 0, Outbox.Status.PENDING, "the mail server is not answering"),
    ],
    ids=["refused", "deferred", "unreachable"],
)
def test_a_refusal_is_final_and_a_connection_error_is_retried(permit, clerk, settings, backend, code, status, words):
    case = submit(permit, email="pat@example.org", street="Elm Street")
    settings.MAILERS = {"default": {"BACKEND": f"tests.workflows.test_notices.{backend}"}}
    RefusingBackend.code = code
    outbox.deliver_due()
    for row in deliveries(case):
        assert row.status == status
        assert words in row.last_error
        assert "@" not in row.last_error, "no address in the reason"


def test_a_notice_the_program_lacks_is_recorded_not_sent(permit):
    case = submit(permit, email="pat@example.org", street="Elm Street")
    assert notices.send(case, engine.SendNotice("escalation", "clerk"), now=timezone.now(), actor=None) is None
    event = CaseEvent.objects.filter(case=case, kind="send_notice").latest("pk")
    assert event.detail == {"notice": "escalation", "to": "clerk", "step": "", "not_sent": "no text"}
    assert not Notice.objects.filter(case=case, name="escalation").exists()


def test_rendering_fills_only_the_listed_names_and_escapes_them():
    rendered = notices.render(
        "# Hello {{ answers.name }}\n\n{{ answers.name }} {{ link }} {{ unknown }}",
        values={"answers.name": "*{{ link }}*", "link": "https://x.example/a_b"},
        trusted=frozenset({"link"}),
    )
    assert rendered.subject == "Hello *{{ link }}*", "a value is inserted as it is, never read again"
    assert rendered.text == "# Hello *{{ link }}*\n\n*{{ link }}* https://x.example/a_b {{ unknown }}"
    assert "<em>" not in rendered.html
    assert "*{{ link }}* https://x.example/a_b {{ unknown }}" in rendered.html


def test_a_role_notice_links_to_the_cases_open_task_for_the_role(permit, clerk):
    case = submit(permit, email="pat@example.org", street="Elm Street")
    task = Task.objects.get(case=case, status=Task.Status.OPEN)
    notice = notices.send(case, engine.SendNotice("new_application", "clerk"), now=timezone.now(), actor=None)
    assert notice is not None
    assert f"<https://apply.example.gov/work/tasks/{task.pk}/>" in notice.body


def test_colleagues_sharing_a_team_mailbox_get_one_e_mail(permit, clerk):
    person("colin", "Carla@City.example.gov", "clerk")  # the same mailbox, written differently
    person("dana", "dana@city.example.gov", "clerk")
    case = submit(permit, email="pat@example.org", street="Elm Street")
    notice = notices.send(case, engine.SendNotice("new_application", "clerk"), now=timezone.now(), actor=None)
    assert notice is not None
    sent_to = sorted(row.payload["to"] for row in Outbox.objects.filter(notice=notice, kind="email"))
    assert sent_to == ["carla@city.example.gov", "dana@city.example.gov"]


# ---------------------------------------------------------------- values the workflow kept

FEES = {
    "program.yaml": "id: fees\ntitle: {en: Fee permit}\nagency: city\nreference prefix: FE\nroles: [clerk]\n"
    "contact: {email: email}\n",
    "form.schema.json": json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["email", "valuation"],
            "properties": {
                "email": {"type": "string", "x-pii": True},
                "valuation": {"type": "number"},
                "trades": {"type": "array", "items": {"enum": ["electrical", "plumbing"]}},
            },
        }
    ),
    "forms/review.schema.json": json.dumps(
        {
            "type": "object",
            "properties": {
                "conditions": {"type": "string"},
                "inspector_phone": {"type": "string", "x-pii": True},
            },
        }
    ),
    "workflow.yaml": """\
start: price
clocks:
  decision: {limit: 10 business days}
steps:
  price:
    kind: decide
    compute:
      fee: max(150, valuation * 0.015) + 50 * count(trades)
      share: fee / 3
    next: review
  review:
    kind: approval
    title: {en: Review}
    role: clerk
    form: forms/review.schema.json
    outcomes: {approve: issued, deny: refused}
  issued: {kind: end, outcome: approved, notice: approval}
  refused: {kind: end, outcome: denied}
""",
    "notices/approval.en.md": "# Permit {{ reference }}: fee {{ case.fee }}\n\n"
    "Fee: ${{ case.fee }}. A third: ${{ case.share }}. Trades: {{ case.trades }}.\n\n"
    "Conditions: {{ case.review.conditions }}. Decided: {{ case.review.outcome }}, "
    "due {{ case.deadlines.decision }}.\n",
}


def test_a_notice_shows_what_the_workflow_computed_and_the_caseworker_recorded(db, clerk):
    services.definition_publish(files=FEES, folder="fees")
    program = Program.objects.get(slug="fees")
    data = {"email": "pat@example.org", "valuation": 250_000, "trades": ["electrical", "plumbing"]}
    case = services.case_submit(program=program, data=data, user=AnonymousUser(), language="en")
    task = Task.objects.get(case=case, status=Task.Status.OPEN)
    services.task_claim(task_id=task.pk, user=clerk)
    services.task_complete(
        task_id=task.pk, user=clerk, outcome="approve", data={"conditions": "Work *only* on weekdays"}
    )
    case.refresh_from_db()
    due = case.state["data"]["deadlines"]["decision"][:10]
    outbox.deliver_due()
    (message,) = [sent for sent in mail.outbox if sent.to == ["pat@example.org"]]
    # 250,000 x 1.5% = 3,750, plus 2 trades x 50 = 3,850; a third of it is 1,283.33.
    assert message.subject == f"Permit {case.reference}: fee 3,850"
    assert message.body.splitlines()[2:5] == [
        "Fee: $3,850. A third: $1,283.33. Trades: electrical, plumbing.",
        "",
        f"Conditions: Work *only* on weekdays. Decided: approve, due {due}.",
    ]
    assert "<em>" not in html_part(message), "a recorded answer is text, never markup"


@pytest.mark.parametrize(
    ("placeholder", "code"),
    [
        ("{{ case.review.inspector_phone }}", "private_answer"),
        ("{{ case.email }}", "private_answer"),
        ("{{ case.feee }}", "unknown_field"),
        ("{{ case.fee }} {{ case.valuation }} {{ case.deadlines.decision }}", None),
    ],
)
def test_the_checker_refuses_case_values_that_do_not_exist_or_are_private(placeholder, code):
    files = {**FEES, "notices/approval.en.md": f"# Approved\n\n{placeholder}\n"}
    _, found = engine.read(files)
    problems = [problem for problem in found if problem.severity == "error"]
    assert [problem.code for problem in problems] == ([code] if code else [])


def test_a_choice_is_shown_in_the_words_it_was_offered_in_the_notices_language(db, clerk):
    files = {
        **FEES,
        "program.yaml": FEES["program.yaml"] + "languages: [en, zh-Hans]\n",
        "form.ui.yaml": """\
pages:
  - id: work
    title: {en: Work, zh-Hans: 工程}
    fields:
      - {field: email, label: {en: Email, zh-Hans: 电子邮件}}
      - {field: valuation, label: {en: Valuation, zh-Hans: 造价}}
      - field: trades
        widget: checkboxes
        label: {en: Trades, zh-Hans: 工种}
        options:
          electrical: {en: Electrical work, zh-Hans: 电气工程}
          plumbing: {en: Plumbing, zh-Hans: 管道工程}
""",
        "forms/review.schema.json": json.dumps(
            {
                "type": "object",
                "properties": {
                    "conditions": {"type": "string", "title": "Conditions"},
                    "kind": {
                        "title": "Kind of permit",
                        "oneOf": [
                            {"const": "standard", "title": "Standard permit"},
                            {"const": "fast", "title": "Fast track"},
                        ],
                    },
                },
            }
        ),
        "locale/zh-Hans.yaml": "Conditions: 条件\nKind of permit: 许可类型\nStandard permit: 标准许可\nFast track: 快速通道\n",
        "notices/approval.en.md": "# Approved\n\nTrades: {{ case.trades }}. Kind: {{ case.review.kind }}.\n",
        "notices/approval.zh-Hans.md": "# 已批准\n\n工种：{{ answers.trades }}。类型：{{ case.review.kind }}。\n",
    }
    files["program.yaml"] = files["program.yaml"].replace(
        "title: {en: Fee permit}", "title: {en: Fee permit, zh-Hans: 收费许可}"
    )
    files["workflow.yaml"] = files["workflow.yaml"].replace("title: {en: Review}", "title: {en: Review, zh-Hans: 审核}")
    services.definition_publish(files=files, folder="fees")
    program = Program.objects.get(slug="fees")
    data = {"email": "pat@example.org", "valuation": 1000, "trades": ["plumbing", "electrical"]}
    sent = {}
    for language in ("en", "zh-Hans"):
        case = services.case_submit(program=program, data=data, user=AnonymousUser(), language=language)
        task = Task.objects.get(case=case, status=Task.Status.OPEN)
        services.task_claim(task_id=task.pk, user=clerk)
        services.task_complete(task_id=task.pk, user=clerk, outcome="approve", data={"kind": "fast"})
        # The kept Markdown escapes what answers hold (a comma here); the words are what matter.
        sent[language] = Notice.objects.get(case=case, to="citizen").body.replace("\\", "")
    assert "Trades: Plumbing, Electrical work. Kind: Fast track." in sent["en"]
    assert "工种：管道工程, 电气工程。类型：快速通道。" in sent["zh-Hans"]
