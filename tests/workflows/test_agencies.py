"""Roles scoped to agencies and queues: staff of another agency see nothing of a case, on the pages and the API."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.api.conftest import Api, token_for
from tests.conftest import DEFINITIONS, make_user
from workflows import roles, selectors, services
from workflows.models import Case, Program, RoleGrant, Task, Upload

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ELSEWHERE = "county-clerk"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""


@pytest.fixture
def case(library_card: Program) -> Case:
    return services.case_submit(program=library_card, data=dict(ANSWERS), user=make_user("cora"))


@pytest.fixture
def task(case: Case) -> Task:
    return Task.objects.get(case=case, status=Task.Status.OPEN)


@pytest.fixture
def stranger(db: None) -> User:
    """A librarian, but of another agency's programs."""
    return make_user("stan", "librarian", agency=ELSEWHERE)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------------ another agency: nothing exists


def test_a_librarian_of_another_agency_sees_no_case_and_no_task(task, stranger, librarian):
    assert list(selectors.tasks_visible_to(stranger)) == []
    assert list(selectors.cases_visible_to(stranger)) == []
    assert list(selectors.tasks_visible_to(librarian)) == [task]
    client = signed_in(stranger)
    inbox = client.get(reverse("inbox"))
    assert inbox.status_code == 200
    assert task.case.reference not in inbox.text
    assert client.get(reverse("task", args=[task.pk])).status_code == 404
    assert client.post(reverse("task", args=[task.pk]), {"action": "claim"}).status_code == 404
    task.refresh_from_db()
    assert task.assignee is None


def test_a_librarian_of_another_agency_cannot_download_the_case_files(task, stranger, librarian):
    services.case_add_document(
        task_id=task.pk,
        user=librarian,
        file=SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf"),
        description="proof of address",
    )
    upload = Upload.objects.get(case=task.case, field="")
    url = reverse("task_file", args=[task.pk, upload.public_id])
    assert signed_in(librarian).get(url).status_code == 200
    assert signed_in(stranger).get(url).status_code == 404


def test_services_tell_another_agency_the_task_does_not_exist(task, stranger):
    with pytest.raises(Task.DoesNotExist):
        services.task_claim(task_id=task.pk, user=stranger)
    with pytest.raises(Task.DoesNotExist):
        services.case_add_document(
            task_id=task.pk,
            user=stranger,
            file=SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf"),
            description="",
        )
    with pytest.raises(services.NotAllowed):
        services.case_cancel(case_id=task.case_id, user=stranger, reason="duplicate")


def test_the_api_answers_404_to_another_agency_on_every_object_of_the_case(task, stranger):
    api = Api(token_for(stranger))
    case = task.case
    assert api.get("tasks?scope=available").json() == []
    assert api.get("cases").json()["results"] == []
    assert api.get(f"cases/{case.public_id}").status_code == 404
    assert api.get(f"cases/{case.public_id}/events").status_code == 404
    for action in ("claim", "release", "complete", "reassign"):
        body = {"outcome": "approve"} if action == "complete" else {"to": "stan"} if action == "reassign" else {}
        assert api.post(f"tasks/{task.pk}/{action}", body).status_code == 404, action
    task.refresh_from_db()
    assert (task.status, task.assignee) == ("open", None)


def test_a_task_cannot_be_handed_to_a_librarian_of_another_agency(task, librarian, stranger):
    with pytest.raises(services.ServiceError, match="stan is not a librarian for city-library"):
        services.task_reassign(task_id=task.pk, user=librarian, to_username="stan")
    page = signed_in(librarian).get(reverse("task", args=[task.pk]))
    assert "stan" not in page.text


def test_assisted_applications_are_only_offered_for_the_agencys_programs(library_card, stranger, librarian):
    with pytest.raises(services.NotAllowed):
        services.draft_start(program=library_card, user=stranger, channel="phone", on_behalf_of="Pat")
    assert "library-card" not in signed_in(stranger).get(reverse("assisted_start")).text
    assert "library-card" in signed_in(librarian).get(reverse("assisted_start")).text


# ------------------------------------------------------------------ every agency, queues


def test_a_grant_for_every_agency_reads_every_agencys_cases(task):
    statewide = make_user("sam", "librarian", agency=roles.ALL_AGENCIES)
    assert list(selectors.tasks_visible_to(statewide)) == [task]
    assert roles.holds(statewide, "librarian", agency="city-library")
    assert roles.holds(statewide, "librarian", agency=ELSEWHERE)


def test_a_task_in_a_queue_is_only_for_that_queue_or_the_whole_role(task, librarian):
    Task.objects.filter(pk=task.pk).update(queue="north")
    north = make_user("nina", "librarian", queue="north")
    south = make_user("sol", "librarian", queue="south")
    assert list(selectors.tasks_visible_to(north)) == [task]
    assert list(selectors.tasks_visible_to(librarian)) == [task]
    assert list(selectors.tasks_visible_to(south)) == []
    assert list(selectors.cases_visible_to(south)) == []
    assert list(selectors.cases_visible_to(north)) == [task.case]
    with pytest.raises(services.NotAllowed, match="only a librarian of the north queue can act on this task"):
        services.task_claim(task_id=task.pk, user=south)
    with pytest.raises(services.ServiceError, match="sol is not a librarian of the north queue"):
        services.task_reassign(task_id=task.pk, user=librarian, to_username="sol")
    services.task_claim(task_id=task.pk, user=north)
    task.refresh_from_db()
    assert task.assignee == north


# ------------------------------------------------------------------ supervisors, agency admins, auditors


def test_a_supervisor_lists_every_open_task_of_the_team_and_reads_the_case(task, librarian):
    services.task_claim(task_id=task.pk, user=librarian)
    supervisor = make_user("sue", "supervisor")
    elsewhere = make_user("sid", "supervisor", agency=ELSEWHERE)
    assert list(selectors.tasks_of_scope(supervisor, "team")) == [task]
    assert list(selectors.tasks_of_scope(elsewhere, "team")) == []
    assert list(selectors.tasks_of_scope(librarian, "team")) == []
    assert list(selectors.cases_visible_to(supervisor)) == [task.case]
    api = Api(token_for(supervisor))
    assert [row["id"] for row in api.get("tasks?scope=team").json()] == [task.pk]
    assert api.get(f"cases/{task.case.public_id}").status_code == 200
    assert signed_in(supervisor).get(reverse("task", args=[task.pk])).status_code == 200
    assert Api(token_for(elsewhere)).get(f"cases/{task.case.public_id}").status_code == 404


def test_a_supervisor_of_one_queue_oversees_that_queue_only(task):
    Task.objects.filter(pk=task.pk).update(queue="north")
    assert list(selectors.tasks_of_scope(make_user("sue", "supervisor", queue="north"), "team")) == [task]
    assert list(selectors.tasks_of_scope(make_user("sam", "supervisor", queue="south"), "team")) == []


def test_an_agency_admin_reads_every_case_of_the_agency_but_cannot_decide(task):
    admin = make_user("ada", "agency_admin")
    assert list(selectors.cases_visible_to(admin)) == [task.case]
    assert list(selectors.tasks_of_scope(admin, "team")) == [task]
    with pytest.raises(services.NotAllowed):
        services.task_claim(task_id=task.pk, user=admin)


def test_auditors_read_the_history_of_their_agencys_cases_only(case):
    own = make_user("audrey", "auditor")
    other = make_user("otto", "auditor", agency=ELSEWHERE)
    state = make_user("stella", "auditor", agency=roles.ALL_AGENCIES)
    assert selectors.case_events_visible_to(own, case.public_id).exists()
    assert selectors.case_events_visible_to(state, case.public_id).exists()
    with pytest.raises(Case.DoesNotExist):
        selectors.case_events_visible_to(other, case.public_id)
    assert Api(token_for(other)).get(f"cases/{case.public_id}/events").status_code == 404
    assert Api(token_for(own)).get(f"cases/{case.public_id}/events").status_code == 200


def test_an_auditors_admin_access_log_lists_their_agencys_cases_only(case, librarian):
    services.access_record(user=librarian, case=case, action="viewed", detail={})
    own = make_user("audrey", "auditor")
    other = make_user("otto", "auditor", agency=ELSEWHERE)
    User.objects.filter(pk__in=[own.pk, other.pk]).update(is_staff=True)
    url = reverse("admin:workflows_accesslog_changelist")
    assert case.reference in signed_in(own).get(url).text
    assert case.reference not in signed_in(other).get(url).text


# ------------------------------------------------------------------ grants are the only source


def test_a_group_named_after_a_role_no_longer_gives_it(task):
    grouped = make_user("gus")
    grouped.groups.add(Group.objects.create(name="librarian"))
    assert roles.roles_of(grouped) == frozenset()
    assert list(selectors.tasks_visible_to(grouped)) == []


def test_the_upgrade_turns_each_group_membership_into_a_grant_for_every_agency(library_card):
    from django.apps import apps

    Program.objects.create(slug="permits", title={"en": "Permits"}, agency=ELSEWHERE, reference_prefix="PM")
    grouped = make_user("gus")
    grouped.groups.add(Group.objects.create(name="librarian"))
    upgrade = importlib.import_module("workflows.migrations.0010_rolegrant")
    upgrade.grants_from_groups(apps, None)
    upgrade.grants_from_groups(apps, None)  # running twice adds nothing
    assert sorted(RoleGrant.objects.filter(user=grouped).values_list("role", "agency", "queue")) == [
        ("librarian", "city-library", ""),
        ("librarian", ELSEWHERE, ""),
    ]
    assert roles.holds(grouped, "librarian", agency="city-library")


def test_grants_are_edited_inline_on_the_user_admin_with_clear_errors(db):
    superuser = User.objects.create_superuser("root", "root@example.gov", "correct horse battery staple")
    lena = make_user("lena", "librarian")
    client = signed_in(superuser)
    url = reverse("admin:auth_user_change", args=[lena.pk])
    page = client.get(url)
    assert "role grant" in page.text.lower()
    grant = RoleGrant.objects.get(user=lena)
    form = {
        "username": "lena",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "role_grants-TOTAL_FORMS": "2",
        "role_grants-INITIAL_FORMS": "1",
        "role_grants-MIN_NUM_FORMS": "0",
        "role_grants-MAX_NUM_FORMS": "1000",
        "role_grants-0-id": str(grant.pk),
        "role_grants-0-user": str(lena.pk),
        "role_grants-0-role": "librarian",
        "role_grants-0-agency": "city-library",
        "role_grants-0-queue": "",
        "role_grants-1-user": str(lena.pk),
        "role_grants-1-role": "auditor",
        "role_grants-1-agency": "City Library",
        "role_grants-1-queue": "",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "is not an agency" in refused.text
    form["role_grants-1-agency"] = "*"
    assert client.post(url, form).status_code == 302
    assert sorted(RoleGrant.objects.filter(user=lena).values_list("role", "agency")) == [
        ("auditor", "*"),
        ("librarian", "city-library"),
    ]
