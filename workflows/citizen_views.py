"""The applicant's pages after submitting: their applications, one case, answering a request, withdrawing.

A case page opens for the person who applied: their signed-in account, or, for an applicant who
did not sign in, the browser that holds the draft the case came from (the rule that shows them
their answers on the receipt). Anyone else signed in gets 404, never 403, so a case's existence
does not leak (threat T6); a visitor who is not signed in is sent to sign in, whether the case
exists or not.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

import forms
from engine import localized
from forms.program_ui import DEFAULT_PAGE_ID
from workflows import applicants, services, wizard
from workflows.apply_views import SESSION_DRAFTS
from workflows.models import Case, Draft
from workflows.views import language_of


class _Answer:
    """What the page shows of one open request: its title, deadline and questions."""

    def __init__(self, case: Case, request: applicants.OpenRequest, language: str) -> None:
        self.token = request.token
        self.title = localized(request.step.title, language)
        self.expires_at = request.expires_at
        self.form = applicants.answer_form(case.version, request.step)
        self.page: forms.PageNode | None = None
        self.errors: list[dict[str, str]] = []
        self.file_fields: dict[str, dict[str, Any]] = {}
        self.draw({}, [], language)

    def draw(self, data: dict[str, Any], errors: list[forms.FieldError], language: str) -> None:
        if self.form is None:
            return
        tree = self.form.form.tree(data, errors, language, DEFAULT_PAGE_ID)
        self.page = tree.current
        self.errors = [
            *({"error": field.error or "", "html_id": field.html_id} for field in wizard.field_errors(self.page)),
            *({"error": text, "html_id": f"request-{self.token}"} for text in tree.unplaced_errors),
        ]
        self.file_fields = {}
        for name in self.form.file_fields:
            rules = self.form.file_rules(name)
            self.file_fields[name] = {"files": [], "accept": ",".join(rules.accept), "multiple": rules.max_files > 1}

    @property
    def multipart(self) -> bool:
        return bool(self.file_fields)


def _applicant(request: HttpRequest, case: Case) -> applicants.Applicant | None:
    """Who may act as the case's applicant in this request, or None."""
    user = request.user
    if user.is_authenticated and applicants.is_applicant(case, user):
        return user
    draft = Draft.objects.filter(case=case).values_list("public_id", flat=True).first()
    if draft is not None and str(draft) in request.session.get(SESSION_DRAFTS, []):
        held = applicants.HeldDraft(draft)
        if applicants.is_applicant(case, held):
            return held
    return None


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _case_for(request: HttpRequest, public_id: Any) -> tuple[Case, applicants.Applicant]:
    case = Case.objects.select_related("program", "version").filter(public_id=public_id).first()
    who = _applicant(request, case) if case is not None else None
    if case is None or who is None:
        if not request.user.is_authenticated:
            raise _Refused(redirect_to_login(request.get_full_path(), login_url=reverse("account_sign_in")))
        raise Http404("no such application")
    return case, who


def _status(case: Case, waiting: bool) -> str:
    if case.status == Case.Status.CLOSED:
        return _("Closed (%(outcome)s)") % {"outcome": case.outcome.replace("_", " ")}
    if waiting:
        return _("Waiting for information from you")
    return str(case.get_status_display())


@login_required(login_url="account_sign_in")
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    """ "Your applications": what this signed-in person applied for online, newest first."""
    lang = language_of(request)
    rows = [
        {
            "case": case,
            "program_title": localized(case.program.title, lang),
            "status": _status(case, bool(applicants.open_requests(case))),
        }
        for case in applicants.cases_of(request.user).select_related("version")
    ]
    return render(request, "workflows/my/applications.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def my_application(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One case: its status, the requests for information waiting for an answer, and withdrawing."""
    try:
        case, who = _case_for(request, public_id)
    except _Refused as refused:
        return refused.response
    lang = language_of(request)
    answers = [_Answer(case, open_request, lang) for open_request in applicants.open_requests(case)]
    status = 200
    if request.method == "POST":
        token = request.POST.get("request", "")
        answering = next((answer for answer in answers if str(answer.token) == token), None)
        here = reverse("my_application", args=[case.public_id])
        if answering is None:
            messages.error(request, _("This request is no longer open: it was answered already, or the time ran out."))
            return HttpResponseRedirect(here, status=303)
        data = answering.form.read(request.POST) if answering.form is not None else {}
        files = {name: request.FILES.getlist(name) for name in (answering.form.file_fields if answering.form else ())}
        try:
            services.citizen_respond(
                case_id=case.pk, user=who, token=answering.token, data=data, files=files, language=lang
            )
        except services.InvalidSubmission as refusal:
            answering.draw(data, refusal.errors, lang)
            status = 422
        except services.ServiceError as refusal:
            messages.error(request, refusal.message[:1].upper() + refusal.message[1:] + ".")
            return HttpResponseRedirect(here, status=303)
        else:
            messages.success(request, _("Thank you: we have your answer and will carry on with your application."))
            return HttpResponseRedirect(here, status=303)
    context = {
        "case": case,
        "program_title": localized(case.program.title, lang),
        "status": _status(case, bool(answers)),
        "answers": answers,
        "errors": [error for answer in answers for error in answer.errors],
        "running": case.status == Case.Status.RUNNING,
    }
    return render(request, "workflows/my/application.html", context, status=status)


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Ask "are you sure?", then withdraw the application."""
    try:
        case, who = _case_for(request, public_id)
    except _Refused as refused:
        return refused.response
    here = reverse("my_application", args=[case.public_id])
    if case.status != Case.Status.RUNNING:
        messages.error(request, _("This application is already closed, so it cannot be withdrawn."))
        return HttpResponseRedirect(here, status=303)
    context = {"case": case, "program_title": localized(case.program.title, language_of(request)), "errors": []}
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            services.case_withdraw(case_id=case.pk, user=who, reason=reason)
        except services.ServiceError as refusal:
            text = refusal.message[:1].upper() + refusal.message[1:] + "."
            context.update({"errors": [{"error": text, "html_id": "withdraw-reason"}], "reason": reason})
            status = 409 if isinstance(refusal, services.Conflict) else 422
            return render(request, "workflows/my/withdraw.html", context, status=status)
        messages.success(request, _("Your application %(reference)s is withdrawn.") % {"reference": case.reference})
        return HttpResponseRedirect(here, status=303)
    return render(request, "workflows/my/withdraw.html", context)
