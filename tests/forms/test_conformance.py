"""The official JSON-Schema-Test-Suite (draft 2020-12), run through CivicFlow's validator.

Every case of ``shared/conformance/json-schema-test-suite/draft2020-12/*.json`` (and of
``optional/format/*.json`` when that folder is there) is one test, with formats asserted,
as they are for forms. Each case falls in exactly one class:

- **passes**: ``check_schema`` accepts the schema and ``FormValidator`` agrees with the
  suite's verdict;
- **rejected by design, remote**: the schema needs a document that would have to be fetched
  (``refRemote.json``, ``http://localhost:1234/...`` references, a custom meta-schema). Which
  ones is decided by jsonschema-rs itself, built with a retriever that records and refuses;
  ``check_schema`` must refuse exactly those with ``remote_ref``, before building anything;
- **rejected by design, pattern**: a pattern the linear-time regex engine cannot compile
  (look-around, back-references) must be refused with ``invalid_schema`` (ADR 0003);
- **format asserted by design**: the suite's "only an annotation by default" cases expect
  an invalid format to pass; forms assert formats, so these must fail with
  ``invalid_format`` and nothing else;
- **expected divergence**: listed in ``EXPECTED_DIVERGENCES`` with a reason, and must still
  diverge (so a fix upstream shows up as a failure here, to delete the entry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import forms

SUITE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "json-schema-test-suite" / "draft2020-12"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# "file::group description::test description" (a case's id) -> why jsonschema-rs disagrees with the suite.
# Empty with jsonschema-rs 0.61.0 and suite commit 44401e0: every case not rejected by
# design passes.
EXPECTED_DIVERGENCES: dict[str, str] = {}

FORMAT_ANNOTATION_MARK = "is only an annotation by default"


@dataclass(frozen=True)
class Case:
    file: str
    group: int
    description: str
    schema: Any
    data: Any
    valid: bool


def _files() -> list[Path]:
    return sorted(SUITE.glob("*.json")) + sorted((SUITE / "optional" / "format").glob("*.json"))


def _cases() -> list[Case]:
    cases = []
    for path in _files():
        name = path.relative_to(SUITE).as_posix()
        for number, group in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            for test in group["tests"]:
                description = f"{name}::{group['description']}::{test['description']}"
                cases.append(Case(name, number, description, group["schema"], test["data"], test["valid"]))
    return cases


CASES = _cases()


def test_the_suite_is_present():
    assert SUITE.is_dir(), (
        f"the JSON-Schema-Test-Suite is missing: expected {SUITE} "
        "(CI copies shared/ beside the repository clone, as <clone>/../shared)"
    )
    assert len(CASES) > 1000, f"only {len(CASES)} cases found under {SUITE}"


def _refuse(uri: str) -> Any:
    raise OSError(f"not fetched: {uri}")


@cache
def _needs_a_remote_document(file: str, group: int) -> bool:
    """jsonschema-rs's own answer: does building this schema ask for a document?"""
    schema = _schema(file, group)
    asked: list[str] = []

    def record(uri: str) -> Any:
        asked.append(uri)
        raise OSError(f"not fetched: {uri}")

    try:
        jsonschema_rs.validator_for(schema, validate_formats=True, retriever=record)
    except jsonschema_rs.ValidationError as error:
        return bool(asked) or "Unknown meta-schema" in error.message
    return bool(asked)


@cache
def _linear_engine_refuses_pattern(file: str, group: int) -> bool:
    schema = _schema(file, group)

    def builds(options: Any) -> bool:
        try:
            jsonschema_rs.validator_for(schema, pattern_options=options, retriever=_refuse)
        except ValueError:
            return False
        return True

    return not builds(jsonschema_rs.RegexOptions()) and builds(jsonschema_rs.FancyRegexOptions())


@cache
def _schema(file: str, group: int) -> Any:
    return json.loads((SUITE / file).read_text(encoding="utf-8"))[group]["schema"]


@cache
def _checked(file: str, group: int) -> tuple[str, ...]:
    """The codes ``check_schema`` gives, with the draft named where the suite leaves it implicit."""
    schema = _schema(file, group)
    if isinstance(schema, bool):
        return ()  # a form is an object: the boolean schemas are only validated
    return tuple(problem.code for problem in forms.check_schema({"$schema": DRAFT_2020_12, **schema}))


@cache
def _validator(file: str, group: int) -> forms.FormValidator:
    return forms.FormValidator(_schema(file, group))


@pytest.mark.parametrize("case", CASES, ids=[case.description for case in CASES])
def test_official_case(case: Case):
    if _needs_a_remote_document(case.file, case.group):
        assert set(_checked(case.file, case.group)) == {"remote_ref"}
        # Refused before a validator is built (a build failure would be "invalid_schema").
        with pytest.raises(forms.InvalidSchema) as refused:
            forms.FormValidator(case.schema)
        assert {problem.code for problem in refused.value.problems} == {"remote_ref"}
        return
    if _linear_engine_refuses_pattern(case.file, case.group):
        assert set(_checked(case.file, case.group)) == {"invalid_schema"}
        return
    assert _checked(case.file, case.group) == ()
    errors = _validator(case.file, case.group).validate(case.data)
    if FORMAT_ANNOTATION_MARK in case.description and case.valid:
        assert errors, "formats are asserted in forms: an invalid format must be an error"
        assert {error.code for error in errors} == {"invalid_format"}
        return
    agrees = (errors == []) == case.valid
    if case.description in EXPECTED_DIVERGENCES:
        assert not agrees, (
            f"fixed upstream? remove it from EXPECTED_DIVERGENCES: {EXPECTED_DIVERGENCES[case.description]}"
        )
        return
    expected = "valid" if case.valid else "invalid"
    assert agrees, f"the suite says {expected}; CivicFlow says {[(e.pointer, e.code) for e in errors]}"


def test_every_expected_divergence_names_a_case():
    keys = {case.description for case in CASES}
    assert set(EXPECTED_DIVERGENCES) <= keys
