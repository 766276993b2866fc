"""The YAML reader refuses what could hurt (threat T4) and keeps line/column marks."""

from __future__ import annotations

import pytest

from engine import DefinitionError
from engine.source import MAX_TEXT_BYTES, parse_yaml

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def refusal(text: str) -> str:
    with pytest.raises(DefinitionError) as caught:
        parse_yaml("w.yaml", text)
    (problem,) = caught.value.problems
    return str(problem)


def test_values_remember_where_they_were_written():
    document = parse_yaml("w.yaml", "steps:\n  review:\n    role: clerk\n")
    assert document.data == {"steps": {"review": {"role": "clerk"}}}
    assert document.marks[("steps", "review", "role")] == (3, 11)
    problem = document.problem(("steps", "review", "missing", "deeper"), "x", "y")
    assert (problem.line, problem.col) == (3, 5)


def test_an_alias_bomb_is_refused_before_it_expands():
    assert len(ALIAS_BOMB.encode()) < 600
    assert refusal(ALIAS_BOMB) == "w.yaml:1:4: yaml_anchor: anchors (&name) are not allowed"


def test_aliases_alone_are_refused():
    assert refusal("a: *x\n").startswith("w.yaml:")  # an undefined alias is still an alias


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo hacked']\n",
        "a: !!python/name:os.system\n",
        "a: !custom thing\n",
        "a: !!binary aGVsbG8=\n",
    ],
)
def test_tags_are_refused(text: str):
    assert "yaml_tag: the tag" in refusal(text)


def test_duplicate_keys_are_refused_instead_of_silently_keeping_the_last():
    assert refusal("role: clerk\nrole: judge\n") == "w.yaml:2:1: duplicate_key: the key 'role' appears twice"


def test_oversized_files_are_refused():
    assert "file_too_large" in refusal("a: " + "x" * MAX_TEXT_BYTES)


def test_syntax_errors_have_a_place():
    assert refusal("a: [1, 2\nb: c\n").startswith("w.yaml:2:")


def test_dates_stay_text_so_data_round_trips_through_json():
    assert parse_yaml("w.yaml", "from: 2026-01-01\n").data == {"from": "2026-01-01"}
