"""Each pilot program's page shows its workflow as it is now: the picture and the Mermaid text."""

from __future__ import annotations

import html
import re
import textwrap

import pytest

from engine import diagram
from tests.conftest import DEFINITIONS
from workflows import programs

PAGES = DEFINITIONS.parent / "docs" / "programs"
DOCUMENTED = sorted(page.stem for page in PAGES.glob("*.md"))


def definition_of(slug: str):
    definition, problems = programs.check(programs.read_folder(DEFINITIONS / slug), folder=slug)
    assert definition is not None, problems
    return definition


def test_every_pilot_program_has_its_page():
    assert {"healthy-families", "foia-request", "building-permit"} <= set(DOCUMENTED)


@pytest.mark.parametrize("slug", DOCUMENTED)
def test_the_pages_mermaid_text_is_what_the_diagram_command_draws(slug: str):
    page = (PAGES / f"{slug}.md").read_text(encoding="utf-8")
    found = re.search(r"^( *)```mermaid\n(.*?)^\1```\n", page, flags=re.S | re.M)
    assert found is not None, f"{slug}.md has no mermaid block"
    written = textwrap.dedent(found.group(0)).removeprefix("```mermaid\n").removesuffix("```\n")
    assert written.strip() == diagram.mermaid(definition_of(slug)).strip(), (
        f"run: civicflow diagram {slug} and paste it into docs/programs/{slug}.md"
    )


@pytest.mark.parametrize("slug", DOCUMENTED)
def test_the_pages_picture_shows_every_step_of_the_workflow(slug: str):
    page = (PAGES / f"{slug}.md").read_text(encoding="utf-8")
    assert f"]({slug}.svg)" in page
    svg = (PAGES / f"{slug}.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    shown = html.unescape(svg)
    labels = re.findall(r'label="((?:[^"\\]|\\.)*)"', diagram.dot(definition_of(slug)))
    lines = {line.replace('\\"', '"') for label in labels for line in label.split("\\n") if line}
    stale = sorted(line for line in lines if line not in shown)
    assert stale == [], f"the picture is out of date: run make diagrams ({stale[:5]})"


def test_the_picture_files_are_only_those_of_documented_programs():
    pictures = {path.stem for path in PAGES.glob("*.svg")}
    assert pictures <= set(DOCUMENTED) | {folder.name for folder in DEFINITIONS.iterdir()}
