"""Consistency checks over running cases: is every case still able to move on?

A running case waits for something: a caseworker (an open task), time (a pending timer), the
citizen or another system (a wait or a request step), or its parallel branches (a join, a
sub-workflow). A case whose engine state waits on a task or a timer that the tables do not
hold would never move again: an *orphan*. After a crash or a restore, `civicflow audit
orphans` lists them so nothing is silently stuck.
"""

from __future__ import annotations

from dataclasses import dataclass

import engine
from engine.model import EachStep, HumanStep
from workflows import programs
from workflows.models import Case, Task, Timer


@dataclass(frozen=True)
class Orphan:
    """A running case that cannot move on, and why."""

    reference: str
    reason: str

    def __str__(self) -> str:
        return f"{self.reference}: {self.reason}"


def orphans() -> list[Orphan]:
    """Every running case whose state waits on a task or timer that is not there."""
    found: list[Orphan] = []
    running = Case.objects.filter(status=Case.Status.RUNNING).select_related("version").order_by("pk")
    for case in running.iterator(chunk_size=500):
        found.extend(_problems(case))
    return found


def _problems(case: Case) -> list[Orphan]:
    state = engine.CaseState.from_json(case.state)
    definition = programs.definition_of(case.version)
    if not state.tokens:
        return [Orphan(case.reference, "it is running but waits at no step")]
    open_tokens = set(Task.objects.filter(case=case, status=Task.Status.OPEN).values_list("token", flat=True))
    timer_status = dict(Timer.objects.filter(case=case).values_list("timer", "status"))
    problems: list[Orphan] = []
    for token in state.tokens:
        step = definition.step(token.flow, token.step)
        needs_task = isinstance(step, HumanStep) or (isinstance(step, EachStep) and token.item is not None)
        if needs_task and not token.blocked and token.id not in open_tokens:
            problems.append(Orphan(case.reference, f"token {token.id} at {token.step!r} has no open task"))
    for timer in state.timers:
        status = timer_status.get(timer.id)
        if status == Timer.Status.FAILED:
            problems.append(Orphan(case.reference, f"timer {timer.id} ({timer.purpose}) kept failing and was given up"))
        elif status != Timer.Status.PENDING:
            problems.append(Orphan(case.reference, f"timer {timer.id} ({timer.purpose}) has no pending timer row"))
    return problems
