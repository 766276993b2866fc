"""Tasks given out by the definition's strategy: least loaded, round robin, or named by the data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.conftest import DEFINITIONS, make_user
from workflows import programs, services
from workflows.models import Program, Task

pytestmark = pytest.mark.django_db
ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())


def library_card_assigning(tmp_path: Path, assign: str) -> Program:
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    workflow = folder / "workflow.yaml"
    workflow.write_text(
        workflow.read_text().replace("    role: librarian\n", f"    role: librarian\n    assign: {assign}\n")
    )
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


def submit(program: Program, times: int) -> list[str | None]:
    for _ in range(times):
        services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())
    return [task.assignee.username if task.assignee else None for task in Task.objects.order_by("pk")]


def test_round_robin_takes_turns_in_name_order(tmp_path):
    program = library_card_assigning(tmp_path, "round robin")
    for name in ("cara", "abe", "bo"):
        make_user(name, "librarian")
    make_user("zed", "auditor")  # not a librarian: never picked
    assert submit(program, 4) == ["abe", "bo", "cara", "abe"]


def test_least_loaded_evens_out_the_open_tasks(tmp_path):
    program = library_card_assigning(tmp_path, "least loaded")
    abe = make_user("abe", "librarian")
    make_user("bo", "librarian")
    assert submit(program, 3) == ["abe", "bo", "abe"]
    first = Task.objects.filter(assignee=abe).order_by("pk").first()
    assert first is not None
    services.task_complete(task_id=first.pk, user=abe, outcome="approve")
    assert submit(program, 1)[-1] == "abe"  # abe now holds one open task, bo one: name order breaks the tie


def test_with_nobody_holding_the_role_the_task_waits_in_the_queue(tmp_path):
    program = library_card_assigning(tmp_path, "least loaded")
    assert submit(program, 1) == [None]
