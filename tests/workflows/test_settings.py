"""Settings come from the environment; production refuses to start unsafe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
CIVICFLOW = [sys.executable, "-m", "workflows.cli"]


def civicflow(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        # The subprocess must see only what an operator sets, not the test run's own variables.
        if key not in {"SECRET_KEY", "DEBUG", "CIVICFLOW_ENV", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update({"CIVICFLOW_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **env})
    return subprocess.run(
        [*CIVICFLOW, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def test_production_is_the_default_and_refuses_to_start_without_a_secret_key(tmp_path):
    result = civicflow("check", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("civicflow: configuration error: SECRET_KEY is not set.")
    assert "Traceback" not in result.stderr


def deploy_check(tmp_path, **environment: str):
    """``civicflow check --deploy --fail-level WARNING`` with production settings, plus ``environment``."""
    return civicflow(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        SECRET_KEY="x" * 60 + "production-grade-and-long-enough",
        ALLOWED_HOSTS="apply.example.gov",
        CIVICFLOW_PUBLIC_URL="https://apply.example.gov",
        **environment,
    )


def test_production_settings_pass_djangos_deployment_checks(tmp_path):
    result = deploy_check(tmp_path, CIVICFLOW_TRUSTED_PROXIES="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_warn_when_behind_a_proxy_every_visitor_would_share_one_rate_limit(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 1
    assert "civicflow.W002" in result.stderr
    assert "Set CIVICFLOW_TRUSTED_PROXIES" in result.stderr


def test_the_deployment_checks_warn_when_links_in_notices_would_have_no_host(tmp_path):
    result = civicflow(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        SECRET_KEY="x" * 60 + "production-grade-and-long-enough",
        ALLOWED_HOSTS="apply.example.gov",
    )
    assert result.returncode == 1
    assert "civicflow.W001" in result.stderr
    assert "Set CIVICFLOW_PUBLIC_URL to the site's address" in result.stderr


def test_debug_cannot_be_switched_on_in_production(tmp_path):
    result = civicflow(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
        tmp_path=tmp_path,
        SECRET_KEY="s" * 64,
        DEBUG="1",
    )
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path):
    show_key = ("shell", "--verbosity=0", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    first = civicflow(*show_key, tmp_path=tmp_path, CIVICFLOW_ENV="development")
    second = civicflow(*show_key, tmp_path=tmp_path, CIVICFLOW_ENV="development")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").read_text() == first.stdout.strip()
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("CIVICFLOW_ENV", "staging", "CIVICFLOW_ENV must be 'production' or 'development'"),
        ("DEBUG", "maybe", "DEBUG must be 1/0"),
        ("CIVICFLOW_FORM_IDLE_SECONDS", "half an hour", "CIVICFLOW_FORM_IDLE_SECONDS must be a whole number"),
        ("CIVICFLOW_FORM_IDLE_SECONDS", "0", "CIVICFLOW_FORM_IDLE_SECONDS must be at least 60"),
        ("CLAMAV_TIMEOUT", "soon", "CLAMAV_TIMEOUT must be a number"),
        ("CIVICFLOW_UPLOAD_MAX_BYTES", "5MB", "CIVICFLOW_UPLOAD_MAX_BYTES must be a whole number"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number"),
        ("CIVICFLOW_PUBLIC_URL", "apply.example.gov", "CIVICFLOW_PUBLIC_URL must start with https://"),
        ("CIVICFLOW_LOGIN_MAX_ATTEMPTS", "0", "CIVICFLOW_LOGIN_MAX_ATTEMPTS must be at least 1"),
        ("CIVICFLOW_LOGIN_LOCKOUT_MINUTES", "a while", "CIVICFLOW_LOGIN_LOCKOUT_MINUTES must be a whole number"),
        ("CIVICFLOW_EMAIL_LINK_HOURS", "0", "CIVICFLOW_EMAIL_LINK_HOURS must be at least 1"),
    ],
)
def test_a_wrong_setting_gets_one_clear_line(tmp_path, name, value, words):
    env = {"CIVICFLOW_ENV": "development", name: value}
    result = civicflow("check", tmp_path=tmp_path, **env)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_pages_carry_the_security_headers(client, db):
    page = client.get(reverse("catalogue"))
    csp = page["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"


def test_health_check_reports_the_database(client, db):
    answer = client.get(reverse("healthz"))
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}


def test_passwords_are_hashed_with_argon2(django_user_model, db):
    user = django_user_model.objects.create_user(username="ana", password="correct horse battery staple")
    assert user.password.startswith("argon2$")
