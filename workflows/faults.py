"""Fault injection at numbered checkpoints, for the reliability tests.

``CIVICFLOW_FAULTS`` lists checkpoint numbers (``"2"``, ``"2,5"``); when the code passes one of
them it fails there on purpose: ``InjectedFault`` is raised, as a dropped connection or a
crashed process would interrupt it. With ``CIVICFLOW_FAULTS_EXIT=1`` the process exits on the
spot instead (``os._exit``: no cleanup, no acknowledgement), as a killed worker would. With
``CIVICFLOW_FAULTS_DROP=1`` the database connection is cut instead and the code goes on, to
fail wherever it next talks to the database (the commit, usually): on PostgreSQL the server
ends the session (``pg_terminate_backend``, from a second connection), on SQLite the file
handle is closed under Django. The variables are read on every pass, so a test can switch a
fault on and off. Unset in production, a checkpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os

SERVICE_AFTER_STEP = 1
"""A service ran the engine step but has written nothing yet."""
SERVICE_BEFORE_COMMIT = 2
"""A service wrote the new state, tasks, history, timers and outbox rows; the commit is next."""
TIMER_BEFORE_COMMIT = 3
"""A worker fired a timer and wrote what followed; the commit is next."""
OUTBOX_AFTER_SIDE_EFFECT = 4
"""A worker carried out an outbox row's side effect (sent the e-mail) but has not acknowledged it."""

CHECKPOINTS = {
    SERVICE_AFTER_STEP: "service after the engine step, before writing",
    SERVICE_BEFORE_COMMIT: "service after writing, before commit",
    TIMER_BEFORE_COMMIT: "timer fired and written, before commit",
    OUTBOX_AFTER_SIDE_EFFECT: "outbox side effect done, before acknowledging",
}


class InjectedFault(RuntimeError):
    """Raised at a checkpoint named in ``CIVICFLOW_FAULTS``."""


def armed() -> set[int]:
    raw = os.environ.get("CIVICFLOW_FAULTS", "")
    return {int(part) for part in raw.split(",") if part.strip().isdigit()}


def checkpoint(number: int) -> None:
    """Fail here if checkpoint ``number`` is armed; otherwise do nothing."""
    if "CIVICFLOW_FAULTS" not in os.environ or number not in armed():
        return
    if os.environ.get("CIVICFLOW_FAULTS_EXIT") == "1":
        os._exit(70)  # as if killed: nothing after this point runs, nothing is acknowledged
    if os.environ.get("CIVICFLOW_FAULTS_DROP") == "1":
        drop_database_connection()
        return
    raise InjectedFault(f"fault injected at checkpoint {number} ({CHECKPOINTS.get(number, 'unnamed')})")


def drop_database_connection() -> None:
    """Cut the default database connection under Django, as a network failure or a restart would.

    Whatever the connection's open transaction wrote is lost; Django finds out at its next
    statement, fails it, and opens a new connection the time after.
    """
    from django.db import connection  # here, so the module imports without Django configured

    if connection.connection is None:
        return
    if connection.vendor == "postgresql":
        backend = connection.connection.info.backend_pid
        killer = connection.get_new_connection(connection.get_connection_params())
        try:
            with killer.cursor() as cursor:
                # The second argument waits (up to 5 s) until the session has really ended.
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [backend])
        finally:
            killer.close()
    else:
        connection.connection.close()
