"""The citizen's application: start page, question pages, check answers, confirmation.

Every page works without JavaScript: each button is a submit and the server decides what
happens. JavaScript only makes the same things quicker (show-if and repeat add/remove
redraw the page's questions in place, "save" answers without leaving the page) by calling
the same server code. Drafts are saved on every page, so nothing typed is lost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import forms
from engine import localized
from engine.runtime import value_at
from workflows import applicants, programs, ratelimits, selectors, services, uploads, wizard
from workflows.models import Case, Draft, Program, Upload
from workflows.roles import holds, roles_of
from workflows.views import language_of

SESSION_DRAFTS = "civicflow.drafts"


# --------------------------------------------------------------------------- helpers


def _idle_seconds() -> int:
    return int(getattr(settings, "CIVICFLOW_FORM_IDLE_SECONDS", 30 * 60))


def _remember(request: HttpRequest, draft: Draft) -> None:
    held = [key for key in request.session.get(SESSION_DRAFTS, []) if key != str(draft.public_id)]
    request.session[SESSION_DRAFTS] = [*held[-19:], str(draft.public_id)]


def _forget(request: HttpRequest, draft: Draft) -> None:
    request.session[SESSION_DRAFTS] = [
        key for key in request.session.get(SESSION_DRAFTS, []) if key != str(draft.public_id)
    ]


def _holds(request: HttpRequest, draft: Draft) -> bool:
    """May this browser open the draft: started here, resumed here, or its signed-in owner."""
    if str(draft.public_id) in request.session.get(SESSION_DRAFTS, []):
        return True
    user = request.user
    return bool(user.is_authenticated and user.pk in (draft.owner_id, draft.assisted_by_id))


def _touch(request: HttpRequest) -> None:
    """An application left alone for the idle time ends its session (shared computers)."""
    if not request.user.is_authenticated:
        request.session.set_expiry(_idle_seconds())


def _with_draft(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Open the draft named in the address (or show why not) and pass it to ``view``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, public_id: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            draft, ready = _open(request, public_id)
        except _Stop as stop:
            return stop.response
        return view(request, draft, ready, *args, **kwargs)

    return wrapper


class _Stop(Exception):
    """A page other than the one asked for must be shown (timed out, expired, submitted)."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _open(request: HttpRequest, public_id: Any, *, touch: bool = True) -> tuple[Draft, programs.Loaded]:
    draft = (
        Draft.objects.select_related("program", "version", "case", "assisted_by").filter(public_id=public_id).first()
    )
    if draft is None:
        raise Http404("no such application")
    if not _holds(request, draft):
        raise _Stop(_timed_out(request, draft))
    if draft.case is not None:
        raise _Stop(HttpResponseRedirect(reverse("already_submitted", args=[draft.case.public_id]), status=303))
    if draft.expires_at <= timezone.now():
        raise _Stop(_expired(request, draft.program))
    if touch:
        _touch(request)
    return draft, programs.ready(draft.version)


def _program_context(request: HttpRequest, program: Program, ready: programs.Loaded | None = None) -> dict[str, Any]:
    lang = language_of(request)
    if ready is None:
        version = program.current_version
        if version is None:
            raise Http404("this program is not open")
        ready = programs.ready(version)
    info = ready.definition.program
    start = info.start_page
    after = info.after_submitting
    return {
        "program": program,
        "program_title": localized(info.title, lang),
        "program_summary": localized(info.summary, lang),
        "start": {
            "purpose": localized(start.purpose, lang) if start and start.purpose else "",
            "time_needed": localized(start.time_needed, lang) if start and start.time_needed else "",
            "you_will_need": [localized(text, lang) for text in start.you_will_need] if start else [],
            "other_ways": localized(start.other_ways_to_apply, lang) if start and start.other_ways_to_apply else "",
        },
        "after": {
            "next": localized(after.what_happens_next, lang) if after and after.what_happens_next else "",
            "contact": localized(after.contact, lang) if after and after.contact else "",
            "feedback": after.feedback if after else None,
        },
        "draft_days": info.draft_days,
    }


def _draft_context(request: HttpRequest, draft: Draft, ready: programs.Loaded) -> dict[str, Any]:
    context = _program_context(request, draft.program, ready)
    context.update(
        {
            "draft": draft,
            "assisted": draft.channel != Case.Channel.ONLINE,
            "channel_label": Case.Channel(draft.channel).label,
            "idle_seconds": 0 if request.user.is_authenticated else _idle_seconds(),
        }
    )
    return context


def _over_limit(
    request: HttpRequest, limit: ratelimits.Limit, *, back: str, draft: Draft | None = None
) -> HttpResponse | None:
    """A friendly 429 page when this address has done this too often; ``None`` when it may go on.

    Only actions that create something are counted, never saving a page: what was typed stays
    in the draft, and ``back`` leads to it (or to where the visitor came from).
    """
    verdict = limit.hit(request)
    if verdict.allowed:
        return None
    minutes = max(1, -(-verdict.retry_after // 60))
    context = {
        "wait": ngettext("Try again in %(minutes)s minute.", "Try again in %(minutes)s minutes.", minutes)
        % {"minutes": minutes},
        "at": timezone.localtime(timezone.now() + timedelta(seconds=verdict.retry_after)),
        "back": back,
        "draft": draft,
    }
    response = render(request, "workflows/apply/too_many.html", context, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


# --------------------------------------------------------------------------- start


def _open_program(slug: str) -> Program:
    try:
        return selectors.program_open(slug)
    except Program.DoesNotExist:
        raise Http404("no such program") from None


@require_GET
def start(request: HttpRequest, slug: str) -> HttpResponse:
    program = _open_program(slug)
    mine = Q(public_id__in=request.session.get(SESSION_DRAFTS, []))
    if request.user.is_authenticated:
        mine |= Q(owner=request.user)  # a signed-in citizen's drafts follow them to any device
    draft = (
        Draft.objects.filter(
            mine, program=program, channel=Case.Channel.ONLINE, case__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-updated_at")
        .first()
    )
    context = _program_context(request, program)
    context["draft"] = draft
    if draft is not None:
        context["continue_url"] = _where_to_continue(draft)
    return render(request, "workflows/apply/start.html", context)


def _where_to_continue(draft: Draft) -> str:
    """Back into a draft: its task list, check answers once reached, else the page last saved."""
    form = programs.ready(draft.version).pages
    if form.task_list:
        return reverse("apply_tasks", args=[draft.public_id])
    if draft.reviewed:
        return reverse("apply_check", args=[draft.public_id])
    shown = form.pages(draft.data)
    return reverse("apply_page", args=[draft.public_id, draft.page if draft.page in shown else shown[0]])


@require_POST
def begin(request: HttpRequest, slug: str) -> HttpResponse:
    program = _open_program(slug)
    refused = _over_limit(request, ratelimits.DRAFTS, back=reverse("apply_start", args=[program.slug]))
    if refused is not None:
        return refused
    try:
        draft = services.draft_start(program=program, user=request.user)
    except services.ServiceError as refusal:
        return render(request, "workflows/apply/problem.html", {"message": refusal.message}, status=403)
    _remember(request, draft)
    _touch(request)
    return HttpResponseRedirect(_where_to_continue(draft), status=303)


@require_GET
@_with_draft
def tasks(request: HttpRequest, draft: Draft, ready: programs.Loaded) -> HttpResponse:
    """The task list of a long form: each section with its state, then check answers."""
    form = ready.pages
    if not form.task_list:
        return HttpResponseRedirect(_where_to_continue(draft))
    lang = language_of(request)
    tree = form.tree(draft.data, [], lang, form.pages(draft.data)[0])
    titles = {node.id: node.title for node in tree.pages}
    states = form.sections(draft.data, form.errors(draft.data, lang), draft.pages_done)
    completed = sum(1 for _page, state in states if state == "completed")
    context = _draft_context(request, draft, ready)
    context.update(
        {
            "sections": [{"id": page_id, "title": titles[page_id], "state": state} for page_id, state in states],
            "completed": completed,
            "total": len(states),
            "all_done": completed == len(states),
        }
    )
    return render(request, "workflows/apply/tasks.html", context)


# --------------------------------------------------------------------------- question pages


@require_http_methods(["GET", "POST"])
@_with_draft
def page(request: HttpRequest, draft: Draft, ready: programs.Loaded, page_id: str) -> HttpResponse:
    form = ready.pages
    if page_id not in form.pages(draft.data):
        if page_id in {page.id for page in form.ui.pages}:
            # A page that the answers now skip: carry on from the first page instead.
            return HttpResponseRedirect(reverse("apply_page", args=[draft.public_id, form.pages(draft.data)[0]]))
        raise Http404("no such page")
    returning = request.GET.get("return") == "check" or request.POST.get("return") == "check"
    if form.task_list and not returning:
        states = dict(form.sections(draft.data, form.errors(draft.data, language_of(request)), draft.pages_done))
        if states.get(page_id) == "cannot_start":
            return HttpResponseRedirect(reverse("apply_tasks", args=[draft.public_id]))
    if request.method == "GET":
        return _draw(request, draft, ready, page_id, draft.data, [], returning=returning)
    return _answer(request, draft, ready, page_id, returning=returning)


def _answer(
    request: HttpRequest, draft: Draft, ready: programs.Loaded, page_id: str, *, returning: bool
) -> HttpResponse:
    form = ready.pages
    lang = language_of(request)
    action = request.POST.get("action", "continue")
    data = form.read_page(page_id, request.POST, draft.data, keep_blank_items=action.startswith("add:"))
    upload_errors = _take_uploads(request, draft, form, page_id, data, action)
    _change_repeats(form, page_id, data, action)
    # A page is done when Continue finds nothing to fix on it: worked out before the one save.
    all_errors: list[forms.FieldError] = []
    appeared: set[str] = set()
    page_errors: list[forms.FieldError] = []
    still_shown = False
    # Anything but the named actions is Continue (Enter in a field, an unknown value).
    continuing = action not in ("save", "back") and not action.startswith(("add:", "remove:", "remove-file:"))
    if continuing and not upload_errors:
        answers = form.clean(data)
        still_shown = page_id in form.pages(answers)
        if still_shown:
            appeared = _appeared(form, page_id, answers, request.POST)
            all_errors = form.errors(answers, lang)
            page_errors = form.page_errors(page_id, all_errors)
    done = continuing and still_shown and not appeared and not page_errors
    try:
        draft = services.draft_save(draft=draft, data=data, page=page_id, done=done)
    except services.ServiceError:
        return HttpResponseRedirect(reverse("apply_page", args=[draft.public_id, page_id]), status=303)
    data = draft.data
    here = reverse("apply_page", args=[draft.public_id, page_id]) + ("?return=check" if returning else "")
    if action == "save":
        if request.headers.get("X-Requested-With") == "fetch":
            return JsonResponse({"saved": True, "at": timezone.localtime(draft.updated_at).strftime("%H:%M")})
        return HttpResponseRedirect(reverse("apply_saved", args=[draft.public_id]), status=303)
    if action == "back":
        previous = form.previous_page(data, page_id)
        if form.task_list and not returning:
            return HttpResponseRedirect(reverse("apply_tasks", args=[draft.public_id]), status=303)
        if returning:
            return HttpResponseRedirect(reverse("apply_check", args=[draft.public_id]), status=303)
        if previous is None:
            return HttpResponseRedirect(reverse("apply_start", args=[draft.program.slug]), status=303)
        return HttpResponseRedirect(reverse("apply_page", args=[draft.public_id, previous]), status=303)
    if action.startswith(("add:", "remove:", "remove-file:")) and not upload_errors:
        return HttpResponseRedirect(here, status=303)
    if page_id not in form.pages(data):
        return HttpResponseRedirect(reverse("apply_check", args=[draft.public_id]), status=303)
    if upload_errors or appeared:
        notice = _("We have added questions to this page because of your answers.") if appeared else ""
        return _draw(request, draft, ready, page_id, data, upload_errors, returning=returning, notice=notice)
    if page_errors:
        return _draw(request, draft, ready, page_id, data, page_errors, returning=returning)
    if form.task_list and not returning:
        return HttpResponseRedirect(reverse("apply_tasks", args=[draft.public_id]), status=303)
    if returning and draft.reviewed:
        pending = _next_with_errors(form, data, page_id, all_errors)
        if pending is None:
            return HttpResponseRedirect(reverse("apply_check", args=[draft.public_id]), status=303)
        return HttpResponseRedirect(
            reverse("apply_page", args=[draft.public_id, pending]) + "?return=check", status=303
        )
    following = form.next_page(data, page_id)
    if following is None:
        return HttpResponseRedirect(reverse("apply_check", args=[draft.public_id]), status=303)
    return HttpResponseRedirect(reverse("apply_page", args=[draft.public_id, following]), status=303)


def _appeared(form: wizard.Form, page_id: str, answers: dict[str, Any], post: Any) -> set[str]:
    """Questions of this page that the answers revealed but the page, as drawn, did not show."""
    if "_shown" not in post:
        return set()
    shown_before = set(filter(None, post.get("_shown", "").split(",")))
    return _shown_on(form, page_id, answers) - shown_before


def _drawn(fields: Iterable[forms.FieldNode]) -> set[str]:
    """Every question drawn on the page, by its full name, each repeat item's own ones included
    (the same names as the page's ``data-field`` attributes, which the script sends back)."""
    names: set[str] = set()
    for field in fields:
        names.add(field.name)
        names |= _drawn(field.children)
    return names


def _shown_on(form: wizard.Form, page_id: str, data: Mapping[str, Any]) -> set[str]:
    """The questions of the page shown for these answers, each repeat item's own ones included
    (``household.members.1.status``): what changes when an answer reveals or hides a question."""
    placed = [field.name for field in form.fields_on(page_id)]
    return {name for name in form.visible(data) if any(name == top or name.startswith(top + ".") for top in placed)}


def _next_with_errors(
    form: wizard.Form, data: dict[str, Any], after: str, errors: list[forms.FieldError]
) -> str | None:
    """After a change from check answers: the next page that needs answers (one the change
    opened, or one with problems), or None to go back to check answers."""
    shown = form.pages(data)
    for page_id in shown[shown.index(after) + 1 :] if after in shown else shown:
        unanswered = all(value_at(data, field.name) in (None, "", [], {}) for field in form.fields_on(page_id))
        if unanswered or form.page_errors(page_id, errors):
            return page_id
    return None


def _change_repeats(form: wizard.Form, page_id: str, data: dict[str, Any], action: str) -> None:
    """ "Add another" appends a blank item (up to maxItems); "Remove" takes one item out."""
    verb, _sep, name = action.partition(":")
    repeats = {field.name for field in form.fields_on(page_id) if field.widget == "repeat"}
    if verb == "add" and name in repeats:
        items = value_at(data, name)
        items = items if isinstance(items, list) else []
        node = forms.ui.schema_at(form.schema, name) or {}
        limit = node.get("maxItems")
        if not isinstance(limit, int) or len(items) < limit:
            items.append({})
        wizard.assign(data, name, items)
    elif verb == "remove" and name.rpartition(".")[0] in repeats and name.rpartition(".")[2].isdigit():
        wizard.delete(data, name)


def _take_uploads(
    request: HttpRequest, draft: Draft, form: wizard.Form, page_id: str, data: dict[str, Any], action: str
) -> list[forms.FieldError]:
    """Store the files posted for this page's file questions; refusals become field errors.

    The answer holds the upload's reference. The old file of a single-file question is
    discarded when replaced or removed, so no orphan stays behind.
    """
    errors: list[forms.FieldError] = []
    for field in form.fields_on(page_id):
        if field.widget != "file":
            continue
        current = value_at(draft.data, field.name)
        node = forms.ui.schema_at(form.schema, field.name) or {}
        many = isinstance(current, list) or node.get("type") == "array"
        refs: list[str] = (
            list(current) if isinstance(current, list) else ([current] if isinstance(current, str) else [])
        )
        if action.startswith("remove-file:" + field.name):
            target = action.rpartition(":")[2]
            for upload in Upload.objects.filter(draft=draft, public_id__in=[ref for ref in refs if ref == target]):
                uploads.discard(upload)
            refs = [ref for ref in refs if ref != target]
        for posted in request.FILES.getlist(field.name):
            rules = uploads.accept_and_limits(node)
            try:
                stored = uploads.store(
                    posted, field=field.name, draft=draft, rules=rules, existing_count=len(refs) if many else 0
                )
            except uploads.UploadRefused as refusal:
                pointer = "/" + field.name.replace(".", "/")
                errors.append(applicants.upload_error(pointer, refusal, translation.get_language()))
                continue
            if not many:
                for upload in Upload.objects.filter(draft=draft, public_id__in=refs):
                    uploads.discard(upload)
                refs = []
            refs.append(str(stored.public_id))
        if many:
            wizard.assign(data, field.name, refs) if refs else wizard.delete(data, field.name)
        elif refs:
            wizard.assign(data, field.name, refs[0])
        else:
            wizard.delete(data, field.name)
    return errors


def _uploads_named(draft: Draft) -> dict[str, str]:
    return {str(upload.public_id): upload.original_name for upload in Upload.objects.filter(draft=draft)}


def _draw(
    request: HttpRequest,
    draft: Draft,
    ready: programs.Loaded,
    page_id: str,
    data: dict[str, Any],
    errors: list[forms.FieldError],
    *,
    returning: bool,
    notice: str = "",
) -> HttpResponse:
    form = ready.pages
    tree = form.tree(data, errors, language_of(request), page_id)
    context = _draft_context(request, draft, ready)
    context.update(_page_context(draft, form, tree, data, returning=returning))
    context["notice"] = notice
    status = 422 if errors else 200
    return render(request, "workflows/apply/page.html", context, status=status)


def _page_context(
    draft: Draft, form: wizard.Form, tree: forms.FormTree, data: dict[str, Any], *, returning: bool
) -> dict[str, Any]:
    current = tree.current
    file_names = _uploads_named(draft)
    file_fields = {}
    for field in form.fields_on(current.id):
        if field.widget != "file":
            continue
        node = forms.ui.schema_at(form.schema, field.name) or {}
        rules = uploads.accept_and_limits(node)
        refs = _as_list(value_at(data, field.name))
        file_fields[field.name] = {
            "files": [{"ref": ref, "name": file_names.get(ref, ref)} for ref in refs],
            "accept": ",".join(rules.accept),
            "multiple": rules.max_files > 1,
        }
    return {
        "tree": tree,
        "page": current,
        "errors": [
            *wizard.field_errors(current),
            *({"error": text, "html_id": "main"} for text in tree.unplaced_errors),
        ],
        "steps": []
        if form.task_list
        else [{"title": node.title, "current": node.id == current.id} for node in tree.pages],
        "task_list": form.task_list,
        "returning": returning,
        "shown": ",".join(sorted(_drawn(current.fields))),
        "file_fields": file_fields,
        "multipart": bool(file_fields),
    }


def _as_list(value: object) -> list[str]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return [value] if isinstance(value, str) else []


@require_POST
def page_fields(request: HttpRequest, public_id: Any, page_id: str) -> HttpResponse:
    """For JavaScript: the page's questions redrawn for the answers typed so far (not saved).

    Show-if and "add another"/"remove" then behave exactly as the server would decide on a
    full submit, without leaving the page.
    """
    try:
        # Redrawing is not activity that keeps a session open, and not writing the session
        # here keeps these quick requests from contending with the page's own saves.
        draft, ready = _open(request, public_id, touch=False)
    except _Stop:
        return JsonResponse({"error": "session"}, status=403)
    form = ready.pages
    if page_id not in form.pages(draft.data):
        raise Http404("no such page")
    action = request.POST.get("action", "")
    data = form.read_page(page_id, request.POST, draft.data, keep_blank_items=True)
    _change_repeats(form, page_id, data, action)
    data = form.clean(data)
    tree = form.tree(data, [], language_of(request), page_id)
    context = _draft_context(request, draft, ready)
    context.update(_page_context(draft, form, tree, data, returning=False))
    html = render_to_string("workflows/apply/fields.html", context, request=request)
    return JsonResponse({"shown": context["shown"], "html": html})


@require_POST
def keepalive(request: HttpRequest) -> JsonResponse:
    """The session-timeout warning's "Continue": the session starts its idle time again."""
    _touch(request)
    request.session.modified = True
    return JsonResponse({"idle_seconds": _idle_seconds()})


# --------------------------------------------------------------------------- check answers and submit


@require_http_methods(["GET", "POST"])
@_with_draft
def check(request: HttpRequest, draft: Draft, ready: programs.Loaded) -> HttpResponse:
    form = ready.pages
    lang = language_of(request)
    errors: list[forms.FieldError] = []
    if request.method == "POST":
        back = reverse("apply_check", args=[draft.public_id])
        refused = _over_limit(request, ratelimits.SUBMISSIONS, back=back, draft=draft)
        if refused is not None:
            return refused
        try:
            case = services.draft_submit(draft_id=draft.pk, user=request.user, language=lang)
        except services.AlreadySubmitted as already:
            return HttpResponseRedirect(reverse("already_submitted", args=[already.case.public_id]), status=303)
        except services.InvalidSubmission as refusal:
            errors = refusal.errors
        except services.ServiceError as refusal:
            return render(request, "workflows/apply/problem.html", {"message": refusal.message}, status=409)
        else:
            if draft.channel != Case.Channel.ONLINE:
                _forget(request, draft)  # the next person served starts from nothing
            return HttpResponseRedirect(reverse("submitted", args=[case.public_id]), status=303)
    if not draft.reviewed:
        services.draft_save(draft=draft, data=draft.data, page=draft.page, reviewed=True)
    first = form.pages(draft.data)[0]
    tree = form.tree(draft.data, errors, lang, first)
    sections = wizard.summary(tree, _uploads_named(draft), _("Not provided"), draft.data)
    problems = [
        {
            "error": field.error,
            "href": reverse("apply_page", args=[draft.public_id, node.id]) + f"?return=check#{field.html_id}",
        }
        for node in tree.pages
        for field in wizard.field_errors(node)
    ]
    context = _draft_context(request, draft, ready)
    context.update({"sections": sections, "errors": problems})
    return render(request, "workflows/apply/check.html", context, status=422 if errors else 200)


# --------------------------------------------------------------------------- save and return


@require_http_methods(["GET", "POST"])
@_with_draft
def saved(request: HttpRequest, draft: Draft, ready: programs.Loaded) -> HttpResponse:
    context = _draft_context(request, draft, ready)
    suggested = draft.email or _answer_email(draft)
    context.update({"email": suggested, "errors": [], "sent_to": "", "continue_url": _where_to_continue(draft)})
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        forms_error = _email_problem(email)
        if forms_error:
            context.update({"email": email, "errors": [{"error": forms_error, "html_id": "resume-email"}]})
            return render(request, "workflows/apply/saved.html", context, status=422)
        refused = _over_limit(request, ratelimits.RESUME_LINKS, back=context["continue_url"], draft=draft)
        if refused is not None:
            return refused
        _send_resume_link(request, draft, email)
        context["sent_to"] = email
    return render(request, "workflows/apply/saved.html", context)


def _email_problem(email: str) -> str:
    if not email:
        return _("Enter your email address")
    if len(email) > 254 or "@" not in email.strip("@") or " " in email:
        return _("Enter an email address in the correct format, like name@example.com")
    return ""


def _send_resume_link(request: HttpRequest, draft: Draft, email: str) -> None:
    token = services.draft_resume_link(draft=draft, email=email)
    link = request.build_absolute_uri(reverse("apply_resume", args=[token]))
    context = _program_context(request, draft.program)
    body = render_to_string(
        "workflows/apply/resume_email.txt",
        {**context, "link": link, "expires": timezone.localtime(draft.expires_at)},
        request=request,
    )
    subject = _("Continue your application: %(program)s") % {"program": context["program_title"]}
    send_mail(subject, body, None, [email])


@require_GET
def resume(request: HttpRequest, token: str) -> HttpResponse:
    try:
        draft = services.draft_by_resume_token(token)
    except Draft.DoesNotExist:
        return render(request, "workflows/apply/link_invalid.html", {}, status=404)
    if draft.case is not None:
        return HttpResponseRedirect(reverse("already_submitted", args=[draft.case.public_id]), status=303)
    if draft.expires_at <= timezone.now():
        return _expired(request, draft.program)
    _remember(request, draft)
    _touch(request)
    return HttpResponseRedirect(_where_to_continue(draft), status=303)


def _timed_out(request: HttpRequest, draft: Draft) -> HttpResponse:
    context = _program_context(request, draft.program)
    context.update({"draft": draft, "masked": _masked(draft.email or _answer_email(draft))})
    return render(request, "workflows/apply/timed_out.html", context, status=403)


@require_POST
def timed_out_link(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Send a resume link to the address the draft already holds (never one typed here)."""
    draft = Draft.objects.select_related("program").filter(public_id=public_id, case__isnull=True).first()
    if draft is None:
        raise Http404("no such application")
    email = draft.email or _answer_email(draft)
    if not email:
        raise PermissionDenied
    refused = _over_limit(request, ratelimits.RESUME_LINKS, back=reverse("apply_start", args=[draft.program.slug]))
    if refused is not None:
        return refused
    _send_resume_link(request, draft, email)
    context = _program_context(request, draft.program)
    context.update({"draft": draft, "masked": _masked(email), "sent": True})
    return render(request, "workflows/apply/timed_out.html", context, status=200)


def _answer_email(draft: Draft) -> str:
    value = draft.data.get("email") if isinstance(draft.data, dict) else None
    return value if isinstance(value, str) and "@" in value else ""


def _masked(email: str) -> str:
    if not email:
        return ""
    name, _at, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


def _expired(request: HttpRequest, program: Program) -> HttpResponse:
    context = _program_context(request, program)
    return render(request, "workflows/apply/expired.html", context, status=410)


# --------------------------------------------------------------------------- after submitting


def _case(public_id: Any) -> Case:
    try:
        return selectors.case_by_public_id(public_id)
    except (Case.DoesNotExist, ValueError):
        raise Http404("no such application") from None


@require_GET
def submitted(request: HttpRequest, public_id: Any) -> HttpResponse:
    case = _case(public_id)
    context = _program_context(request, case.program)
    context.update({"case": case, "on_behalf_of": case.on_behalf_of, "follow": _follows(request, case)})
    return render(request, "workflows/apply/submitted.html", context)


def _follows(request: HttpRequest, case: Case) -> bool:
    """May this browser open the applicant's case page (to answer requests, or withdraw)?"""
    if case.channel != Case.Channel.ONLINE:
        return False
    if request.user.is_authenticated and case.submitted_by_id == request.user.pk:
        return True
    draft = Draft.objects.filter(case=case).first()
    return draft is not None and _holds(request, draft)


@require_GET
def already_submitted(request: HttpRequest, public_id: Any) -> HttpResponse:
    case = _case(public_id)
    context = _program_context(request, case.program)
    context["case"] = case
    return render(request, "workflows/apply/already_submitted.html", context, status=200)


@require_GET
def receipt(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A printable receipt (the browser's print saves it as PDF). Answers only for the applicant's browser."""
    case = _case(public_id)
    context = _program_context(request, case.program)
    context["case"] = case
    draft = Draft.objects.filter(case=case).select_related("version").first()
    if draft is not None and _holds(request, draft):
        ready = programs.ready(case.version)
        form = ready.pages
        tree = form.tree(case.data, [], language_of(request), form.pages(case.data)[0])
        context["sections"] = wizard.summary(tree, _uploads_named(draft), _("Not provided"), case.data)
    return render(request, "workflows/apply/receipt.html", context)


# --------------------------------------------------------------------------- assisted applications


@login_required
@require_http_methods(["GET", "POST"])
def assisted_start(request: HttpRequest) -> HttpResponse:
    """A caseworker fills the citizen's form for them at the counter, by phone or from paper."""
    if not roles_of(request.user):
        raise PermissionDenied
    lang = language_of(request)
    choices = []
    for program in selectors.programs_open():
        version = program.current_version
        assert version is not None  # programs_open() lists only programs with a published version
        info = programs.definition_of(version).program
        # Only the program's own staff, for its agency, apply on someone's behalf.
        if any(holds(request.user, role, agency=program.agency) for role in info.roles):
            choices.append({"slug": program.slug, "title": localized(program.title, lang)})
    channels = [(value, label) for value, label in Case.Channel.choices if value not in ("online", "api")]
    values = {"program": "", "channel": "", "name": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in values}
        if not any(item["slug"] == values["program"] for item in choices):
            errors["program"] = _("Choose the program")
        if values["channel"] not in dict(channels):
            errors["channel"] = _("Choose how the person is applying")
        if not values["name"]:
            errors["name"] = _("Enter the full name of the person you are applying for")
        elif len(values["name"]) > services.ON_BEHALF_OF_MAX_CHARS:
            errors["name"] = _("The name can be at most %(limit)s characters; this one has %(count)s") % {
                "limit": services.ON_BEHALF_OF_MAX_CHARS,
                "count": len(values["name"]),
            }
        if not errors:
            chosen = selectors.program_open(values["program"])
            try:
                draft = services.draft_start(
                    program=chosen, user=request.user, channel=values["channel"], on_behalf_of=values["name"]
                )
            except services.ServiceError as refusal:
                errors["channel"] = refusal.message[:1].upper() + refusal.message[1:]
            else:
                _remember(request, draft)
                return HttpResponseRedirect(_where_to_continue(draft), status=303)
    anchors = {"program": "assisted-program", "channel": "assisted-channel-counter", "name": "assisted-name"}
    summary = [{"error": errors[key], "html_id": anchors[key]} for key in anchors if key in errors]
    context = {"programs": choices, "channels": channels, "values": values, "errors": summary, "field_errors": errors}
    return render(request, "workflows/apply/assisted_start.html", context, status=422 if errors else 200)
