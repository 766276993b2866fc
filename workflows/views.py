"""HTML pages. Views read through selectors and write through services; nothing else."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

import forms
from engine import localized
from forms.program_ui import DEFAULT_PAGE_ID
from workflows import applicants, citizens, notices, privacy, programs, selectors, services, uploads, wizard
from workflows.models import Case, Task, Upload


def language_of(request: HttpRequest) -> str:
    """The language the page is drawn in (set by Django's locale middleware)."""
    return getattr(request, "LANGUAGE_CODE", "en")


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    lang = language_of(request)
    cards = [
        {"slug": program.slug, "title": localized(program.title, lang), "summary": localized(program.summary, lang)}
        for program in selectors.programs_open()
    ]
    return render(request, "workflows/catalogue.html", {"programs": cards})


def _citizen_refused(request: HttpRequest) -> HttpResponse | None:
    """Staff pages are not for citizens' accounts: a page that says so, with the way to their own."""
    if not citizens.is_citizen(request.user):
        return None
    return render(request, "workflows/account/staff_only.html", status=403)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    if (refused := _citizen_refused(request)) is not None:
        return refused
    lang = language_of(request)
    rows = [
        {"task": task, "program_title": localized(task.case.program.title, lang)}
        for task in selectors.tasks_visible_to(request.user)
    ]
    return render(request, "workflows/inbox.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    if (refused := _citizen_refused(request)) is not None:
        return refused
    try:
        task = selectors.task_visible_to(request.user, task_id)
    except Task.DoesNotExist:
        raise Http404("no such task") from None
    if request.method == "POST":
        return _act_on_task(request, task)
    return _task_page(request, task)


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    answers: dict[str, Any] | None = None,
    errors: list[forms.FieldError] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The task page; with ``answers`` and ``errors``, the decision form as it was sent, with its problems."""
    version = task.case.version
    definition = programs.definition_of(version)
    step = definition.steps[task.step]
    lang = language_of(request)
    form = programs.ready(version).pages
    tree = form.tree(task.case.data, [], lang, form.pages(task.case.data)[0])
    files = {str(upload.public_id): upload.original_name for upload in task.case.uploads.all()}
    # Sensitive answers show masked; staff the program entitles see those they chose to reveal.
    entitled = privacy.may_reveal(request.user, definition)
    revealed = privacy.revealed_in(request.session, task.case_id, timezone.now()) if entitled else frozenset()
    sections = privacy.summary(
        form.schema, tree, task.case.data, uploads=files, not_provided=_("Not provided"), revealed=revealed
    )
    documents = list(task.case.uploads.select_related("added_by").order_by("uploaded_at", "pk"))
    hidden_documents = (
        set() if entitled else {doc.pk for doc in documents if privacy.sensitive_upload(task.case, doc.field)}
    )
    services.access_record(user=request.user, case=task.case, action=privacy.VIEWED, detail={"task": task.pk})
    context = {
        "task": task,
        "step_title": localized(step.title, lang),
        "program_title": localized(task.case.program.title, lang),
        "sections": sections,
        "documents": documents,
        "hidden_documents": hidden_documents,
        "may_reveal": entitled,
        "reveal_minutes": privacy.REVEAL_MINUTES,
        "access_log": privacy.access_log_of(task.case)
        if privacy.is_auditor(request.user, agency=task.case.program.agency)
        else None,
        "request_answers": applicants.answers_given(task.case, lang, revealed=revealed),
        "role_holders": list(selectors.role_holders(task.role, agency=task.case.program.agency, queue=task.queue)),
        "case_running": task.case.status == Case.Status.RUNNING,
        "notes": list(task.case.notes.select_related("author").order_by("written_at", "pk")),
        "notices": notices.notices_of_case(task.case),
        "outcomes": [
            {"name": name, "label": name.replace("_", " ").capitalize()} for name in selectors.task_outcomes(task)
        ],
        "mine": task.assignee_id == request.user.pk,
        "open": task.status == Task.Status.OPEN,
        **_decision_form(task, answers or {}, errors or [], lang),
    }
    response = render(request, "workflows/task.html", context, status=status)
    response["Cache-Control"] = "private, no-store"  # personal data, maybe revealed answers: keep out of caches
    return response


@login_required
@require_GET
def task_file(request: HttpRequest, task_id: int, upload_id: str) -> HttpResponseBase:
    """A document attached to the case, for staff who may see the task (always as a download)."""
    try:
        task = selectors.task_visible_to(request.user, task_id)
        upload = task.case.uploads.get(public_id=upload_id)
    except (Task.DoesNotExist, Upload.DoesNotExist, ValueError):
        raise Http404("no such document") from None
    version = task.case.version
    definition = programs.definition_of(version)
    if privacy.sensitive_upload(task.case, upload.field) and not privacy.may_reveal(request.user, definition):
        raise Http404("no such document")  # a file for a sensitive answer, and the program does not entitle them
    detail = {"upload": str(upload.public_id), **({"field": upload.field} if upload.field else {})}
    services.access_record(user=request.user, case=task.case, action=privacy.DOWNLOADED, detail=detail)
    return uploads.response_for(upload)


def _act_on_task(request: HttpRequest, task: Task) -> HttpResponse:
    action = request.POST.get("action", "")
    here = reverse("task", args=[task.pk])
    try:
        if action == "note":
            services.case_add_note(task_id=task.pk, user=request.user, text=request.POST.get("text", ""))
            messages.success(request, _("Note added."))
        elif action == "claim":
            services.task_claim(task_id=task.pk, user=request.user)
            messages.success(request, "The task is assigned to you.")
        elif action == "release":
            services.task_release(task_id=task.pk, user=request.user)
            messages.success(request, "The task is back in the queue.")
            return HttpResponseRedirect(reverse("inbox"))
        elif action in _CASE_ACTIONS:
            return _CASE_ACTIONS[action](request, task)
        elif action == "complete":
            outcome = request.POST.get("outcome", "")
            form = applicants.task_form(task.case.version, task.step)
            answers = form.read(request.POST) if form is not None else {}
            try:
                services.task_complete(
                    task_id=task.pk, user=request.user, outcome=outcome, data=answers, language=language_of(request)
                )
            except services.InvalidSubmission as refusal:
                return _task_page(request, task, answers=answers, errors=refusal.errors, status=422)
            messages.success(request, f"Recorded: {outcome.replace('_', ' ')} for {task.case.reference}.")
            return HttpResponseRedirect(reverse("inbox"))
        else:
            messages.error(request, "Choose an action.")
    except services.ServiceError as refusal:
        messages.error(request, refusal.message)
        return HttpResponseRedirect(here, status=303)
    return HttpResponseRedirect(here, status=303)


def _decision_form(task: Task, answers: dict[str, Any], errors: list[forms.FieldError], lang: str) -> dict[str, Any]:
    """What the step's ``form`` asks the caseworker to record with the decision, drawn as a page."""
    form = applicants.task_form(task.case.version, task.step)
    if form is None:
        return {"decision_page": None, "errors": []}
    tree = form.form.tree(answers, errors, lang, DEFAULT_PAGE_ID)
    page = tree.current
    shown = [field for field in page.fields if field.name not in form.file_fields] if page is not None else []
    if page is not None:
        page = replace(page, fields=tuple(shown))
    listed = (
        [{"error": field.error or "", "html_id": field.html_id} for field in wizard.field_errors(page)] if page else []
    )
    listed += [{"error": text, "html_id": "decision"} for text in tree.unplaced_errors]
    return {"decision_page": page, "errors": listed}


def _reassign(request: HttpRequest, task: Task) -> HttpResponse:
    task = services.task_reassign(task_id=task.pk, user=request.user, to_username=request.POST.get("to", ""))
    name = task.assignee.get_username() if task.assignee else ""
    messages.success(request, _("The task is now assigned to %(name)s.") % {"name": name})
    return HttpResponseRedirect(reverse("task", args=[task.pk]), status=303)


def _delegate(request: HttpRequest, task: Task) -> HttpResponse:
    task = services.task_delegate(task_id=task.pk, user=request.user, to_username=request.POST.get("to", ""))
    name = task.assignee.get_username() if task.assignee else ""
    messages.success(request, _("You delegated the task to %(name)s.") % {"name": name})
    return HttpResponseRedirect(reverse("task", args=[task.pk]), status=303)


def _cancel_case(request: HttpRequest, task: Task) -> HttpResponse:
    services.case_cancel(case_id=task.case_id, user=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, _("Case %(reference)s is cancelled.") % {"reference": task.case.reference})
    return HttpResponseRedirect(reverse("task", args=[task.pk]), status=303)


def _withdraw_case(request: HttpRequest, task: Task) -> HttpResponse:
    services.case_withdraw(case_id=task.case_id, user=request.user, reason=request.POST.get("reason", ""))
    messages.success(
        request, _("Case %(reference)s is withdrawn for the applicant.") % {"reference": task.case.reference}
    )
    return HttpResponseRedirect(reverse("task", args=[task.pk]), status=303)


def _add_document(request: HttpRequest, task: Task) -> HttpResponse:
    services.case_add_document(
        task_id=task.pk,
        user=request.user,
        file=request.FILES.get("file"),
        description=request.POST.get("description", ""),
    )
    messages.success(request, _("Document added to the case."))
    return HttpResponseRedirect(reverse("task", args=[task.pk]), status=303)


def _reveal(request: HttpRequest, task: Task) -> HttpResponse:
    """Show masked answers to staff entitled to them: logged, then kept shown in this session for a while."""
    paths = services.answers_reveal(case=task.case, user=request.user, paths=request.POST.getlist("field"))
    privacy.remember_revealed(request.session, task.case_id, paths, timezone.now())
    return HttpResponseRedirect(reverse("task", args=[task.pk]) + "#answers", status=303)


# The task page's forms beyond claim, release and decide; each answers with a redirect (PRG).
_CASE_ACTIONS = {
    "reveal": _reveal,
    "reassign": _reassign,
    "delegate": _delegate,
    "cancel_case": _cancel_case,
    "withdraw_case": _withdraw_case,
    "document": _add_document,
}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: is the process up, and does the database answer?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
