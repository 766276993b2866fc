"""Citizens' accounts: create one with an e-mail address, confirm the address, sign in, take over drafts.

A citizen is a ``User`` with ``is_staff`` false and a ``CitizenAccount``. Their user name is
generated (people sign in with the address), they cannot sign in until they open the link we
e-mail them, and they can never hold a staff role: staff work and applying for oneself stay
apart, so a citizen's password never opens a caseworker's inbox.

The link is signed with the site's ``SECRET_KEY`` (``django.core.signing``), names the account
and its address, and expires after ``CIVICFLOW_EMAIL_LINK_HOURS``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.models import Case, CitizenAccount, Draft, RoleGrant

_VERIFY_SALT = "civicflow.citizens.verify-email"


class AccountError(Exception):
    """A refusal the person can act on: ``field`` is the form field it is about ("" for the form)."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid") -> None:
        self.message = message
        self.field = field
        self.code = code
        super().__init__(message)


class CitizenCannotBeStaff(Exception):
    """Staff roles are never given to a citizen's account (nor a citizen account to staff)."""


def normalised(email: str) -> str:
    return email.strip().lower()


def is_citizen(user: object) -> bool:
    """Does this user sign in as a citizen (an account made at /account/create/)?"""
    if not isinstance(user, User) or user.pk is None:
        return False
    return CitizenAccount.objects.filter(user_id=user.pk).exists()


def account_create(*, email: str, password: str, password_again: str, language: str) -> CitizenAccount:
    """A new, unconfirmed citizen account; ``AccountError`` naming the field when something is wrong.

    An address already in use is refused with the same words whether its account is confirmed
    or not, and no more: the form does not say who owns it.
    """
    address = normalised(email)
    if not address:
        raise AccountError(_("Enter your email address"), field="email", code="required")
    try:
        validate_email(address)
    except ValidationError:
        raise AccountError(
            _("Enter an email address in the correct format, like name@example.com"), field="email"
        ) from None
    if not password:
        raise AccountError(_("Enter a password"), field="password", code="required")
    if password != password_again:
        raise AccountError(_("The two passwords do not match"), field="password_again", code="mismatch")
    languages = {code for code, _name in settings.LANGUAGES}
    chosen = language if language in languages else settings.LANGUAGE_CODE
    user = User(username=f"citizen-{uuid.uuid4().hex}", email=address, is_staff=False)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as problems:
        raise AccountError(" ".join(problems.messages), field="password", code="weak_password") from None
    if CitizenAccount.objects.filter(email=address).exists() or User.objects.filter(email__iexact=address).exists():
        raise AccountError(
            _("An account with this email address already exists. Sign in, or reset your password."),
            field="email",
            code="taken",
        )
    try:
        with transaction.atomic():
            user.set_password(password)
            user.save()
            return CitizenAccount.objects.create(user=user, email=address, language=chosen, created_at=timezone.now())
    except IntegrityError:  # the same address, a moment earlier, from another request
        raise AccountError(
            _("An account with this email address already exists. Sign in, or reset your password."),
            field="email",
            code="taken",
        ) from None


def verification_token(account: CitizenAccount) -> str:
    """The signed part of the confirmation link: the account and the address it confirms."""
    return signing.dumps({"account": account.pk, "email": account.email}, salt=_VERIFY_SALT, compress=True)


@dataclass(frozen=True)
class Verified:
    account: CitizenAccount
    already: bool


class LinkExpired(Exception):
    """The link was genuine but is older than ``CIVICFLOW_EMAIL_LINK_HOURS``."""


class LinkInvalid(Exception):
    """The link was changed, cut short, or confirms an address the account no longer has."""


def account_verify(token: str) -> Verified:
    """Confirm the address the link names; ``LinkExpired`` or ``LinkInvalid`` when it cannot."""
    max_age = int(settings.CIVICFLOW_EMAIL_LINK_HOURS) * 3600
    try:
        payload = signing.loads(token, salt=_VERIFY_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    if not isinstance(payload, dict):
        raise LinkInvalid
    with transaction.atomic():
        account = (
            CitizenAccount.objects.select_for_update()
            .select_related("user")
            .filter(pk=int(payload.get("account") or 0), email=str(payload.get("email", "")))
            .first()
        )
        if account is None:
            raise LinkInvalid
        if account.verified_at is not None:
            return Verified(account, already=True)
        account.verified_at = timezone.now()
        account.save(update_fields=["verified_at"])
    return Verified(account, already=False)


def account_waiting_for(email: str) -> CitizenAccount | None:
    """The unconfirmed account with this address, for sending its link again (None otherwise)."""
    return CitizenAccount.objects.filter(email=normalised(email), verified_at__isnull=True).first()


def account_of_email(email: str) -> CitizenAccount | None:
    return CitizenAccount.objects.select_related("user").filter(email=normalised(email)).first()


def refuse_staff_roles(user: User, roles: Iterable[str]) -> None:
    """Raise ``CitizenCannotBeStaff`` when ``user`` is a citizen and ``roles`` names any role."""
    if any(role.strip() for role in roles) and CitizenAccount.objects.filter(user=user).exists():
        raise CitizenCannotBeStaff(
            f"{user.get_username()} is a citizen's account (signed up at /account/create/): citizens "
            "cannot hold staff roles, so a citizen's password never opens staff work. Create a separate "
            "staff account instead."
        )


def _no_roles_for_citizens(sender: object, instance: RoleGrant, **kwargs: object) -> None:
    """Refuse granting a citizen any role, from any code path: the admin, a shell, a service."""
    refuse_staff_roles(instance.user, [instance.role])


def connect_signals() -> None:
    pre_save.connect(_no_roles_for_citizens, sender=RoleGrant, dispatch_uid="civicflow-citizen-roles")


def drafts_adopt(*, user: User, draft_ids: Iterable[str]) -> int:
    """Drafts this browser started before signing in become the citizen's own; how many did.

    Only online drafts nobody owns, not submitted, and not started by staff for someone.
    """
    keys = [key for key in draft_ids if _is_uuid(key)]
    if not keys or not CitizenAccount.objects.filter(user=user).exists():
        return 0
    with transaction.atomic():
        return Draft.objects.filter(
            public_id__in=keys,
            owner__isnull=True,
            assisted_by__isnull=True,
            case__isnull=True,
            channel=Case.Channel.ONLINE,
        ).update(owner=user, updated_at=timezone.now())


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True
