"""What an applicant can see and answer once their application is a case.

Who counts as the applicant, their cases, the requests for information still open on a case,
and the form that answers each request (a JSON Schema file of the program, asked on one page).
Reads only: the writes are ``services.citizen_respond`` and ``services.case_withdraw``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

import engine
import forms
from engine.model import RequestStep, form_of, localized
from forms.errors import pointer_from
from forms.program_ui import DEFAULT_PAGE_ID, LOCALE_FOLDER
from forms.ui import UiField, schema_at
from workflows import privacy, programs, uploads, wizard
from workflows.models import Case, DefinitionVersion, Draft
from workflows.roles import Actor, roles_of


@dataclass(frozen=True)
class HeldDraft:
    """An applicant who did not sign in: their browser holds the draft the case was submitted from.

    The view decides that the browser holds it (the rule that also shows them their answers on
    the receipt: the draft was started or resumed in this browser session); the services check,
    under the case lock, that this draft really became the case.
    """

    draft_public_id: uuid.UUID


Applicant = Actor | HeldDraft
"""Whoever acts as the applicant: a signed-in account, or a browser holding the draft."""


def _counts_as_applicant(case: Case, account: User) -> bool:
    """Is the account that submitted ``case`` its applicant? The one rule, for pages, API and notices.

    Online applications are their submitter's. An API submission is its submitter's only when the
    account holds no role: a citizen who applied through the API with their session or their own
    token. A staff member or a partner system holding a role submits for someone else, so the
    case is never theirs as applicant. Assisted applications (counter, phone, paper) are entered
    by staff: their applicant has no account here, so nobody signs in as them.
    """
    if case.submitted_by_id is None or case.submitted_by_id != account.pk:
        return False
    if case.channel == Case.Channel.ONLINE:
        return True
    return case.channel == Case.Channel.API and account.is_active and not roles_of(account)


def applicant_account(case: Case) -> User | None:
    """The applicant's own account, to send their messages to; None when nobody signs in as the applicant."""
    account = case.submitted_by if case.submitted_by_id is not None else None
    return account if account is not None and _counts_as_applicant(case, account) else None


def is_applicant(case: Case, who: Applicant) -> bool:
    """Is ``who`` the person who applied for ``case``: online, or through the API with an account holding no role?"""
    if isinstance(who, HeldDraft):
        if case.channel != Case.Channel.ONLINE:
            return False  # only the web form keeps a draft in the browser
        return Draft.objects.filter(public_id=who.draft_public_id, case=case).exists()
    if not (who.is_authenticated and who.is_active):
        return False
    assert isinstance(who, User)  # an authenticated Actor is a User
    return _counts_as_applicant(case, who)


def cases_of(user: Actor) -> QuerySet[Case]:
    """The cases a signed-in citizen applied for (by ``_counts_as_applicant``), newest first."""
    if not user.is_authenticated:
        return Case.objects.none()
    channels = [Case.Channel.ONLINE]
    if user.is_active and not roles_of(user):
        channels.append(Case.Channel.API)
    return (
        Case.objects.filter(submitted_by=user.pk, channel__in=channels)
        .select_related("program")
        .order_by("-submitted_at", "-pk")
    )


def case_of(user: Actor, public_id: uuid.UUID) -> Case:
    """One of the citizen's own cases (``Case.DoesNotExist`` for anyone else's, so its existence does not leak)."""
    return cases_of(user).select_related("version").get(public_id=public_id)


# --------------------------------------------------------------------------- requests for information


@dataclass(frozen=True)
class OpenRequest:
    """A ``request information`` step waiting for the applicant's answer."""

    token: int
    step: RequestStep
    expires_at: datetime | None


def open_requests(case: Case) -> list[OpenRequest]:
    """The requests for information the case is waiting on, oldest first (none once it is closed)."""
    if case.status != Case.Status.RUNNING:
        return []
    version = case.version
    definition = programs.definition_of(version)
    state = engine.CaseState.from_json(case.state)
    expiries = {timer.token: timer.at for timer in state.timers if timer.purpose == "expiry"}
    found: list[OpenRequest] = []
    for token in state.tokens:
        step = definition.step(token.flow, token.step)
        if isinstance(step, RequestStep):
            at = expiries.get(token.id)
            found.append(OpenRequest(token.id, step, datetime.fromisoformat(at) if at else None))
    return found


def open_request(case: Case, token: int) -> OpenRequest | None:
    """The open request held by ``token``, or None when it was answered, expired or never existed."""
    return next((request for request in open_requests(case) if request.token == token), None)


@dataclass(frozen=True)
class AnswerForm:
    """How a request is answered: its questions on one page, and which of them take files."""

    form: wizard.Form
    file_fields: tuple[str, ...]

    def read(self, post: wizard.Posted) -> dict[str, Any]:
        """The posted answers, typed as the schema wants (files are read by the caller)."""
        return self.form.read_page(DEFAULT_PAGE_ID, post, {}, keep_blank_items=False)

    def file_rules(self, field: str) -> uploads.UploadRules:
        """What a file question takes: the types, the size and how many files."""
        return uploads.accept_and_limits(schema_at(self.form.schema, field) or {})


_ANSWER_FORMS: dict[tuple[str, str], AnswerForm] = {}


def answer_form(version: DefinitionVersion, step: RequestStep) -> AnswerForm | None:
    """The form that answers ``step``, or None when the step has no ``answer form``.

    Every top-level question is asked on one page with its default widget, the way a program
    without ``form.ui.yaml`` is asked; a text question (or a list of them) with ``x-accept`` is
    a file upload. Texts are translated by the program's locale files. Cached per version.
    """
    return form_file(version, step.answer_form) if step.answer_form is not None else None


def task_form(version: DefinitionVersion, step_name: str) -> AnswerForm | None:
    """The form a caseworker fills in to decide a task at ``step_name`` (its ``form``), or None."""
    name = form_of(programs.definition_of(version).steps.get(step_name))
    return form_file(version, name) if name else None


def form_file(version: DefinitionVersion, name: str) -> AnswerForm:
    """The JSON Schema file ``name`` of the version as a one-page form (cached per version)."""
    key = (version.content_hash, name)
    cached = _ANSWER_FORMS.get(key)
    if cached is not None:
        return cached
    files: Mapping[str, str] = version.files
    definition = programs.definition_of(version)
    schema = json.loads(files[name])
    shipped = {
        other: json.loads(text)
        for other, text in files.items()
        if other.startswith("forms/") and other.endswith(".json") and other != name
    }
    validator = forms.FormValidator(schema, shipped=shipped)
    locales = {file: text for file, text in files.items() if file.startswith(LOCALE_FOLDER)}
    ui, problems = forms.load_program_ui(locales, schema, languages=definition.program.languages)
    if ui is None:
        raise engine.DefinitionError([problem for problem in problems if problem.severity == "error"])
    file_fields = tuple(field for field, node in _properties(schema).items() if _takes_files(node))
    fields: list[UiField] = []
    for field in _properties(schema):
        if field in file_fields:
            fields.append(UiField(field, "file"))
        else:
            fields.extend(item for item in ui.pages[0].fields if item.name.split(".")[0] == field)
    page = replace(ui.pages[0], fields=tuple(fields))
    ui = replace(ui, pages=(page,), unplaced=tuple(item for item in ui.unplaced if item not in file_fields))
    found = AnswerForm(wizard.Form(schema, ui, validator), file_fields)
    if len(_ANSWER_FORMS) > 256:
        _ANSWER_FORMS.pop(next(iter(_ANSWER_FORMS)))
    _ANSWER_FORMS[key] = found
    return found


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties")
    return dict(properties) if isinstance(properties, Mapping) else {}


def _takes_files(node: object) -> bool:
    """A text (or a list of texts) with ``x-accept``: the citizen uploads a file for it."""
    if not isinstance(node, Mapping):
        return False
    if node.get("type") == "string":
        return "x-accept" in node
    items = node.get("items")
    return node.get("type") == "array" and ("x-accept" in node or (isinstance(items, Mapping) and "x-accept" in items))


UPLOAD_NOT_SUPPORTED = "upload_not_supported"


def problems_without_uploads(form: AnswerForm | None, data: Mapping[str, Any], language: str) -> list[forms.FieldError]:
    """Where no file can be sent (the JSON API): every problem with ``data``, if a file question is in the way.

    A file question that is answered (an upload reference typed in) or required cannot be
    answered without a file, so it gets an ``upload_not_supported`` error, and the other
    answers are checked too so the caller sees every problem at once. Empty when no file
    question is in the way: then the answer goes to ``services.citizen_respond`` as it is.
    """
    if form is None:
        return []
    required = form.form.schema.get("required", [])
    blocked = [field for field in form.file_fields if field in data or field in required]
    if not blocked:
        return []
    message = "files cannot be sent through the API: answer this request on the website, where you can upload it"
    errors = [forms.FieldError(pointer_from([field]), UPLOAD_NOT_SUPPORTED, message) for field in blocked]
    pointers = {error.pointer for error in errors}
    others = {name: value for name, value in data.items() if name not in form.file_fields}
    errors.extend(error for error in form.form.errors(others, language) if error.pointer not in pointers)
    return errors


@dataclass(frozen=True)
class GivenAnswer:
    """An applicant's answer to a request, for the caseworker: the request's title and the answers as rows."""

    title: str
    rows: tuple[wizard.Row, ...]


def answers_given(case: Case, language: str, *, revealed: Collection[str] = ()) -> list[GivenAnswer]:
    """The answers the applicant gave to the case's requests for information (the latest per request).

    For staff: answers tagged ``x-sensitive`` are masked unless their path is in ``revealed``
    (``workflows.privacy``).
    """
    version = case.version
    definition = programs.definition_of(version)
    data = engine.CaseState.from_json(case.state).data
    names = {str(upload.public_id): upload.original_name for upload in case.uploads.all()}
    given: list[GivenAnswer] = []
    for flow in definition.flows.values():
        for step in flow.steps.values():
            answer = data.get(step.name) if isinstance(step, RequestStep) else None
            if not isinstance(step, RequestStep) or not isinstance(answer, Mapping):
                continue
            form = answer_form(version, step)
            rows: tuple[wizard.Row, ...] = ()
            if form is not None:
                tree = form.form.tree(answer, [], language, DEFAULT_PAGE_ID)
                sections = privacy.summary(
                    form.form.schema,
                    tree,
                    answer,
                    uploads=names,
                    not_provided=gettext("Not provided"),
                    revealed=revealed,
                    prefix=f"{step.name}.",
                )
                rows = tuple(row for section in sections for row in section.rows)
            given.append(GivenAnswer(localized(step.title, language), rows))
    return given


# Marked for the catalogue here, translated when shown, for the application pages and the case page alike.
_UPLOAD_MESSAGES = {
    "file_empty": gettext_noop("The selected file is empty."),
    "file_too_large": gettext_noop("The selected file must be smaller than {limit}."),
    "file_type_not_allowed": gettext_noop("The selected file must be a {types}."),
    "file_infected": gettext_noop("The selected file contains a virus and was not kept."),
    "scan_unavailable": gettext_noop("We could not check the file for viruses. Try again later."),
    "too_many_files": gettext_noop("You can upload no more than {limit} files here."),
}


def upload_error(pointer: str, refusal: uploads.UploadRefused, language: str) -> forms.FieldError:
    """A refused file as an error on its question, in the applicant's language."""
    with translation.override(language):
        template = gettext(_UPLOAD_MESSAGES[refusal.code]) if refusal.code in _UPLOAD_MESSAGES else refusal.message
    # The template is ours and the values are numbers and type names we made: nothing typed by anyone.
    return forms.FieldError(pointer, refusal.code, template.format(**refusal.params))
