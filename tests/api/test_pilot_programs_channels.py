"""Every shipped program takes every channel with one definition: online (the API here, the web
form in the browser tests), assisted entry by staff at the counter, by phone or from paper."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

import engine
from tests.api.conftest import Api, assert_problem
from tests.conftest import DEFINITIONS, make_user
from workflows import programs, services
from workflows.models import Case, Program

pytestmark = pytest.mark.django_db

PROGRAMS = sorted(folder for folder in DEFINITIONS.iterdir() if (folder / "program.yaml").is_file())
VALID = [(folder, example) for folder in PROGRAMS for example in sorted((folder / "examples").glob("valid*.json"))]
INVALID = [(folder, example) for folder in PROGRAMS for example in sorted((folder / "examples").glob("invalid*.json"))]


def test_every_program_ships_valid_and_invalid_examples():
    assert {folder.name for folder in PROGRAMS} >= {
        "library-card",
        "healthy-families",
        "foia-request",
        "building-permit",
    }
    for folder in PROGRAMS:
        assert any(f == folder for f, _ in VALID), f"{folder.name} has no examples/valid*.json"
        assert any(f == folder for f, _ in INVALID), f"{folder.name} has no examples/invalid*.json"


@pytest.fixture
def published(db) -> None:
    call_command("load-definitions", str(DEFINITIONS), stdout=StringIO(), stderr=StringIO())


def answers_of(example: Path) -> dict[str, Any]:
    answers: dict[str, Any] = json.loads(example.read_text(encoding="utf-8"))
    return answers


def definition_of(program: Program) -> engine.Definition:
    assert program.current_version is not None
    return programs.definition_of(program.current_version)


@pytest.mark.parametrize(("folder", "example"), VALID, ids=lambda value: value.stem if isinstance(value, Path) else "")
def test_each_valid_example_is_accepted_through_the_api(published, folder, example):
    response = Api().post(f"programs/{folder.name}/submissions", answers_of(example))
    assert response.status_code == 201, response.content
    case = Case.objects.get(public_id=response.json()["case"])
    assert (case.channel, case.program.slug) == ("api", folder.name)
    assert case.events.filter(kind="submitted").exists()
    assert response.json()["reference"].startswith(programs.definition_of(case.version).program.reference_prefix)


@pytest.mark.parametrize(
    ("folder", "example"), INVALID, ids=lambda value: value.stem if isinstance(value, Path) else ""
)
def test_each_invalid_example_is_refused_with_every_problem_at_its_answer(published, folder, example):
    body = assert_problem(
        Api().post(f"programs/{folder.name}/submissions", answers_of(example)), 422, "invalid_submission"
    )
    pointers = {error["pointer"] for error in body["errors"]}
    assert len(pointers) >= 2, body["errors"]  # several errors at once, each at its own answer
    assert all(error["code"] and error["message"] for error in body["errors"])
    assert not Case.objects.exists(), "nothing is opened for answers that are not valid"


ASSISTED = (Case.Channel.COUNTER, Case.Channel.PHONE, Case.Channel.PAPER)


@pytest.mark.parametrize("folder", PROGRAMS, ids=lambda folder: folder.name)
def test_every_program_takes_online_api_and_assisted_applications(published, folder):
    channels = definition_of(Program.objects.get(slug=folder.name)).program.channels
    assert {"online", "api"} <= set(channels)
    assert set(ASSISTED) & set(channels)


@pytest.mark.parametrize("channel", ASSISTED)
@pytest.mark.parametrize("folder", PROGRAMS, ids=lambda folder: folder.name)
def test_staff_enter_an_application_for_someone_on_every_channel_the_program_takes(published, folder, channel):
    program = Program.objects.get(slug=folder.name)
    definition = definition_of(program)
    if channel not in definition.program.channels:
        clerk = make_user("clerk", definition.program.roles[0], agency=definition.program.agency)
        example = next(example for f, example in VALID if f == folder)
        with pytest.raises(services.NotAllowed, match="does not take applications"):
            services.case_submit(
                program=program, data=answers_of(example), user=clerk, channel=channel, on_behalf_of="M"
            )
        return
    clerk = make_user("clerk", definition.program.roles[0], agency=definition.program.agency)
    example = next(example for f, example in VALID if f == folder)
    case = services.case_submit(
        program=program, data=answers_of(example), user=clerk, channel=channel, on_behalf_of="Maria Gomez"
    )
    assert (case.channel, case.on_behalf_of, case.submitted_by) == (channel, "Maria Gomez", clerk)
    # Someone holding no role of the program cannot enter applications for others.
    outsider = make_user("outsider", definition.program.roles[0], agency="another-agency")
    with pytest.raises(services.NotAllowed):
        services.case_submit(
            program=program, data=answers_of(example), user=outsider, channel=channel, on_behalf_of="Maria Gomez"
        )


@pytest.mark.parametrize("folder", PROGRAMS, ids=lambda folder: folder.name)
def test_an_online_application_is_the_citizens_own(published, folder):
    program = Program.objects.get(slug=folder.name)
    example = next(example for f, example in VALID if f == folder)
    case = services.case_submit(program=program, data=answers_of(example), user=AnonymousUser())
    assert case.channel == Case.Channel.ONLINE
