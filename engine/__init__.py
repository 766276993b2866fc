"""CivicFlow's workflow engine: pure Python, no Django, no I/O, no clock.

The public surface: ``load`` a program's files into a frozen ``Definition``,
then drive cases with ``step(definition, state, event, now)``, which returns the
new ``CaseState`` and the ``Effect`` values for the caller to apply.
"""

from engine.definition import Definition, Program, Step, content_hash, load, localized
from engine.problems import DefinitionError, Problem
from engine.runtime import (
    CaseNotRunning,
    CaseState,
    CloseCase,
    CloseTask,
    Effect,
    EngineError,
    Event,
    OpenTask,
    RecordAudit,
    StateFormatError,
    Submitted,
    TaskCompleted,
    TaskNotOpen,
    Token,
    UnknownOutcome,
    WrongDefinition,
    new_state,
    step,
)

__all__ = [
    "CaseNotRunning",
    "CaseState",
    "CloseCase",
    "CloseTask",
    "Definition",
    "DefinitionError",
    "Effect",
    "EngineError",
    "Event",
    "OpenTask",
    "Problem",
    "Program",
    "RecordAudit",
    "StateFormatError",
    "Step",
    "Submitted",
    "TaskCompleted",
    "TaskNotOpen",
    "Token",
    "UnknownOutcome",
    "WrongDefinition",
    "content_hash",
    "load",
    "localized",
    "new_state",
    "step",
]
