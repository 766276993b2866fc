"""``{% unread_messages user as count %}``: the signed-in applicant's unread messages, for the header."""

from __future__ import annotations

from django import template

from workflows import notices
from workflows.roles import Actor

register = template.Library()


@register.simple_tag
def unread_messages(user: Actor) -> int:
    if not user.is_authenticated:
        return 0
    return notices.unread_count(user)
