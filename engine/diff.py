"""What changed between two versions of a definition, and which running cases it touches.

Pure: ``diff`` compares two loaded ``Definition`` objects and returns data. Where things
were written (``where``, line and column) is never compared, so moving a step within
``workflow.yaml`` or re-indenting a table is not a change; everything a case can notice is.

Each difference is a ``Change``: a stable ``kind`` code, its ``subject`` and a ``detail``
in words. The codes, with their subject (and detail):

* ``step_added``, ``step_removed`` -- a step, ``flow/step`` in a sub-workflow (its kind)
* ``step_changed`` -- a step (``role clerk -> supervisor``, ``outcome deny removed``, ...)
* ``flow_added``, ``flow_removed`` -- a sub-workflow, taken whole
* ``start_changed`` -- a flow, "" for the main workflow (``review -> screen``)
* ``field_added``, ``field_removed`` -- a form field path such as ``members.*.age`` (its type)
* ``field_changed`` -- a field path (``type string -> integer``, ``optional -> required``)
* ``notice_added``, ``notice_removed``, ``notice_changed`` -- a notice (``text changed (en)``)
* ``table_added``, ``table_removed``, ``table_changed`` -- a table (``hit policy first -> unique``)
* ``clock_added``, ``clock_removed``, ``clock_changed`` -- a clock (``limit 10 days -> 15 days``)
* ``escalation_*``, ``condition_*`` -- likewise for escalations and named conditions
* ``role_added``, ``role_removed``, ``language_added``, ``language_removed`` -- program.yaml
* ``calendar_changed`` -- the calendar's id (``holidays changed``)
* ``default_outcome_changed`` -- "" (``completed -> closed``)

A changed step yields one ``step_changed`` per aspect that differs, in a fixed order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.model import Compiled, Definition, HumanStep, Panel, Route, Step, Trigger

if TYPE_CHECKING:
    from engine.runtime import CaseState

_IGNORED = frozenset({"where", "line", "col"})
"""Fields that say where something was written, not what it means."""

_STEP_FIELDS_SHOWN_FIRST = ("name", "kind", "title", "status")

_LABELS: Mapping[str, str] = {
    # model field -> the words a designer wrote in workflow.yaml
    "split": "joins",
    "item_name": "as",
    "assign_to": "assign from",
    "pauses_clocks": "pause clocks",
    "extend_clock": "extend clock",
    "paused_while_waiting": "paused while waiting for citizen",
}

_NOUNS: Mapping[str, str] = {
    "step": "step",
    "flow": "sub-workflow",
    "field": "field",
    "notice": "notice",
    "table": "table",
    "clock": "clock",
    "escalation": "escalation",
    "condition": "condition",
    "role": "role",
    "language": "language",
    "calendar": "calendar",
}


@dataclass(frozen=True)
class Change:
    """One difference: a stable ``kind`` code, what it concerns, and the words for people."""

    kind: str
    subject: str
    detail: str


@dataclass(frozen=True)
class DefinitionDiff:
    """Every change from the definition ``old_hash`` to ``new_hash``, in a stable order."""

    old_hash: str
    new_hash: str
    changes: tuple[Change, ...]

    def of_kind(self, *kinds: str) -> tuple[Change, ...]:
        """The changes whose ``kind`` is one of ``kinds``."""
        return tuple(change for change in self.changes if change.kind in kinds)

    @property
    def unchanged(self) -> bool:
        """No difference a case or a person could notice."""
        return not self.changes

    @property
    def steps_added(self) -> tuple[str, ...]:
        return _subjects(self.of_kind("step_added"))

    @property
    def steps_removed(self) -> tuple[str, ...]:
        return _subjects(self.of_kind("step_removed"))

    @property
    def steps_changed(self) -> tuple[str, ...]:
        return _subjects(self.of_kind("step_changed"))

    @property
    def fields_added(self) -> tuple[str, ...]:
        return _subjects(self.of_kind("field_added"))

    @property
    def fields_removed(self) -> tuple[str, ...]:
        return _subjects(self.of_kind("field_removed"))

    @property
    def fields_changed(self) -> tuple[str, ...]:
        return _subjects(self.of_kind("field_changed"))

    @property
    def notices_changed(self) -> tuple[str, ...]:
        """Notices added, removed or changed."""
        return _subjects(self.of_kind("notice_added", "notice_removed", "notice_changed"))

    @property
    def tables_changed(self) -> tuple[str, ...]:
        """Tables added, removed or changed."""
        return _subjects(self.of_kind("table_added", "table_removed", "table_changed"))

    @property
    def clocks_changed(self) -> tuple[str, ...]:
        """Clocks added, removed or changed."""
        return _subjects(self.of_kind("clock_added", "clock_removed", "clock_changed"))


def _subjects(changes: Iterable[Change]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(change.subject for change in changes))


def step_subject(flow: str, step: str) -> str:
    """How a step is named in a ``Change``: ``review``, or ``checks/review`` in sub-workflow ``checks``."""
    return f"{flow}/{step}" if flow else step


# ================================================================== diff


def diff(old: Definition, new: Definition) -> DefinitionDiff:
    """Every change from ``old`` to ``new``, in this order: program, flows and steps, form
    fields, notices, tables, clocks, escalations, conditions, calendar, default outcome."""
    changes: list[Change] = []
    changes.extend(_program_changes(old, new))
    changes.extend(_flow_changes(old, new))
    changes.extend(_field_changes(old.form_schema, new.form_schema))
    changes.extend(_notice_changes(old.notices, new.notices))
    changes.extend(_named_changes("table", old.tables, new.tables, _table_details))
    changes.extend(_named_changes("clock", old.clocks, new.clocks, _record_details))
    changes.extend(_named_changes("escalation", old.escalations, new.escalations, _record_details))
    changes.extend(_named_changes("condition", old.conditions, new.conditions, _condition_details))
    changes.extend(_calendar_changes(old.calendar, new.calendar))
    if old.default_outcome != new.default_outcome:
        changes.append(Change("default_outcome_changed", "", f"{old.default_outcome} -> {new.default_outcome}"))
    return DefinitionDiff(old.content_hash, new.content_hash, tuple(changes))


def _program_changes(old: Definition, new: Definition) -> Iterator[Change]:
    for what, before, after in (
        ("role", old.program.roles, new.program.roles),
        ("language", old.program.languages, new.program.languages),
    ):
        yield from (Change(f"{what}_removed", item, "") for item in before if item not in after)
        yield from (Change(f"{what}_added", item, "") for item in after if item not in before)


def _flow_changes(old: Definition, new: Definition) -> Iterator[Change]:
    for name in old.flows:
        if name not in new.flows:
            yield Change("flow_removed", name, "")
    for name in new.flows:
        if name not in old.flows:
            yield Change("flow_added", name, "")
    for name, flow in old.flows.items():
        if name not in new.flows:
            continue  # a whole sub-workflow removed is one change, not one per step
        after = new.flows[name]
        if flow.start != after.start:
            yield Change("start_changed", name, f"{flow.start} -> {after.start}")
        for step in flow.steps.values():
            if step.name not in after.steps:
                yield Change("step_removed", step_subject(name, step.name), step.kind)
        for step in after.steps.values():
            if step.name not in flow.steps:
                yield Change("step_added", step_subject(name, step.name), step.kind)
        for step in after.steps.values():
            if step.name in flow.steps:
                for detail in _step_details(flow.steps[step.name], step):
                    yield Change("step_changed", step_subject(name, step.name), detail)


def _step_details(old: Step, new: Step) -> list[str]:
    """What differs between two versions of one step, one phrase per aspect."""
    details: list[str] = []
    if old.kind != new.kind:
        details.append(f"kind {old.kind} -> {new.kind}")
    details.extend(_text_details("title", old.title, new.title))
    details.extend(_text_details("status", old.status or {}, new.status or {}))
    if type(old) is not type(new):
        return details  # different kinds share no other keys worth comparing
    details.extend(_record_details(old, new, skip=_STEP_FIELDS_SHOWN_FIRST))
    return details


def _record_details(old: Any, new: Any, *, skip: Iterable[str] = ("name",), prefix: str = "") -> list[str]:
    """Compare two dataclass instances of one type field by field, in declaration order."""
    details: list[str] = []
    skipped = set(skip) | _IGNORED
    for spec in dataclasses.fields(old):
        if spec.name in skipped or not spec.compare:
            continue
        label = prefix + _LABELS.get(spec.name, spec.name.replace("_", " "))
        before, after = getattr(old, spec.name), getattr(new, spec.name)
        if spec.name == "outcomes" and isinstance(before, Mapping) and isinstance(after, Mapping):
            details.extend(_outcome_details(prefix, before, after))
        elif spec.name == "extend_clock":
            shown = [_show(value) if value is None else f"{value[0]} by {value[1]}" for value in (before, after)]
            if shown[0] != shown[1]:
                details.append(f"{label} {shown[0]} -> {shown[1]}")
        elif spec.name in ("compute", "set"):
            details.extend(_keyed_details(label, dict(before), dict(after)))
        elif isinstance(before, HumanStep) and isinstance(after, HumanStep):
            details.extend(_text_details("task title", before.title, after.title))
            details.extend(_record_details(before, after, skip=_STEP_FIELDS_SHOWN_FIRST, prefix="task "))
        elif _show(before) != _show(after):
            details.append(f"{label} {_show(before)} -> {_show(after)}")
    return details


def _outcome_details(prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    details = [f"{prefix}outcome {name} removed" for name in old if name not in new]
    details += [f"{prefix}outcome {name} added -> {_show(new[name])}" for name in new if name not in old]
    details += [
        f"{prefix}outcome {name} {_show(old[name])} -> {_show(new[name])}"
        for name in new
        if name in old and _show(old[name]) != _show(new[name])
    ]
    return details


def _keyed_details(label: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    details = [f"{label} {name} removed" for name in old if name not in new]
    details += [f"{label} {name} added: {_show(new[name])}" for name in new if name not in old]
    details += [
        f"{label} {name} {_show(old[name])} -> {_show(new[name])}"
        for name in new
        if name in old and _show(old[name]) != _show(new[name])
    ]
    return details


def _text_details(label: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """``title 'Review' -> 'Check'`` for English, ``title (es) ...`` for other languages."""
    details = []
    for language in sorted(set(old) | set(new), key=lambda code: (code != "en", code)):
        before, after = old.get(language), new.get(language)
        if before != after:
            where = label if language == "en" else f"{label} ({language})"
            details.append(f"{where} {_quoted(before)} -> {_quoted(after)}")
    return details


def _quoted(text: str | None) -> str:
    return "none" if text is None else repr(text)


def _show(value: Any) -> str:
    """A value as a designer would write it; equal meanings give equal words."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, Compiled):
        return " ".join(value.source.split())
    if isinstance(value, Route):
        return value.to if value.when is None else f"{value.to} if {_show(value.when)}"
    if isinstance(value, Trigger):
        if value.kind == "after":
            return f"after {value.duration} -> {value.to}"
        if value.kind == "until":
            return f"until {_show(value.until)} -> {value.to}"
        return f"event {value.event} -> {value.to}"
    if isinstance(value, Panel):
        return f"{value.size} seats, quorum {value.quorum}"
    if isinstance(value, tuple):
        if not value:
            return "none"
        if all(isinstance(item, Route | Trigger) for item in value):
            return "; ".join(_show(item) for item in value)
        return ", ".join(_show(item) for item in value)
    return str(value)  # Duration and other values with their own words


def _named_changes(
    noun: str, old: Mapping[str, Any], new: Mapping[str, Any], details: Callable[[Any, Any], list[str]]
) -> Iterator[Change]:
    for name, item in old.items():
        if name not in new:
            yield Change(f"{noun}_removed", name, _summary(item))
    for name, item in new.items():
        if name not in old:
            yield Change(f"{noun}_added", name, _summary(item))
    for name, item in new.items():
        if name in old:
            for detail in details(old[name], item):
                yield Change(f"{noun}_changed", name, detail)


def _summary(item: Any) -> str:
    if isinstance(item, Compiled):
        return _show(item)
    limit = getattr(item, "limit", None)
    return f"limit {limit}" if limit is not None else ""


def _condition_details(old: Compiled, new: Compiled) -> list[str]:
    return [] if _show(old) == _show(new) else [f"{_show(old)} -> {_show(new)}"]


def _table_details(old: Any, new: Any) -> list[str]:
    """Per top-level table field; versions by their effective date."""
    if _plain(old) == _plain(new):
        return []
    if not dataclasses.is_dataclass(old) or type(old) is not type(new):
        return ["contents changed"]
    details: list[str] = []
    for spec in dataclasses.fields(old):
        before, after = getattr(old, spec.name), getattr(new, spec.name)
        if spec.name in _IGNORED or not spec.compare or _plain(before) == _plain(after):
            continue
        label = spec.name.replace("_", " ")
        if spec.name == "versions":
            details.extend(_version_details(before, after))
        elif spec.name in ("title", "domain") or not _simple(before) or not _simple(after):
            details.append(f"{label} changed")
        else:
            details.append(f"{label} {_show(before)} -> {_show(after)}")
    return details or ["contents changed"]


def _simple(value: Any) -> bool:
    return isinstance(value, str | int | float | type(None)) or (
        isinstance(value, tuple) and all(isinstance(item, str) for item in value)
    )


def _version_details(old: Iterable[Any], new: Iterable[Any]) -> list[str]:
    before = {str(getattr(version, "effective_from", index)): version for index, version in enumerate(old)}
    after = {str(getattr(version, "effective_from", index)): version for index, version in enumerate(new)}
    details = [f"version from {day} removed" for day in before if day not in after]
    details += [f"version from {day} added" for day in after if day not in before]
    details += [
        f"version from {day} changed" for day in after if day in before and _plain(before[day]) != _plain(after[day])
    ]
    return details


def _plain(value: Any) -> Any:
    """A comparable form without source positions or caches: dataclasses become tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                (spec.name, _plain(getattr(value, spec.name)))
                for spec in dataclasses.fields(value)
                if spec.compare and spec.name not in _IGNORED
            ),
        )
    if isinstance(value, Mapping):
        return tuple(sorted(((repr(key), _plain(item)) for key, item in value.items()), key=lambda pair: pair[0]))
    if isinstance(value, tuple | list):
        return tuple(_plain(item) for item in value)
    if isinstance(value, frozenset | set):
        return tuple(sorted(repr(_plain(item)) for item in value))
    return value


def _calendar_changes(old: Any, new: Any) -> Iterator[Change]:
    if _plain(old) == _plain(new):
        return
    old_id, new_id = getattr(old, "id", ""), getattr(new, "id", "")
    if old_id != new_id:
        yield Change("calendar_changed", str(new_id), f"calendar {old_id} -> {new_id}")
        return
    for name in ("weekend", "holidays", "closures", "timezone"):
        if _plain(getattr(old, name, None)) != _plain(getattr(new, name, None)):
            yield Change("calendar_changed", str(new_id), f"{name} changed")


# ------------------------------------------------------------------ form fields


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    before, after = form_fields(old), form_fields(new)
    for path, (kind, _) in before.items():
        if path not in after:
            yield Change("field_removed", path, kind)
    for path, (kind, required) in after.items():
        if path not in before:
            yield Change("field_added", path, f"{kind}, required" if required else kind)
    for path, (kind, required) in after.items():
        if path in before:
            old_kind, old_required = before[path]
            if old_kind != kind:
                yield Change("field_changed", path, f"type {old_kind} -> {kind}")
            if old_required != required:
                yield Change("field_changed", path, "optional -> required" if required else "required -> optional")


MAX_SCHEMA_DEPTH = 32


def form_fields(schema: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """Every field of a form schema: ``path -> (type, required)``, in the order written.

    Paths join property names with dots, with ``*`` for the items of an array
    (``members.*.age``). ``properties`` are followed through ``items``, local ``$ref``
    (``#/$defs/...``), ``allOf``/``anyOf``/``oneOf`` and ``if``/``then``/``else``; a field
    described in several places lists each distinct type, joined by ``or``.
    """
    types: dict[str, list[str]] = {}
    required: dict[str, bool] = {}

    def note(path: str, node: Mapping[str, Any], is_required: bool) -> None:
        kinds = types.setdefault(path, [])
        kind = _type_of(node)
        if kind and kind not in kinds:
            kinds.append(kind)
        required[path] = required.get(path, False) or is_required

    def walk(node: Any, path: str, refs: tuple[str, ...], depth: int) -> None:
        if not isinstance(node, Mapping) or depth > MAX_SCHEMA_DEPTH:
            return
        node, refs = _resolved(schema, node, refs)
        names = node.get("required", [])
        properties = node.get("properties", {})
        if isinstance(properties, Mapping):
            for name, child in properties.items():
                child_path = f"{path}.{name}" if path else str(name)
                if isinstance(child, Mapping):
                    resolved, _ = _resolved(schema, child, refs)
                    note(child_path, resolved, isinstance(names, list) and name in names)
                walk(child, child_path, refs, depth + 1)
        items = node.get("items")
        if isinstance(items, Mapping):
            item_path = f"{path}.*" if path else "*"
            resolved, _ = _resolved(schema, items, refs)
            note(item_path, resolved, False)
            walk(items, item_path, refs, depth + 1)
        for key in ("allOf", "anyOf", "oneOf"):
            branches = node.get(key, [])
            for branch in branches if isinstance(branches, list) else []:
                walk(branch, path, refs, depth + 1)
        for key in ("then", "else"):
            walk(node.get(key), path, refs, depth + 1)

    walk(schema, "", (), 0)
    return {path: (" or ".join(kinds) or "any", required[path]) for path, kinds in types.items()}


def _resolved(
    root: Mapping[str, Any], node: Mapping[str, Any], refs: tuple[str, ...]
) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """``node`` with a local ``$ref`` merged in (its own keys win); cycles stop following."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#") or ref in refs:
        return node, refs
    target: Any = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return node, refs
    if not isinstance(target, Mapping):
        return node, refs
    inner, inner_refs = _resolved(root, target, (*refs, ref))
    merged = {**inner, **{key: value for key, value in node.items() if key != "$ref"}}
    return merged, inner_refs


def _type_of(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        words = "|".join(str(item) for item in kind)
    elif isinstance(kind, str):
        words = kind
    elif "enum" in node:
        words = "enum"
    elif "const" in node:
        words = "const"
    else:
        return ""
    fmt = node.get("format")
    return f"{words} ({fmt})" if isinstance(fmt, str) else words


# ------------------------------------------------------------------ notices


def _notice_changes(old: Mapping[str, Mapping[str, str]], new: Mapping[str, Mapping[str, str]]) -> Iterator[Change]:
    for name, texts in old.items():
        if name not in new:
            yield Change("notice_removed", name, ", ".join(sorted(texts)))
    for name, texts in new.items():
        if name not in old:
            yield Change("notice_added", name, ", ".join(sorted(texts)))
    for name, texts in new.items():
        if name not in old:
            continue
        before = old[name]
        removed = sorted(language for language in before if language not in texts)
        added = sorted(language for language in texts if language not in before)
        edited = sorted(language for language in texts if language in before and before[language] != texts[language])
        if edited:
            yield Change("notice_changed", name, f"text changed ({', '.join(edited)})")
        if added:
            yield Change("notice_changed", name, f"language added ({', '.join(added)})")
        if removed:
            yield Change("notice_changed", name, f"language removed ({', '.join(removed)})")


# ================================================================== running cases


def affected(diff: DefinitionDiff, states: Iterable[CaseState]) -> list[tuple[int, str]]:
    """Which running cases the change would touch, as ``(index in states, reason)``.

    A case is touched when one of its tokens waits at a step that was removed or
    changed (or in a sub-workflow that was removed), or when one of its statutory
    clocks is running and that clock was removed or changed. One entry per token or
    clock, in the order of ``states``. Only cases that are ``running`` on the old
    version (``definition_hash == diff.old_hash``) are considered: a case on another
    version is not described by this diff.
    """
    removed_flows = {change.subject for change in diff.of_kind("flow_removed")}
    removed_steps = {change.subject for change in diff.of_kind("step_removed")}
    changed_steps: dict[str, list[str]] = {}
    for change in diff.of_kind("step_changed"):
        changed_steps.setdefault(change.subject, []).append(change.detail)
    removed_clocks = {change.subject for change in diff.of_kind("clock_removed")}
    changed_clocks: dict[str, list[str]] = {}
    for change in diff.of_kind("clock_changed"):
        changed_clocks.setdefault(change.subject, []).append(change.detail)

    found: list[tuple[int, str]] = []
    for index, state in enumerate(states):
        if state.status != "running" or state.definition_hash != diff.old_hash:
            continue
        for token in state.tokens:
            subject = step_subject(token.flow, token.step)
            if token.flow and token.flow in removed_flows:
                found.append((index, f"token {token.id} waits at {subject!r}, in a sub-workflow that was removed"))
            elif subject in removed_steps:
                found.append((index, f"token {token.id} waits at {subject!r}, which was removed"))
            elif subject in changed_steps:
                found.append(
                    (
                        index,
                        f"token {token.id} waits at {subject!r}, which changed: {'; '.join(changed_steps[subject])}",
                    )
                )
        for clock in state.clocks:
            if clock in removed_clocks:
                found.append((index, f"clock {clock!r} is running and was removed"))
            elif clock in changed_clocks:
                found.append((index, f"clock {clock!r} is running and changed: {'; '.join(changed_clocks[clock])}"))
    return found


def describe(diff: DefinitionDiff) -> str:
    """The changes as lines for people: ``+`` added, ``-`` removed, ``~`` changed."""
    return "".join(_line(change) + "\n" for change in diff.changes)


def _line(change: Change) -> str:
    what, _, how = change.kind.rpartition("_")
    if change.kind == "start_changed":
        where = f"sub-workflow {change.subject!r}" if change.subject else "the workflow"
        return f"~ start of {where}: {change.detail}"
    if change.kind == "default_outcome_changed":
        return f"~ default outcome: {change.detail}"
    noun = _NOUNS.get(what, what.replace("_", " "))
    if how == "added":
        return f"+ {noun} {change.subject!r} added" + (f" ({change.detail})" if change.detail else "")
    if how == "removed":
        return f"- {noun} {change.subject!r} removed"
    return f"~ {noun} {change.subject!r}: {change.detail}"
