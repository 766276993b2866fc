"""The designer's routes: check a program folder's files, publish them, read the versions (issue 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import ANSWERS, Api, assert_problem, token_for
from tests.conftest import DEFINITIONS, make_user
from workflows import programs, roles, services
from workflows.api.designer import MAX_FILE_CHARS, MAX_FILES
from workflows.models import Case, DefinitionVersion, Notice, Program, Task

FOLDER = DEFINITIONS / "library-card"


def library_card_files() -> dict[str, str]:
    """The shipped program folder, as a designer's upload would carry it."""
    return programs.read_folder(FOLDER)


def with_new_approval_notice(files: dict[str, str]) -> dict[str, str]:
    """Another version of the program: the approval notice says one more thing."""
    changed = dict(files)
    changed["notices/approval.en.md"] += "\nBring this letter to any branch.\n"
    return changed


@pytest.fixture
def designer_api(db) -> Api:
    return Api(token_for(make_user("dana", "designer")))


@pytest.fixture
def agency_scoped_designers(monkeypatch):
    """Designer roles scoped to one agency each (user name -> agency), as agency-aware roles answer."""
    agencies: dict[str, str] = {}
    unscoped = roles.holds

    def holds(user: roles.Actor, role: str, *, agency: str | None = None) -> bool:
        if role != "designer":
            return unscoped(user, role, agency=agency)
        home = agencies.get(user.get_username()) if user.is_authenticated else None
        return home is not None and agency in {None, home}

    monkeypatch.setattr(roles, "holds", holds)
    return agencies


# -------------------------------------------------------------------- check


@pytest.mark.django_db
def test_checking_a_sound_folder_says_ok_with_the_hash_it_would_publish(designer_api):
    response = designer_api.post("definitions/check", {"files": library_card_files()})
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["ok"] is True
    assert report["program"] == "library-card"
    assert [problem for problem in report["problems"] if problem["severity"] == "error"] == []
    assert report["current_version"] is None
    assert report["diff"] is None
    assert Program.objects.count() == 0  # checking stores nothing
    expected, _ = programs.check(library_card_files(), folder="")
    assert expected is not None
    assert report["content_hash"] == expected.content_hash


@pytest.mark.django_db
def test_check_reports_every_problem_with_its_code_file_and_line(designer_api):
    files = library_card_files()
    files["workflow.yaml"] = files["workflow.yaml"].replace("approve: issued", "approve: isued")
    del files["form.schema.json"]
    response = designer_api.post("definitions/check", {"files": files})
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is False
    assert report["content_hash"] is None
    by_code = {problem["code"]: problem for problem in report["problems"]}
    assert by_code["missing_file"]["file"] == "form.schema.json"
    assert by_code["missing_file"]["severity"] == "error"
    # The same problems, in the same words, as civicflow check prints for the folder.
    _, cli_problems = programs.check(files, folder="")
    assert [(p["code"], p["file"], p["location"]["line"], p["message"]) for p in report["problems"]] == [
        (problem.code, problem.path, problem.line, problem.message) for problem in cli_problems
    ]


@pytest.mark.django_db
def test_check_shows_the_changes_against_the_published_version_and_the_running_cases(library_card, designer_api):
    services.case_submit(program=library_card, data=ANSWERS, user=make_user("cara"))
    response = designer_api.post("definitions/check", {"files": with_new_approval_notice(library_card_files())})
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert report["current_version"] == library_card.current_version.content_hash
    diff = report["diff"]
    assert diff["against"] == library_card.current_version.content_hash
    assert diff["unchanged"] is False
    assert {(change["kind"], change["subject"]) for change in diff["changes"]} == {("notice_changed", "approval")}
    assert diff["running_cases"] == 1

    same = designer_api.post("definitions/check", {"files": library_card_files()}).json()
    assert same["diff"]["unchanged"] is True
    assert same["diff"]["changes"] == []


# -------------------------------------------------------------------- refused uploads


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("/etc/passwd.yaml", "unsafe_path"),
        ("../program.yaml", "unsafe_path"),
        ("notices/../../secrets.md", "unsafe_path"),
        ("notices/./approval.en.md", "unsafe_path"),
        ("notices//approval.en.md", "unsafe_path"),
        ("C:\\program.yaml", "unsafe_path"),
        ("notices\\approval.en.md", "unsafe_path"),
        ("", "unsafe_path"),
        ("secrets/key.yaml", "unknown_file_kind"),
        ("scenarios/approve.yaml", "unknown_file_kind"),
        ("notes.yaml", "unknown_file_kind"),
        ("notices/logo.png", "unknown_file_kind"),
        ("notices/.hidden.md", "unknown_file_kind"),
    ],
)
def test_paths_outside_a_program_folder_are_refused(designer_api, name, code):
    files = {**library_card_files(), name: "text"}
    body = assert_problem(designer_api.post("definitions/check", {"files": files}), 400, code)
    assert repr(name) in body["detail"]


@pytest.mark.django_db
def test_binary_and_malformed_uploads_are_refused_with_a_400(designer_api):
    binary = {**library_card_files(), "notices/approval.en.md": "PK\x03\x04\x00\x00binary"}
    body = assert_problem(designer_api.post("definitions/check", {"files": binary}), 400, "binary_file")
    assert "notices/approval.en.md" in body["detail"]
    not_text = {**library_card_files(), "program.yaml": {"id": "library-card"}}
    assert_problem(designer_api.post("definitions/check", {"files": not_text}), 400, "not_text")
    assert_problem(designer_api.post("definitions/check", {"files": ["program.yaml"]}), 400, "no_files")
    assert_problem(designer_api.post("definitions/check", {}), 400, "no_files")
    extra = {"files": library_card_files(), "publish": True}
    assert_problem(designer_api.post("definitions/check", extra), 400, "unknown_field")


@pytest.mark.django_db
def test_too_many_files_or_a_too_large_file_is_a_413(designer_api):
    many = {f"notices/n{index}.en.md": "hello" for index in range(MAX_FILES + 1)}
    assert_problem(designer_api.post("definitions/check", {"files": many}), 413, "too_many_files")
    huge = {**library_card_files(), "notices/approval.en.md": "a" * (MAX_FILE_CHARS + 1)}
    body = assert_problem(designer_api.post("definitions/check", {"files": huge}), 413, "file_too_large")
    assert "notices/approval.en.md" in body["detail"]


@pytest.mark.django_db
def test_the_designer_routes_have_their_own_body_limit(designer_api, settings):
    files = library_card_files()
    size = len(json.dumps({"files": files}))
    # Larger than what a submission may send, yet a program folder fits.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = size // 2
    settings.CIVICFLOW_DEFINITION_MAX_BYTES = size * 4
    assert designer_api.post("definitions/check", {"files": files}).status_code == 200
    settings.CIVICFLOW_DEFINITION_MAX_BYTES = size // 2
    body = assert_problem(designer_api.post("definitions/check", {"files": files}), 413, "body_too_large")
    assert f"{size // 2:,}" in body["detail"]


# -------------------------------------------------------------------- publish


@pytest.mark.django_db
def test_publishing_makes_a_version_that_is_listed_and_used_by_the_next_submission(designer_api, anonymous):
    response = designer_api.post("programs/library-card/versions", {"files": library_card_files()})
    assert response.status_code == 201, response.content
    version = response.json()
    assert version["program"] == "library-card"
    assert version["published_by"] == "dana"
    assert version["current"] is True
    assert version["running_cases"] == 0
    assert version["files"]["program.yaml"] == library_card_files()["program.yaml"]

    [listed] = designer_api.get("programs/library-card/versions").json()
    assert (listed["content_hash"], listed["published_by"], listed["current"]) == (
        version["content_hash"],
        "dana",
        True,
    )
    assert listed["published_at"] == version["published_at"]
    assert "files" not in listed

    receipt = anonymous.post("programs/library-card/submissions", ANSWERS)
    assert receipt.status_code == 201
    case = Case.objects.get(public_id=receipt.json()["case"])
    assert case.version.content_hash == version["content_hash"]
    [listed] = designer_api.get("programs/library-card/versions").json()
    assert listed["running_cases"] == 1

    one = designer_api.get(f"programs/library-card/versions/{version['content_hash']}")
    assert one.status_code == 200
    assert one.json()["files"] == version["files"]
    assert_problem(designer_api.get("programs/library-card/versions/0123abcd"), 404, "not_found")


@pytest.mark.django_db
def test_publishing_the_same_files_again_answers_200_with_the_version_already_there(designer_api):
    first = designer_api.post("programs/library-card/versions", {"files": library_card_files()}).json()
    again = Api(token_for(make_user("devi", "designer")))
    response = again.post("programs/library-card/versions", {"files": library_card_files()})
    assert response.status_code == 200
    assert response.json()["content_hash"] == first["content_hash"]
    assert response.json()["published_by"] == "dana"  # who published it first
    assert DefinitionVersion.objects.count() == 1


@pytest.mark.django_db
def test_publishing_files_with_errors_is_a_422_listing_every_problem_and_stores_nothing(designer_api):
    files = library_card_files()
    files["workflow.yaml"] = files["workflow.yaml"].replace("approve: issued", "approve: isued")
    del files["form.schema.json"]
    response = designer_api.post("programs/library-card/versions", {"files": files})
    body = assert_problem(response, 422, "definition_has_errors")
    codes = {problem["code"] for problem in body["errors"]}
    assert "missing_file" in codes
    assert all({"code", "message", "file", "location", "severity"} <= set(problem) for problem in body["errors"])
    assert Program.objects.count() == 0
    assert DefinitionVersion.objects.count() == 0


@pytest.mark.django_db
def test_the_program_in_the_path_must_be_the_one_in_program_yaml(designer_api):
    response = designer_api.post("programs/book-club/versions", {"files": library_card_files()})
    body = assert_problem(response, 422, "program_mismatch")
    assert "library-card" in body["detail"]
    assert Program.objects.count() == 0


@pytest.mark.django_db
def test_replaces_refuses_a_publish_when_someone_published_in_between(library_card, designer_api):
    checked_against = library_card.current_version.content_hash
    services.definition_publish(
        files=with_new_approval_notice(library_card_files()), folder="", published_by="someone-else"
    )
    mine = library_card_files()
    mine["notices/denial.en.md"] += "\nYou may apply again in a year.\n"
    response = designer_api.post("programs/library-card/versions", {"files": mine, "replaces": checked_against})
    body = assert_problem(response, 409, "conflict")
    assert checked_against[:12] in body["detail"]
    assert DefinitionVersion.objects.count() == 2

    current = Program.objects.get(slug="library-card").current_version
    assert current is not None
    response = designer_api.post("programs/library-card/versions", {"files": mine, "replaces": current.content_hash})
    assert response.status_code == 201
    # A new program is published against "" (nothing yet); anything else is a conflict.
    assert_problem(
        designer_api.post("programs/library-card/versions", {"files": library_card_files(), "replaces": ""}),
        409,
        "conflict",
    )


@pytest.mark.django_db
def test_running_cases_stay_on_their_version_when_a_new_one_is_published(library_card, designer_api, librarian):
    v1 = library_card.current_version
    case = services.case_submit(program=library_card, data=ANSWERS, user=make_user("cara"))
    response = designer_api.post(
        "programs/library-card/versions",
        {"files": with_new_approval_notice(library_card_files()), "replaces": v1.content_hash},
    )
    assert response.status_code == 201
    v2 = response.json()["content_hash"]
    assert v2 != v1.content_hash

    listed = {row["content_hash"]: row for row in designer_api.get("programs/library-card/versions").json()}
    assert (listed[v2]["current"], listed[v2]["running_cases"]) == (True, 0)
    assert (listed[v1.content_hash]["current"], listed[v1.content_hash]["running_cases"]) == (False, 1)

    # The case started on v1 finishes on v1: its approval notice is v1's.
    task = Task.objects.get(case=case)
    services.task_claim(task_id=task.pk, user=librarian)
    services.task_complete(task_id=task.pk, user=librarian, outcome="approve")
    case.refresh_from_db()
    assert case.version_id == v1.pk
    assert case.status == Case.Status.CLOSED
    approval = Notice.objects.get(case=case, name="approval")
    assert "Good news" in approval.body
    assert "Bring this letter" not in approval.body
    new_case = services.case_submit(
        program=Program.objects.get(slug="library-card"), data=ANSWERS, user=make_user("cole")
    )
    assert new_case.version.content_hash == v2


# -------------------------------------------------------------------- who may


@pytest.mark.django_db
def test_only_designers_may_check_publish_and_read_versions(library_card, anonymous, librarian_api, no_role_api):
    upload = {"files": library_card_files()}
    for path in ("definitions/check", "programs/library-card/versions"):
        assert_problem(anonymous.post(path, upload), 401, "not_authenticated")
        assert_problem(no_role_api.post(path, upload), 403, "not_allowed")
        assert_problem(librarian_api.post(path, upload), 403, "not_designer")
    hash_ = library_card.current_version.content_hash
    for path in ("programs/library-card/versions", f"programs/library-card/versions/{hash_}"):
        assert_problem(anonymous.get(path), 401, "not_authenticated")
        assert_problem(librarian_api.get(path), 403, "not_designer")
    assert DefinitionVersion.objects.count() == 1


@pytest.mark.django_db
def test_a_designer_works_only_on_the_programs_of_their_agency(library_card, agency_scoped_designers):
    agency_scoped_designers.update({"lib": "city-library", "parks": "city-parks"})
    library_designer = Api(token_for(make_user("lib", "designer")))
    parks_designer = Api(token_for(make_user("parks", "designer")))
    changed = {"files": with_new_approval_notice(library_card_files())}

    assert_problem(parks_designer.post("definitions/check", changed), 403, "not_designer")
    assert_problem(parks_designer.post("programs/library-card/versions", changed), 403, "not_designer")
    assert_problem(parks_designer.get("programs/library-card/versions"), 404, "not_found")
    # Taking the program over by declaring one's own agency in program.yaml is refused too.
    moved = dict(changed["files"])
    moved["program.yaml"] = moved["program.yaml"].replace("agency: city-library", "agency: city-parks")
    assert_problem(parks_designer.post("programs/library-card/versions", {"files": moved}), 403, "not_designer")

    assert library_designer.post("definitions/check", changed).status_code == 200
    assert library_designer.post("programs/library-card/versions", changed).status_code == 201
    assert len(library_designer.get("programs/library-card/versions").json()) == 2


@pytest.mark.django_db
def test_a_designer_creates_a_new_program_only_for_their_own_agency(agency_scoped_designers):
    agency_scoped_designers["parks"] = "city-parks"
    parks_designer = Api(token_for(make_user("parks", "designer")))
    files: dict[str, Any] = library_card_files()
    assert_problem(parks_designer.post("programs/library-card/versions", {"files": files}), 403, "not_designer")
    assert Program.objects.count() == 0
    files["program.yaml"] = files["program.yaml"].replace("agency: city-library", "agency: city-parks")
    response = parks_designer.post("programs/library-card/versions", {"files": files})
    assert response.status_code == 201
    assert Program.objects.get(slug="library-card").agency == "city-parks"
