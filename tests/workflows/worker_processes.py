"""Running workers as real processes against the test's own database.

Tests that use these must be ``django_db(transaction=True)``: the other process sees only what
was committed.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{quote(settings['USER'], safe='')}{password}@{host}{port}/{settings['NAME']}"


def worker_environment(folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a worker process: this run's, less its CivicFlow, Celery and Django
    variables, plus the test database, ``folder`` for local state, and ``settings``."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CIVICFLOW_", "CELERY_", "DJANGO_", "EMAIL_")) and key != "DATABASE_URL"
    }
    environment.update(
        CIVICFLOW_ENV="development",
        CIVICFLOW_VAR_DIR=str(folder),
        DJANGO_SETTINGS_MODULE="workflows.settings",
        DATABASE_URL=database_url(),
        **settings,
    )
    return environment
