"""The interpreter: ``step(definition, state, event, now) -> (state, effects)``.

Pure: no I/O, no clock (``now`` is handed in), no randomness, no IDs made up
outside the state (tokens are numbered from a counter kept in the state). The
caller applies the returned effects; the engine never performs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.definition import Definition, Step

STATE_FORMAT = 1


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class Token:
    """A thread of control waiting at a step."""

    id: int
    step: str


@dataclass(frozen=True)
class CaseState:
    """Everything the engine knows about one case; serialises to JSON."""

    definition_hash: str
    status: str = "new"  # new -> running -> closed
    tokens: tuple[Token, ...] = ()
    next_token: int = 1
    outcome: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "definition_hash": self.definition_hash,
            "status": self.status,
            "tokens": [{"id": token.id, "step": token.step} for token in self.tokens],
            "next_token": self.next_token,
            "outcome": self.outcome,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CaseState:
        if raw.get("format") != STATE_FORMAT:
            raise StateFormatError(found=raw.get("format"), expected=STATE_FORMAT)
        return cls(
            definition_hash=str(raw["definition_hash"]),
            status=str(raw["status"]),
            tokens=tuple(Token(id=int(token["id"]), step=str(token["step"])) for token in raw["tokens"]),
            next_token=int(raw["next_token"]),
            outcome=raw["outcome"],
            data=dict(raw["data"]),
        )


def new_state(definition: Definition) -> CaseState:
    """The state of a case that has not started yet."""
    return CaseState(definition_hash=definition.content_hash)


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Submitted:
    """The citizen's answers were accepted; the case starts."""

    data: Mapping[str, Any]


@dataclass(frozen=True)
class TaskCompleted:
    """Someone chose ``outcome`` on the human step held by ``token``."""

    token: int
    outcome: str
    actor: str


Event = Submitted | TaskCompleted


# ---------------------------------------------------------------- effects


@dataclass(frozen=True)
class OpenTask:
    token: int
    step: str
    role: str


@dataclass(frozen=True)
class CloseTask:
    token: int
    step: str
    outcome: str
    actor: str


@dataclass(frozen=True)
class CloseCase:
    outcome: str


@dataclass(frozen=True)
class RecordAudit:
    kind: str
    detail: Mapping[str, Any]


Effect = OpenTask | CloseTask | CloseCase | RecordAudit


# ---------------------------------------------------------------- errors


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


# ---------------------------------------------------------------- interpreter


def step(definition: Definition, state: CaseState, event: Event, now: datetime) -> tuple[CaseState, list[Effect]]:
    """Apply one event, then run automatic steps until every token waits or the case ends."""
    if state.definition_hash != definition.content_hash:
        raise WrongDefinition(state_hash=state.definition_hash, definition_hash=definition.content_hash)
    effects: list[Effect] = []
    if isinstance(event, Submitted):
        if state.status != "new":
            raise CaseNotRunning(status=state.status)
        state = replace(state, status="running", data=dict(event.data))
        effects.append(RecordAudit("case_started", {"at": now.isoformat(), "step": definition.start}))
        state = _arrive(definition, state, definition.start, effects)
    else:
        if state.status != "running":
            raise CaseNotRunning(status=state.status)
        token = next((held for held in state.tokens if held.id == event.token), None)
        if token is None:
            raise TaskNotOpen(token=event.token)
        current = definition.steps[token.step]
        target = current.outcomes.get(event.outcome)
        if target is None:
            raise UnknownOutcome(step=current.name, outcome=event.outcome, allowed=tuple(current.outcomes))
        state = replace(state, tokens=tuple(held for held in state.tokens if held.id != token.id))
        effects.append(CloseTask(token.id, current.name, event.outcome, event.actor))
        effects.append(
            RecordAudit(
                "task_completed",
                {"at": now.isoformat(), "step": current.name, "outcome": event.outcome, "actor": event.actor},
            )
        )
        state = _arrive(definition, state, target, effects)
    return state, effects


def _arrive(definition: Definition, state: CaseState, step_name: str, effects: list[Effect]) -> CaseState:
    target: Step = definition.steps[step_name]
    if target.is_human:
        assert target.role is not None  # the loader guarantees human steps name a role
        token = Token(id=state.next_token, step=target.name)
        effects.append(OpenTask(token.id, target.name, target.role))
        return replace(state, tokens=(*state.tokens, token), next_token=state.next_token + 1)
    assert target.outcome is not None  # the only other kind is "end"
    for waiting in state.tokens:
        effects.append(CloseTask(waiting.id, waiting.step, "cancelled", "engine"))
    effects.append(CloseCase(target.outcome))
    effects.append(RecordAudit("case_closed", {"step": target.name, "outcome": target.outcome}))
    return replace(state, status="closed", outcome=target.outcome, tokens=())
