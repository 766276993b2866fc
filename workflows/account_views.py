"""Citizens' account pages (create, confirm the address, sign in and out, reset the password) and staff sign-in.

Both sign-in pages are throttled (``workflows.throttling``): while an account name or an IP
address is locked out, the page answers HTTP 429 with the time to wait, and the password is
not checked at all.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from workflows import citizens, throttling
from workflows.apply_views import SESSION_DRAFTS
from workflows.models import CitizenAccount

_CHECK_EMAIL = "civicflow.account.check-email"

log = logging.getLogger(__name__)


def lockout_message(locked: throttling.Locked) -> str:
    return ngettext(
        "Too many attempts. Try again in %(minutes)d minute.",
        "Too many attempts. Try again in %(minutes)d minutes.",
        locked.minutes,
    ) % {"minutes": locked.minutes}


# ------------------------------------------------------------------------------ staff sign-in


class StaffAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, throttled, and closed to citizens' accounts (they have their own page)."""

    throttled: throttling.Locked | None = None

    def clean(self) -> dict[str, Any]:
        name = str(self.data.get("username", ""))
        address = throttling.client_address(self.request) if self.request is not None else "unknown"
        self.throttled = throttling.locked(name, address)
        if self.throttled is not None:
            raise ValidationError(lockout_message(self.throttled), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as refusal:
            if self.user_cache is None:  # a wrong name or password, not a refused account
                self.throttled = throttling.failed(name, address)
                if self.throttled is not None:
                    raise ValidationError(lockout_message(self.throttled), code="throttled") from None
            raise refusal from None
        if self.user_cache is not None:
            throttling.succeeded(name)
        return cleaned

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if citizens.is_citizen(user):
            raise ValidationError(
                _("This sign-in is for staff. Sign in to your account on the citizens' sign-in page."),
                code="citizen_account",
            )

    def get_invalid_login_error(self) -> ValidationError:
        return ValidationError(_("Your username or password is not right. Try again."), code="invalid_login")


class StaffLoginView(auth_views.LoginView):
    """The staff sign-in page: throttled, closed to citizens' accounts, and offering the
    agency's single sign-on too when it is switched on."""

    form_class = StaffAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.CIVICFLOW_OIDC_ENABLED:
            context["sso_name"] = settings.CIVICFLOW_OIDC_PROVIDER_NAME
            context["sso_url"] = reverse("oidc_authentication_init")
            context["sso_refused"] = self.request.GET.get("sso") == "refused"
        return context

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if isinstance(form, StaffAuthenticationForm) and form.throttled is not None:
            response.status_code = 429
        return response


# ------------------------------------------------------------------------------ helpers


def _error(text: str, field: str) -> dict[str, str]:
    return {"error": text, "html_id": field}


def _safe_next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if allowed else ""


def _send_verification(request: HttpRequest, account: CitizenAccount) -> None:
    """E-mail the confirmation link; when the mail server fails, say so and keep the way to a new link open."""
    try:
        _mail_verification(request, account)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send the confirmation link for account %s", account.pk)
        messages.error(request, _("We could not send the email just now. Wait a few minutes, then send a new link."))


def _mail_verification(request: HttpRequest, account: CitizenAccount) -> None:
    link = request.build_absolute_uri(reverse("account_verify", args=[citizens.verification_token(account)]))
    with translation.override(account.language):
        body = render_to_string(
            "workflows/account/verify_email.txt", {"link": link, "hours": settings.CIVICFLOW_EMAIL_LINK_HOURS}
        )
        subject = _("Confirm your email address for CivicFlow")
    send_mail(subject, body, None, [account.email])


def _languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


# ------------------------------------------------------------------------------ create and confirm


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """Create an account: e-mail address, password twice, language; then a link to confirm the address."""
    if request.user.is_authenticated:
        if citizens.is_citizen(request.user):
            return HttpResponseRedirect(reverse("my_applications"))
        message = _("You are signed in with a staff account. Sign out first to create an account for yourself.")
        return render(request, "workflows/apply/problem.html", {"message": message}, status=403)
    language = translation.get_language() or settings.LANGUAGE_CODE
    context: dict[str, Any] = {"email": "", "language": language, "languages": _languages(), "errors": []}
    if request.method == "POST":
        email = request.POST.get("email", "")
        context.update({"email": email.strip(), "language": request.POST.get("language", language)})
        try:
            account = citizens.account_create(
                email=email,
                password=request.POST.get("password", ""),
                password_again=request.POST.get("password_again", ""),
                language=request.POST.get("language", language),
            )
        except citizens.AccountError as refusal:
            context["errors"] = [_error(refusal.message, f"account-{refusal.field or 'email'}")]
            context["field_errors"] = {refusal.field: refusal.message}
            return render(request, "workflows/account/create.html", context, status=422)
        _send_verification(request, account)
        request.session[_CHECK_EMAIL] = account.email
        return HttpResponseRedirect(reverse("account_check_email"), status=303)
    return render(request, "workflows/account/create.html", context)


@require_http_methods(["GET"])
def check_email(request: HttpRequest) -> HttpResponse:
    """ "Check your email": where the link went, that signing in waits for it, and sending it again."""
    context = {"email": request.session.get(_CHECK_EMAIL, ""), "hours": settings.CIVICFLOW_EMAIL_LINK_HOURS}
    return render(request, "workflows/account/check_email.html", context)


@require_POST
def resend(request: HttpRequest) -> HttpResponse:
    """Send the confirmation link again. The answer is the same whether or not such an account waits."""
    email = request.POST.get("email", "").strip()
    if not email:
        context = {"email": "", "hours": settings.CIVICFLOW_EMAIL_LINK_HOURS}
        context["errors"] = [_error(_("Enter your email address"), "resend-email")]
        return render(request, "workflows/account/check_email.html", context, status=422)
    account = citizens.account_waiting_for(email)
    if account is not None:
        _send_verification(request, account)
    request.session[_CHECK_EMAIL] = citizens.normalised(email)
    messages.success(
        request,
        _("If an account with %(email)s is waiting to be confirmed, we have sent it a new link.") % {"email": email},
    )
    return HttpResponseRedirect(reverse("account_check_email"), status=303)


@require_http_methods(["GET"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        verified = citizens.account_verify(token)
    except citizens.LinkExpired:
        context = {"expired": True, "hours": settings.CIVICFLOW_EMAIL_LINK_HOURS}
        return render(request, "workflows/account/verify_failed.html", context, status=410)
    except citizens.LinkInvalid:
        context = {"expired": False, "hours": settings.CIVICFLOW_EMAIL_LINK_HOURS}
        return render(request, "workflows/account/verify_failed.html", context, status=404)
    return render(request, "workflows/account/verified.html", {"already": verified.already})


# ------------------------------------------------------------------------------ sign in and out


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in with the e-mail address and password; then "Your applications" (or a safe ``next``)."""
    context: dict[str, Any] = {"email": "", "next": _safe_next(request), "errors": [], "unverified": False}
    if request.method != "POST":
        return render(request, "workflows/account/sign_in.html", context)
    email = request.POST.get("email", "").strip()
    password = request.POST.get("password", "")
    context["email"] = email
    address = throttling.client_address(request)
    locked = throttling.locked(email, address)
    if locked is not None:
        context["errors"] = [_error(lockout_message(locked), "sign-in-email")]
        return render(request, "workflows/account/sign_in.html", context, status=429)
    if not email or not password:
        context["errors"] = [
            *([_error(_("Enter your email address"), "sign-in-email")] if not email else []),
            *([_error(_("Enter your password"), "sign-in-password")] if not password else []),
        ]
        return render(request, "workflows/account/sign_in.html", context, status=422)
    account = citizens.account_of_email(email)
    # Asked even without an account, so a missing address takes as long as a wrong password.
    user = authenticate(request, username=account.user.username if account else "", password=password)
    if account is None or user is None:
        locked = throttling.failed(email, address)
        if locked is not None:
            context["errors"] = [_error(lockout_message(locked), "sign-in-email")]
            return render(request, "workflows/account/sign_in.html", context, status=429)
        wrong = _("The email address or password is not right. Try again, or reset your password.")
        context["errors"] = [_error(wrong, "sign-in-email")]
        return render(request, "workflows/account/sign_in.html", context, status=422)
    throttling.succeeded(email)
    if account.verified_at is None:
        context["unverified"] = True
        waiting = _("Confirm your email address before you sign in: open the link we emailed you, or send a new one.")
        context["errors"] = [_error(waiting, "resend-email")]
        return render(request, "workflows/account/sign_in.html", context, status=403)
    held = list(request.session.get(SESSION_DRAFTS, []))
    login(request, user)
    citizens.drafts_adopt(user=account.user, draft_ids=held)
    response = HttpResponseRedirect(context["next"] or reverse("my_applications"), status=303)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        account.language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You are signed out."))
    return HttpResponseRedirect(reverse("catalogue"), status=303)


# ------------------------------------------------------------------------------ password reset


class CitizenPasswordResetForm(PasswordResetForm):
    """Reset links go to citizens' confirmed-or-not accounts only; staff passwords are an administrator's job."""

    def get_users(self, email: str) -> Any:
        account = citizens.account_of_email(email)
        if account is not None and account.user.is_active and account.user.has_usable_password():
            yield account.user


class CitizenSetPasswordForm(SetPasswordForm[User]):
    """Setting a new password from the e-mailed link also proves the address: it counts as confirmed."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if commit:
            CitizenAccount.objects.filter(user=user, verified_at__isnull=True).update(verified_at=timezone.now())
        return user


password_reset = auth_views.PasswordResetView.as_view(
    form_class=CitizenPasswordResetForm,
    template_name="workflows/account/password_reset.html",
    email_template_name="workflows/account/password_reset_email.txt",
    subject_template_name="workflows/account/password_reset_subject.txt",
    success_url=reverse_lazy("account_password_reset_sent"),
)
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="workflows/account/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    form_class=CitizenSetPasswordForm,
    template_name="workflows/account/password_reset_confirm.html",
    success_url=reverse_lazy("account_password_reset_done"),
)
password_reset_done = auth_views.PasswordResetCompleteView.as_view(
    template_name="workflows/account/password_reset_done.html"
)
