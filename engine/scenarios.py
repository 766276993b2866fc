"""Scenario tests for programs: a submission, a script of actions, the expected result.

A scenario file lives beside the program (``scenarios/*.yaml``) and reads like
what happens at the agency::

    name: A librarian approves a complete application
    submission: examples/valid.json
    actors: {lena: librarian}
    do:
      - expect task: review
      - lena completes review: approve
    expect:
      outcome: approved

The runner drives ``engine.step`` with a simulated clock: ``advance: 9 business
days`` fires every timer that falls due on the way, each at its own moment. It
plays the part of the case service too (people act only on tasks for their role,
and claim a task before deciding it), so a scenario shows what a caseworker
would meet. Everything is in memory; nothing here touches a database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from engine import calendar as calendars
from engine import runtime
from engine.model import Definition
from engine.problems import DefinitionError, Problem
from engine.source import parse_yaml

DEFAULT_START = time(9, 0)
Validate = Callable[[Mapping[str, Any], Any], list[str]]
Refusal = tuple[str, str, str]
"""One problem with submitted answers: (JSON pointer of the answer, code, message)."""
Accept = Callable[[Mapping[str, Any], str], tuple[dict[str, Any], list[Refusal]]]
"""What the site does with submitted answers on a given day (``YYYY-MM-DD``): the answers as
accepted (hidden ones cleared, computed ones worked out) and every problem found."""
"""Checks answers against a JSON Schema; returns readable problems (empty when valid)."""

_ACTION = re.compile(
    r"^(?P<actor>[a-z][a-z0-9_]*) (?P<verb>completes|claims|releases|suspends|resumes|cancels) "
    r"(?P<step>[a-z][a-z0-9_]*)$"
)
_REASSIGN = re.compile(
    r"^(?P<actor>[a-z][a-z0-9_]*) (?P<verb>reassigns|delegates) (?P<step>[a-z][a-z0-9_]*) to (?P<to>[a-z][a-z0-9_]*)$"
)
_ANSWER = re.compile(r"^citizen answers (?P<step>[a-z][a-z0-9_]*)$")
_EXPECT_SHAPES: Mapping[str, type] = {
    "outcome": object,
    "status": object,
    "path": list,
    "data": dict,
    "notices to citizen": list,
    "deadlines": dict,
    "priority": object,
    "refused": list,
}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    answers: Mapping[str, Any]
    submitted_at: datetime | None
    actors: Mapping[str, tuple[str, ...]]
    actions: tuple[tuple[int, Mapping[str, Any]], ...]  # (line, action)
    expect: Mapping[str, Any]
    expect_line: int


@dataclass
class Result:
    scenario: Scenario
    failures: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    state: runtime.CaseState | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def load_scenario(path: str, text: str, files: Mapping[str, str]) -> Scenario:
    """Read a scenario; ``files`` are the program's files (for ``submission: examples/…``)."""
    document = parse_yaml(path, text)
    data = document.data
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise DefinitionError([document.problem((), "invalid_type", "a scenario is a mapping")])
    known = {"name", "submission", "answers", "submitted at", "actors", "do", "expect"}
    for key in data:
        if key not in known:
            problems.append(
                document.problem(
                    (key,), "unknown_key", f"unknown key {key!r}; expected one of: {', '.join(sorted(known))}"
                )
            )
    answers: Any = data.get("answers")
    submission = data.get("submission")
    if submission is not None:
        if not isinstance(submission, str) or submission not in files:
            problems.append(
                document.problem(("submission",), "unknown_file", f"{submission!r} is not a file of this program")
            )
        else:
            try:
                example = json.loads(files[submission])
            except ValueError as error:
                problems.append(document.problem(("submission",), "json_syntax", f"{submission}: {error}"))
            else:
                # answers: beside submission: changes some of the example's answers (top-level keys).
                answers = {**example, **answers} if isinstance(answers, dict) and isinstance(example, dict) else example
    if not isinstance(answers, dict):
        problems.append(
            document.problem((), "missing_key", "give the submission: submission: examples/x.json, or answers: {...}")
        )
        answers = {}
    submitted_at = None
    if "submitted at" in data:
        try:
            submitted_at = datetime.fromisoformat(str(data["submitted at"]))
        except ValueError:
            problems.append(
                document.problem(
                    ("submitted at",), "invalid_date", "submitted at is a date and time like 2026-03-02T10:00"
                )
            )
    actors: dict[str, tuple[str, ...]] = {}
    raw_actors = data.get("actors", {})
    if not isinstance(raw_actors, dict):
        problems.append(
            document.problem(("actors",), "invalid_type", "actors maps people to roles: {ana: eligibility_worker}")
        )
    else:
        for person, roles in raw_actors.items():
            actors[str(person)] = tuple(roles) if isinstance(roles, list) else (str(roles),)
    raw_do = data.get("do", [])
    actions: list[tuple[int, Mapping[str, Any]]] = []
    if not isinstance(raw_do, list):
        problems.append(document.problem(("do",), "invalid_type", "do lists the actions in order"))
    else:
        for index, action in enumerate(raw_do):
            line = document.problem(("do", index), "", "").line
            if isinstance(action, str):
                action = {action: None}
            if not isinstance(action, dict) or not action:
                problems.append(
                    document.problem(
                        ("do", index), "invalid_action", "each action is one line, e.g. ana completes review: approve"
                    )
                )
                continue
            actions.append((line, action))
    expect = data.get("expect", {})
    if not isinstance(expect, dict):
        problems.append(document.problem(("expect",), "invalid_type", "expect maps what to check to its value"))
        expect = {}
    for key, value in expect.items():  # a mistyped check would otherwise pass without checking anything
        if key not in _EXPECT_SHAPES:
            problems.append(
                document.problem(
                    ("expect", key),
                    "unknown_key",
                    f"unknown key {key!r}; expected one of: {', '.join(sorted(_EXPECT_SHAPES))}",
                )
            )
        elif not isinstance(value, _EXPECT_SHAPES[key]):
            shape = "a list" if _EXPECT_SHAPES[key] is list else "a mapping"
            problems.append(document.problem(("expect", key), "invalid_type", f"expect {key} is {shape}"))
        elif key == "refused" and isinstance(value, list):
            entry: object
            for index, entry in enumerate(value):
                if not (isinstance(entry, dict) and set(entry) == {"at", "code"} and all(map(_text, entry.values()))):
                    problems.append(
                        document.problem(
                            ("expect", key, index),
                            "invalid_type",
                            "each refusal is {at: /pointer/to/the/answer, code: failed_check}",
                        )
                    )
    if problems:
        raise DefinitionError(problems)
    return Scenario(
        name=str(data.get("name", path)),
        path=path,
        answers=answers,
        submitted_at=submitted_at,
        actors=actors,
        actions=tuple(actions),
        expect=expect,
        expect_line=document.problem(("expect",), "", "").line,
    )


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def run_scenario(
    definition: Definition, scenario: Scenario, *, validate: Validate | None = None, accept: Accept | None = None
) -> Result:
    """Play the scenario against the definition; every mismatch is a failure with its line.

    With ``accept``, the answers go through it first, as a submission through the site does;
    otherwise they are only checked with ``validate`` against the form schema.
    """
    return _Player(definition, scenario, validate, accept).play()


class _Player:
    def __init__(
        self, definition: Definition, scenario: Scenario, validate: Validate | None, accept: Accept | None = None
    ) -> None:
        self.definition = definition
        self.scenario = scenario
        self.validate = validate
        self.accept = accept
        self.tz = ZoneInfo(definition.program.timezone)
        self.now = scenario.submitted_at or datetime.combine(date(2026, 1, 5), DEFAULT_START)
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=self.tz)
        self.state = runtime.new_state(definition)
        self.result = Result(scenario)
        self.roles: dict[int, str] = {}  # token -> role, from OpenTask
        self.notices: list[tuple[str, str]] = []  # (notice, to)
        self.seen_notices = 0

    def expect_refused(self, expected: list[Mapping[str, str]], problems: list[Refusal]) -> Result:
        """The submission must be refused, with (at least) each problem listed, at its answer."""
        line = self.scenario.expect_line
        if not problems:
            self.fail(line, "expected the submission to be refused, but it was accepted")
            return self.result
        found = {(pointer, code) for pointer, code, _ in problems}
        for entry in expected:
            if (entry["at"], entry["code"]) not in found:
                listed = "; ".join(f"{pointer or '/'} {code}" for pointer, code in sorted(found))
                self.fail(line, f"expected refused at {entry['at']} with {entry['code']}; the problems were: {listed}")
        for pointer, code, message in problems:
            self.result.trace.append(f"{self._at()} refused: {pointer or '/'}: {code}: {message}")
        return self.result

    def fail(self, line: int, message: str) -> None:
        self.result.failures.append(f"{self.scenario.path}:{line}: {message}")

    def apply(self, event: runtime.Event) -> None:
        self.state, effects = runtime.step(self.definition, self.state, event, self.now)
        for effect in effects:
            match effect:
                case runtime.OpenTask(token=token, step=step, role=role):
                    self.roles[token] = role
                    self.result.trace.append(f"{self._at()} task opened: {step} for {role}")
                case runtime.CloseTask(step=step, outcome=outcome, actor=actor):
                    self.result.trace.append(f"{self._at()} task done: {step} -> {outcome} by {actor}")
                case runtime.CancelTask(step=step, reason=reason):
                    self.result.trace.append(f"{self._at()} task cancelled: {step} ({reason})")
                case runtime.SendNotice(notice=notice, to=to):
                    self.notices.append((notice, to))
                    self.result.trace.append(f"{self._at()} notice {notice} to {to}")
                case runtime.StartTimer(at=at, purpose=purpose):
                    self.result.trace.append(
                        f"{self._at()} timer set: {purpose} at {at.astimezone(self.tz):%Y-%m-%d %H:%M}"
                    )
                case runtime.CloseCase(outcome=outcome):
                    self.result.trace.append(f"{self._at()} case closed: {outcome}")
                case runtime.RecordAudit(kind=kind, detail=detail) if kind in (
                    "expression_failed",
                    "escalated",
                    "table_failed",
                ):
                    self.result.trace.append(f"{self._at()} {kind}: {json.dumps(dict(detail), default=str)}")
                case _:
                    pass

    def _at(self) -> str:
        return f"[{self.now.astimezone(self.tz):%Y-%m-%d %H:%M}]"

    def play(self) -> Result:
        answers = dict(self.scenario.answers)
        refused = self.scenario.expect.get("refused")
        if self.accept is not None:
            answers, problems = self.accept(answers, self.now.astimezone(self.tz).date().isoformat())
            if refused is not None:
                return self.expect_refused(refused, problems)
            for pointer, _code, message in problems:
                self.fail(1, f"the submission is not valid: {pointer or '/'}: {message}")
            if self.result.failures:
                return self.result
        elif self.validate is not None:
            for problem in self.validate(self.definition.form_schema, answers):
                self.fail(1, f"the submission is not valid: {problem}")
            if self.result.failures:
                return self.result
        self.apply(runtime.Submitted(answers))
        for line, action in self.scenario.actions:
            expected_error = action.get("expect error")
            body = {key: value for key, value in action.items() if key not in ("expect error", "with")}
            if len(body) != 1:
                self.fail(line, "an action says one thing, e.g. 'ana completes review: approve'")
                continue
            ((verb, argument),) = body.items()
            try:
                self.perform(line, str(verb), argument, action.get("with"))
            except runtime.EngineError as error:
                if expected_error != error.code:
                    self.fail(line, f"{verb}: {error.code}: {error}")
                continue
            except _ScenarioError as error:
                if expected_error != error.code:
                    self.fail(line, f"{verb}: {error}")
                continue
            if expected_error:
                self.fail(line, f"{verb}: expected error {expected_error}, but it succeeded")
        self.check_final()
        self.result.state = self.state
        return self.result

    # -- actions --------------------------------------------------------------------

    def open_tokens(self, step: str) -> list[runtime.Token]:
        return [token for token in self.state.tokens if token.step == step and not token.blocked]

    def perform(self, line: int, verb: str, argument: Any, data: Any) -> None:
        if verb == "expect task":
            names = argument if isinstance(argument, list) else [argument]
            for name in names:
                if not self.open_tokens(str(name)):
                    open_now = sorted({token.step for token in self.state.tokens}) or ["none"]
                    self.fail(line, f"expected an open task at {name!r}; open: {', '.join(open_now)}")
            return
        if verb == "expect tasks":
            for name, count in _mapping("", argument).items():
                found = len(self.open_tokens(str(name)))
                if found != count:
                    self.fail(line, f"expected {count} open task(s) at {name!r}, found {found}")
            return
        if verb == "expect no task":
            if self.state.tokens:
                self.fail(
                    line, f"expected no open task; open: {', '.join(sorted({t.step for t in self.state.tokens}))}"
                )
            return
        if verb in ("expect notice", "expect notice to"):
            self.expect_notice(line, verb, argument)
            return
        if verb == "expect data":
            self.expect_data(line, _mapping("", argument))
            return
        if verb == "expect outcome":
            if self.state.outcome != argument:
                self.fail(line, f"expected outcome {argument!r}, got {self.state.outcome!r}")
            return
        if verb == "expect deadline":
            self.expect_deadlines(line, _mapping("", argument))
            return
        if verb == "advance":
            try:
                duration = calendars.parse_duration(str(argument))
            except calendars.DurationError as error:
                raise _ScenarioError("invalid_action", str(error)) from None
            self.advance_to(calendars_add(self.definition, self.now, duration, self.tz))
            return
        if verb == "advance to":
            try:
                target = datetime.fromisoformat(str(argument))
            except ValueError:
                raise _ScenarioError(
                    "invalid_action", f"{argument!r} is not a date and time like 2026-03-20T09:00:00-07:00"
                ) from None
            self.advance_to(target if target.tzinfo else target.replace(tzinfo=self.tz))
            return
        if verb == "citizen withdraws":
            self.apply(runtime.Withdrawn(actor="citizen"))
            return
        if verb == "cancel case":
            self.apply(runtime.CaseCancelled(actor="supervisor", reason=str(argument or "")))
            return
        if verb == "event":
            self.apply(runtime.EventReceived(str(argument), _mapping("with", data or {})))
            return
        if verb.startswith("extend clock"):
            for clock, duration in _mapping("", argument).items():
                try:
                    self.apply(runtime.ClockExtended(str(clock), str(duration), actor="supervisor"))
                except (calendars.DurationError, calendars.ClockError) as error:
                    raise _ScenarioError("invalid_action", str(error)) from None
            return
        answer = _ANSWER.match(verb)
        if answer:
            token = self.first_token(answer["step"], None)
            self.apply(runtime.CitizenResponded(token.id, _mapping("", argument or {})))
            return
        moved = _REASSIGN.match(verb)
        if moved:
            token = self.first_token(moved["step"], None)
            if moved["verb"] == "reassigns":
                self.apply(runtime.TaskReassigned(token.id, moved["to"], moved["actor"]))
            else:
                self.apply(runtime.TaskDelegated(token.id, moved["to"], moved["actor"]))
            return
        match = _ACTION.match(verb)
        if not match:
            raise _ScenarioError("unknown_action", f"cannot read {verb!r}; see the scenario reference for the actions")
        actor, what, step_name = match["actor"], match["verb"], match["step"]
        token = self.first_token(step_name, actor)
        role = self.roles.get(token.id)
        if what != "cancels" and role is not None and role not in self.scenario.actors.get(actor, ()):
            raise _ScenarioError("not_allowed", f"{actor} is not a {role}")
        if what == "claims":
            self.apply(runtime.TaskClaimed(token.id, actor))
        elif what == "releases":
            self.apply(runtime.TaskReleased(token.id, actor))
        elif what == "suspends":
            self.apply(runtime.TaskSuspended(token.id, actor))
        elif what == "resumes":
            self.apply(runtime.TaskResumed(token.id, actor))
        elif what == "cancels":
            self.apply(runtime.TaskCancelled(token.id, actor))
        else:
            record = _mapping("with", data or {})
            if token.assignee is None:
                self.apply(runtime.TaskClaimed(token.id, actor))
            self.apply(runtime.TaskCompleted(token.id, str(argument), actor, record))

    def first_token(self, step_name: str, actor: str | None) -> runtime.Token:
        tokens = self.open_tokens(step_name)
        if not tokens:
            raise _ScenarioError("no_task", f"there is no open task at {step_name!r}")
        mine = [token for token in tokens if actor is not None and token.assignee == actor]
        free = [token for token in tokens if token.assignee is None]
        return (mine or free or tokens)[0]

    def advance_to(self, target: datetime) -> None:
        while True:
            due = sorted(
                (datetime.fromisoformat(timer.at), timer.id)
                for timer in self.state.timers
                if datetime.fromisoformat(timer.at) <= target
            )
            if not due or self.state.status != "running":
                break
            at, timer_id = due[0]
            self.now = max(self.now, at)
            self.apply(runtime.TimerFired(timer_id))
        self.now = max(self.now, target)

    # -- expectations -----------------------------------------------------------------

    def expect_notice(self, line: int, verb: str, argument: Any) -> None:
        if verb == "expect notice to":
            wanted = (
                [(str(notice), str(to)) for to, notice in dict(argument).items()]
                if isinstance(argument, dict)
                else [(None, str(argument))]
            )
        else:
            wanted = [(str(notice), "citizen") for notice in (argument if isinstance(argument, list) else [argument])]
        recent = self.notices[self.seen_notices :]
        for notice, to in wanted:
            if not any((notice is None or sent == notice) and sent_to == to for sent, sent_to in recent):
                sent_text = ", ".join(f"{n} to {t}" for n, t in recent) or "none"
                self.fail(line, f"expected notice {notice or 'any'} to {to}; sent since the last check: {sent_text}")
        self.seen_notices = len(self.notices)

    def expect_data(self, line: int, expected: Mapping[str, Any]) -> None:
        for key, value in expected.items():
            actual = runtime.value_at(self.state.data, key)
            if not _same(actual, value):
                self.fail(line, f"expected {key} = {value!r}, got {actual!r}")

    def expect_deadlines(self, line: int, expected: Mapping[str, Any]) -> None:
        deadlines = self.state.data.get("deadlines", {})
        for clock, day in expected.items():
            actual = deadlines.get(clock)
            actual_day = datetime.fromisoformat(actual).astimezone(self.tz).date().isoformat() if actual else None
            if actual_day != str(day):
                self.fail(line, f"expected clock {clock} due on {day}, got {actual_day}")

    def check_final(self) -> None:
        expect = self.scenario.expect
        line = self.scenario.expect_line
        if "outcome" in expect and self.state.outcome != expect["outcome"]:
            waiting = ", ".join(sorted({token.step for token in self.state.tokens})) or "nothing"
            status = f"still {self.state.status}, waiting at {waiting}"
            got = repr(self.state.outcome) if self.state.status == "closed" else status
            self.fail(line, f"expected outcome {expect['outcome']!r}, got {got}")
        if "status" in expect and self.state.status != expect["status"]:
            self.fail(line, f"expected the case to be {expect['status']}, it is {self.state.status}")
        if "path" in expect:
            path = list(self.state.path)
            if path != list(expect["path"]):
                self.fail(line, f"expected path {list(expect['path'])}, got {path}")
        if "data" in expect:
            self.expect_data(line, dict(expect["data"]))
        if "notices to citizen" in expect:
            sent = [notice for notice, to in self.notices if to == "citizen"]
            if sent != list(expect["notices to citizen"]):
                self.fail(line, f"expected notices to the citizen {list(expect['notices to citizen'])}, got {sent}")
        if "deadlines" in expect:
            self.expect_deadlines(line, dict(expect["deadlines"]))
        if "priority" in expect and self.state.priority != expect["priority"]:
            self.fail(line, f"expected priority {expect['priority']}, got {self.state.priority}")


class _ScenarioError(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _mapping(key: str, value: Any) -> Mapping[str, Any]:
    """An action's argument (or its ``with``) that must be a mapping; refused on the action's line otherwise."""
    if not isinstance(value, Mapping):
        raise _ScenarioError(
            "invalid_action", f"{key + ' ' if key else ''}needs a mapping like {{name: value}}, not {value!r}"
        )
    return value


def calendars_add(definition: Definition, start: datetime, duration: Any, tz: ZoneInfo) -> datetime:
    moment: datetime = definition.calendar.add(start, duration, tz)
    return moment


def _same(actual: Any, expected: Any) -> bool:
    """Numbers compare to the precision written in the scenario (248.2 matches 248.19…)."""
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        digits = len(repr(expected).split(".")[1]) if "." in repr(expected) else 0
        return round(float(actual), digits) == expected
    return bool(actual == expected)
