"""Notices reach people: rendered once, kept in the message centre, sent by e-mail and SMS.

When the engine sends a notice (``engine.SendNotice``), ``send`` runs inside the case's
transaction: it renders the notice's Markdown in the recipient's language, stores it as a
``Notice`` (the applicant's message centre shows it), and queues one outbox row per address
and channel. The outbox delivers them after the commit (``deliver_email``, ``deliver_sms``).

Placeholders are filled by plain replacement of a closed list of names (``engine.notices``).
Answers go in as text: escaped as Markdown in what is rendered to HTML, so an answer can never
become a link or markup, and as they are in the plain-text part and the SMS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

import engine
from engine import model as engine_model
from engine import notices as notice_texts
from engine.runtime import value_at
from forms import ui as forms_ui
from workflows import applicants, audit, outbox, programs, roles, sms
from workflows.models import Case, Notice, Outbox, Task

log = logging.getLogger(__name__)

SUBJECT_MAX_CHARS = 200
"""``Notice.subject`` holds this much; a longer subject is cut with an ellipsis (the body has it all)."""

_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_markdown = MarkdownIt("commonmark", {"html": False})


# ------------------------------------------------------------------ rendering


@dataclass(frozen=True)
class Rendered:
    """A notice with its placeholders filled: the subject, the Markdown kept, the e-mail's two parts."""

    subject: str
    markdown: str  # answers escaped: safe to render to HTML at any time (the message centre does)
    text: str  # answers as they are: the e-mail's plain-text part
    html: str


def render(template: str, *, values: Mapping[str, str], trusted: frozenset[str] = frozenset()) -> Rendered:
    """Fill ``template``'s placeholders from ``values`` (placeholder name -> text).

    Names in ``trusted`` (the link the system builds) go into the Markdown unescaped, so that
    ``[your application]({{ link }})`` and ``<{{ link }}>`` work; everything else is escaped.
    """
    escaped = {name: value if name in trusted else markdown_escaped(value) for name, value in values.items()}
    markdown = notice_texts.fill(template, escaped)
    subject_template = notice_texts.subject(template) or ""
    return Rendered(
        subject=_one_line(notice_texts.fill(subject_template, values)),
        markdown=markdown,
        text=notice_texts.fill(template, values),
        html=_markdown.render(markdown),
    )


def markdown_escaped(value: str) -> str:
    """``value`` with every ASCII punctuation character backslash-escaped: Markdown shows it as text."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)


def body_html(notice: Notice) -> str:
    """The notice's body as HTML for a page that shows the subject as its own heading.

    The subject line is left out, and the body's headings move one level down, so the page keeps
    a single ``h1``. Raw HTML in the Markdown is shown as text (``html`` is off).
    """
    lines = notice.body.splitlines()
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].startswith("# "):
        lines = lines[first + 1 :]
    tokens = _markdown.parse("\n".join(lines))
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    html: str = _markdown.renderer.render(tokens, _markdown.options, {})
    return html


def _one_line(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= SUBJECT_MAX_CHARS else words[: SUBJECT_MAX_CHARS - 1] + "…"


def _as_text(value: Any) -> str:
    """An answer as words: yes/no for a tick box, items joined by commas, nothing for no answer."""
    if value is None or isinstance(value, Mapping):
        return ""  # the checker refuses groups of answers; an unanswered question shows nothing
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value if not isinstance(item, (Mapping, list)))
    return str(value)


_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}")


def _value_as_text(value: Any) -> str:
    """A value the workflow kept, as words: numbers grouped by thousands with at most two
    decimals (``3,850``, ``186.35``), a deadline as its date, otherwise as an answer is shown."""
    if isinstance(value, bool) or value is None:
        return _as_text(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        if value == int(value):
            return f"{int(value):,}"
        return f"{value:,.2f}"
    if isinstance(value, str):
        moment = _DATE_TIME.match(value)
        return moment.group(1) if moment else value  # deadlines are kept in the program's time zone
    if isinstance(value, list):
        return ", ".join(_value_as_text(item) for item in value if not isinstance(item, Mapping | list))
    return ""


# ------------------------------------------------------------------ sending


def send(
    case: Case,
    effect: engine.SendNotice,
    *,
    now: datetime,
    actor: User | None,
    history: audit.History | None = None,
) -> Notice | None:
    """Render and store the notice the engine sent, and queue its e-mails and text messages.

    Runs in the caller's transaction, under the case lock. Records a ``send_notice`` history
    event either way; a notice without a text (an escalation's default notice the program does
    not have) is recorded as not sent instead of failing the case's transition. The event goes
    into ``history`` when the transition collects its events there, else straight to the chain.
    """
    record = history.add if history is not None else audit.record
    detail: dict[str, Any] = {"notice": effect.notice, "to": effect.to, "step": effect.step}
    definition = programs.definition_of(case.version)
    texts = definition.notices.get(effect.notice)
    if not texts:
        log.warning("case %s: notice %r has no text in the program; not sent", case.reference, effect.notice)
        record(case=case, at=now, kind="send_notice", actor=actor, detail={**detail, "not_sent": "no text"})
        return None
    to_citizen = effect.to == "citizen"
    preferred = case.language if to_citizen else definition.program.languages[0]
    language = _language_for(texts, preferred, definition.program.languages)
    account = applicants.applicant_account(case) if to_citizen else None
    link = _applicant_link(case) if to_citizen else _staff_link(case, effect.to)
    with translation.override(language):
        rendered = _render_for(case, definition, texts[language], language, link)
    notice = Notice.objects.create(
        case=case,
        name=effect.notice,
        to=effect.to,
        recipient=account,
        language=language,
        subject=rendered.subject,
        body=rendered.markdown,
        created_at=now,
    )
    emails = (
        _email_recipients(case, definition, account)
        if to_citizen
        else _role_holders(effect.to, agency=definition.program.agency)
    )
    for address, who in emails:
        outbox.enqueue(
            kind="email",
            key=f"notice-{notice.pk}-email-{_digest(address)}",
            payload={
                "to": address,
                "who": who,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": _html_document(rendered.html, language),
            },
            now=now,
            case=case,
            notice=notice,
            key_is_new=True,  # the notice row was made just now, and each address comes once
        )
    phone = _phone_number(case, definition) if to_citizen and sms.enabled() else ""
    if phone:
        outbox.enqueue(
            kind="sms",
            key=f"notice-{notice.pk}-sms-{_digest(phone)}",
            payload={"to": phone, "who": "applicant", "text": f"{rendered.subject}\n{link}"},
            now=now,
            case=case,
            notice=notice,
            key_is_new=True,
        )
    detail.update(language=language, message=notice.pk, emails=len(emails), sms=1 if phone else 0)
    record(case=case, at=now, kind="send_notice", actor=actor, detail=detail)
    return notice


def _html_document(body: str, language: str) -> str:
    """The e-mail's HTML part: the rendered notice, marked with its language for screen readers."""
    return f'<!doctype html>\n<html lang="{escape(language)}">\n<body>\n{body}</body>\n</html>\n'


def _render_for(case: Case, definition: engine.Definition, template: str, language: str, link: str) -> Rendered:
    values = {
        "reference": case.reference,
        "program": engine.localized(definition.program.title, language),
        "outcome": case.outcome or str(case.state.get("outcome") or ""),
        "link": link,
    }
    kept = case.state.get("data") or {}
    labels = _ChoiceLabels(case, definition, language)
    for placeholder in notice_texts.placeholders(template):
        if placeholder.answer:
            answer = labels.of(placeholder.answer, value_at(case.data, placeholder.answer))
            values[placeholder.name] = _as_text(answer)
        elif placeholder.case_value:
            value = labels.of(placeholder.case_value, value_at(kept, placeholder.case_value))
            values[placeholder.name] = _value_as_text(value)
    return render(template, values=values, trusted=frozenset({"link"}))


class _ChoiceLabels:
    """A chosen answer in the notice's language, as it was offered (``pickup`` -> "Pick it up at a
    branch"): the application's choices from its UI and schema, a task's from the task's form."""

    def __init__(self, case: Case, definition: engine.Definition, language: str) -> None:
        self.case = case
        self.definition = definition
        self.language = language

    def of(self, path: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self.one(path, item) for item in value]
        return self.one(path, value)

    def one(self, path: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return value
        pages = programs.ready(self.case.version).pages
        label = forms_ui.choice_label(pages.ui, pages.schema, path, value, self.language)
        if label is None:
            step_name, _, rest = path.partition(".")
            form = self._form_of(step_name)
            if form is not None and rest:
                bare = forms_ui.UiSchema(pages=(), translations=pages.ui.translations)
                label = forms_ui.choice_label(bare, form, rest, value, self.language)
        return value if label is None else label

    def _form_of(self, step_name: str) -> Mapping[str, Any] | None:
        name = engine_model.form_of(self.definition.steps.get(step_name))
        if not name or name not in self.definition.files:
            return None
        form: Mapping[str, Any] = json.loads(self.definition.files[name])
        return form


def _language_for(texts: Mapping[str, str], preferred: str, program_languages: tuple[str, ...]) -> str:
    """The notice's language closest to ``preferred`` (``zh-hans`` matches ``zh-Hans``, ``es-MX`` ``es``),
    else the program's first language, else any it has."""
    by_lower = {code.lower(): code for code in texts}
    wanted = preferred.lower()
    if wanted in by_lower:
        return by_lower[wanted]
    base = wanted.split("-")[0]
    for lower, code in by_lower.items():
        if lower.split("-")[0] == base:
            return code
    for code in program_languages:
        if code.lower() in by_lower:
            return by_lower[code.lower()]
    return next(iter(texts))


def _email_recipients(case: Case, definition: engine.Definition, account: User | None) -> list[tuple[str, str]]:
    """(address, who) for the applicant: the contact e-mail answer, else their account's e-mail."""
    contact = definition.program.contact
    if contact is not None and contact.email:
        answered = value_at(case.data, contact.email)
        if isinstance(answered, str) and answered.strip():
            return [(answered.strip(), "applicant")]
    if account is not None and account.email:
        return [(account.email, "applicant")]
    return []


def _phone_number(case: Case, definition: engine.Definition) -> str:
    contact = definition.program.contact
    if contact is None or not contact.phone:
        return ""
    answered = value_at(case.data, contact.phone)
    return answered.strip() if isinstance(answered, str) else ""


def _role_holders(role: str, *, agency: str) -> list[tuple[str, str]]:
    """(address, user name) of every active holder of the role for the program's agency who has
    an e-mail address, each address once (colleagues may share a team mailbox)."""
    holders = roles.holders_of(role, agency=agency).exclude(email="")
    by_address: dict[str, tuple[str, str]] = {}
    for user in holders:
        by_address.setdefault(_digest(user.email), (user.email, user.get_username()))
    return list(by_address.values())


def _digest(address: str) -> str:
    """A short stable stand-in for an address in keys (keys are listed and logged; addresses are personal)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:20]


def public_url() -> str:
    return str(getattr(settings, "CIVICFLOW_PUBLIC_URL", "")).rstrip("/")


def _applicant_link(case: Case) -> str:
    """The applicant's page for the case (``/my/applications/<id>/``)."""
    return public_url() + reverse("my_application", args=[case.public_id])


def _staff_link(case: Case, role: str) -> str:
    """The case's open task for the role, else the work inbox."""
    task = Task.objects.filter(case=case, role=role, status=Task.Status.OPEN).order_by("pk").first()
    return public_url() + (reverse("task", args=[task.pk]) if task else reverse("inbox"))


# ------------------------------------------------------------------ delivering


def message_id(key: str) -> str:
    """The e-mail's Message-ID, the same for every delivery of one outbox row, so that a repeat is
    recognisable as the same message (and mail systems that dedupe by Message-ID drop it)."""
    host = urlsplit(public_url()).hostname or "civicflow.invalid"
    return f"<notice.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{host}>"


@outbox.handles("email")
def deliver_email(row: Outbox) -> None:
    """Send one notice e-mail: plain text and HTML, through Django's default mailer."""
    address = str(row.payload.get("to", ""))
    try:
        validate_email(address)
    except ValidationError:
        # The reason is logged: it names the fault, never the address (personal data).
        raise outbox.PermanentFailure("the recipient's e-mail address is not a valid address") from None
    message = EmailMultiAlternatives(
        subject=str(row.payload.get("subject", "")),
        body=str(row.payload.get("text", "")),
        to=[address],
        headers={"Message-ID": message_id(row.key)},
    )
    message.attach_alternative(str(row.payload.get("html", "")), "text/html")
    try:
        message.send(using="default")
    except smtplib.SMTPRecipientsRefused as refused:
        codes = sorted({code for code, _reply in refused.recipients.values()})
        reason = f"the mail server refused the recipient (SMTP {', '.join(str(code) for code in codes)})"
        if all(code >= 500 for code in codes):
            raise outbox.PermanentFailure(reason) from None
        raise ConnectionError(reason + ", for now") from None


@outbox.handles("sms")
def deliver_sms(row: Outbox) -> None:
    """Send one notice text message through the configured SMS backend."""
    try:
        number = sms.normalized(str(row.payload.get("to", "")))
        sms.backend().send(number, str(row.payload.get("text", "")), row.key)
    except sms.Refused as refused:
        raise outbox.PermanentFailure(str(refused)) from None


# ------------------------------------------------------------------ message centre and staff view


def messages_of(user: User) -> QuerySet[Notice]:
    """The user's own messages, newest first."""
    return Notice.objects.filter(recipient=user).select_related("case").order_by("-created_at", "-pk")


def unread_count(user: User) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def message_read(*, notice: Notice, now: datetime) -> None:
    """Mark the message read the first time its owner opens it (later openings change nothing)."""
    if notice.read_at is None:
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
        notice.read_at = now


@dataclass(frozen=True)
class Delivery:
    """One e-mail or text message of a notice, as staff see it."""

    channel: str  # "E-mail", "Text message"
    recipient: str  # "applicant" or a user name
    state: str  # "waiting", "delivered", "retrying", "gave_up"
    label: str  # the state in words, with the last error when there is one


@dataclass(frozen=True)
class SentNotice:
    notice: Notice
    deliveries: tuple[Delivery, ...]


def notices_of_case(case: Case) -> list[SentNotice]:
    """The case's notices, oldest first, each with its deliveries' status (for the task page)."""
    rows = Notice.objects.filter(case=case).prefetch_related("deliveries").order_by("created_at", "pk")
    return [
        SentNotice(notice, tuple(_delivery(row) for row in sorted(notice.deliveries.all(), key=lambda row: row.pk)))
        for notice in rows
    ]


def _delivery(row: Outbox) -> Delivery:
    channel = {"email": _("E-mail"), "sms": _("Text message")}.get(row.kind, row.kind)
    who = str(row.payload.get("who", ""))
    recipient = _("the applicant") if who == "applicant" else who
    if row.status == Outbox.Status.DELIVERED:
        return Delivery(channel, recipient, "delivered", _("delivered"))
    if row.status == Outbox.Status.DEAD:
        return Delivery(channel, recipient, "gave_up", _("gave up: %(error)s") % {"error": row.last_error})
    if row.last_error:
        return Delivery(channel, recipient, "retrying", _("retrying: %(error)s") % {"error": row.last_error})
    return Delivery(channel, recipient, "waiting", _("waiting to be sent"))
