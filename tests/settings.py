"""Test settings: development mode, then the real settings module unchanged."""

import os

os.environ.setdefault("CIVICFLOW_ENV", "development")

from workflows.settings import *  # noqa: F403

# The browser tests' live server answers several requests at once, as production does. An
# in-memory SQLite database shares one cache between connections, where a reader waits on
# a writer's table lock and fails ("database table is locked"); a file in WAL mode, as the
# demo and small installations run, lets readers go on while one writer writes.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # CIVICFLOW_TEST_SQLITE names another file, so two test runs on one checkout do not collide.
    _test_file = os.environ.get("CIVICFLOW_TEST_SQLITE", "test-civicflow.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / _test_file)}  # noqa: F405

# The suite never sends work to a broker by accident (a CELERY_BROKER_URL exported in the shell
# would otherwise hand outbox rows to whatever workers listen there): tasks run in-process.
# tests/workflows/test_celery_broker.py starts its own worker against its own queue instead.
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
