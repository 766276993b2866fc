"""Checks of an installation's settings that Django's own deployment checks do not cover.

Run by ``civicflow check --deploy`` (and so before a production start, as docs/operator
recommends); each names the setting to fix.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


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
            id="civicflow.W003",
        )
    ]


@register()
def oidc_settings_complete(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Single sign-on switched on must have everything it needs (settings.py refuses to start without it)."""
    if not getattr(settings, "CIVICFLOW_OIDC_ENABLED", False):
        return []
    required = getattr(settings, "OIDC_REQUIRED_SETTINGS", ())
    missing = [name for name in required if not str(getattr(settings, name, "") or "").strip()]
    if not missing:
        return []
    return [
        Error(
            f"CIVICFLOW_OIDC_ENABLED is on, but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.",
            hint="Set them from your identity provider's details, or turn CIVICFLOW_OIDC_ENABLED off.",
            id="civicflow.E001",
        )
    ]


@register(Tags.security, deploy=True)
def rate_limits_see_clients_behind_a_proxy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Behind a proxy with no proxies trusted, every visitor has the proxy's address: one shared limit."""
    behind_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    if not behind_proxy or getattr(settings, "CIVICFLOW_TRUSTED_PROXIES", 0) > 0:
        return []
    return [
        Warning(
            "CivicFlow is behind a TLS proxy (BEHIND_TLS_PROXY), but CIVICFLOW_TRUSTED_PROXIES is 0, so the "
            "rate limits count every visitor as the proxy's address and all share one limit.",
            hint="Set CIVICFLOW_TRUSTED_PROXIES to the number of your own proxies in front of CivicFlow (usually 1).",
            id="civicflow.W002",
        )
    ]
