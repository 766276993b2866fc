"""The applicant's message centre: the notices sent to their account, newest first.

A message opens only for the account it was sent to: anyone else gets 404, never 403, so a
message's existence does not leak (threat T6). Opening a message marks it read.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from workflows import notices
from workflows.models import Notice


@login_required(login_url="account_sign_in")
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    assert request.user.is_authenticated  # login_required
    return render(request, "workflows/my/messages.html", {"messages_sent": list(notices.messages_of(request.user))})


@login_required(login_url="account_sign_in")
@require_GET
def message_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    assert request.user.is_authenticated  # login_required
    try:
        notice = notices.messages_of(request.user).get(pk=notice_id)
    except (Notice.DoesNotExist, OverflowError):
        raise Http404("no such message") from None
    notices.message_read(notice=notice, now=timezone.now())
    # The body was rendered from Markdown with raw HTML off and every answer escaped.
    body = mark_safe(notices.body_html(notice))  # noqa: S308
    return render(request, "workflows/my/message.html", {"notice": notice, "body": body})
