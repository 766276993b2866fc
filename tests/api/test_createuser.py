"""civicflow createuser: staff and system accounts with their roles, and an API token shown once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.api.conftest import Api
from workflows.models import ApiToken, RoleGrant


def createuser(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createuser", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def grants(user: User) -> list[tuple[str, str, str]]:
    return list(
        RoleGrant.objects.filter(user=user).order_by("role", "agency", "queue").values_list("role", "agency", "queue")
    )


@pytest.mark.django_db
def test_creates_a_staff_account_with_its_roles(library_card):
    out, err = createuser(
        "--username", "lena", "--email", "lena@library.example.gov", "--role", "librarian", "--agency", "city-library"
    )
    user = User.objects.get(username="lena")
    assert (user.email, user.is_staff, user.has_usable_password()) == ("lena@library.example.gov", True, False)
    assert grants(user) == [("librarian", "city-library", "")]
    assert out == "created lena (librarian for city-library)\n"
    assert err == ""
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_running_it_again_updates_the_account_and_sets_exactly_the_roles_named(library_card):
    createuser(
        "--username", "lena", "--email", "lena@library.example.gov", "--role", "librarian", "--agency", "city-library"
    )
    out, _ = createuser(
        "--username", "lena", "--email", "l@library.example.gov", "--role", "auditor", "--agency", "city-library"
    )
    user = User.objects.get(username="lena")
    assert out == "updated lena (auditor for city-library)\n"
    assert user.email == "l@library.example.gov"
    assert grants(user) == [("auditor", "city-library", "")]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_with_token_prints_a_working_token_once(library_card):
    out, _ = createuser(
        "--username",
        "kiosk",
        "--email",
        "kiosk@library.example.gov",
        "--role",
        "librarian",
        "--agency",
        "city-library",
        "--token",
    )
    secret = out.splitlines()[-1]
    assert out.splitlines()[1] == "API token (shown once; keep it secret):"
    assert ApiToken.objects.get().name == "kiosk"
    assert secret not in ApiToken.objects.get().token_hash
    assert Api(secret).get("tasks").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "lena", "--email", "not an address"], "'not an address' is not a valid e-mail address"),
        (["--username", "lena wong", "--email", "l@example.gov"], "'lena wong' is not a valid user name"),
        (["--username", " ", "--email", "l@example.gov"], "give a user name"),
        (["--username", "lena", "--email", "l@example.gov", "--role", "librarian"], "--agency is required with --role"),
        (
            ["--username", "lena", "--email", "l@example.gov", "--role", "librarian", "--agency", "City Library"],
            "'City Library' is not an agency",
        ),
        (["--username", "lena", "--email", "l@example.gov", "--queue", "north"], "a queue belongs to an agency"),
        (
            ["--username", "lena", "--email", "l@example.gov", "--role", "Librarian!", "--agency", "x"],
            "not a role name: 'Librarian!'",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        createuser(*args)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_role_no_program_has_is_warned_about(library_card):
    _, err = createuser(
        "--username", "lena", "--email", "l@example.gov", "--role", "libarian", "--agency", "city-library"
    )
    assert err == "warning: no published program has the role 'libarian'\n"


@pytest.mark.django_db
def test_roles_for_one_agency_and_queue_leave_the_grants_elsewhere(library_card):
    createuser("--username", "lena", "--email", "l@example.gov", "--role", "librarian", "--agency", "city-library")
    out, err = createuser(
        "--username", "lena", "--email", "l@example.gov", "--role", "librarian", "--agency", "city-library",
        "--queue", "north",
    )  # fmt: skip
    createuser("--username", "lena", "--email", "l@example.gov", "--role", "auditor", "--agency", "*")
    assert out == "updated lena (librarian for city-library, queue north)\n"
    assert err == ""
    assert grants(User.objects.get(username="lena")) == [
        ("auditor", "*", ""),
        ("librarian", "city-library", ""),
        ("librarian", "city-library", "north"),
    ]


@pytest.mark.django_db
def test_an_agency_no_program_belongs_to_is_warned_about(library_card):
    _, err = createuser(
        "--username", "lena", "--email", "l@example.gov", "--role", "librarian", "--agency", "city-libary"
    )
    assert err == "warning: no program belongs to the agency 'city-libary'\n"
    assert grants(User.objects.get(username="lena")) == [("librarian", "city-libary", "")]
