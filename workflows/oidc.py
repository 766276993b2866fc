"""Staff sign-in through the agency's identity provider (OpenID Connect, ``mozilla-django-oidc``).

Off unless ``CIVICFLOW_OIDC_ENABLED=1`` (workflows/settings.py; docs/operator/single-sign-on.md).
The provider proves who someone is; CivicFlow still decides what they may do. So a sign-in is
matched, by the provider's **verified** e-mail address, to exactly one existing account, and
is accepted only if that account is active and is staff (holds a role, or is an administrator).
Citizens' accounts, disabled accounts and addresses shared by two accounts are refused.

With ``CIVICFLOW_OIDC_CREATE_USERS=1`` an address that matches no account creates one, with no
roles and no password; that sign-in is still refused, because an account without a role is not
staff: an administrator gives it a role, and then it can sign in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from workflows.roles import roles_of

log = logging.getLogger(__name__)


def is_staff_account(user: User) -> bool:
    return user.is_active and (user.is_staff or bool(roles_of(user)))


class StaffOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Signs in existing, active staff accounts only; never a citizen's."""

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """An address the provider has not verified proves nothing about whose account it is."""
        email = claims.get("email")
        return isinstance(email, str) and "@" in email and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        # Every account with the address, whatever it is: two accounts sharing one is refused
        # (by the library), and a citizen's account is refused below, never passed over.
        return User.objects.filter(email__iexact=claims["email"])

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        if not is_staff_account(user):
            raise SuspiciousOperation(f"single sign-on refused for {user.username!r}: not an active staff account")
        return user

    def create_user(self, claims: dict[str, Any]) -> User:
        """Only with CIVICFLOW_OIDC_CREATE_USERS=1 (the library asks only then): an account with no roles."""
        user = User.objects.create_user(username=self.get_username(claims), email=claims["email"])
        log.info("single sign-on created account %r for %s; it signs in once given a role", user.username, user.email)
        raise SuspiciousOperation(f"single sign-on created {user.username!r}, which holds no role yet")
