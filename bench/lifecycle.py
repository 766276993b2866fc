"""bench/lifecycle: one case's life through the services on PostgreSQL, query by query.

Run: DATABASE_URL=postgres://USER@HOST:5432/NAME make bench-lifecycle
 or: DATABASE_URL=... .venv/bin/python -m bench.lifecycle [--cases N] [--rounds R] [--sql]

The library-card program, as shipped: a citizen submits (``services.case_submit``), a
librarian claims the review (``services.task_claim``) and approves it
(``services.task_complete``), which closes the case. Reported:

* the exact SQL statements each stage sends (Django's ``CaptureQueriesContext``), per stage,
  with the statements shortened (``--sql`` prints them whole), against the target of
  ``performance.md``: at most 12 per case;
* cases per second over ``--cases`` cases, split in interleaved rounds with the reference;
* the reference, measured in the same run on the same connection: the same three
  transactions written by hand as the least a correct implementation sends: submit = insert
  the case, its task and a history row; claim = lock the case row, update the task, a history
  row; approve = lock the case row, close the task, close the case, a history row. Same JSON
  payloads, commit after each (fsync as configured).

It runs in a throwaway database (``test_`` + the database named in ``DATABASE_URL``), created
with the migrations and dropped at the end: the database named is never written to. Timings
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANSWERS_FILE = ROOT / "definitions" / "library-card" / "examples" / "valid.json"
TARGET_QUERIES = 12  # performance.md: bench/lifecycle, "<= 12 SQL queries per case (exact count)"
VIEWFLOW_PER_SECOND = 26  # performance.md: django-viewflow 2.4, start -> assign -> approve -> end, ~26/s
TARGET_RATIO_TO_VIEWFLOW = 10  # performance.md: ">= 10x django-viewflow's processes/s"
STAGES = ("submit", "claim", "approve")
COUNTED_CASES = 5  # cases whose statements are counted one by one (after two warm-up cases)

REFERENCE_TABLES = """
CREATE TABLE bench_case (
    id bigserial PRIMARY KEY, reference varchar(32) UNIQUE NOT NULL, data jsonb NOT NULL,
    state jsonb NOT NULL, status varchar(16) NOT NULL, outcome varchar(64) NOT NULL DEFAULT '',
    submitted_at timestamptz NOT NULL, closed_at timestamptz
);
CREATE TABLE bench_task (
    id bigserial PRIMARY KEY, case_id bigint NOT NULL REFERENCES bench_case (id), token integer NOT NULL,
    step varchar(64) NOT NULL, role varchar(64) NOT NULL, status varchar(16) NOT NULL,
    assignee_id integer, outcome varchar(64) NOT NULL DEFAULT '', created_at timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE UNIQUE INDEX bench_one_open_task ON bench_task (case_id, token) WHERE status = 'open';
CREATE TABLE bench_event (
    id bigserial PRIMARY KEY, case_id bigint NOT NULL REFERENCES bench_case (id), at timestamptz NOT NULL,
    kind varchar(64) NOT NULL, detail jsonb NOT NULL
);
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="cases timed through the services (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds with the reference (default 5)")
    parser.add_argument("--sql", action="store_true", help="print every statement whole, not shortened")
    options = parser.parse_args()
    if not 1 <= options.rounds <= options.cases <= 100_000:
        parser.error("choose 1 <= --rounds <= --cases <= 100000")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print(
            "bench/lifecycle measures PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/NAME "
            "(a throwaway test_NAME database is created and dropped)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    os.environ.setdefault("CIVICFLOW_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflows.settings")
    import django

    django.setup()
    from django.db import connection

    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        run(options)
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)


def run(options: argparse.Namespace) -> None:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from workflows import programs, services
    from workflows.models import Case, Program, RoleGrant, Task

    folder = ROOT / "definitions" / "library-card"
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    program = Program.objects.get(slug="library-card")
    librarian = User.objects.create_user(username="lena", password=None)
    # Roles are granted per agency (issue 6): the library card's agency, every queue.
    RoleGrant.objects.create(user=librarian, role="librarian", agency=program.agency, queue="")
    answers = json.loads(ANSWERS_FILE.read_text())

    def submit() -> Case:
        return services.case_submit(program=program, data=dict(answers), user=AnonymousUser())

    def task_of(case: Case) -> int:
        # What the caseworker's inbox shows; a read outside the lifecycle's transactions.
        return int(Task.objects.filter(case=case, status="open").values_list("pk", flat=True).get())

    def claim(task_id: int) -> None:
        services.task_claim(task_id=task_id, user=librarian)

    def approve(task_id: int) -> None:
        services.task_complete(task_id=task_id, user=librarian, outcome="approve")

    def one_case() -> None:
        task_id = task_of(submit())
        claim(task_id)
        approve(task_id)

    # -- exact statements, per stage ------------------------------------------------------
    for _ in range(2):  # warm-up: definition cache, this year's reference counter row
        one_case()
    counted: list[dict[str, list[str]]] = []
    for _ in range(COUNTED_CASES):
        stages: dict[str, list[str]] = {}
        with CaptureQueriesContext(connection) as captured:
            case = submit()
        stages["submit"] = [query["sql"] for query in captured.captured_queries]
        task_id = task_of(case)
        with CaptureQueriesContext(connection) as captured:
            claim(task_id)
        stages["claim"] = [query["sql"] for query in captured.captured_queries]
        with CaptureQueriesContext(connection) as captured:
            approve(task_id)
        stages["approve"] = [query["sql"] for query in captured.captured_queries]
        case.refresh_from_db()
        assert (case.status, case.outcome) == ("closed", "approved"), "the case must close approved"
        counted.append(stages)
    per_case = [sum(len(stages[stage]) for stage in STAGES) for stages in counted]
    shown = counted[-1]
    version = getattr(connection, "pg_version", 0) // 10000
    print(f"library-card, PostgreSQL {version}; statements a case sends, by stage:")
    for stage in STAGES:
        statements = shown[stage]
        print(f"\n{stage}: {len(statements)} statement(s) = {describe(statements)}")
        for number, sql in enumerate(statements, 1):
            print(f"  {number:2}. {sql if options.sql else shorten(sql)}")
    every = [sql for stage in STAGES for sql in shown[stage]]
    total = len(every)
    queries = sum(1 for sql in every if kind_of(sql) != "BEGIN/COMMIT")
    steady = "the same for each" if len(set(per_case)) == 1 else f"varying: {per_case}"
    print(
        f"\nper case: {total} statements ({' + '.join(str(len(shown[s])) for s in STAGES)}) = {describe(every)}; "
        f"{steady} of {COUNTED_CASES} counted cases"
    )
    print(
        f"target (performance.md): <= {TARGET_QUERIES} SQL queries per case; here {queries} without BEGIN/COMMIT, "
        f"{'met' if queries <= TARGET_QUERIES else f'{queries - TARGET_QUERIES} over'}"
    )

    # -- the hand-written reference ---------------------------------------------------------
    sample = Case.objects.filter(status="closed").order_by("pk").first()
    assert sample is not None
    payload = json.dumps(sample.data)
    state = json.dumps(sample.state)
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_TABLES)
    sequence = iter(range(1, 10**9))

    def reference_case() -> None:
        number = next(sequence)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_case (reference, data, state, status, submitted_at) "
                "VALUES (%s, %s, %s, 'running', now()) RETURNING id",
                [f"REF-{number:09d}", payload, state],
            )
            case_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO bench_task (case_id, token, step, role, status, created_at) "
                "VALUES (%s, 1, 'review', 'librarian', 'open', now()) RETURNING id",
                [case_id],
            )
            task_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO bench_event (case_id, at, kind, detail) VALUES (%s, now(), 'submitted', %s)",
                [case_id, '{"channel": "online"}'],
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM bench_case WHERE id = %s FOR UPDATE", [case_id])
            cursor.execute(
                "UPDATE bench_task SET assignee_id = %s WHERE id = %s AND status = 'open'", [librarian.pk, task_id]
            )
            cursor.execute(
                "INSERT INTO bench_event (case_id, at, kind, detail) VALUES (%s, now(), 'task_claimed', %s)",
                [case_id, '{"step": "review"}'],
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM bench_case WHERE id = %s FOR UPDATE", [case_id])
            cursor.execute(
                "UPDATE bench_task SET status = 'completed', outcome = 'approve', completed_at = now() "
                "WHERE id = %s AND status = 'open'",
                [task_id],
            )
            cursor.execute(
                "UPDATE bench_case SET status = 'closed', outcome = 'approved', closed_at = now(), state = %s "
                "WHERE id = %s",
                [state, case_id],
            )
            cursor.execute(
                "INSERT INTO bench_event (case_id, at, kind, detail) VALUES (%s, now(), 'case_closed', %s)",
                [case_id, '{"outcome": "approved"}'],
            )

    reference_statements = 10
    reference_case()

    # -- cases per second, interleaved rounds -----------------------------------------------
    per_round = max(1, options.cases // options.rounds)
    service_rates, reference_rates = [], []
    for _ in range(options.rounds):
        reference_rates.append(cases_per_second(reference_case, per_round))
        service_rates.append(cases_per_second(one_case, per_round))
    services_rate = statistics.median(service_rates)
    reference_rate = statistics.median(reference_rates)
    target_rate = VIEWFLOW_PER_SECOND * TARGET_RATIO_TO_VIEWFLOW
    print(
        f"\nthrough the services: {services_rate:,.0f} cases/s (median of {options.rounds} rounds of "
        f"{per_round} cases; ~{1000 / services_rate:.1f} ms per case, submit + claim + approve)"
    )
    print(
        f"reference, the same 3 transactions by hand ({reference_statements} statements + BEGIN/COMMIT): "
        f"{reference_rate:,.0f} cases/s (~{1000 / reference_rate:.1f} ms per case)"
    )
    print(
        f"target (performance.md): >= {TARGET_RATIO_TO_VIEWFLOW}x django-viewflow's documented "
        f"~{VIEWFLOW_PER_SECOND}/s = {target_rate}/s; here {services_rate / VIEWFLOW_PER_SECOND:.1f}x"
    )
    print(
        f"lifecycle: {queries} queries per case (+ BEGIN/COMMIT; target <= {TARGET_QUERIES}), "
        f"{services_rate:,.0f} cases/s "
        f"({services_rate / reference_rate:.2f}x the hand-written SQL's {reference_rate:,.0f}/s; "
        f"{services_rate / VIEWFLOW_PER_SECOND:.1f}x viewflow's documented ~{VIEWFLOW_PER_SECOND}/s)"
    )


def cases_per_second(work: Callable[[], Any], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        work()
    return count / (time.perf_counter() - started)


def kind_of(sql: str) -> str:
    """What a statement is for: transaction control, a savepoint, the history's hash chain, or the work."""
    words = sql.lstrip().upper()
    if words.startswith(("BEGIN", "COMMIT", "ROLLBACK")) and len(words.split()) == 1:
        return "BEGIN/COMMIT"
    if words.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
        return "savepoint"
    if '"WORKFLOWS_AUDITHEAD"' in words or '"WORKFLOWS_CASEEVENT"' in words:
        return "history"
    return "work"


def describe(statements: list[str]) -> str:
    """``2 BEGIN/COMMIT + 9 history + 8 work``: how many statements of each kind."""
    counts: dict[str, int] = {}
    for sql in statements:
        counts[kind_of(sql)] = counts.get(kind_of(sql), 0) + 1
    # A transition appends all its events at once: lock the chain head, one INSERT, move the head.
    history_note = " (lock the chain head, insert the events, move the head)"
    parts = [
        f"{counts[kind]} {kind}" + (history_note if kind == "history" else "")
        for kind in ("BEGIN/COMMIT", "savepoint", "history", "work")
        if counts.get(kind)
    ]
    return " + ".join(parts)


def shorten(sql: str, width: int = 160) -> str:
    """One line: long text values (JSON, hashes) and column lists elided, so the statement's shape shows."""
    text = " ".join(sql.split())
    text = re.sub(r"'(?:[^']|'')*'", lambda found: found.group(0) if len(found.group(0)) <= 24 else "'…'", text)
    text = re.sub(r"^SELECT (.{40,}?) FROM ", "SELECT … FROM ", text)
    text = re.sub(r"^(INSERT INTO \S+) \([^)]*\) VALUES \((.*?)\)( RETURNING .*)?$", r"\1 (…) VALUES (…)\3", text)
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    main()
