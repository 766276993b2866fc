"""The interpreter: ``step(definition, state, event, now) -> (state, effects)``.

Pure: no I/O, no clock (``now`` is handed in), no randomness, no IDs made up
outside the state (tokens, groups and timers are numbered from a counter kept in
the state). The caller applies the returned effects; the engine never performs
them.

Control flows as tokens. A token waits at a step (a task, a wait, a request to
the citizen); automatic steps (decide, action, notice, parallel, join, end) are
passed through at once. Parallel branches, panels, multiple instances and
sub-workflow calls each open a *group*; a token remembers the groups it belongs
to, so a join knows exactly which split's branches it is counting.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine import calendar as calendars
from engine import expressions, tables
from engine.model import (
    ActionStep,
    Compiled,
    DecideStep,
    Definition,
    EachStep,
    EndStep,
    FinishStep,
    HumanStep,
    JoinStep,
    NoticeStep,
    ParallelStep,
    RequestStep,
    Route,
    SubworkflowStep,
    Text,
    WaitStep,
)

STATE_FORMAT = 2
EXPRESSION_BUDGET = 10_000

# ================================================================== state


@dataclass(frozen=True)
class Token:
    """A thread of control waiting at a step."""

    id: int
    flow: str  # "" for the main workflow, else a sub-workflow's name
    step: str
    groups: tuple[int, ...] = ()  # the groups this token belongs to, outermost first
    assignee: str | None = None
    delegated_by: str | None = None
    suspended: bool = False
    level: int = 0  # the level reached in an approval chain
    item: int | None = None  # the instance number in a group (panel seat, list item)
    blocked: bool = False  # held at a blocking join until the previous round completes


@dataclass(frozen=True)
class Group:
    """Tokens started together: split branches, panel seats, list items, or a sub-workflow call."""

    id: int
    kind: str  # "split", "panel", "each" or "call"
    flow: str
    step: str
    size: int
    parent: tuple[int, ...]  # the groups of the token that opened this one
    arrived: tuple[int, ...] = ()  # split: token ids that reached the join
    fired: bool = False  # the join (or panel, or each) has let the case go on
    results: tuple[Mapping[str, Any], ...] = ()  # panel votes / each results, in arrival order
    items: tuple[Any, ...] = ()  # each: the list items


@dataclass(frozen=True)
class Timer:
    id: int
    at: str  # ISO 8601
    purpose: str  # "wait", "reminder", "expiry", "task_due", "clock_warn", "clock_breach"
    token: int | None = None
    detail: str = ""  # the trigger's index, or the clock's name


@dataclass(frozen=True)
class CaseState:
    """Everything the engine knows about one case; serialises to JSON."""

    definition_hash: str
    status: str = "new"  # new -> running -> closed
    outcome: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    tokens: tuple[Token, ...] = ()
    groups: tuple[Group, ...] = ()
    timers: tuple[Timer, ...] = ()
    clocks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    completed_by: Mapping[str, str] = field(default_factory=dict)
    path: tuple[str, ...] = ()
    counter: int = 0
    submitted_at: str | None = None
    priority: str = "normal"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "definition_hash": self.definition_hash,
            "status": self.status,
            "outcome": self.outcome,
            "data": dict(self.data),
            "tokens": [_drop_defaults(token, Token) for token in self.tokens],
            "groups": [_drop_defaults(group, Group) for group in self.groups],
            "timers": [_drop_defaults(timer, Timer) for timer in self.timers],
            "clocks": {name: dict(clock) for name, clock in self.clocks.items()},
            "completed_by": dict(self.completed_by),
            "path": list(self.path),
            "counter": self.counter,
            "submitted_at": self.submitted_at,
            "priority": self.priority,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CaseState:
        if raw.get("format") != STATE_FORMAT:
            raise StateFormatError(found=raw.get("format"), expected=STATE_FORMAT)
        return cls(
            definition_hash=str(raw["definition_hash"]),
            status=str(raw["status"]),
            outcome=raw["outcome"],
            data=dict(raw["data"]),
            tokens=tuple(Token(**{**token, "groups": tuple(token.get("groups", ()))}) for token in raw["tokens"]),
            groups=tuple(
                Group(
                    **{
                        **group,
                        "parent": tuple(group["parent"]),
                        "arrived": tuple(group.get("arrived", ())),
                        "results": tuple(group.get("results", ())),
                        "items": tuple(group.get("items", ())),
                    }
                )
                for group in raw["groups"]
            ),
            timers=tuple(Timer(**timer) for timer in raw["timers"]),
            clocks={name: dict(clock) for name, clock in raw["clocks"].items()},
            completed_by=dict(raw["completed_by"]),
            path=tuple(raw["path"]),
            counter=int(raw["counter"]),
            submitted_at=raw["submitted_at"],
            priority=str(raw["priority"]),
        )


def _drop_defaults(value: Any, cls: type) -> dict[str, Any]:
    """Only the fields that differ from their defaults: saved states stay small."""
    result: dict[str, Any] = {}
    for name, spec in cls.__dataclass_fields__.items():  # type: ignore[attr-defined]
        item = getattr(value, name)
        default = spec.default
        if default is not spec.default_factory and item == default and name not in ("id",):
            continue
        result[name] = list(item) if isinstance(item, tuple) else item
    return result


def new_state(definition: Definition) -> CaseState:
    """The state of a case that has not started yet."""
    return CaseState(definition_hash=definition.content_hash)


# ================================================================== events


@dataclass(frozen=True)
class Submitted:
    """The citizen's answers were accepted; the case starts."""

    data: Mapping[str, Any]


@dataclass(frozen=True)
class TaskClaimed:
    token: int
    actor: str


@dataclass(frozen=True)
class TaskReleased:
    token: int
    actor: str


@dataclass(frozen=True)
class TaskReassigned:
    """A supervisor gives the task to someone else (reallocation)."""

    token: int
    to: str
    actor: str


@dataclass(frozen=True)
class TaskDelegated:
    """The assignee hands the task to someone; the delegator stays on record."""

    token: int
    to: str
    actor: str


@dataclass(frozen=True)
class TaskSuspended:
    token: int
    actor: str


@dataclass(frozen=True)
class TaskResumed:
    token: int
    actor: str


@dataclass(frozen=True)
class TaskCompleted:
    """Someone chose ``outcome`` on the human step held by ``token``."""

    token: int
    outcome: str
    actor: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskCancelled:
    """A supervisor withdraws one task (the step's ``cancelled`` outcome, or its branch ends)."""

    token: int
    actor: str


@dataclass(frozen=True)
class CitizenResponded:
    token: int
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimerFired:
    timer: int


@dataclass(frozen=True)
class EventReceived:
    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Withdrawn:
    """The citizen withdraws the application."""

    actor: str


@dataclass(frozen=True)
class CaseCancelled:
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class ClockExtended:
    clock: str
    by: str  # a duration in words, e.g. "10 business days"
    actor: str
    reason: str = ""


Event = (
    Submitted
    | TaskClaimed
    | TaskReleased
    | TaskReassigned
    | TaskDelegated
    | TaskSuspended
    | TaskResumed
    | TaskCompleted
    | TaskCancelled
    | CitizenResponded
    | TimerFired
    | EventReceived
    | Withdrawn
    | CaseCancelled
    | ClockExtended
)

# ================================================================== effects


@dataclass(frozen=True)
class OpenTask:
    token: int
    step: str
    role: str
    title: Text = field(default_factory=dict)
    queue: str | None = None
    assign: str | None = None  # "round robin", "least loaded" or None
    assign_to: str | None = None  # a person named by the case data, or kept by "same person as"
    excluded: tuple[str, ...] = ()  # people who must not do it (separation of duties)
    due_at: datetime | None = None
    form: str | None = None
    item: Any = None
    level: int = 0


@dataclass(frozen=True)
class AssignTask:
    token: int
    assignee: str | None
    actor: str
    how: str  # "claimed", "released", "reassigned", "delegated"


@dataclass(frozen=True)
class SuspendTask:
    token: int
    suspended: bool
    actor: str


@dataclass(frozen=True)
class CloseTask:
    token: int
    step: str
    outcome: str
    actor: str


@dataclass(frozen=True)
class CancelTask:
    token: int
    step: str
    reason: str


@dataclass(frozen=True)
class SendNotice:
    notice: str
    to: str  # "citizen" or a role
    step: str = ""


@dataclass(frozen=True)
class StartTimer:
    timer: int
    at: datetime
    purpose: str


@dataclass(frozen=True)
class CancelTimer:
    timer: int


@dataclass(frozen=True)
class SetCaseStatus:
    status: Text


@dataclass(frozen=True)
class SetPriority:
    priority: str


@dataclass(frozen=True)
class CallWebhook:
    topic: str  # "case.submitted", "task.completed", "case.closed"
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class CloseCase:
    outcome: str


@dataclass(frozen=True)
class RecordAudit:
    kind: str
    detail: Mapping[str, Any]


Effect = (
    OpenTask
    | AssignTask
    | SuspendTask
    | CloseTask
    | CancelTask
    | SendNotice
    | StartTimer
    | CancelTimer
    | SetCaseStatus
    | SetPriority
    | CallWebhook
    | CloseCase
    | RecordAudit
)

# ================================================================== errors


class EngineError(Exception):
    """A runtime domain error: the event does not fit the case's state."""

    code = "engine_error"


class StateFormatError(EngineError):
    code = "state_format"

    def __init__(self, *, found: object, expected: int) -> None:
        self.found = found
        self.expected = expected
        super().__init__(f"saved state has format {found!r}; this engine reads format {expected}")


class WrongDefinition(EngineError):
    code = "wrong_definition"

    def __init__(self, *, state_hash: str, definition_hash: str) -> None:
        self.state_hash = state_hash
        self.definition_hash = definition_hash
        super().__init__(f"the case runs on definition {state_hash[:12]}, not {definition_hash[:12]}")


class CaseNotRunning(EngineError):
    code = "case_not_running"

    def __init__(self, *, status: str) -> None:
        self.status = status
        super().__init__(f"the case is {status}, so it cannot take this event")


class TaskNotOpen(EngineError):
    code = "task_not_open"

    def __init__(self, *, token: int) -> None:
        self.token = token
        super().__init__(f"no open task holds token {token}; it may have been completed already")


class UnknownOutcome(EngineError):
    code = "unknown_outcome"

    def __init__(self, *, step: str, outcome: str, allowed: tuple[str, ...]) -> None:
        self.step = step
        self.outcome = outcome
        self.allowed = allowed
        super().__init__(f"step {step!r} has no outcome {outcome!r}; choose one of: {', '.join(allowed)}")


class SeparationOfDuties(EngineError):
    code = "separation_of_duties"

    def __init__(self, *, step: str, actor: str, other_step: str) -> None:
        self.step = step
        self.actor = actor
        self.other_step = other_step
        super().__init__(f"{actor} did {other_step!r}, so someone else must do {step!r}")


class RetainFamiliar(EngineError):
    code = "retain_familiar"

    def __init__(self, *, step: str, actor: str, expected: str) -> None:
        self.step = step
        self.actor = actor
        self.expected = expected
        super().__init__(f"{step!r} is kept for {expected}, who did the earlier step")


class NotAssignee(EngineError):
    code = "not_assignee"

    def __init__(self, *, token: int, actor: str, assignee: str | None) -> None:
        self.token = token
        self.actor = actor
        self.assignee = assignee
        who = f"assigned to {assignee}" if assignee else "not assigned to anyone"
        super().__init__(f"the task is {who}; {actor} cannot act on it")


class TaskSuspendedError(EngineError):
    code = "task_suspended"

    def __init__(self, *, token: int) -> None:
        self.token = token
        super().__init__("the task is suspended; resume it first")


class NotWaiting(EngineError):
    code = "not_waiting"

    def __init__(self, *, what: str) -> None:
        self.what = what
        super().__init__(f"the case is not waiting for {what}")


class UnknownClock(EngineError):
    code = "unknown_clock"

    def __init__(self, *, clock: str) -> None:
        self.clock = clock
        super().__init__(f"the case has no running clock {clock!r}")


# ================================================================== evaluation


_AS_OF: contextvars.ContextVar[date] = contextvars.ContextVar("civicflow_as_of")
_EVALUATORS: dict[str, tuple[Definition, expressions.Evaluator]] = {}


def evaluator_for(definition: Definition) -> expressions.Evaluator:
    """One evaluator per definition, with ``table(name, output, inputs…)`` bound to its tables."""
    cached = _EVALUATORS.get(definition.content_hash)
    if cached is not None:
        return cached[1]

    def table_function(args: list[Any]) -> Any:
        name, output, *inputs = args
        table = definition.tables.get(str(name))
        if table is None:
            raise ValueError(f"there is no table {name!r}")
        found = tables.lookup(table, dict(zip(table.inputs, inputs, strict=False)), as_of=_AS_OF.get())
        if isinstance(found, list):
            return [row.get(str(output)) for row in found]
        return found.get(str(output))

    evaluator = expressions.Evaluator({"table": table_function})
    if len(_EVALUATORS) > 256:
        _EVALUATORS.pop(next(iter(_EVALUATORS)))
    _EVALUATORS[definition.content_hash] = (definition, evaluator)
    return evaluator


# ================================================================== interpreter


def step(definition: Definition, state: CaseState, event: Event, now: datetime) -> tuple[CaseState, list[Effect]]:
    """Apply one event, then run automatic steps until every token waits or the case ends."""
    if state.definition_hash != definition.content_hash:
        raise WrongDefinition(state_hash=state.definition_hash, definition_hash=definition.content_hash)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run = _Run(definition, state, now)
    if not definition.tables:  # only table lookups need the as-of date
        run.handle(event)
        return run.freeze(), run.effects
    token = _AS_OF.set(run.as_of())
    try:
        run.handle(event)
    finally:
        _AS_OF.reset(token)
    return run.freeze(), run.effects


class _Run:
    """One event's worth of work on a mutable copy of the state."""

    def __init__(self, definition: Definition, state: CaseState, now: datetime) -> None:
        self.definition = definition
        self.now = now
        self.tz = ZoneInfo(definition.program.timezone)
        self.state = state
        self.status = state.status
        self.outcome = state.outcome
        self.data: dict[str, Any] = dict(state.data)
        self.tokens: dict[int, Token] = {token.id: token for token in state.tokens}
        self.groups: dict[int, Group] = {group.id: group for group in state.groups}
        self.timers: dict[int, Timer] = {timer.id: timer for timer in state.timers}
        self.clocks: dict[str, Any] = {name: calendars.ClockState.from_json(raw) for name, raw in state.clocks.items()}
        self.completed_by: dict[str, str] = dict(state.completed_by)
        self.path: list[str] = list(state.path)
        self.counter = state.counter
        self.submitted_at = state.submitted_at
        self.priority = state.priority
        self.effects: list[Effect] = []
        self.evaluator = evaluator_for(definition)

    # -- bookkeeping ----------------------------------------------------------------

    def as_of(self) -> date:
        moment = datetime.fromisoformat(self.state.submitted_at) if self.state.submitted_at else self.now
        return moment.astimezone(ZoneInfo(self.definition.program.timezone)).date()

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def freeze(self) -> CaseState:
        return CaseState(
            definition_hash=self.state.definition_hash,
            status=self.status,
            outcome=self.outcome,
            data=self.data,
            # Ids only grow and dicts keep insertion order, so these are already in id order.
            tokens=tuple(self.tokens.values()),
            groups=tuple(self.groups.values()),
            timers=tuple(self.timers.values()),
            clocks={name: clock.to_json() for name, clock in self.clocks.items()},
            completed_by=self.completed_by,
            path=tuple(self.path),
            counter=self.counter,
            submitted_at=self.submitted_at,
            priority=self.priority,
        )

    def audit(self, kind: str, **detail: Any) -> None:
        self.effects.append(RecordAudit(kind, detail))

    def start_timer(self, at: datetime, purpose: str, token: int | None = None, detail: str = "") -> None:
        timer = Timer(self.next_id(), at.isoformat(), purpose, token, detail)
        self.timers[timer.id] = timer
        self.effects.append(StartTimer(timer.id, at, purpose))

    def cancel_timers(self, *, token: int | None = None, purpose_prefix: str = "", detail: str | None = None) -> None:
        for timer in list(self.timers.values()):
            if token is not None and timer.token != token:
                continue
            if not timer.purpose.startswith(purpose_prefix):
                continue
            if detail is not None and timer.detail != detail:
                continue
            del self.timers[timer.id]
            self.effects.append(CancelTimer(timer.id))

    def later(self, duration: Any) -> datetime:
        result: datetime = self.definition.calendar.add(self.now, duration, self.tz)
        return result

    def context(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        # ``today`` is the date of the event being handled, in the program's time zone: the
        # same case replayed with the same events always sees the same today.
        today = self.now.astimezone(self.tz).date().isoformat()
        return {**self.data, "today": today, **(extra or {})}

    def evaluate(
        self,
        compiled: Compiled,
        what: str,
        extra: Mapping[str, Any] | None = None,
        _evaluating: frozenset[str] = frozenset(),
    ) -> tuple[bool, Any]:
        """(succeeded, value). A failure is recorded; the caller takes the safe branch.

        Named conditions are worked out from their definition every time, so an answer
        that happens to share a condition's name can never steer the routing.
        """
        context = self.context(extra)
        expression = compiled.expression
        for name in expression.variables & set(self.definition.conditions):
            if name in _evaluating:  # a condition that depends on itself
                self.audit("expression_failed", what=what, expression=compiled.source, code="circular_condition")
                return False, None
            ok, value = self.evaluate(
                self.definition.conditions[name], f"condition {name!r}", extra, _evaluating | {name}
            )
            context[name] = value if ok else False
        try:
            return True, self.evaluator.evaluate(expression, context, budget=EXPRESSION_BUDGET)
        except expressions.ExpressionFailed as failure:
            self.audit(
                "expression_failed", what=what, expression=compiled.source, code=failure.code, error=failure.message
            )
            return False, None

    def holds(self, compiled: Compiled, what: str, extra: Mapping[str, Any] | None = None) -> bool:
        ok, value = self.evaluate(compiled, what, extra)
        return ok and expressions.truthy(value)

    def choose(self, routes: tuple[Route, ...], what: str, extra: Mapping[str, Any] | None = None) -> str | None:
        """The first route whose condition holds; a failed condition counts as false."""
        for route in routes:
            if route.when is None or self.holds(route.when, what, extra):
                return route.to
        return None

    # -- events ---------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if isinstance(event, Submitted):
            if self.status != "new":
                raise CaseNotRunning(status=self.status)
            self.status = "running"
            self.data = dict(event.data)
            self.submitted_at = self.now.isoformat()
            self.audit("case_started", step=self.definition.start)
            self.effects.append(CallWebhook("case.submitted", {}))
            for clock in self.definition.clocks.values():
                if clock.starts == "on submit":
                    self.start_clock(clock.name)
            self.enter("", self.definition.start, ())
            return
        if self.status != "running":
            raise CaseNotRunning(status=self.status)
        handler = getattr(self, "on_" + type(event).__name__)
        handler(event)

    def human_token(self, token_id: int) -> tuple[Token, HumanStep]:
        token = self.tokens.get(token_id)
        if token is None:
            raise TaskNotOpen(token=token_id)
        found = self.definition.step(token.flow, token.step)
        if isinstance(found, EachStep):
            return token, found.task
        if not isinstance(found, HumanStep):
            raise TaskNotOpen(token=token_id)
        return token, found

    def check_people(self, token: Token, step: HumanStep, actor: str) -> None:
        for other in step.not_same_person_as:
            if self.completed_by.get(other) == actor:
                raise SeparationOfDuties(step=step.name, actor=actor, other_step=other)
        if step.panel is not None and token.groups:
            group = self.groups.get(token.groups[-1])
            if group and any(vote.get("by") == actor for vote in group.results):
                raise SeparationOfDuties(step=step.name, actor=actor, other_step=step.name)
        if step.levels:
            done_levels = self.data.get(f"{step.name}_chain", [])
            if any(entry.get("by") == actor for entry in done_levels if isinstance(entry, dict)):
                raise SeparationOfDuties(step=step.name, actor=actor, other_step=step.name)
        if step.same_person_as:
            expected = self.completed_by.get(step.same_person_as)
            if expected is not None and expected != actor:
                raise RetainFamiliar(step=step.name, actor=actor, expected=expected)

    def on_TaskClaimed(self, event: TaskClaimed) -> None:  # noqa: N802 - handler named for its event
        token, step_ = self.human_token(event.token)
        self.check_people(token, step_, event.actor)
        if token.assignee not in (None, event.actor):
            raise NotAssignee(token=token.id, actor=event.actor, assignee=token.assignee)
        self.tokens[token.id] = replace(token, assignee=event.actor)
        self.effects.append(AssignTask(token.id, event.actor, event.actor, "claimed"))
        self.audit("task_claimed", step=token.step, actor=event.actor)

    def on_TaskReleased(self, event: TaskReleased) -> None:  # noqa: N802
        token, _ = self.human_token(event.token)
        if token.assignee != event.actor:
            raise NotAssignee(token=token.id, actor=event.actor, assignee=token.assignee)
        self.tokens[token.id] = replace(token, assignee=None, delegated_by=None)
        self.effects.append(AssignTask(token.id, None, event.actor, "released"))
        self.audit("task_released", step=token.step, actor=event.actor)

    def on_TaskReassigned(self, event: TaskReassigned) -> None:  # noqa: N802
        token, step_ = self.human_token(event.token)
        self.check_people(token, step_, event.to)
        self.tokens[token.id] = replace(token, assignee=event.to, delegated_by=None)
        self.effects.append(AssignTask(token.id, event.to, event.actor, "reassigned"))
        self.audit("task_reassigned", step=token.step, actor=event.actor, to=event.to, previous=token.assignee)

    def on_TaskDelegated(self, event: TaskDelegated) -> None:  # noqa: N802
        token, step_ = self.human_token(event.token)
        if token.assignee != event.actor:
            raise NotAssignee(token=token.id, actor=event.actor, assignee=token.assignee)
        self.check_people(token, step_, event.to)
        self.tokens[token.id] = replace(token, assignee=event.to, delegated_by=event.actor)
        self.effects.append(AssignTask(token.id, event.to, event.actor, "delegated"))
        self.audit("task_delegated", step=token.step, actor=event.actor, to=event.to)

    def on_TaskSuspended(self, event: TaskSuspended) -> None:  # noqa: N802
        token, _ = self.human_token(event.token)
        self.tokens[token.id] = replace(token, suspended=True)
        self.effects.append(SuspendTask(token.id, True, event.actor))
        self.audit("task_suspended", step=token.step, actor=event.actor)

    def on_TaskResumed(self, event: TaskResumed) -> None:  # noqa: N802
        token, _ = self.human_token(event.token)
        self.tokens[token.id] = replace(token, suspended=False)
        self.effects.append(SuspendTask(token.id, False, event.actor))
        self.audit("task_resumed", step=token.step, actor=event.actor)

    def on_TaskCompleted(self, event: TaskCompleted) -> None:  # noqa: N802
        token, step_ = self.human_token(event.token)
        if token.suspended:
            raise TaskSuspendedError(token=token.id)
        self.check_people(token, step_, event.actor)
        if token.assignee is not None and token.assignee != event.actor:
            raise NotAssignee(token=token.id, actor=event.actor, assignee=token.assignee)
        if event.outcome not in step_.outcomes:
            raise UnknownOutcome(step=step_.name, outcome=event.outcome, allowed=tuple(step_.outcomes))
        del self.tokens[token.id]
        self.cancel_timers(token=token.id)
        self.effects.append(CloseTask(token.id, token.step, event.outcome, event.actor))
        self.effects.append(CallWebhook("task.completed", {"step": token.step, "outcome": event.outcome}))
        self.audit("task_completed", step=token.step, outcome=event.outcome, actor=event.actor)
        record = {**dict(event.data), "outcome": event.outcome}
        owner = self.definition.step(token.flow, token.step)
        if isinstance(owner, EachStep):
            self.instance_done(token, owner, {**record, "by": event.actor})
            return
        self.completed_by[step_.name] = event.actor
        if step_.panel is not None:
            self.data[step_.name] = record
            self.vote(token, step_, event.outcome, event.actor)
            return
        if step_.levels:
            chain = [
                *self.data.get(f"{step_.name}_chain", []),
                {"level": token.level, "by": event.actor, "outcome": event.outcome},
            ]
            self.data[f"{step_.name}_chain"] = chain
            if event.outcome == "approve" and token.level + 1 < len(step_.levels):
                self.open_task(token.flow, step_, token.groups, level=token.level + 1)
                return
        self.data[step_.name] = record
        self.follow(token, step_.outcomes[event.outcome], f"step {step_.name!r} outcome {event.outcome!r}")

    def on_TaskCancelled(self, event: TaskCancelled) -> None:  # noqa: N802
        token, step_ = self.human_token(event.token)
        self.drop(token, "cancelled by " + event.actor)
        self.audit("task_cancelled", step=token.step, actor=event.actor)
        owner = self.definition.step(token.flow, token.step)
        if isinstance(owner, EachStep):  # the item is settled, so the each step can still go on
            self.instance_done(token, owner, {"outcome": "cancelled", "by": event.actor})
        elif step_.panel is not None:  # the seat can no longer approve; the panel may now be decided
            self.vote(token, step_, "cancelled", event.actor)
        elif "cancelled" in step_.outcomes:
            self.follow(token, step_.outcomes["cancelled"], f"step {step_.name!r} cancelled")
        else:
            self.finish_branch()

    def on_CitizenResponded(self, event: CitizenResponded) -> None:  # noqa: N802
        token = self.tokens.get(event.token)
        found = self.definition.step(token.flow, token.step) if token else None
        if token is None or not isinstance(found, RequestStep):
            raise NotWaiting(what="an answer from the citizen")
        del self.tokens[token.id]
        self.cancel_timers(token=token.id)
        self.data[found.name] = dict(event.data)
        self.audit("citizen_responded", step=found.name)
        if found.pauses_clocks:
            self.resume_clocks()
        self.enter(token.flow, found.on_answer, token.groups)

    def on_TimerFired(self, event: TimerFired) -> None:  # noqa: N802
        timer = self.timers.pop(event.timer, None)
        if timer is None:
            return  # cancelled or already fired: a late or repeated delivery changes nothing
        self.audit("timer_fired", purpose=timer.purpose, detail=timer.detail)
        token = self.tokens.get(timer.token) if timer.token is not None else None
        if timer.purpose == "wait" and token is not None:
            found = self.definition.step(token.flow, token.step)
            assert isinstance(found, WaitStep)
            self.leave_wait(token, found.triggers[int(timer.detail)].to)
        elif timer.purpose == "reminder" and token is not None:
            found = self.definition.step(token.flow, token.step)
            assert isinstance(found, RequestStep)
            self.effects.append(SendNotice(found.reminder_notice or found.notice, "citizen", found.name))
        elif timer.purpose == "expiry" and token is not None:
            found = self.definition.step(token.flow, token.step)
            assert isinstance(found, RequestStep)
            del self.tokens[token.id]
            self.cancel_timers(token=token.id)
            if found.pauses_clocks:
                self.resume_clocks()
            self.enter(token.flow, found.on_expiry, token.groups)
        elif timer.purpose == "task_due" and token is not None:
            found = self.definition.step(token.flow, token.step)
            human = found.task if isinstance(found, EachStep) else found
            if isinstance(human, HumanStep) and human.on_overdue:
                self.escalate(human.on_overdue, reason=f"{human.name} overdue")
        elif timer.purpose in ("clock_warn", "clock_breach"):
            clock = self.definition.clocks[timer.detail]
            for name in clock.on_warn if timer.purpose == "clock_warn" else clock.on_breach:
                self.escalate(name, reason=f"clock {clock.name} {timer.purpose.removeprefix('clock_')}")

    def on_EventReceived(self, event: EventReceived) -> None:  # noqa: N802
        waiting = [
            (token, trigger)
            for token in list(self.tokens.values())
            if isinstance(found := self.definition.step(token.flow, token.step), WaitStep)
            for trigger in found.triggers
            if trigger.kind == "event" and trigger.event == event.name
        ]
        if not waiting:
            raise NotWaiting(what=f"the event {event.name!r}")
        # The history says which event came and what it said, by field name only: values may be personal.
        self.audit("event_received", event=event.name, fields=sorted(event.data))
        if event.data:
            self.data[event.name] = dict(event.data)
        for token, trigger in waiting:
            self.leave_wait(token, trigger.to)

    def on_Withdrawn(self, event: Withdrawn) -> None:  # noqa: N802
        self.audit("case_withdrawn", actor=event.actor)
        if "withdrawn" in self.definition.notices:
            self.effects.append(SendNotice("withdrawn", "citizen", ""))
        self.terminate("withdrawn")

    def on_CaseCancelled(self, event: CaseCancelled) -> None:  # noqa: N802
        self.audit("case_cancelled", actor=event.actor, reason=event.reason)
        self.terminate("cancelled")

    def on_ClockExtended(self, event: ClockExtended) -> None:  # noqa: N802
        if event.clock not in self.clocks:
            raise UnknownClock(clock=event.clock)
        self.extend_clock(event.clock, calendars.parse_duration(event.by))
        self.audit("clock_extended", clock=event.clock, by=event.by, actor=event.actor, reason=event.reason)

    # -- moving tokens --------------------------------------------------------------

    def follow(self, token: Token, routes: tuple[Route, ...], what: str) -> None:
        target = self.choose(routes, what)
        if target is None:  # the loader insists on a default route; keep the case safe anyway
            self.audit("no_route", what=what)
            self.finish_branch()
            return
        self.enter(token.flow, target, token.groups)

    def leave_wait(self, token: Token, target: str) -> None:
        del self.tokens[token.id]
        self.cancel_timers(token=token.id)
        self.enter(token.flow, target, token.groups)

    def drop(self, token: Token, reason: str) -> None:
        """Remove a waiting token, cancelling its task and timers."""
        self.tokens.pop(token.id, None)
        self.cancel_timers(token=token.id)
        found = self.definition.step(token.flow, token.step)
        if isinstance(found, (HumanStep, EachStep)):
            self.effects.append(CancelTask(token.id, token.step, reason))

    def enter(self, flow: str, name: str, groups: tuple[int, ...]) -> None:
        """A token arrives at a step: wait there, or pass straight through."""
        if self.status != "running":
            return
        step_ = self.definition.step(flow, name)
        self.path.append(name if not flow else f"{flow}/{name}")
        if step_.status is not None:
            self.effects.append(SetCaseStatus(step_.status))
        for clock in self.definition.clocks.values():
            if flow:
                continue
            if name in clock.stops and clock.name in self.clocks:
                self.stop_clock(clock.name)
            # A clock stopped by a step starts again (a new round) when its start step comes back.
            stopped = clock.name in self.clocks and self.clocks[clock.name].stopped_at is not None
            if clock.starts == f"on entering {name}" and (clock.name not in self.clocks or stopped):
                self.start_clock(clock.name)
        handler = getattr(self, "enter_" + type(step_).__name__)
        handler(flow, step_, groups)

    def enter_HumanStep(self, flow: str, step_: HumanStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        if step_.panel is not None:
            group = self.open_group("panel", flow, step_.name, step_.panel.size, groups)
            for seat in range(step_.panel.size):
                self.open_task(flow, step_, (*groups, group.id), item=seat)
            return
        self.open_task(flow, step_, groups)

    def open_task(
        self,
        flow: str,
        step_: HumanStep,
        groups: tuple[int, ...],
        *,
        level: int = 0,
        item: int | None = None,
        item_value: Any = None,
        owner: str | None = None,
    ) -> None:
        token = Token(id=self.next_id(), flow=flow, step=owner or step_.name, groups=groups, level=level, item=item)
        self.tokens[token.id] = token
        role = step_.levels[level] if step_.levels else step_.role
        queue = None
        extra = (
            {owner_item: item_value for owner_item in [self.item_name(flow, owner)] if owner_item} if owner else None
        )
        if step_.queue is not None:
            ok, value = self.evaluate(step_.queue, f"step {step_.name!r} queue", extra)
            queue = str(value) if ok and value is not None else None
        assign_to = None
        if step_.assign_to is not None:
            ok, value = self.evaluate(step_.assign_to, f"step {step_.name!r} assign", extra)
            assign_to = str(value) if ok and value else None
        if step_.same_person_as and step_.same_person_as in self.completed_by:
            assign_to = self.completed_by[step_.same_person_as]
        excluded = tuple(sorted({self.completed_by[s] for s in step_.not_same_person_as if s in self.completed_by}))
        due_at = self.later(step_.due) if step_.due is not None else None
        self.effects.append(
            OpenTask(
                token=token.id,
                step=token.step,
                role=role,
                title=step_.title,
                queue=queue,
                assign=step_.assign,
                assign_to=assign_to,
                excluded=excluded,
                due_at=due_at,
                form=step_.form,
                item=item_value,
                level=level,
            )
        )
        if assign_to is not None:
            self.tokens[token.id] = replace(token, assignee=assign_to)
        if due_at is not None:
            self.start_timer(due_at, "task_due", token.id)

    def item_name(self, flow: str, owner: str | None) -> str | None:
        found = self.definition.step(flow, owner) if owner else None
        return found.item_name if isinstance(found, EachStep) else None

    def enter_DecideStep(self, flow: str, step_: DecideStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        for name, compiled in step_.compute:
            ok, value = self.evaluate(compiled, f"step {step_.name!r} compute {name!r}")
            self.data[name] = value if ok else None
        if step_.table is not None:
            table = self.definition.tables[step_.table]
            inputs = {name: value_at(self.data, name) for name in table.inputs}
            try:
                found = tables.lookup(table, inputs, as_of=self.as_of())
            except (tables.TableMiss, tables.TableConflict) as error:
                self.audit("table_failed", step=step_.name, table=step_.table, error=str(error))
                for output in table.outputs:
                    self.data[output] = None
            else:
                if isinstance(found, list):
                    for output in table.outputs:
                        self.data[output] = [row.get(output) for row in found]
                else:
                    self.data.update(found)
        target = self.choose(step_.routes, f"step {step_.name!r}")
        if target is None:
            self.audit("no_route", what=f"step {step_.name!r}")
            self.finish_branch()
            return
        self.enter(flow, target, groups)

    def enter_ActionStep(self, flow: str, step_: ActionStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        for name, compiled in step_.set:
            ok, value = self.evaluate(compiled, f"step {step_.name!r} set {name!r}")
            self.data[name] = value if ok else None
        if step_.extend_clock is not None:
            clock, duration = step_.extend_clock
            if clock in self.clocks:
                self.extend_clock(clock, duration)
                self.audit("clock_extended", clock=clock, by=str(duration), step=step_.name)
        if step_.raise_priority is not None:
            self.raise_priority(step_.raise_priority)
        self.enter(flow, step_.next, groups)

    def enter_NoticeStep(self, flow: str, step_: NoticeStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        self.effects.append(SendNotice(step_.notice, step_.to, step_.name))
        self.enter(flow, step_.next, groups)

    def enter_ParallelStep(self, flow: str, step_: ParallelStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        chosen = [
            route.to
            for route in step_.branches
            if route.when is None or self.holds(route.when, f"step {step_.name!r} branch to {route.to!r}")
        ]
        if not chosen:
            self.audit("no_branch", step=step_.name)
            join = self.join_of(flow, step_.name)
            if join is None:
                self.finish_branch()
            else:
                self.enter(flow, join.next, groups)
            return
        group = self.open_group("split", flow, step_.name, len(chosen), groups)
        for target in chosen:
            self.enter(flow, target, (*groups, group.id))

    def join_of(self, flow: str, split: str) -> JoinStep | None:
        return next(
            (s for s in self.definition.flows[flow].steps.values() if isinstance(s, JoinStep) and s.split == split),
            None,
        )

    def open_group(
        self, kind: str, flow: str, step_name: str, size: int, parent: tuple[int, ...], items: tuple[Any, ...] = ()
    ) -> Group:
        group = Group(id=self.next_id(), kind=kind, flow=flow, step=step_name, size=size, parent=parent, items=items)
        self.groups[group.id] = group
        return group

    def enter_JoinStep(self, flow: str, step_: JoinStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        position = next(
            (
                index
                for index in range(len(groups) - 1, -1, -1)
                if (g := self.groups.get(groups[index])) and g.kind == "split" and g.step == step_.split
            ),
            None,
        )
        if position is None:  # arriving from outside the split: a simple merge
            self.enter(flow, step_.next, groups)
            return
        group = self.groups[groups[position]]
        outer = groups[:position]
        arrival = self.next_id()
        group = replace(group, arrived=(*group.arrived, arrival))
        needed = group.size if step_.wait_for == "all" else 1 if step_.wait_for == "first" else int(step_.wait_for)
        needed = min(needed, group.size)
        fire = not group.fired and len(group.arrived) >= needed
        if fire:
            group = replace(group, fired=True)
        self.groups[group.id] = group
        if len(group.arrived) >= group.size:
            del self.groups[group.id]  # every branch is in: nothing more to count
        if fire:
            self.audit("join_fired", step=step_.name, arrived=len(group.arrived), of=group.size)
            if step_.cancel_rest:
                for token in list(self.tokens.values()):
                    if group.id in token.groups:
                        self.drop(token, f"{step_.name} no longer needs this branch")
                self.groups.pop(group.id, None)
            if step_.block and self.blocked_by_earlier_round(step_, group):
                # A blocking join lets one round through at a time.
                blocked = Token(self.next_id(), flow, step_.name, outer, blocked=True)
                self.tokens[blocked.id] = blocked
                return
            self.enter(flow, step_.next, outer)
        else:
            self.release_blocked(flow, step_)
            self.finish_branch()  # an absorbed branch may have been the last thing running

    def blocked_by_earlier_round(self, step_: JoinStep, group: Group) -> bool:
        return any(
            other.kind == "split" and other.step == step_.split and other.id < group.id and other.fired
            for other in self.groups.values()
        )

    def release_blocked(self, flow: str, step_: JoinStep) -> None:
        for token in sorted(self.tokens.values(), key=lambda t: t.id):
            if token.blocked and token.step == step_.name and token.flow == flow:
                earlier = [g for g in self.groups.values() if g.kind == "split" and g.step == step_.split and g.fired]
                if len(earlier) <= 1:
                    del self.tokens[token.id]
                    self.enter(flow, step_.next, token.groups)
                return

    def enter_EachStep(self, flow: str, step_: EachStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        items: list[Any]
        if step_.over is not None:
            ok, value = self.evaluate(step_.over, f"step {step_.name!r} over")
            items = list(value) if ok and isinstance(value, list) else []
            if ok and not isinstance(value, list) and value is not None:
                self.audit("not_a_list", step=step_.name)
        else:
            items = list(range(1, (step_.count or 0) + 1))
        if not items:
            self.data[step_.results] = []
            self.enter(flow, step_.next, groups)
            return
        group = self.open_group("each", flow, step_.name, len(items), groups, items=tuple(items))
        for index, item in enumerate(items):
            self.open_task(
                flow,
                step_.task,
                (*groups, group.id),
                item=index,
                item_value=item,
                owner=step_.name,
            )
        if step_.wait_for == "none":
            self.groups[group.id] = replace(group, fired=True)
            self.enter(flow, step_.next, groups)

    def instance_done(self, token: Token, owner: EachStep, record: Mapping[str, Any]) -> None:
        group = self.groups[token.groups[-1]]
        # ``item`` is the item itself (the household member, the office), ``position`` its place
        # in the list from 0, so later steps can read what each result was about.
        position = int(token.item or 0)
        item = group.items[position] if position < len(group.items) else None
        group = replace(group, results=(*group.results, {**record, "item": item, "position": position}))
        self.groups[group.id] = group
        results = sorted(group.results, key=_list_position)
        self.data[owner.results] = [dict(result) for result in results]
        needed = group.size if owner.wait_for in ("all", "none") else int(owner.wait_for)
        if not group.fired and len(group.results) >= min(needed, group.size):
            self.groups[group.id] = group = replace(group, fired=True)
            for other in list(self.tokens.values()):
                if group.id in other.groups:
                    self.drop(other, f"{owner.name} has enough results")
            self.enter(token.flow, owner.next, group.parent)
        if len(group.results) >= group.size or not any(group.id in t.groups for t in self.tokens.values()):
            self.groups.pop(group.id, None)
            self.finish_branch()

    def vote(self, token: Token, step_: HumanStep, outcome: str, actor: str) -> None:
        assert step_.panel is not None
        group = self.groups[token.groups[-1]]
        group = replace(group, results=(*group.results, {"outcome": outcome, "by": actor}))
        self.groups[group.id] = group
        approvals = sum(1 for vote in group.results if vote["outcome"] == "approve")
        others = len(group.results) - approvals
        quorum = step_.panel.quorum
        needed = group.size if quorum == "all" else 1 if quorum == "first" else int(quorum)
        decision: str | None = None
        if quorum == "first" and outcome != "cancelled":
            decision = outcome
        elif approvals >= needed:
            decision = "approve"
        elif group.size - others < needed:
            decision = "deny"  # approval can no longer reach the quorum
        elif len(group.results) == group.size:
            decision = "deny"
        self.data[f"{step_.name}_votes"] = [dict(vote) for vote in group.results]
        if decision is None:
            return
        for other in list(self.tokens.values()):
            if group.id in other.groups:
                self.drop(other, f"the panel decided: {decision}")
        del self.groups[group.id]
        self.audit("panel_decided", step=step_.name, decision=decision, approvals=approvals, votes=len(group.results))
        self.data[step_.name] = {"outcome": decision}
        routes = step_.outcomes.get(decision, ())
        self.follow(replace(token, groups=group.parent), routes, f"step {step_.name!r} panel {decision}")

    def enter_WaitStep(self, flow: str, step_: WaitStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        token = Token(self.next_id(), flow, step_.name, groups)
        self.tokens[token.id] = token
        for index, trigger in enumerate(step_.triggers):
            if trigger.kind == "after":
                self.start_timer(self.later(trigger.duration), "wait", token.id, str(index))
            elif trigger.kind == "until" and trigger.until is not None:
                ok, value = self.evaluate(trigger.until, f"step {step_.name!r} until")
                moment = _moment(value, self.tz) if ok else None
                if moment is None:
                    self.audit("no_date", step=step_.name, expression=trigger.until.source)
                    moment = self.now  # a missing date does not hold the case forever
                self.start_timer(moment, "wait", token.id, str(index))

    def enter_RequestStep(self, flow: str, step_: RequestStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        token = Token(self.next_id(), flow, step_.name, groups)
        self.tokens[token.id] = token
        self.effects.append(SendNotice(step_.notice, "citizen", step_.name))
        if step_.remind_after is not None:
            self.start_timer(self.later(step_.remind_after), "reminder", token.id)
        self.start_timer(self.later(step_.expires_after), "expiry", token.id)
        if step_.pauses_clocks:
            self.pause_clocks()

    def enter_SubworkflowStep(self, flow: str, step_: SubworkflowStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        group = self.open_group("call", flow, step_.name, 1, groups)
        sub = self.definition.flows[step_.run]
        self.enter(step_.run, sub.start, (*groups, group.id))

    def enter_EndStep(self, flow: str, step_: EndStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        if step_.notice:
            self.effects.append(SendNotice(step_.notice, "citizen", step_.name))
        if not flow:
            self.terminate(step_.outcome)
            return
        call_index = max(i for i, gid in enumerate(groups) if (g := self.groups.get(gid)) and g.kind == "call")
        call = self.groups.pop(groups[call_index])
        for token in list(self.tokens.values()):
            if call.id in token.groups:
                self.drop(token, f"sub-workflow {flow} ended")
        caller = self.definition.step(call.flow, call.step)
        assert isinstance(caller, SubworkflowStep)
        self.audit("subworkflow_ended", step=call.step, outcome=step_.outcome)
        self.data[call.step] = {"outcome": step_.outcome}
        target = caller.outcomes.get(step_.outcome)
        if target is None:
            self.finish_branch()
            return
        self.enter(call.flow, target, call.parent)

    def enter_FinishStep(self, flow: str, step_: FinishStep, groups: tuple[int, ...]) -> None:  # noqa: N802
        self.finish_branch()

    def finish_branch(self) -> None:
        """A branch ended; with no token left anywhere the case is done (implicit termination)."""
        if self.status == "running" and not any(not token.blocked for token in self.tokens.values()):
            self.terminate(self.definition.default_outcome)

    def terminate(self, outcome: str) -> None:
        """End the case: cancel every task and timer left, close with ``outcome``."""
        for token in list(self.tokens.values()):
            self.drop(token, f"the case ended: {outcome}")
        for timer in list(self.timers.values()):
            self.effects.append(CancelTimer(timer.id))
        self.timers.clear()
        self.groups.clear()
        self.clocks = {name: calendars.clock_stop(clock, self.now) for name, clock in self.clocks.items()}
        self.status = "closed"
        self.outcome = outcome
        self.effects.append(CloseCase(outcome))
        self.effects.append(CallWebhook("case.closed", {"outcome": outcome}))
        self.audit("case_closed", outcome=outcome)

    # -- clocks and escalations -------------------------------------------------------

    def start_clock(self, name: str) -> None:
        clock = self.definition.clocks[name]
        self.clocks[name] = calendars.clock_start(clock.limit, self.now)
        self.audit("clock_started", clock=name, limit=str(clock.limit))
        self.schedule_clock(name)

    def stop_clock(self, name: str) -> None:
        """Stop a running clock for good (its deadline stays where it stood, as met or missed)."""
        if self.clocks[name].stopped_at is not None:
            return
        self.clocks[name] = calendars.clock_stop(self.clocks[name], self.now)
        self.cancel_timers(purpose_prefix="clock_", detail=name)
        self.audit("clock_stopped", clock=name)

    def schedule_clock(self, name: str) -> None:
        self.cancel_timers(purpose_prefix="clock_", detail=name)
        clock = self.definition.clocks[name]
        state = self.clocks[name]
        due = calendars.clock_due(state, self.definition.calendar, self.tz)
        if due is None:
            return
        self.data.setdefault("deadlines", {})
        self.data["deadlines"] = {**self.data["deadlines"], name: due.isoformat()}
        if clock.warn_at is not None:
            warn = calendars.clock_warn_at(state, clock.warn_at, self.definition.calendar, self.tz)
            if warn is not None and warn > self.now:
                self.start_timer(warn, "clock_warn", detail=name)
        self.start_timer(due, "clock_breach", detail=name)

    def pause_clocks(self) -> None:
        for name, clock in self.definition.clocks.items():
            if clock.paused_while_waiting and name in self.clocks and not calendars.clock_is_paused(self.clocks[name]):
                self.clocks[name] = calendars.clock_pause(self.clocks[name], self.now)
                self.cancel_timers(purpose_prefix="clock_", detail=name)
                self.audit("clock_paused", clock=name)

    def resume_clocks(self) -> None:
        if any(isinstance(self.definition.step(t.flow, t.step), RequestStep) for t in self.tokens.values()):
            return  # another request to the citizen is still open
        for name in list(self.clocks):
            if calendars.clock_is_paused(self.clocks[name]):
                self.clocks[name] = calendars.clock_resume(self.clocks[name], self.now)
                self.audit("clock_resumed", clock=name)
                self.schedule_clock(name)

    def extend_clock(self, name: str, duration: Any) -> None:
        self.clocks[name] = calendars.clock_extend(self.clocks[name], duration)
        if not calendars.clock_is_paused(self.clocks[name]):
            self.schedule_clock(name)

    def escalate(self, name: str, *, reason: str) -> None:
        escalation = self.definition.escalations[name]
        for role in escalation.notify:
            self.effects.append(SendNotice(escalation.notice or "escalation", role, ""))
        if escalation.raise_priority:
            self.raise_priority(escalation.raise_priority)
        self.audit("escalated", escalation=name, reason=reason)

    def raise_priority(self, priority: str) -> None:
        """Move the case up (never down: an urgent case stays urgent when a step says high)."""
        order = ("normal", "high", "urgent")
        if order.index(priority) > (order.index(self.priority) if self.priority in order else 0):
            self.priority = priority
            self.effects.append(SetPriority(priority))


def _list_position(result: Mapping[str, Any]) -> int:
    """An ``each`` result's place in its list (results stored before ``position`` existed kept it in ``item``)."""
    return int(result["position"] if "position" in result else result["item"])


def value_at(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path (``household.members.0.age``), or None where there is none."""
    value: Any = data
    for part in dotted.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _moment(value: Any, tz: ZoneInfo) -> datetime | None:
    """A date (start of that day, local time) or a datetime from case data."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment
