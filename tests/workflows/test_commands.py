"""civicflow load-definitions and seed-demo, as an operator runs them."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client

import engine
from tests.conftest import DEFINITIONS
from workflows import programs
from workflows.models import Case, DefinitionVersion, Program, Task

pytestmark = pytest.mark.django_db


def loaded(folder: Path) -> engine.Definition:
    definition, problems = programs.check(programs.read_folder(folder), folder=folder.name)
    assert definition is not None, problems
    return definition


def load(*paths: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("load-definitions", *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_loading_twice_publishes_once(tmp_path):
    first, _ = load(DEFINITIONS)
    second, _ = load(DEFINITIONS)
    assert "library-card: published" in first
    assert "library-card: unchanged" in second
    assert DefinitionVersion.objects.filter(program__slug="library-card").count() == 1


def test_a_changed_definition_becomes_a_new_version_and_the_old_one_stays(tmp_path):
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    load(folder)
    old = Program.objects.get(slug="library-card").current_version
    assert old is not None
    workflow = folder / "workflow.yaml"
    workflow.write_text(workflow.read_text().replace("Review the application", "Check the application"))
    out, _ = load(folder)
    assert "library-card: published" in out
    program = Program.objects.get(slug="library-card")
    assert program.current_version != old
    assert DefinitionVersion.objects.filter(pk=old.pk).exists()


def test_problems_are_printed_as_path_line_col_code_message_and_nothing_is_published(tmp_path):
    folder = tmp_path / "my-program"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    workflow = folder / "workflow.yaml"
    workflow.write_text(workflow.read_text().replace("approve: issued", "approve: isued"))
    err = StringIO()
    with pytest.raises(CommandError, match=r"1 of 1 program\(s\) have problems"):
        call_command("load-definitions", str(folder), stdout=StringIO(), stderr=err)
    assert f"{folder}/workflow.yaml:9:16: unknown_step: outcome 'approve' goes to 'isued', which is not a step" in (
        err.getvalue()
    )
    assert not Program.objects.exists()


def test_a_form_schema_with_a_remote_reference_is_refused(tmp_path):
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    schema_file = folder / "form.schema.json"
    schema = json.loads(schema_file.read_text())
    schema["properties"]["email"] = {"$ref": "http://127.0.0.1:9/evil.json"}
    schema_file.write_text(json.dumps(schema))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("load-definitions", str(folder), stdout=StringIO(), stderr=err)
    assert "form.schema.json:1:1: remote_ref: at /properties/email/$ref" in err.getvalue()


def test_a_folder_without_programs_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"no program\.yaml here or in any folder inside"):
        load(tmp_path)
    with pytest.raises(CommandError, match="not a folder"):
        load(tmp_path / "missing")


def test_seed_demo_creates_a_user_per_role_and_keeps_passwords_on_rerun(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    load(DEFINITIONS)
    first = StringIO()
    call_command("seed-demo", stdout=first)
    logins = json.loads((tmp_path / "demo-logins.json").read_text())
    program_roles = {
        role
        for folder in DEFINITIONS.iterdir()
        if (folder / "program.yaml").is_file()
        for role in loaded(folder).program.roles
    }
    assert {"librarian", "eligibility_worker", "records_searcher", "inspector"} <= program_roles
    assert set(logins) == {"designer", "supervisor", "agency_admin", "auditor", "citizen"} | program_roles
    for username, password in logins.items():
        assert f"{username}" in first.getvalue()
        assert password in first.getvalue()
    call_command("seed-demo", stdout=StringIO())
    assert json.loads((tmp_path / "demo-logins.json").read_text()) == logins
    librarian = authenticate(username="librarian", password=logins["librarian"])
    assert librarian is not None
    assert list(librarian.role_grants.values_list("role", "agency", "queue")) == [("librarian", "city-library", "")]
    # The demo citizen signs in on the citizens' page, by e-mail address.
    assert "citizen@example.org" in first.getvalue()
    citizen = Client()
    signed_in = citizen.post(
        "/account/sign-in/", {"email": "citizen@example.org", "password": logins["citizen"]}, follow=True
    )
    assert signed_in.redirect_chain[-1][0] == "/my/applications/"


def test_seed_demo_opens_cases_from_every_programs_examples_at_different_stages(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    load(DEFINITIONS)
    out = StringIO()
    call_command("seed-demo", stdout=out)
    for folder in sorted(path for path in DEFINITIONS.iterdir() if (path / "program.yaml").is_file()):
        examples = sorted((folder / "examples").glob("valid*.json"))
        cases = Case.objects.filter(program__slug=folder.name).order_by("pk")
        assert cases.count() == len(examples), f"{folder.name}: {out.getvalue()}"
        # The first example is the demo citizen's own application, the others were entered at the counter.
        first_by = cases[0].submitted_by
        assert first_by is not None
        assert first_by.username == "citizen"
        assert {case.channel for case in cases[1:]} <= {Case.Channel.COUNTER}
        assert cases[0].reference in out.getvalue()
    # Some cases were taken by a caseworker, some moved past their first step.
    assert Task.objects.filter(status=Task.Status.OPEN, assignee__isnull=False).exists()
    assert Task.objects.filter(status=Task.Status.COMPLETED).count() >= 3
    assert Task.objects.filter(status=Task.Status.OPEN, assignee__isnull=True).exists()
    # Seeding again opens nothing new and keeps what the demo did.
    before = Case.objects.count()
    call_command("seed-demo", stdout=StringIO())
    assert Case.objects.count() == before
