"""Publishing a new version while cases run on the old one (T14)."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import DEFINITIONS, make_user
from workflows import services
from workflows.models import Program, Task

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
pytestmark = pytest.mark.django_db


def test_running_cases_stay_on_their_version_and_new_ones_get_the_new_one(tmp_path):
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    call_command("publish", str(folder), stdout=StringIO())
    program = Program.objects.get(slug="library-card")
    old_case = services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())

    workflow = folder / "workflow.yaml"
    workflow.write_text(workflow.read_text().replace("deny: refused", "refuse: refused"))
    for scenario in (folder / "scenarios").glob("*.yaml"):
        scenario.write_text(scenario.read_text().replace("review: deny", "review: refuse"))
    out = StringIO()
    call_command("publish", str(folder), stdout=out)
    assert "library-card: published" in out.getvalue()
    assert "library-card: 1 running case(s) stay on their earlier version" in out.getvalue()
    program.refresh_from_db()
    assert old_case.version != program.current_version

    new_case = services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())
    assert new_case.version == program.current_version
    lena = make_user("lena", "librarian")
    old_task = Task.objects.get(case=old_case)
    services.task_claim(task_id=old_task.pk, user=lena)
    services.task_complete(task_id=old_task.pk, user=lena, outcome="deny")  # the old version's outcome
    old_case.refresh_from_db()
    assert old_case.outcome == "denied"
    new_task = Task.objects.get(case=new_case)
    services.task_claim(task_id=new_task.pk, user=lena)
    with pytest.raises(services.ServiceError, match="no outcome 'deny'"):
        services.task_complete(task_id=new_task.pk, user=lena, outcome="deny")
    services.task_complete(task_id=new_task.pk, user=lena, outcome="refuse")


def test_a_program_with_errors_is_not_published(tmp_path):
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    (folder / "workflow.yaml").write_text("start: nowhere\nsteps: {}\n")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was published"):
        call_command("publish", str(folder), stdout=StringIO(), stderr=err)
    assert "workflow.yaml" in err.getvalue()
    assert not Program.objects.exists()
