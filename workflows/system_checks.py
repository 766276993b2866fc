"""Checks of an installation's settings that Django's own deployment checks do not cover.

Run by ``civicflow check --deploy`` (and so before a production start, as docs/operator
recommends); each names the setting to fix.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def public_url_is_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Notices link to the site; without its address the links in e-mails and texts are dead."""
    if getattr(settings, "CIVICFLOW_PUBLIC_URL", ""):
        return []
    return [
        Warning(
            "CIVICFLOW_PUBLIC_URL is empty, so the links in notices sent by e-mail and text "
            "message have no host and do not work.",
            hint="Set CIVICFLOW_PUBLIC_URL to the site's address as people reach it, such as https://apply.example.gov.",
            id="civicflow.W001",
        )
    ]


@register(Tags.security, deploy=True)
def webhooks_use_https(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Plain-http webhooks send case events unencrypted: fine for a laptop, not for production."""
    if not getattr(settings, "CIVICFLOW_WEBHOOK_ALLOW_HTTP", False):
        return []
    return [
        Warning(
            "CIVICFLOW_WEBHOOK_ALLOW_HTTP is on, so webhooks may be sent unencrypted over plain http.",
            hint="Unset CIVICFLOW_WEBHOOK_ALLOW_HTTP in production; receivers should use https.",
            id="civicflow.W002",
        )
    ]
