"""Moving a running case from one version of its program to another, on purpose.

Pure, like the rest of the engine: ``migrate_state`` takes a case's saved state, the two
``Definition`` objects and a *step map* (old step name -> new step name; steps it does not
name keep their names), and returns the state rewritten for the new version together with
every problem found. It never half-migrates: when any problem is an error, the state comes
back unchanged and the caller must not save anything.

What names a step in a ``CaseState``, and so is rewritten:

* each token's ``step`` (the step it waits at);
* each group's ``step`` (the parallel split, panel, each or sub-workflow call that opened it);
* the keys of ``completed_by`` (who did which step: separation of duties reads it);
* the entries of ``path`` (the route taken so far, ``flow/step`` in a sub-workflow);
* the data the engine wrote under a step's name: a task's or approval's record (``review``),
  an approval chain (``review_chain``), a panel's votes (``review_votes``), a citizen's
  answer to a request, a sub-workflow call's outcome. Answers from the application form keep
  their names, even when a step has the same name.

Timers name no step (they point at a token, or at a clock by name), so they stay as they are;
a wait's timer points at the wait's trigger by its position, which is checked instead.

The step map names a step of a sub-workflow as ``flow/step`` (as ``civicflow diff`` does);
the new name is a plain step name in the same sub-workflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from engine.model import (
    Definition,
    EachStep,
    HumanStep,
    JoinStep,
    ParallelStep,
    RequestStep,
    Step,
    SubworkflowStep,
    WaitStep,
)
from engine.problems import DefinitionError, Problem
from engine.runtime import CaseState, Group, Token
from engine.source import parse_yaml

StepMap = Mapping[str, str]
"""Old step -> new step; ``flow/step`` for a step of a sub-workflow."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_TIME_TRIGGERS = ("after", "until")
_GROUP_KINDS: Mapping[str, type[Step]] = {
    "split": ParallelStep,
    "panel": HumanStep,
    "each": EachStep,
    "call": SubworkflowStep,
}
_DATA_SUFFIXES = ("", "_chain", "_votes")
"""A step writes its record under its name, an approval chain and a panel's votes under these suffixes."""


@dataclass(frozen=True)
class MigrationProblem:
    """Why a case cannot move (``error``), or what to look at once it has (``warning``).

    ``code`` is stable and snake_case; ``message`` says what is wrong in words.
    """

    code: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        return f"{label}{self.code}: {self.message}"


def _subject(flow: str, step: str) -> str:
    return f"{flow}/{step}" if flow else step


def _split(subject: str) -> tuple[str, str]:
    flow, _, step = subject.rpartition("/")
    return flow, step


# ================================================================== the step map


def parse_step_map(path: str, text: str) -> dict[str, str]:
    """Read a step map file (YAML, read as safely as definitions are).

    The file holds one key, ``steps``, mapping old step names to new ones::

        steps:
          review: first_review
          site_visit/visit: inspect    # a step of the sub-workflow site_visit

    Raises ``DefinitionError`` with every problem, each located ``path:line:col``.
    """
    document = parse_yaml(path, text)
    raw = document.data
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise DefinitionError([document.problem((), "invalid_type", "a step map is a mapping with the key 'steps'")])
    problems: list[Problem] = [
        document.problem((key,), "unknown_key", f"unknown key {key!r}; a step map has only 'steps'")
        for key in raw
        if key != "steps"
    ]
    steps = raw.get("steps", {})
    if steps is None:
        steps = {}
    if not isinstance(steps, dict):
        problems.append(document.problem(("steps",), "invalid_type", "steps maps each old step name to its new name"))
        raise DefinitionError(problems)
    found: dict[str, str] = {}
    for old, new in steps.items():
        flow, name = _split(old)
        if not _NAME.fullmatch(name) or (flow and not _NAME.fullmatch(flow)):
            problems.append(
                document.problem(
                    ("steps", old), "invalid_name", f"{old!r} is not a step name (snake_case, or flow/step)"
                )
            )
            continue
        if not isinstance(new, str) or not _NAME.fullmatch(new):
            problems.append(
                document.problem(
                    ("steps", old),
                    "invalid_name",
                    f"the new name of {old!r} must be a snake_case step name, not {new!r}",
                )
            )
            continue
        found[old] = new
    if problems:
        raise DefinitionError(problems)
    return found


def check_step_map(source: Definition, target: Definition, step_map: StepMap) -> list[MigrationProblem]:
    """What is wrong with the map itself, whatever case it is used on.

    Every old name must be a step of ``source`` and every new name a step of ``target`` in
    the same flow; and no two old steps may become the same new step (a step renamed onto
    a name that an unchanged step still has): that would be a guess, so it is refused.
    """
    problems: list[MigrationProblem] = []
    for old, new in step_map.items():
        old_flow, name = _split(old)
        if old_flow not in source.flows or name not in source.flows[old_flow].steps:
            where = f" in sub-workflow {old_flow!r}" if old_flow else ""
            problems.append(
                MigrationProblem(
                    "map_unknown_step",
                    f"the map renames {old!r}, but the old version has no step {name!r}{where}",
                )
            )
        if old_flow not in target.flows or new not in target.flows[old_flow].steps:
            problems.append(
                MigrationProblem(
                    "map_unknown_step",
                    f"the map renames {old!r} to {_subject(old_flow, new)!r}, which the new version does not have",
                )
            )
    if problems:
        return problems
    became: dict[tuple[str, str], str] = {}
    for flow_name, flow in source.flows.items():
        for name in flow.steps:
            new = step_map.get(_subject(flow_name, name), name)
            if flow_name not in target.flows or new not in target.flows[flow_name].steps:
                continue  # a step the new version dropped: only a case waiting there is refused
            earlier = became.setdefault((flow_name, new), name)
            if earlier != name:
                problems.append(
                    MigrationProblem(
                        "map_merges_steps",
                        f"both {_subject(flow_name, earlier)!r} and {_subject(flow_name, name)!r} would become "
                        f"{_subject(flow_name, new)!r}; rename the other one too, so each old step has one new step",
                    )
                )
    return problems


# ================================================================== one case


def migrate_state(
    state: CaseState, source: Definition, target: Definition, step_map: StepMap
) -> tuple[CaseState, list[MigrationProblem]]:
    """``state`` rewritten to run on ``target``, and every problem found.

    With any ``error`` among the problems, the state returned is ``state`` itself, unchanged.
    Warnings do not stop the move: a clock the new version adds is not started for a case
    already under way, for example.
    """
    problems = list(_refusals(state, source, target)) or check_step_map(source, target, step_map)
    if problems:
        return state, problems
    names = _plain_renames(source, step_map)
    problems.extend(_case_problems(state, source, target, step_map))
    data = _renamed_data(state, source, names, problems)
    if any(problem.severity == "error" for problem in problems):
        return state, problems
    problems.extend(_warnings(state, target))

    def renamed(flow: str, name: str) -> str:
        return step_map.get(_subject(flow, name), name)

    migrated = replace(
        state,
        definition_hash=target.content_hash,
        data=data,
        tokens=tuple(replace(token, step=renamed(token.flow, token.step)) for token in state.tokens),
        groups=tuple(replace(group, step=renamed(group.flow, group.step)) for group in state.groups),
        completed_by={names.get(name) or name: actor for name, actor in state.completed_by.items()},
        path=tuple(_subject(flow, renamed(flow, name)) for flow, name in map(_split, state.path)),
    )
    return migrated, problems


def _refusals(state: CaseState, source: Definition, target: Definition) -> Iterator[MigrationProblem]:
    if state.definition_hash != source.content_hash:
        yield MigrationProblem(
            "wrong_definition",
            f"the case runs on version {state.definition_hash[:12]}, not {source.content_hash[:12]}",
        )
    if source.content_hash == target.content_hash:
        yield MigrationProblem("same_version", "the old and the new version are the same")
    if state.status != "running":
        yield MigrationProblem("case_not_running", f"the case is {state.status}; only running cases move")
    if source.program.id != target.program.id:
        yield MigrationProblem(
            "other_program", f"the new version is of program {target.program.id!r}, not {source.program.id!r}"
        )


def _case_problems(
    state: CaseState, source: Definition, target: Definition, step_map: StepMap
) -> Iterator[MigrationProblem]:
    for token in state.tokens:
        yield from _token_problems(token, state, source, target, step_map)
    for group in state.groups:
        yield from _group_problems(group, source, target, step_map)
    for clock in state.clocks:
        if clock not in target.clocks:
            yield MigrationProblem(
                "clock_missing", f"statutory clock {clock!r} is running, and the new version has no such clock"
            )


def _target_step(flow: str, name: str, target: Definition, step_map: StepMap, what: str) -> Step | MigrationProblem:
    """The step of ``target`` that ``flow/name`` becomes, or the problem why there is none."""
    new = step_map.get(_subject(flow, name), name)
    if flow not in target.flows:
        return MigrationProblem(
            "flow_missing", f"{what} is in sub-workflow {flow!r}, which the new version does not have"
        )
    step = target.flows[flow].steps.get(new)
    if step is None:
        return MigrationProblem(
            "step_missing",
            f"{what} is at {_subject(flow, name)!r}; the new version has no step {_subject(flow, new)!r} "
            "(rename it in the map if it was renamed)",
        )
    return step


def _token_problems(
    token: Token, state: CaseState, source: Definition, target: Definition, step_map: StepMap
) -> Iterator[MigrationProblem]:
    what = f"token {token.id}"
    old = source.step(token.flow, token.step)
    new = _target_step(token.flow, token.step, target, step_map, what)
    if isinstance(new, MigrationProblem):
        yield new
        return
    at = f"{what} at {_subject(token.flow, token.step)!r}"
    if old.kind != new.kind:
        yield MigrationProblem(
            "step_kind_changed", f"{at}: the step is a {old.kind} there and a {new.kind} in the new version"
        )
        return
    if isinstance(old, (HumanStep, EachStep)) and isinstance(new, (HumanStep, EachStep)) and not token.blocked:
        yield from _task_problems(token, at, old, new)
    elif isinstance(old, WaitStep) and isinstance(new, WaitStep):
        for timer in state.timers:
            if timer.token != token.id or timer.purpose != "wait":
                continue
            index = int(timer.detail)
            trigger = new.triggers[index] if index < len(new.triggers) else None
            if trigger is None or trigger.kind not in _TIME_TRIGGERS:
                yield MigrationProblem(
                    "wait_changed",
                    f"{at}: its timer is for the wait's trigger number {index + 1}, which in the new version is "
                    + ("missing" if trigger is None else f"an event ({trigger.event!r}), not a time"),
                )
    elif isinstance(old, JoinStep) and isinstance(new, JoinStep):
        split = step_map.get(_subject(token.flow, old.split), old.split)
        if new.split != split:
            yield MigrationProblem(
                "join_changed", f"{at}: the join waits for {new.split!r} in the new version, not {split!r}"
            )


def _task_problems(
    token: Token, at: str, old: HumanStep | EachStep, new: HumanStep | EachStep
) -> Iterator[MigrationProblem]:
    before = old.task if isinstance(old, EachStep) else old
    after = new.task if isinstance(new, EachStep) else new
    if (before.panel is None) != (after.panel is None):
        had = "a panel" if before.panel is not None else "one person"
        has = "a panel" if after.panel is not None else "one person"
        yield MigrationProblem("panel_changed", f"{at}: decided by {had} there and by {has} in the new version")
        return
    old_role = _role_at(before, token.level)
    new_role = _role_at(after, token.level)
    if old_role != new_role:
        level = f" (level {token.level + 1} of its approval chain)" if before.levels else ""
        yield MigrationProblem(
            "role_changed",
            f"{at}: its open task is for {old_role}{level}, and the new version gives that task to "
            f"{new_role or 'nobody (the chain is shorter)'}; move it by hand or keep the role",
        )


def _role_at(step: HumanStep, level: int) -> str | None:
    if not step.levels:
        return step.role
    return step.levels[level] if level < len(step.levels) else None


def _group_problems(
    group: Group, source: Definition, target: Definition, step_map: StepMap
) -> Iterator[MigrationProblem]:
    what = f"the {group.kind} group {group.id} opened by {_subject(group.flow, group.step)!r}"
    new = _target_step(group.flow, group.step, target, step_map, what)
    if isinstance(new, MigrationProblem):
        yield new
        return
    expected = _GROUP_KINDS.get(group.kind, Step)
    old = source.step(group.flow, group.step)
    if not isinstance(new, expected) or old.kind != new.kind:
        yield MigrationProblem(
            "step_kind_changed", f"{what}: the step is a {old.kind} there and a {new.kind} in the new version"
        )
    elif group.kind == "panel" and isinstance(new, HumanStep) and new.panel is None:
        yield MigrationProblem("panel_changed", f"{what}: the new version decides the step without a panel")
    elif isinstance(old, SubworkflowStep) and isinstance(new, SubworkflowStep) and old.run != new.run:
        yield MigrationProblem(
            "subworkflow_changed", f"{what}: it runs {old.run!r} there and {new.run!r} in the new version"
        )


def _warnings(state: CaseState, target: Definition) -> Iterator[MigrationProblem]:
    for clock in target.clocks.values():
        if clock.name not in state.clocks and clock.starts == "on submit":
            yield MigrationProblem(
                "clock_not_started",
                f"the new version's clock {clock.name!r} starts on submit; a case already under way does not start it",
                "warning",
            )


# ================================================================== names in the state


def _plain_renames(source: Definition, step_map: StepMap) -> dict[str, str | None]:
    """Plain old step name -> plain new name, for the names ``completed_by`` and the data use.

    Those names carry no flow. A name that steps in two flows share, renamed in one of them
    only or differently, cannot be told apart: it maps to None, and a case that uses it is
    refused rather than guessed at.
    """
    flows_of: dict[str, list[str]] = {}
    for flow_name, flow in source.flows.items():
        for name in flow.steps:
            flows_of.setdefault(name, []).append(flow_name)
    found: dict[str, str | None] = {}
    for name, flows in flows_of.items():
        news = {step_map.get(_subject(flow, name), name) for flow in flows}
        if news != {name}:
            found[name] = news.pop() if len(news) == 1 else None
    return found


def _renamed_data(
    state: CaseState, source: Definition, names: Mapping[str, str | None], problems: list[MigrationProblem]
) -> dict[str, Any]:
    """The case data with what the engine wrote under a renamed step's name moved to the new name.

    Appends to ``problems`` when a name is ambiguous or the new key is taken already.
    """
    answers = set((source.form_schema.get("properties") or {}).keys())
    writers = {
        name
        for flow in source.flows.values()
        for name, step in flow.steps.items()
        if isinstance(step, (HumanStep, RequestStep, SubworkflowStep))
    }
    renames: dict[str, str | None] = {}
    for old, new in names.items():
        if old in writers:
            for suffix in _DATA_SUFFIXES:
                renames[old + suffix] = None if new is None else new + suffix
    for name, new in names.items():
        if new is None and name in state.completed_by:
            problems.append(_ambiguous(f"who did {name!r}"))
    data: dict[str, Any] = {}
    moved_from: dict[str, str] = {}
    for key, value in state.data.items():
        new_key = key
        if key in renames and key not in answers:
            found = renames[key]
            if found is None:
                problems.append(_ambiguous(f"the case data {key!r}"))
                continue
            new_key = found
        if new_key in data:
            problems.append(
                MigrationProblem(
                    "data_key_taken",
                    f"after the renaming, both the case data {moved_from[new_key]!r} and {key!r} would be {new_key!r}",
                )
            )
            continue
        data[new_key] = value
        moved_from[new_key] = key
    return data


def _ambiguous(what: str) -> MigrationProblem:
    return MigrationProblem(
        "step_name_ambiguous",
        f"steps of that name in more than one flow are renamed differently, so {what} cannot be told apart; "
        "rename them alike, or not at all",
    )
