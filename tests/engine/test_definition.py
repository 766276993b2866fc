"""Loading definitions: a good program loads; every mistake is reported with its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine
from engine.loading import content_hash
from engine.model import EndStep, HumanStep

LIBRARY_CARD = Path(__file__).resolve().parents[2] / "definitions" / "library-card"

PROGRAM = """\
id: permit
title: {en: Permit, zh-Hans: 许可}
agency: city
reference prefix: PM
roles: [clerk]
"""
FORM = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"})
WORKFLOW = """\
start: review
steps:
  review:
    kind: approval
    title: {en: Review}
    role: clerk
    outcomes:
      approve: done
  done:
    kind: end
    outcome: approved
"""


def files(**overrides: str) -> dict[str, str]:
    base = {"program.yaml": PROGRAM, "form.schema.json": FORM, "workflow.yaml": WORKFLOW}
    base.update({name.replace("__", "."): text for name, text in overrides.items()})
    return base


def problems_of(program_files: dict[str, str]) -> list[str]:
    with pytest.raises(engine.DefinitionError) as caught:
        engine.load(program_files, folder="defs/permit")
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_library_card_program_loads():
    program_files = {
        path.relative_to(LIBRARY_CARD).as_posix(): path.read_text()
        for path in LIBRARY_CARD.rglob("*")
        if path.is_file() and path.relative_to(LIBRARY_CARD).parts[0] not in ("scenarios", "examples")
    }
    definition = engine.load(program_files)
    assert definition.program.id == "library-card"
    assert definition.start == "review"
    review = definition.steps["review"]
    assert isinstance(review, HumanStep)
    assert {outcome: [route.to for route in routes] for outcome, routes in review.outcomes.items()} == {
        "approve": ["issued"],
        "deny": ["refused"],
        "ask_for_proof": ["request_proof"],
    }
    issued = definition.steps["issued"]
    assert isinstance(issued, EndStep)
    assert issued.outcome == "approved"


def test_a_good_definition_is_frozen_and_named_by_its_content_hash():
    definition = engine.load(files())
    assert definition.content_hash == content_hash(files())
    with pytest.raises(AttributeError):
        definition.start = "elsewhere"  # type: ignore[misc]
    with pytest.raises(TypeError):
        definition.steps["new"] = definition.steps["review"]  # type: ignore[index]


def test_any_change_to_any_file_changes_the_hash():
    original = content_hash(files())
    assert content_hash(files(workflow__yaml=WORKFLOW + "\n")) != original
    assert content_hash({**files(), "notes.md": "x"}) != original
    # Moving text between file names must not collide.
    assert content_hash({"a": "bc"}) != content_hash({"ab": "c"})


def test_an_outcome_pointing_at_a_missing_step_is_reported_at_its_line_and_column():
    broken = WORKFLOW.replace("approve: done", "approve: dnoe")
    found = problems_of(files(workflow__yaml=broken))
    assert (
        "defs/permit/workflow.yaml:8:16: unknown_step: outcome 'approve' goes to 'dnoe', which is not a step" in found
    )


def test_every_problem_is_reported_at_once_not_just_the_first():
    broken = WORKFLOW.replace("role: clerk", "role: judge").replace("approve: done", "approve: nowhere")
    found = problems_of(files(workflow__yaml=broken, program__yaml=PROGRAM.replace("PM", "pm")))
    codes = sorted(problem.split(": ")[1] for problem in found)
    assert codes == ["invalid_prefix", "no_way_out", "unknown_role", "unknown_step", "unreachable_step"]


def test_missing_files_are_named():
    found = problems_of({"program.yaml": PROGRAM})
    assert found == [
        "defs/permit/form.schema.json:0:0: missing_file: the program has no form.schema.json",
        "defs/permit/workflow.yaml:0:0: missing_file: the program has no workflow.yaml",
    ]


def test_unknown_keys_and_kinds_are_refused_with_the_expected_words():
    broken = WORKFLOW.replace("kind: end", "kind: stop").replace("role: clerk", "role: clerk\n    rol: x")
    found = problems_of(files(workflow__yaml=broken))
    assert any("unknown_key: unknown key 'rol'" in problem for problem in found)
    assert any(
        "unknown_kind: kind 'stop' is not one of: action, approval, decide, each," in problem for problem in found
    )


def test_titles_need_english_and_real_language_codes():
    found = problems_of(files(program__yaml=PROGRAM.replace("{en: Permit, zh-Hans: 许可}", "{fr: Permis, 1x: y}")))
    assert any("invalid_language: '1x' is not a language code" in problem for problem in found)
    assert any("missing_translation: title has no en text; the program offers en" in problem for problem in found)


def test_a_workflow_without_an_end_is_refused():
    no_end = "start: a\nsteps:\n  a:\n    kind: task\n    title: {en: A}\n    role: clerk\n    outcomes: {done: a}\n"
    assert any(": no_end: " in problem for problem in problems_of(files(workflow__yaml=no_end)))


def test_json_syntax_errors_point_at_the_place():
    found = problems_of(files(form__schema__json='{"type": "object",\n  "x": }'))
    assert found == ["defs/permit/form.schema.json:2:8: json_syntax: Expecting value"]


def test_localized_falls_back_to_the_base_language_then_english():
    title = {"en": "Library card", "zh-Hans": "图书证"}
    assert engine.localized(title, "zh-hans") == "图书证"
    assert engine.localized(title, "zh") == "图书证"
    assert engine.localized(title, "fr") == "Library card"
