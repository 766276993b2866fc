"""The neutral model of a program: frozen dataclasses that every reader produces.

Nothing here parses or runs anything; ``loading`` builds these from files and
``runtime`` interprets them. Every step names the steps it can go to, so the
checker can walk the graph without knowing each kind's details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

Text = Mapping[str, str]
"""Text in several languages: language code (``en``, ``zh-Hans``) -> words."""

EMPTY_TEXT: Text = MappingProxyType({})


@dataclass(frozen=True)
class Where:
    """Where something was written, for problems found after loading."""

    path: str
    line: int
    col: int


NOWHERE = Where("", 0, 0)


@dataclass(frozen=True)
class Compiled:
    """An expression as written and as compiled (``logic`` is JSONLogic)."""

    source: str
    expression: Any  # engine.expressions.Expression
    where: Where = NOWHERE


@dataclass(frozen=True)
class Route:
    """Go ``to`` a step, when ``when`` holds (no condition: always)."""

    to: str
    when: Compiled | None = None
    where: Where = NOWHERE


DEFAULT_DRAFT_DAYS = 30
"""How long an unsubmitted draft is kept after its last save when ``drafts`` says nothing."""

MAX_DRAFT_DAYS = 365
"""The longest ``drafts: keep for`` a program may choose."""


@dataclass(frozen=True)
class StartPage:
    """What the citizen's start page says before the first question (``start page``)."""

    purpose: Text | None = None  # what the citizen gets
    time_needed: Text | None = None  # "About 10 minutes"
    you_will_need: tuple[Text, ...] = ()  # documents and facts to have at hand
    other_ways_to_apply: Text | None = None  # in person, by phone, on paper


@dataclass(frozen=True)
class AfterSubmitting:
    """What the confirmation page (and the receipt) says (``after submitting``)."""

    what_happens_next: Text | None = None
    contact: Text | None = None  # how to reach the agency
    feedback: str | None = None  # an https URL of a feedback survey


@dataclass(frozen=True)
class ApplicantContact:
    """Which answers reach the applicant (``contact``): dotted answer paths, each optional.

    Notices to the citizen are e-mailed to the ``email`` answer (else to the account they
    applied with) and sent by SMS to the ``phone`` answer.
    """

    email: str | None = None
    phone: str | None = None
    email_where: Where = NOWHERE
    phone_where: Where = NOWHERE


SHARING_POLICIES = ("none", "with consent")
"""``privacy: sharing``: whether the program's case data may go to other programs (``none`` by default)."""


@dataclass(frozen=True)
class Retention:
    """How long case data is kept (``retention``)."""

    closed_cases: Any = None  # engine.calendar.Duration after the case closes; None: kept indefinitely


@dataclass(frozen=True)
class Privacy:
    """Who sees what of the applicant's answers (``privacy``)."""

    sharing: str = "none"  # one of SHARING_POLICIES; recorded for operators and auditors
    sensitive_fields_seen_by: tuple[str, ...] = ()  # roles that may reveal x-sensitive answers; none by default


@dataclass(frozen=True)
class Program:
    """What ``program.yaml`` says about the program."""

    id: str
    title: Text
    summary: Text
    agency: str
    reference_prefix: str
    roles: tuple[str, ...]
    languages: tuple[str, ...] = ("en",)
    channels: tuple[str, ...] = ("online", "counter", "phone", "paper", "api")
    timezone: str = "America/Los_Angeles"
    retention: Retention = field(default_factory=Retention)
    privacy: Privacy = field(default_factory=Privacy)
    version_notes: Text = EMPTY_TEXT
    start_page: StartPage | None = None
    after_submitting: AfterSubmitting | None = None
    draft_days: int = DEFAULT_DRAFT_DAYS  # unsubmitted drafts are deleted this long after their last save
    contact: ApplicantContact | None = None  # the answers notices are e-mailed and texted to


@dataclass(frozen=True)
class Step:
    """What every step has. Subclasses add what their kind needs."""

    name: str
    kind: str
    title: Text
    status: Text | None
    where: Where

    def targets(self) -> tuple[str, ...]:
        """Every step this one can pass control to (for the checker's graph)."""
        return ()

    @property
    def is_human(self) -> bool:
        return False


@dataclass(frozen=True)
class Panel:
    """A parallel panel of ``size`` seats for ``role``; ``quorum`` approvals decide."""

    size: int
    quorum: str | int  # "all", "first" or a number of approvals


@dataclass(frozen=True)
class HumanStep(Step):
    """``task`` or ``approval``: someone in ``role`` chooses one of ``outcomes``."""

    role: str
    outcomes: Mapping[str, tuple[Route, ...]]
    queue: Compiled | None = None
    assign: str | None = None  # "round robin", "least loaded", or None (claim from the queue)
    assign_to: Compiled | None = None  # a user name from case data
    same_person_as: str | None = None
    not_same_person_as: tuple[str, ...] = ()
    form: str | None = None  # a schema file in the program folder for the caseworker's input
    due: Any = None  # engine.calendar.Duration
    on_overdue: str | None = None  # an escalation name
    levels: tuple[str, ...] = ()  # approval chain: one role per level, in order
    panel: Panel | None = None

    def targets(self) -> tuple[str, ...]:
        return tuple(route.to for routes in self.outcomes.values() for route in routes)

    @property
    def is_human(self) -> bool:
        return True


@dataclass(frozen=True)
class DecideStep(Step):
    """Compute data, look up a table, then take the first route whose condition holds."""

    compute: tuple[tuple[str, Compiled], ...]
    table: str | None
    routes: tuple[Route, ...]

    def targets(self) -> tuple[str, ...]:
        return tuple(route.to for route in self.routes)


@dataclass(frozen=True)
class ActionStep(Step):
    """Set data from expressions (and maybe extend a clock), then go on."""

    set: tuple[tuple[str, Compiled], ...]
    extend_clock: tuple[str, Any] | None  # (clock name, Duration)
    next: str
    raise_priority: str | None = None  # "high" or "urgent": the case moves up every inbox

    def targets(self) -> tuple[str, ...]:
        return (self.next,)


@dataclass(frozen=True)
class NoticeStep(Step):
    """Send a notice to the citizen or to a role, then go on."""

    notice: str
    to: str
    next: str

    def targets(self) -> tuple[str, ...]:
        return (self.next,)


@dataclass(frozen=True)
class ParallelStep(Step):
    """Start every branch (parallel split) or those whose condition holds (inclusive)."""

    branches: tuple[Route, ...]

    def targets(self) -> tuple[str, ...]:
        return tuple(route.to for route in self.branches)

    @property
    def inclusive(self) -> bool:
        return any(route.when is not None for route in self.branches)


@dataclass(frozen=True)
class JoinStep(Step):
    """Wait for the branches of ``split``: all, the first, or a number of them."""

    split: str
    wait_for: str | int  # "all", "first" or a count
    cancel_rest: bool
    block: bool  # a "first" join that resets only when every branch has arrived
    next: str

    def targets(self) -> tuple[str, ...]:
        return (self.next,)


@dataclass(frozen=True)
class EachStep(Step):
    """One task per item of a list in the case data (or a fixed number of tasks)."""

    over: Compiled | None
    count: int | None
    item_name: str
    task: HumanStep
    wait_for: str | int  # "all", "none" or a count
    results: str
    next: str

    def targets(self) -> tuple[str, ...]:
        return (self.next,)


@dataclass(frozen=True)
class Trigger:
    """What a wait step waits for: a time (``after``/``until``) or a named event."""

    kind: str  # "after", "until" or "event"
    to: str
    duration: Any = None  # Duration, for "after"
    until: Compiled | None = None  # a date or datetime from data, for "until"
    event: str | None = None


@dataclass(frozen=True)
class WaitStep(Step):
    """Wait for the first of its triggers (a deferred choice when there are several)."""

    triggers: tuple[Trigger, ...]

    def targets(self) -> tuple[str, ...]:
        return tuple(trigger.to for trigger in self.triggers)


@dataclass(frozen=True)
class RequestStep(Step):
    """Ask the citizen for information; clocks pause until they answer or time runs out."""

    notice: str
    answer_form: str | None
    remind_after: Any  # Duration | None
    reminder_notice: str | None
    expires_after: Any  # Duration
    on_answer: str
    on_expiry: str
    pauses_clocks: bool

    def targets(self) -> tuple[str, ...]:
        return (self.on_answer, self.on_expiry)


@dataclass(frozen=True)
class SubworkflowStep(Step):
    """Run a sub-workflow of this program; its end outcome picks the next step."""

    run: str
    outcomes: Mapping[str, str]

    def targets(self) -> tuple[str, ...]:
        return tuple(self.outcomes.values())


@dataclass(frozen=True)
class EndStep(Step):
    """End the case (or the sub-workflow) with a named outcome; everything still open is cancelled."""

    outcome: str
    notice: str | None

    def targets(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class FinishStep(Step):
    """End one branch only; the case ends when no branch is left (implicit termination)."""


@dataclass(frozen=True)
class Clock:
    """A statutory clock: ``limit`` after it starts, warned and escalated before breach."""

    name: str
    limit: Any  # Duration
    starts: str  # "on submit" or a step name ("on entering X")
    warn_at: Any  # Duration | None
    on_warn: tuple[str, ...]
    on_breach: tuple[str, ...]
    paused_while_waiting: bool
    where: Where
    stops: tuple[str, ...] = ()  # steps whose entry stops it ("stops: on entering X"); the case's end always does


@dataclass(frozen=True)
class EventSpec:
    """A named event a case can wait for, posted by staff or a partner system (``events:``)."""

    name: str
    form: str | None  # a JSON Schema file for the event's data; None: the event carries no data
    sent_by: tuple[str, ...]  # roles allowed to post it; empty: any role of the program
    where: Where


@dataclass(frozen=True)
class Escalation:
    """What happens when a deadline is near or passed."""

    name: str
    notify: tuple[str, ...]  # roles (or "citizen") to send the escalation notice to
    notice: str | None
    raise_priority: str | None
    where: Where


@dataclass(frozen=True)
class Flow:
    """A graph of steps: the main workflow or one of its sub-workflows."""

    name: str
    start: str
    steps: Mapping[str, Step]


@dataclass(frozen=True)
class Definition:
    """A program's definition, frozen and identified by the hash of its files."""

    program: Program
    form_schema: Mapping[str, Any]
    flows: Mapping[str, Flow]  # "" is the main workflow
    clocks: Mapping[str, Clock]
    escalations: Mapping[str, Escalation]
    conditions: Mapping[str, Compiled]
    tables: Mapping[str, Any]  # engine.tables.DecisionTable
    notices: Mapping[str, Mapping[str, str]]  # notice -> language -> Markdown text
    calendar: Any  # engine.calendar.Calendar
    default_outcome: str
    files: Mapping[str, str]
    content_hash: str
    events: Mapping[str, EventSpec] = field(default_factory=dict)

    @property
    def start(self) -> str:
        return self.flows[""].start

    @property
    def steps(self) -> Mapping[str, Step]:
        return self.flows[""].steps

    def step(self, flow: str, name: str) -> Step:
        return self.flows[flow].steps[name]


def form_of(step: Step | None) -> str | None:
    """The JSON Schema file of what a step records: a task's form (each task's, for ``each``), a
    request's answer form; None for other steps and steps without one."""
    if isinstance(step, EachStep):
        step = step.task
    if isinstance(step, HumanStep):
        return step.form
    if isinstance(step, RequestStep):
        return step.answer_form
    return None


def localized(text: Text, language: str) -> str:
    """The text in ``language`` (matching ``zh-hans`` to ``zh-Hans``), else English."""
    wanted = language.lower()
    for code, words in text.items():
        if code.lower() == wanted:
            return words
    base = wanted.split("-")[0]
    for code, words in text.items():
        if code.lower().split("-")[0] == base:
            return words
    return text.get("en", next(iter(text.values()), ""))
