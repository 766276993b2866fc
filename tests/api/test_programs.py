"""GET /api/v1/programs and /api/v1/programs/{slug}: what a partner needs to build the form."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem


@pytest.mark.django_db
def test_the_catalogue_lists_published_programs_with_their_current_version(library_card, anonymous):
    response = anonymous.get("programs")
    assert response.status_code == 200
    [program] = response.json()
    version = library_card.current_version
    assert program["slug"] == "library-card"
    assert program["title"] == {"en": "Library card", "zh-Hans": "图书证"}
    assert program["languages"] == ["en", "zh-Hans"]
    assert program["version"]["content_hash"] == version.content_hash
    assert program["version"]["published_at"].startswith(str(version.published_at.year))
    assert program["url"] == "/api/v1/programs/library-card"
    assert program["submissions_url"] == "/api/v1/programs/library-card/submissions"


@pytest.mark.django_db
def test_a_program_comes_with_its_form_schema_and_its_ui_in_each_language(library_card, anonymous):
    response = anonymous.get("programs/library-card")
    assert response.status_code == 200
    program = response.json()
    assert program["form_schema"]["properties"]["full_name"]["title"] == "Full name"
    assert set(program["ui"]) == {"en", "zh-Hans"}
    english = [field for page in program["ui"]["en"]["pages"] for field in page["fields"]]
    chinese = [field for page in program["ui"]["zh-Hans"]["pages"] for field in page["fields"]]
    full_name_en = next(field for field in english if field["name"] == "full_name")
    full_name_zh = next(field for field in chinese if field["name"] == "full_name")
    assert full_name_en["label"] == "Full name"
    assert full_name_zh["label"] == "全名"
    assert full_name_en["widget"] == "text"
    assert [page["id"] for page in program["ui"]["en"]["pages"]] == [
        page["id"] for page in program["ui"]["zh-Hans"]["pages"]
    ]


@pytest.mark.django_db
def test_an_unknown_program_is_a_404_problem(anonymous):
    assert_problem(anonymous.get("programs/no-such-program"), 404, "not_found")


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_404_problem_not_the_html_page(anonymous):
    assert_problem(anonymous.get("nothing-here"), 404, "not_found")


@pytest.mark.django_db
def test_a_wrong_method_is_a_405_problem(library_card, anonymous):
    response = anonymous.post("programs", {})
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD, OPTIONS"
