"""Diagrams of a definition: Mermaid text for the docs and the designer, DOT for Graphviz.

Pure like the rest of ``engine``: both functions return text and render nothing. Each
flow is first described once as neutral nodes and edges (``_Graph``); the two writers
only differ in syntax and escaping, so the pictures always agree.

Shapes by kind (Mermaid / DOT):

* task, approval, each: rounded rectangle, title then role (and extras) on later lines
* decide: rhombus / diamond
* action: rectangle / box
* notice: parallelogram
* parallel, join: circle with ``+``
* wait: hexagon; request information: stadium / hexagon, with the duration
* subworkflow: subroutine ``[[...]]`` / double-bordered box, with a dotted edge to the
  sub-workflow it runs
* end: double circle with the outcome; finish: small circle
* the start of each flow: a circle ``start`` / a point

Node ids are the flow's prefix (``main`` or ``sub_<name>``), two underscores and the
step name; every character outside ``[A-Za-z0-9_]`` is replaced by ``_xNN_`` so that a
hand-built definition cannot break the syntax. The prefix also keeps a step called
``end`` (a Mermaid keyword) from ending a subgraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.model import (
    Compiled,
    DecideStep,
    Definition,
    EachStep,
    EndStep,
    FinishStep,
    Flow,
    HumanStep,
    JoinStep,
    NoticeStep,
    ParallelStep,
    RequestStep,
    Route,
    Step,
    SubworkflowStep,
    Trigger,
    WaitStep,
    localized,
)

CONDITION_LIMIT = 40
"""Route conditions longer than this many characters are cut, ending with an ellipsis."""

_START = "_start"  # step names start with a letter, so this suffix cannot clash with one


@dataclass(frozen=True)
class _Node:
    id: str
    shape: str  # "human", "decide", "action", "notice", "gateway", "wait", "request", "call", "end", "finish", "start"
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    label: str = ""
    dotted: bool = False


@dataclass(frozen=True)
class _Graph:
    flow: str
    id: str
    title: str
    nodes: tuple[_Node, ...]
    edges: tuple[_Edge, ...]
    calls: tuple[_Edge, ...]  # dotted edges into other flows, drawn after every flow


def mermaid(definition: Definition, *, language: str = "en") -> str:
    """A Mermaid ``flowchart TD`` of the main workflow, with each sub-workflow as a ``subgraph``.

    Titles are given in ``language`` (falling back to English, then to the step name).
    Every label is quoted and its special characters written as Mermaid entity codes
    (``#quot;``, ``#lt;``, ``#124;`` ...), so a title cannot change the diagram's structure.
    """
    lines = ["flowchart TD"]
    graphs = _graphs(definition, language)
    for graph in graphs:
        indent = "    "
        if graph.flow:
            lines.append(f'    subgraph {graph.id} ["{_mermaid_text(graph.title)}"]')
            lines.append("        direction TD")
            indent = "        "
        lines.extend(indent + _mermaid_node(node) for node in graph.nodes)
        lines.extend(indent + _mermaid_edge(edge) for edge in graph.edges)
        if graph.flow:
            lines.append("    end")
    lines.extend("    " + _mermaid_edge(edge) for graph in graphs for edge in graph.calls)
    return "\n".join(lines) + "\n"


def dot(definition: Definition, *, language: str = "en") -> str:
    """Graphviz DOT text of the same diagram, for ``dot -Tsvg``; sub-workflows are clusters."""
    name = _dot_text(definition.program.id)
    lines = [
        f'digraph "{name}" {{',
        "    rankdir=TB;",
        '    graph [fontname="Helvetica", fontsize=12];',
        f'    label="{_dot_text(localized(definition.program.title, language))}";',
        "    labelloc=t;",
        '    node [fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    graphs = _graphs(definition, language)
    for graph in graphs:
        indent = "    "
        if graph.flow:
            lines.append(f'    subgraph "cluster_{graph.id}" {{')
            lines.append(f'        label="{_dot_text(graph.title)}";')
            lines.append("        style=dashed;")
            indent = "        "
        lines.extend(indent + _dot_node(node) for node in graph.nodes)
        lines.extend(indent + _dot_edge(edge) for edge in graph.edges)
        if graph.flow:
            lines.append("    }")
    lines.extend("    " + _dot_edge(edge) for graph in graphs for edge in graph.calls)
    lines.append("}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the neutral graph


def _graphs(definition: Definition, language: str) -> list[_Graph]:
    """The main flow first, then the sub-workflows in the order they were written."""
    ordered = [name for name in definition.flows if name == ""] + [name for name in definition.flows if name]
    return [_graph(definition, definition.flows[name], language) for name in ordered]


def _flow_id(flow: str) -> str:
    return "main" if not flow else f"sub_{_safe(flow)}"


def _node_id(flow: str, step: str) -> str:
    return f"{_flow_id(flow)}__{_safe(step)}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", lambda match: f"_x{ord(match.group()):x}_", name)


def _graph(definition: Definition, flow: Flow, language: str) -> _Graph:
    start_id = _node_id(flow.name, _START)
    nodes = [_Node(start_id, "start", ("start",))]
    edges = [_Edge(start_id, _node_id(flow.name, flow.start))]
    calls: list[_Edge] = []
    for step in flow.steps.values():
        node_id = _node_id(flow.name, step.name)
        nodes.append(_Node(node_id, *_shape_and_lines(step, language)))
        for target, label in _exits(step):
            edges.append(_Edge(node_id, _node_id(flow.name, target), label))
        if isinstance(step, SubworkflowStep) and step.run in definition.flows:
            calls.append(_Edge(node_id, _node_id(step.run, _START), "runs", dotted=True))
    title = f"sub-workflow {flow.name}" if flow.name else localized(definition.program.title, language)
    return _Graph(flow.name, _flow_id(flow.name), title, tuple(nodes), tuple(edges), tuple(calls))


def _title(step: Step, language: str) -> str:
    return localized(step.title, language) or step.name


def _human_lines(step: HumanStep) -> list[str]:
    who = " → ".join(step.levels) if step.levels else step.role
    if step.panel is not None:
        who += f" ×{step.panel.size}, quorum {step.panel.quorum}"
    lines = [who]
    if step.due is not None:
        lines.append(f"due in {step.due}")
    return lines


def _shape_and_lines(step: Step, language: str) -> tuple[str, tuple[str, ...]]:
    title = _title(step, language)
    if isinstance(step, HumanStep):
        return "human", (title, *_human_lines(step))
    if isinstance(step, EachStep):
        items = f"for each {_condition(step.over)}" if step.over is not None else f"{step.count} times"
        task_title = _title(step.task, language) if step.task.title and not step.title else title
        return "human", (task_title, *_human_lines(step.task), items)
    if isinstance(step, DecideStep):
        return "decide", (title,) if step.table is None else (title, f"table {step.table}")
    if isinstance(step, NoticeStep):
        return "notice", (title, f"notice {step.notice} to {step.to}")
    if isinstance(step, ParallelStep):
        return "gateway", ("+",) if not step.title else ("+", title)
    if isinstance(step, JoinStep):
        lines = ["+"] if not step.title else ["+", title]
        if step.wait_for != "all":
            lines.append(f"wait for {step.wait_for}")
        return "gateway", tuple(lines)
    if isinstance(step, WaitStep):
        durations = [str(trigger.duration) for trigger in step.triggers if trigger.kind == "after"]
        return "wait", (title, ", ".join(durations)) if durations else (title,)
    if isinstance(step, RequestStep):
        return "request", (title, f"expires after {step.expires_after}")
    if isinstance(step, SubworkflowStep):
        return "call", (title, f"runs {step.run}")
    if isinstance(step, EndStep):
        return "end", (step.outcome,) if not step.title else (title, step.outcome)
    if isinstance(step, FinishStep):
        return "finish", (title if step.title else "finish",)
    return "action", (title,)  # ActionStep, and any kind added later


def _condition(compiled: Compiled | None) -> str:
    if compiled is None:
        return ""
    source = " ".join(compiled.source.split())
    return source if len(source) <= CONDITION_LIMIT else source[: CONDITION_LIMIT - 1] + "…"


def _route_labels(routes: tuple[Route, ...], prefix: str = "") -> list[tuple[str, str]]:
    """A label per route: its condition, or "otherwise" for the default after conditions."""
    conditional = any(route.when is not None for route in routes)
    found: list[tuple[str, str]] = []
    for route in routes:
        if route.when is not None:
            words = _condition(route.when)
        elif conditional and len(routes) > 1:
            words = "otherwise"
        else:
            words = ""
        label = f"{prefix}: {words}" if prefix and words else prefix or words
        found.append((route.to, label))
    return found


def _trigger_label(trigger: Trigger) -> str:
    if trigger.kind == "after":
        return f"after {trigger.duration}"
    if trigger.kind == "until":
        return f"until {_condition(trigger.until)}"
    return f"event: {trigger.event}"


def _exits(step: Step) -> list[tuple[str, str]]:
    """Every (target, label) pair leaving ``step``, in the order it was written."""
    if isinstance(step, HumanStep):
        return [pair for outcome, routes in step.outcomes.items() for pair in _route_labels(routes, outcome)]
    if isinstance(step, DecideStep):
        return _route_labels(step.routes)
    if isinstance(step, ParallelStep):
        return [(route.to, _condition(route.when)) for route in step.branches]
    if isinstance(step, WaitStep):
        return [(trigger.to, _trigger_label(trigger)) for trigger in step.triggers]
    if isinstance(step, RequestStep):
        return [(step.on_answer, "answered"), (step.on_expiry, f"no answer in {step.expires_after}")]
    if isinstance(step, SubworkflowStep):
        return [(target, outcome) for outcome, target in step.outcomes.items()]
    return [(target, "") for target in step.targets()]


# ------------------------------------------------------------------ Mermaid

_MERMAID_ENTITIES = {
    ord(char): code
    for char, code in {
        "#": "#35;",  # first in meaning: an unescaped # would start an entity code
        "&": "#amp;",
        '"': "#quot;",
        "<": "#lt;",
        ">": "#gt;",
        "|": "#124;",
        "[": "#91;",
        "]": "#93;",
        "{": "#123;",
        "}": "#125;",
        "`": "#96;",  # a leading backtick would make a Markdown string
        "\n": " ",
        "\r": " ",
    }.items()
}

_MERMAID_SHAPES: dict[str, tuple[str, str]] = {
    "human": ("(", ")"),
    "decide": ("{", "}"),
    "action": ("[", "]"),
    "notice": ("[/", "/]"),
    "gateway": ("((", "))"),
    "wait": ("{{", "}}"),
    "request": ("([", "])"),
    "call": ("[[", "]]"),
    "end": ("(((", ")))"),
    "finish": ("((", "))"),
    "start": ("((", "))"),
}


def _mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label: specials as entity codes, one line."""
    return text.translate(_MERMAID_ENTITIES)


def _mermaid_node(node: _Node) -> str:
    opening, closing = _MERMAID_SHAPES[node.shape]
    label = "<br/>".join(_mermaid_text(line) for line in node.lines)
    return f'{node.id}{opening}"{label}"{closing}'


def _mermaid_edge(edge: _Edge) -> str:
    arrow = "-.->" if edge.dotted else "-->"
    if not edge.label:
        return f"{edge.source} {arrow} {edge.target}"
    return f'{edge.source} {arrow}|"{_mermaid_text(edge.label)}"| {edge.target}'


# ------------------------------------------------------------------ DOT

_DOT_SHAPES: dict[str, str] = {
    "human": "shape=box, style=rounded",
    "decide": "shape=diamond",
    "action": "shape=box",
    "notice": "shape=parallelogram",
    "gateway": "shape=circle",
    "wait": "shape=hexagon",
    "request": "shape=hexagon, style=rounded",
    "call": "shape=box, peripheries=2",
    "end": "shape=doublecircle",
    "finish": "shape=circle, width=0.3, fontsize=9",
    "start": 'shape=point, width=0.2, xlabel="start"',
}


def _dot_text(text: str) -> str:
    """Text safe inside a double-quoted DOT string; backslashes cannot start an escape."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _dot_node(node: _Node) -> str:
    label = "\\n".join(_dot_text(line) for line in node.lines)
    return f'"{node.id}" [{_DOT_SHAPES[node.shape]}, label="{label}"];'


def _dot_edge(edge: _Edge) -> str:
    attributes = [f'label="{_dot_text(edge.label)}"'] if edge.label else []
    if edge.dotted:
        attributes.append("style=dashed")
    suffix = f" [{', '.join(attributes)}]" if attributes else ""
    return f'"{edge.source}" -> "{edge.target}"{suffix};'
