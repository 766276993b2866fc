"""Django settings, read from the environment (twelve-factor).

``CIVICFLOW_ENV`` is ``production`` unless set to ``development``: a deployment
that forgets to say what it is gets the secure defaults, and must give its own
``SECRET_KEY``. Development (``make demo``, ``make test``) generates a key into
``var/`` and keeps cookies usable over plain http://127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# Lets admin classes be written ModelAdmin[Case] for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CIVICFLOW_VAR_DIR", BASE_DIR / "var"))

ENVIRONMENT = os.environ.get("CIVICFLOW_ENV", "production")
if ENVIRONMENT not in {"production", "development"}:
    raise ImproperlyConfigured(f"CIVICFLOW_ENV must be 'production' or 'development', not {ENVIRONMENT!r}")
PRODUCTION = ENVIRONMENT == "production"


def _number(name: str, default: float, *, kind: type[int] | type[float] = int, least: float = 0) -> Any:
    """A whole (or decimal) number from the environment, at least ``least``: one clear line if not."""
    text = os.environ.get(name, "").strip()
    if not text:
        return kind(default)
    try:
        value = kind(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a {'whole ' if kind is int else ''}number, not {text!r}") from None
    if value < least:
        raise ImproperlyConfigured(f"{name} must be at least {least:g}, not {text!r}")
    return value


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _development_secret_key() -> str:
    """A key generated once into var/ so sessions survive restarts of the demo."""
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. In production it must come from the environment "
            "(set CIVICFLOW_ENV=development to run locally with a generated key)."
        )
    SECRET_KEY = _development_secret_key()

# DEBUG shows stack traces to anyone who triggers an error: development only.
DEBUG = _flag("DEBUG") and not PRODUCTION

ALLOWED_HOSTS = _list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "workflows.urls"
WSGI_APPLICATION = "workflows.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'civicflow.sqlite3'}",
        conn_max_age=_number("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers
    # queue up instead of one failing half-way with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "catalogue"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by `civicflow collectstatic` in production
if not PRODUCTION:
    # Development serves straight from the apps' static folders.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "private-files"  # never served directly: documents are private

# -- security headers, all environments ---------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# -- production: HTTPS everywhere ---------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _flag("BEHIND_TLS_PROXY", True) else None
    SECURE_HSTS_SECONDS = _number("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _flag("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is hard to undo and covers every subdomain: the agency opts in.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_AGE = 8 * 3600

# -- e-mail (Django 6.1 mailers) --------------------------------------------------------
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
_SMTP_OPTIONS = {
    "host": os.environ.get("EMAIL_HOST", "localhost"),
    "port": _number("EMAIL_PORT", 25, least=1),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": _flag("EMAIL_USE_TLS"),
    "timeout": 30,
}
# The file backend writes each message into a folder instead of sending it (trials, tests).
_FILE_OPTIONS = {"file_path": os.environ.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": (
            _SMTP_OPTIONS
            if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
            else _FILE_OPTIONS
            if _EMAIL_BACKEND.endswith("filebased.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CivicFlow <no-reply@localhost>")

# -- background work ----------------------------------------------------------------
# Empty means the embedded mode: no broker; `civicflow worker` fires timers and delivers the
# outbox. Set, Celery workers do (workflows/background.py; docs/operator/background-work.md).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Installations sharing one broker need a queue each, or one's workers run the other's tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "").strip() or "civicflow"
CIVICFLOW_SWEEP_SECONDS = _number("CIVICFLOW_SWEEP_SECONDS", 5, kind=float, least=0.5)
CIVICFLOW_OUTBOX_LEASE_SECONDS = _number("CIVICFLOW_OUTBOX_LEASE_SECONDS", 300, least=1)
CIVICFLOW_OUTBOX_MAX_ATTEMPTS = _number("CIVICFLOW_OUTBOX_MAX_ATTEMPTS", 8, least=1)
CIVICFLOW_TIMER_MAX_ATTEMPTS = _number("CIVICFLOW_TIMER_MAX_ATTEMPTS", 8, least=1)

# -- CivicFlow ----------------------------------------------------------------------
CIVICFLOW_DEFINITIONS = Path(os.environ.get("CIVICFLOW_DEFINITIONS", BASE_DIR / "definitions"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Uploaded files (workflows/uploads.py): clamd's address (host:port or a unix socket path;
# empty = no virus scan), seconds to wait for it, and the largest file any form may take.
# An unfinished application left alone this long ends its browser session (shared computers);
# the answers stay saved in the draft, and a warning with "Continue" comes two minutes before.
CIVICFLOW_FORM_IDLE_SECONDS = _number("CIVICFLOW_FORM_IDLE_SECONDS", 30 * 60, least=60)
CLAMAV_ADDRESS = os.environ.get("CLAMAV_ADDRESS", "")
CLAMAV_TIMEOUT = _number("CLAMAV_TIMEOUT", 10, kind=float, least=0.1)
CIVICFLOW_UPLOAD_MAX_BYTES = _number("CIVICFLOW_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, least=1)
FILE_UPLOAD_PERMISSIONS = 0o600  # stored documents readable by the service account only
# Notices (workflows/notices.py): the site's address as people reach it, for the links in
# e-mails and text messages; how text messages go out (a dotted class path; empty: none are
# sent), and where the file backend writes them.
CIVICFLOW_PUBLIC_URL = os.environ.get("CIVICFLOW_PUBLIC_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if CIVICFLOW_PUBLIC_URL and not CIVICFLOW_PUBLIC_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"CIVICFLOW_PUBLIC_URL must start with https:// (or http://), not {CIVICFLOW_PUBLIC_URL!r}"
    )
CIVICFLOW_SMS_BACKEND = os.environ.get("CIVICFLOW_SMS_BACKEND", "" if PRODUCTION else "workflows.sms.ConsoleBackend")
CIVICFLOW_SMS_FILE_DIR = Path(os.environ.get("CIVICFLOW_SMS_FILE_DIR", VAR_DIR / "sms"))

# Browsers may submit applications through the API (POST /api/v1/programs/<slug>/submissions)
# only from the site itself and from these origins (scheme://host[:port], comma-separated):
# another site's page cannot make a visitor's browser submit in their name (threat T9).
# The designer routes (/api/v1/definitions/check, /api/v1/programs/<id>/versions) take a whole
# program folder in one JSON body: their own limit, larger than DATA_UPLOAD_MAX_MEMORY_SIZE.
CIVICFLOW_DEFINITION_MAX_BYTES = _number("CIVICFLOW_DEFINITION_MAX_BYTES", 8 * 1024 * 1024, least=64 * 1024)
CIVICFLOW_API_ALLOWED_ORIGINS = _list("CIVICFLOW_API_ALLOWED_ORIGINS", "")
for _origin in CIVICFLOW_API_ALLOWED_ORIGINS:
    if not _origin.startswith(("https://", "http://")) or _origin.count("/") != 2:
        raise ImproperlyConfigured(
            f"CIVICFLOW_API_ALLOWED_ORIGINS lists origins like https://partner.example.gov, not {_origin!r}"
        )

# Webhooks (workflows/webhooks.py, docs/api/webhooks.md): targets must be https and public
# (no loopback, private, link-local/metadata, CGNAT, multicast or reserved address) unless plain
# http is allowed (development, tests) or the address lies in one of the listed networks (CIDR,
# comma-separated); seconds to wait for a receiver to connect and for each read of its answer.
CIVICFLOW_WEBHOOK_ALLOW_HTTP = _flag("CIVICFLOW_WEBHOOK_ALLOW_HTTP")
CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS = _list("CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS", "")
for _network in CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CIVICFLOW_WEBHOOK_ALLOWED_NETWORKS lists networks like 10.20.0.0/16 or fd00::/8, not {_network!r}"
        ) from None
CIVICFLOW_WEBHOOK_TIMEOUT_SECONDS = _number("CIVICFLOW_WEBHOOK_TIMEOUT_SECONDS", 5, kind=float, least=0.1)
# Anonymous visitors may, per address and hour, submit this many applications (API and site),
# start this many, and have this many continue-links e-mailed (workflows/ratelimits.py; 0: no
# limit). Token-holding systems and staff are not counted. Behind proxies of your own, say how
# many stand in front so the address comes from X-Forwarded-For; by default it is never read.
CIVICFLOW_ANONYMOUS_SUBMISSIONS_PER_HOUR = _number("CIVICFLOW_ANONYMOUS_SUBMISSIONS_PER_HOUR", 30)
CIVICFLOW_ANONYMOUS_DRAFTS_PER_HOUR = _number("CIVICFLOW_ANONYMOUS_DRAFTS_PER_HOUR", 60)
CIVICFLOW_ANONYMOUS_RESUME_LINKS_PER_HOUR = _number("CIVICFLOW_ANONYMOUS_RESUME_LINKS_PER_HOUR", 10)
CIVICFLOW_TRUSTED_PROXIES = _number("CIVICFLOW_TRUSTED_PROXIES", 0)

# -- single sign-on for staff (workflows/oidc.py; docs/operator/single-sign-on.md) ----------
# Off unless CIVICFLOW_OIDC_ENABLED=1; then every one of OIDC_REQUIRED_SETTINGS must come from
# the environment, or CivicFlow refuses to start and names the missing ones.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
CIVICFLOW_OIDC_ENABLED = _flag("CIVICFLOW_OIDC_ENABLED")
CIVICFLOW_OIDC_PROVIDER_NAME = os.environ.get("CIVICFLOW_OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
CIVICFLOW_OIDC_CREATE_USERS = _flag("CIVICFLOW_OIDC_CREATE_USERS")
OIDC_REQUIRED_SETTINGS = (
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
    "OIDC_RP_SIGN_ALGO",
)
if CIVICFLOW_OIDC_ENABLED:
    _oidc_missing = [name for name in OIDC_REQUIRED_SETTINGS if not os.environ.get(name, "").strip()]
    if _oidc_missing:
        raise ImproperlyConfigured(
            f"CIVICFLOW_OIDC_ENABLED=1 needs {', '.join(_oidc_missing)} from the environment "
            "(your identity provider's details), or set CIVICFLOW_OIDC_ENABLED=0"
        )
    OIDC_RP_CLIENT_ID = os.environ["OIDC_RP_CLIENT_ID"].strip()
    OIDC_RP_CLIENT_SECRET = os.environ["OIDC_RP_CLIENT_SECRET"].strip()
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ["OIDC_OP_AUTHORIZATION_ENDPOINT"].strip()
    OIDC_OP_TOKEN_ENDPOINT = os.environ["OIDC_OP_TOKEN_ENDPOINT"].strip()
    OIDC_OP_USER_ENDPOINT = os.environ["OIDC_OP_USER_ENDPOINT"].strip()
    OIDC_OP_JWKS_ENDPOINT = os.environ["OIDC_OP_JWKS_ENDPOINT"].strip()
    OIDC_RP_SIGN_ALGO = os.environ["OIDC_RP_SIGN_ALGO"].strip()
    OIDC_RP_SCOPES = "openid email"
    OIDC_CREATE_USER = CIVICFLOW_OIDC_CREATE_USERS
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("workflows.oidc.StaffOIDCBackend")
# A refused sign-in comes back to the staff sign-in page, which says why.
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=refused"
# Citizens' accounts (workflows/citizens.py, docs/operator/citizen-accounts.md): how long the
# links in account e-mails (confirm the address, reset the password) stay valid.
CIVICFLOW_EMAIL_LINK_HOURS = _number("CIVICFLOW_EMAIL_LINK_HOURS", 24, least=1)
PASSWORD_RESET_TIMEOUT = CIVICFLOW_EMAIL_LINK_HOURS * 3600
# Login throttling (workflows/throttling.py), both sign-in pages: this many failed attempts for
# one account name, or from one IP address, locks that name or address out for this many
# minutes (the failures are counted over the same span). Counted in the cache below.
CIVICFLOW_LOGIN_MAX_ATTEMPTS = _number("CIVICFLOW_LOGIN_MAX_ATTEMPTS", 5, least=1)
CIVICFLOW_LOGIN_LOCKOUT_MINUTES = _number("CIVICFLOW_LOGIN_LOCKOUT_MINUTES", 15, least=1)

# The REST API (workflows/api/, docs/api/reference.md): JSON only, every error as problem+json.
# -- cache: login throttling and API rate limits count here, so in production every process
# must share one (CACHE_URL=redis://host:6379/1); without it each process counts on its own.
_CACHE_URL = os.environ.get("CACHE_URL", "").strip()
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "civicflow"}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workflows.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["workflows.api.problems.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "workflows.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CivicFlow API",
    "DESCRIPTION": "Programs, submissions and tasks. Errors are application/problem+json (docs/api/reference.md).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every error response as application/problem+json with one shared schema (workflows/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workflows.api.schema.problem_responses",
    ],
    # Cases and tasks both have a `status`, with different values: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "workflows.models.Case.Status",
        "TaskStatusEnum": "workflows.models.Task.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
