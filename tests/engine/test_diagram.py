"""Diagrams: the Mermaid and DOT text a designer or operator renders, shapes, labels and escaping."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.diagram import dot, mermaid
from engine.loading import load
from engine.model import Definition

PROGRAM = """\
id: permit
title: {en: Permit, zh-Hans: 许可}
agency: city
reference prefix: AB
languages: [en, zh-Hans]
roles: [clerk, supervisor]
"""
FORM = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "age": {"type": "integer"},
            "urgent": {"type": "boolean"},
            "decision_date": {"type": "string", "format": "date"},
            "household": {"type": "object", "properties": {"members": {"type": "array"}}},
        },
    }
)

SMALL = """\
start: screen
steps:
  screen:
    kind: decide
    routes:
      - when: age >= 18
        to: review
      - to: refused
  review:
    kind: approval
    title: {en: Review, zh-Hans: 审核}
    role: clerk
    outcomes: {approve: issued, deny: refused}
  issued: {kind: end, outcome: approved}
  refused: {kind: end, outcome: denied}
"""

EVERY_KIND = """\
start: intake
steps:
  intake:
    kind: task
    title: {en: Intake, zh-Hans: 受理}
    role: clerk
    due: 5 business days
    outcomes:
      done:
        - when: urgent and age >= 18 and age <= 120 and age != 42
          to: fast
        - to: split
  fast: {kind: action, set: {track: "'fast'"}, next: tell}
  tell: {kind: notice, notice: receipt, to: citizen, next: split}
  split:
    kind: parallel
    branches:
      - {when: age >= 65, to: ask}
      - {to: signing}
  ask:
    kind: request information
    title: {en: Send pay slips, zh-Hans: 寄送工资单}
    notice: receipt
    expires after: 20 days
    on answer: gather
    on expiry: gather
  signing:
    kind: each
    count: 2
    task: {title: {en: Sign, zh-Hans: 签字}, role: supervisor, outcomes: [signed]}
    next: gather
  gather: {kind: join, joins: split, wait for: first, next: pause}
  pause:
    kind: wait
    any of:
      - {after: 10 business days, to: visit}
      - {event: paid, to: visit}
  visit: {kind: subworkflow, run: site_visit, outcomes: {passed: issued, failed: stop}}
  issued: {kind: end, outcome: approved}
  stop: {kind: finish}
subworkflows:
  site_visit:
    start: end
    steps:
      end:
        kind: task
        title: {en: Visit the site, zh-Hans: 实地查看}
        role: clerk
        outcomes: {pass: passed, fail: failed}
      passed: {kind: end, outcome: passed}
      failed: {kind: end, outcome: failed}
"""


def definition(workflow: str, **extra: str) -> Definition:
    return load(
        {
            "program.yaml": PROGRAM,
            "form.schema.json": FORM,
            "workflow.yaml": textwrap.dedent(workflow),
            "notices/receipt.en.md": "# We have your application.",
            "notices/receipt.zh-Hans.md": "# 我们已收到您的申请。",
            **extra,
        }
    )


def with_review_title(title: str) -> Definition:
    """The small program with the review step titled ``title`` (JSON is YAML, so any text fits)."""
    quoted = json.dumps(title, ensure_ascii=False)
    workflow = SMALL.replace("{en: Review, zh-Hans: 审核}", f"{{en: {quoted}, zh-Hans: {quoted}}}")
    return definition(workflow)


def test_mermaid_draws_a_small_flow_with_a_shape_per_kind_and_labelled_edges():
    assert mermaid(definition(SMALL)) == textwrap.dedent(
        """\
        flowchart TD
            main___start(("start"))
            main__screen{"screen"}
            main__review("Review<br/>clerk")
            main__issued((("approved")))
            main__refused((("denied")))
            main___start --> main__screen
            main__screen -->|"age #gt;= 18"| main__review
            main__screen -->|"otherwise"| main__refused
            main__review -->|"approve"| main__issued
            main__review -->|"deny"| main__refused
        """
    )


def test_dot_draws_the_same_small_flow():
    assert dot(definition(SMALL)) == textwrap.dedent(
        """\
        digraph "permit" {
            rankdir=TB;
            graph [fontname="Helvetica", fontsize=12];
            label="Permit";
            labelloc=t;
            node [fontname="Helvetica", fontsize=11];
            edge [fontname="Helvetica", fontsize=10];
            "main___start" [shape=point, width=0.2, xlabel="start", label="start"];
            "main__screen" [shape=diamond, label="screen"];
            "main__review" [shape=box, style=rounded, label="Review\\nclerk"];
            "main__issued" [shape=doublecircle, label="approved"];
            "main__refused" [shape=doublecircle, label="denied"];
            "main___start" -> "main__screen";
            "main__screen" -> "main__review" [label="age >= 18"];
            "main__screen" -> "main__refused" [label="otherwise"];
            "main__review" -> "main__issued" [label="approve"];
            "main__review" -> "main__refused" [label="deny"];
        }
        """
    )


def test_titles_are_given_in_the_requested_language():
    drawn = mermaid(definition(SMALL), language="zh-hans")
    assert 'main__review("审核<br/>clerk")' in drawn
    assert 'main__review("Review<br/>clerk")' in mermaid(definition(SMALL), language="fr")  # English otherwise


def test_every_kind_has_its_shape_and_every_exit_its_label():
    drawn = mermaid(definition(EVERY_KIND)).splitlines()
    for line in (
        '    main__intake("Intake<br/>clerk<br/>due in 5 business days")',
        '    main__fast["fast"]',
        '    main__tell[/"tell<br/>notice receipt to citizen"/]',
        '    main__split(("+"))',
        '    main__ask(["Send pay slips<br/>expires after 20 days"])',
        '    main__signing("Sign<br/>supervisor<br/>2 times")',
        '    main__gather(("+<br/>wait for first"))',
        '    main__pause{{"pause<br/>10 business days"}}',
        '    main__visit[["visit<br/>runs site_visit"]]',
        '    main__issued((("approved")))',
        '    main__stop(("finish"))',
        # a long condition is cut to 40 characters, the last an ellipsis
        '    main__intake -->|"done: urgent and age #gt;= 18 and age #lt;= 120 and…"| main__fast',
        '    main__intake -->|"done: otherwise"| main__split',
        '    main__split -->|"age #gt;= 65"| main__ask',
        "    main__split --> main__signing",
        '    main__ask -->|"answered"| main__gather',
        '    main__ask -->|"no answer in 20 days"| main__gather',
        '    main__pause -->|"after 10 business days"| main__visit',
        '    main__pause -->|"event: paid"| main__visit',
        '    main__visit -->|"passed"| main__issued',
        '    main__visit -->|"failed"| main__stop',
    ):
        assert line in drawn


def test_a_sub_workflow_is_a_subgraph_that_the_calling_step_runs():
    drawn = mermaid(definition(EVERY_KIND))
    subgraph = drawn[drawn.index("    subgraph") :]
    assert subgraph.splitlines() == [
        '    subgraph sub_site_visit ["sub-workflow site_visit"]',
        "        direction TD",
        '        sub_site_visit___start(("start"))',
        '        sub_site_visit__end("Visit the site<br/>clerk")',
        '        sub_site_visit__passed((("passed")))',
        '        sub_site_visit__failed((("failed")))',
        "        sub_site_visit___start --> sub_site_visit__end",
        '        sub_site_visit__end -->|"pass"| sub_site_visit__passed',
        '        sub_site_visit__end -->|"fail"| sub_site_visit__failed',
        "    end",
        '    main__visit -.->|"runs"| sub_site_visit___start',
    ]
    # The step named "end" is prefixed, so only the subgraph's own closing line reads "end".
    assert [line.strip() for line in drawn.splitlines()].count("end") == 1
    assert 'subgraph "cluster_sub_site_visit" {' in dot(definition(EVERY_KIND))


def test_hostile_titles_are_written_as_mermaid_entity_codes():
    drawn = mermaid(with_review_title('"quote" <b>|pipe]'))
    assert 'main__review("#quot;quote#quot; #lt;b#gt;#124;pipe#93;<br/>clerk")' in drawn
    hostile = mermaid(with_review_title("a #lt; {b} [c] `d` & e"))
    assert 'main__review("a #35;lt; #123;b#125; #91;c#93; #96;d#96; #amp; e<br/>clerk")' in hostile


def test_hostile_titles_are_escaped_in_dot():
    drawn = dot(with_review_title('"quote" <b>|pipe] \\n'))
    assert '"main__review" [shape=box, style=rounded, label="\\"quote\\" <b>|pipe] \\\\n\\nclerk"];' in drawn


MERMAID_NODE = re.compile(r'^    main__review\("(?P<label>[^"|<>\[\]{}`]*)<br/>clerk"\)$', re.MULTILINE)
MERMAID_ENTITIES = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}
DOT_NODE = re.compile(
    r'^    "main__review" \[shape=box, style=rounded, label="(?P<label>(?:[^"\\]|\\.)*)"\];$', re.MULTILINE
)


def unescape_mermaid(label: str) -> str:
    """What Mermaid shows for a label: ``#35;`` and ``#quot;`` become the characters."""
    return re.sub(r"#(\w+);", lambda m: chr(int(m[1])) if m[1].isdigit() else MERMAID_ENTITIES[m[1]], label)


def unescape_dot(label: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], label)


titles = st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs")), min_size=1, max_size=30).filter(
    lambda text: text.strip() == text and text != ""
)


@settings(max_examples=60, deadline=None)
@given(titles)
def test_any_title_reads_back_unchanged_from_either_format(title):
    """No title can add a node, an edge or a shape: the label is one token that decodes to the title."""
    drawn = with_review_title(title)
    mermaid_label = MERMAID_NODE.search(mermaid(drawn))
    assert mermaid_label is not None
    assert unescape_mermaid(mermaid_label["label"]) == title
    dot_label = DOT_NODE.search(dot(drawn))
    assert dot_label is not None
    assert unescape_dot(dot_label["label"]) == f"{title}\nclerk"


def test_graphviz_renders_the_dot_text_to_svg_showing_every_title():
    program = definition(EVERY_KIND)
    hostile = with_review_title('"quote" <b>|pipe] & \\')
    for drawn, titles_shown in (
        (program, ["Intake", "Send pay slips", "Sign", "Visit the site", "sub-workflow site_visit"]),
        (hostile, ['"quote" <b>|pipe] & \\']),
    ):
        result = subprocess.run(
            ["dot", "-Tsvg"], input=dot(drawn), capture_output=True, text=True, check=True, timeout=60
        )
        svg = ET.fromstring(result.stdout)  # noqa: S314 -- our own dot's output of our own text
        texts = {element.text for element in svg.iter("{http://www.w3.org/2000/svg}text")}
        for title in titles_shown:
            assert title in texts


def test_chains_panels_lists_and_dates_show_on_their_nodes_and_edges():
    drawn = mermaid(
        definition(
            """\
            start: chain
            steps:
              chain:
                kind: approval
                title: {en: Sign off, zh-Hans: 签批}
                levels: [clerk, supervisor]
                outcomes: {approve: board, deny: hold}
              board:
                kind: approval
                title: {en: Board vote, zh-Hans: 委员会表决}
                role: supervisor
                panel: {size: 3, quorum: 2}
                outcomes: {approve: members, deny: hold}
              members:
                kind: each
                title: {en: Members, zh-Hans: 成员}
                over: household.members
                task: {title: {en: Call, zh-Hans: 致电}, role: clerk, outcomes: [called]}
                next: hold
              hold: {kind: wait, until: decision_date, next: done}
              done: {kind: end, title: {en: Done, zh-Hans: 完成}, outcome: approved}
            """
        )
    ).splitlines()
    for line in (
        '    main__chain("Sign off<br/>clerk → supervisor")',
        '    main__board("Board vote<br/>supervisor ×3, quorum 2")',
        '    main__members("Members<br/>clerk<br/>for each household.members")',
        '    main__hold{{"hold"}}',
        '    main__hold -->|"until decision_date"| main__done',
        '    main__done((("Done<br/>approved")))',
    ):
        assert line in drawn
