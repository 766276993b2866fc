"""The checker's second pass: problems that need the whole program in view.

Loading already refused malformed files and unknown names. Here we walk the
workflow graph (reachability, dead ends, joins that can never fire), match every
expression's variables and every notice's placeholders to the data the case
will hold, and ask decision tables for gaps and overlaps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine import notices as notice_texts
from engine import tables
from engine.model import (
    ActionStep,
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
    WaitStep,
    Where,
    form_of,
)
from engine.problems import Problem

BUILTIN_FIELDS = frozenset({"reference", "program", "submitted_on", "today", "outcome", "due_date", "step"})


def check(definition: Definition, *, prefix: str = "") -> list[Problem]:
    """Every whole-program problem (errors and warnings) of a loaded definition."""
    checker = _Checker(definition, prefix)
    checker.run()
    return checker.problems


class _Checker:
    def __init__(self, definition: Definition, prefix: str) -> None:
        self.definition = definition
        self.prefix = prefix
        self.problems: list[Problem] = []
        self.known = KnownFields.of(definition)

    def at(self, where: Where, code: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(where.path, where.line, where.col, code, message, severity))

    def run(self) -> None:
        for flow in self.definition.flows.values():
            self.check_graph(flow)
            for step in flow.steps.values():
                self.check_step(step)
        main = self.definition.flows[""]
        if not any(isinstance(step, (EndStep, FinishStep)) for step in main.steps.values()):
            first = next(iter(main.steps.values()), None)
            if first is not None:
                self.at(first.where, "no_end", "the workflow has no end step")
        for name, condition in self.definition.conditions.items():
            self.check_expression(condition, f"condition {name!r}")
        for clock in self.definition.clocks.values():
            if clock.starts.startswith("on entering "):
                step_name = clock.starts.removeprefix("on entering ")
                if step_name not in main.steps:
                    self.at(
                        clock.where,
                        "unknown_step",
                        f"clock {clock.name!r} starts on entering {step_name!r}, not a step",
                    )
            for step_name in clock.stops:
                if step_name not in main.steps:
                    self.at(
                        clock.where,
                        "unknown_step",
                        f"clock {clock.name!r} stops on entering {step_name!r}, not a step",
                    )
        self.check_events()
        for escalation in self.definition.escalations.values():
            if escalation.notice is not None:
                self.check_notice(escalation.notice, escalation.where)
            elif escalation.notify and "escalation" not in self.definition.notices:
                self.at(
                    escalation.where,
                    "unknown_notice",
                    f"escalation {escalation.name!r} notifies {', '.join(escalation.notify)} with the notice "
                    "'escalation' (it names no other), but there is no notices/escalation.<language>.md: "
                    "nobody would be told",
                    "warning",
                )
        for table_id, table in self.definition.tables.items():
            self.problems.extend(tables.check_table(table, f"{self.prefix}tables/{table_id}.yaml"))
        for notice, texts in self.definition.notices.items():
            for language, text in texts.items():
                self.check_notice_text(f"{self.prefix}notices/{notice}.{language}.md", text)
        self.check_contact()

    # -- the graph ------------------------------------------------------------------

    def check_graph(self, flow: Flow) -> None:
        steps = flow.steps
        if flow.start not in steps:
            return
        reachable = _reach(flow.start, steps)
        for name, step in steps.items():
            if name not in reachable:
                self.at(step.where, "unreachable_step", f"step {name!r} cannot be reached from {flow.start!r}")
        finishing = {name for name, step in steps.items() if isinstance(step, (EndStep, FinishStep))}
        can_finish = _reverse_reach(finishing, steps)
        for name in sorted(reachable - can_finish):
            self.at(
                steps[name].where,
                "no_way_out",
                f"from step {name!r} no path leads to an end: the case would run forever",
            )
        joins_by_split: dict[str, list[JoinStep]] = {}
        for step in steps.values():
            if isinstance(step, JoinStep):
                joins_by_split.setdefault(step.split, []).append(step)
        for step in steps.values():
            if isinstance(step, ParallelStep):
                self.check_split(step, joins_by_split.get(step.name, []), steps)

    def check_split(self, split: ParallelStep, joins: list[JoinStep], steps: Mapping[str, Step]) -> None:
        if not joins:
            self.at(
                split.where,
                "split_not_joined",
                f"no join joins {split.name!r}: its branches each run to their own end",
                "warning",
            )
            return
        join_names = {join.name for join in joins}
        for join in joins:
            if join.wait_for == "first" or (isinstance(join.wait_for, int) and join.wait_for == 1):
                continue
            needed = len(split.branches) if join.wait_for == "all" else int(join.wait_for)
            if isinstance(join.wait_for, int) and join.wait_for > len(split.branches):
                self.at(
                    join.where,
                    "join_may_deadlock",
                    f"join {join.name!r} waits for {join.wait_for} branches but {split.name!r} starts "
                    f"{len(split.branches)}",
                )
                continue
            escaping = [
                route.to for route in split.branches if _escapes_without(route.to, join_names, steps, finish_only=True)
            ]
            if escaping and len(split.branches) - len(escaping) < needed:
                self.at(
                    join.where,
                    "join_may_deadlock",
                    f"join {join.name!r} waits for {join.wait_for} branch(es), but the branch(es) starting at "
                    f"{', '.join(repr(name) for name in escaping)} can finish without reaching it",
                )

    # -- per step -------------------------------------------------------------------

    def check_step(self, step: Step) -> None:
        for compiled, what in _expressions_of(step):
            self.check_expression(compiled, what, extra=_item_scope(step))
        if isinstance(step, (NoticeStep, RequestStep)):
            self.check_notice(step.notice, step.where)
        if isinstance(step, RequestStep) and step.reminder_notice:
            self.check_notice(step.reminder_notice, step.where)
        if isinstance(step, EndStep) and step.notice:
            self.check_notice(step.notice, step.where)
        human = step.task if isinstance(step, EachStep) else step  # each opens its task per item: same rules
        if isinstance(human, HumanStep):
            self.check_people(human)
            if human.on_overdue and human.on_overdue not in self.definition.escalations:
                self.at(human.where, "unknown_escalation", f"on overdue names {human.on_overdue!r}, not an escalation")
            if human.on_overdue and human.due is None:
                self.at(human.where, "missing_key", f"step {human.name!r} escalates when overdue but has no due")
        if isinstance(step, ActionStep) and step.extend_clock:
            name, by = step.extend_clock
            clock = self.definition.clocks.get(name)
            if clock is None:
                self.at(step.where, "unknown_clock", f"step {step.name!r} extends {name!r}, not a clock")
            elif by.in_business_days != clock.limit.in_business_days:
                kind = "business days" if clock.limit.in_business_days else "calendar time (minutes to years)"
                self.at(
                    step.where,
                    "invalid_duration",
                    f"step {step.name!r} extends {name!r} by {by}, but a clock of {clock.limit} counts in {kind}",
                )
        if isinstance(step, SubworkflowStep) and step.run in self.definition.flows:
            ends = {s.outcome for s in self.definition.flows[step.run].steps.values() if isinstance(s, EndStep)}
            for outcome in sorted(ends - set(step.outcomes)):
                self.at(
                    step.where, "unhandled_outcome", f"sub-workflow {step.run!r} can end {outcome!r}; map it to a step"
                )

    def check_people(self, step: HumanStep) -> None:
        steps = self.definition.steps
        for other in (step.same_person_as, *step.not_same_person_as):
            if other is not None and other in steps and not steps[other].is_human:
                self.at(step.where, "not_a_human_step", f"{other!r} is not a task or approval, so nobody does it")

    def check_expression(self, compiled: Compiled, what: str, extra: Iterable[str] = ()) -> None:
        for call in _table_calls(compiled.expression.logic):
            self.check_table_call(compiled, what, call)
        for variable in sorted(compiled.expression.variables):
            if not self.known.has(variable, extra):
                self.at(
                    compiled.where,
                    "unknown_field",
                    f"{what} reads {variable!r}, which is not in the form or computed by any step",
                )

    def check_table_call(self, compiled: Compiled, what: str, args: list[Any]) -> None:
        """``table('fpl', 'annual_fpl', household_size)``: the table, output and inputs must fit."""
        name, output, *inputs = args
        table = self.definition.tables.get(name) if isinstance(name, str) else None
        if table is None:
            self.at(compiled.where, "unknown_table", f"{what} looks up table {name!r}, which is not in tables/")
            return
        if output not in table.outputs:
            outputs = ", ".join(table.outputs)
            self.at(compiled.where, "unknown_output", f"{what}: table {name!r} has no output {output!r} ({outputs})")
        if len(inputs) != len(table.inputs):
            self.at(
                compiled.where,
                "wrong_arguments",
                f"{what}: table {name!r} takes {len(table.inputs)} input(s) ({', '.join(table.inputs)}), "
                f"given {len(inputs)}",
            )

    def check_notice(self, notice: str, where: Where) -> None:
        """A notice the workflow sends must have a file in every language of the program."""
        texts = self.definition.notices.get(notice)
        if texts is None:
            self.at(where, "unknown_notice", f"notice {notice!r} has no file notices/{notice}.<language>.md")
            return
        for language in self.definition.program.languages:
            if language not in texts:
                self.at(
                    where,
                    "missing_translation",
                    f"notice {notice!r} has no {language} text (notices/{notice}.{language}.md)",
                )

    def check_notice_text(self, path: str, text: str) -> None:
        """The subject line, and placeholders from the closed list naming answers fit to send."""
        if notice_texts.subject(text) is None:
            self.problems.append(
                Problem(
                    path,
                    notice_texts.subject_line(text),
                    1,
                    "missing_subject",
                    "a notice starts with its subject as a heading, e.g. '# Your library card is ready'",
                )
            )
        for placeholder in notice_texts.placeholders(text):
            message = self.placeholder_problem(placeholder)
            if message is not None:
                code, words = message
                self.problems.append(Problem(path, placeholder.line, placeholder.col, code, words))

    def placeholder_problem(self, placeholder: notice_texts.Placeholder) -> tuple[str, str] | None:
        if not placeholder.known:
            names = ", ".join(f"{{{{ {name} }}}}" for name in notice_texts.FIXED_PLACEHOLDERS)
            return (
                "unknown_placeholder",
                f"{placeholder.written} is not a placeholder; a notice may use {names}, "
                "{{ answers.<question> }} and {{ case.<value> }}",
            )
        if placeholder.case_value is not None:
            return self.case_value_problem(placeholder, placeholder.case_value)
        path = placeholder.answer
        if path is None:
            return None
        found = _answer_at(self.definition.form_schema, path)
        if found is None:
            return "unknown_field", f"{placeholder.written} names {path!r}, which is not a question of the form"
        if found.private:
            return (
                "private_answer",
                f"{placeholder.written}: {path!r} is tagged x-pii or x-sensitive, and notices go by e-mail and "
                "SMS, which are not private enough for it",
            )
        if found.group:
            return (
                "not_one_answer",
                f"{placeholder.written} names a group of answers; name one question inside it",
            )
        return None

    def case_value_problem(self, placeholder: notice_texts.Placeholder, path: str) -> tuple[str, str] | None:
        """``{{ case.<path> }}``: a value the workflow sets (or an answer), never a private one."""
        if _answer_at(self.definition.form_schema, path) is not None:
            # An answer read through case.: the same rules as {{ answers.<path> }}.
            return self.placeholder_problem(
                notice_texts.Placeholder(placeholder.written, f"answers.{path}", placeholder.line, placeholder.col)
            )
        if path in self.definition.conditions or not self.known.has(path):
            return (
                "unknown_field",
                f"{placeholder.written} names {path!r}, which the workflow never keeps on the case: name a computed "
                "value, a table output, a field set by an action, a task's recorded answer (step.field), "
                "a step's outcome (step.outcome) or a clock's deadline (deadlines.clock)",
            )
        step_name, _, rest = path.partition(".")
        found = self.recorded_answer(step_name, rest)
        if found is not None and found.private:
            return (
                "private_answer",
                f"{placeholder.written}: {rest!r} is tagged x-pii or x-sensitive in the form of step {step_name!r}, "
                "and notices go by e-mail and SMS, which are not private enough for it",
            )
        return None

    def recorded_answer(self, step_name: str, path: str) -> _Answer | None:
        """What the form of a task or request step says about one of its fields, if it has that form."""
        for flow in self.definition.flows.values():
            form = form_of(flow.steps.get(step_name))
            if path and form and form in self.definition.files:
                return _answer_at(_json(self.definition.files[form]), path)
        return None

    def check_events(self) -> None:
        """With an ``events`` section, every event a step waits for is declared there, and used."""
        awaited: set[str] = set()
        for flow in self.definition.flows.values():
            for step in flow.steps.values():
                if not isinstance(step, WaitStep):
                    continue
                for trigger in step.triggers:
                    if trigger.kind != "event" or trigger.event is None:
                        continue
                    awaited.add(trigger.event)
                    if self.definition.events and trigger.event not in self.definition.events:
                        declared = ", ".join(sorted(self.definition.events))
                        self.at(
                            step.where,
                            "unknown_event",
                            f"step {step.name!r} waits for {trigger.event!r}, which is not under events ({declared})",
                        )
        for name, spec in self.definition.events.items():
            if name not in awaited:
                self.at(spec.where, "event_not_awaited", f"no step waits for the event {name!r}", severity="warning")

    def check_contact(self) -> None:
        contact = self.definition.program.contact
        if contact is None:
            return
        for key, path, where in (
            ("email", contact.email, contact.email_where),
            ("phone", contact.phone, contact.phone_where),
        ):
            if path is None:
                continue
            found = _answer_at(self.definition.form_schema, path)
            if found is None:
                self.at(where, "unknown_field", f"contact {key} names {path!r}, which is not a question of the form")
            elif found.group:
                self.at(where, "not_one_answer", f"contact {key} names a group of answers; name one question")


@dataclass(frozen=True)
class _Answer:
    """What the form says about one answer path: tagged private (itself or a group it is in)? a group?"""

    private: bool
    group: bool


def _answer_at(schema: Mapping[str, Any], path: str) -> _Answer | None:
    """The answer at a dotted path (a number or ``*`` steps into a list), None if the form has none."""
    parts = ["*" if part.isdigit() else part for part in path.split(".")]
    found = list(_answer_nodes(schema, parts, private=False, depth=0))
    if not found:
        return None
    return _Answer(
        private=any(private for _, private in found),
        group=any(node.get("type") in ("object", "array") or "properties" in node for node, _ in found)
        and not _list_of_choices(found),
    )


def _list_of_choices(found: list[tuple[Mapping[str, Any], bool]]) -> bool:
    """A list of plain values (ticked choices) reads well as one answer: "a, b"."""
    for node, _ in found:
        items = node.get("items")
        if node.get("type") == "array" and isinstance(items, Mapping) and items.get("type") not in ("object", "array"):
            return True
    return False


def _answer_nodes(
    node: object, parts: list[str], *, private: bool, depth: int
) -> Iterator[tuple[Mapping[str, Any], bool]]:
    """Every subschema at ``parts`` below ``node``, with whether it or a group above it is private."""
    if not isinstance(node, Mapping) or depth > 16:
        return
    private = private or node.get("x-pii") is True or node.get("x-sensitive") is True
    for key in ("allOf", "anyOf", "oneOf"):
        for part in node.get(key, []) or []:
            yield from _answer_nodes(part, parts, private=private, depth=depth + 1)
    for branch in ("then", "else"):
        yield from _answer_nodes(node.get(branch), parts, private=private, depth=depth + 1)
    if not parts:
        yield node, private
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        yield from _answer_nodes(node.get("items"), rest, private=private, depth=depth + 1)
        return
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        yield from _answer_nodes(properties.get(head), rest, private=private, depth=depth + 1)


class KnownFields:
    """Every data path a case can hold: the form's fields and what steps compute."""

    def __init__(self, exact: set[str], open_prefixes: set[str]) -> None:
        self.exact = exact
        self.open_prefixes = open_prefixes

    @classmethod
    def of(cls, definition: Definition) -> KnownFields:
        exact = set(BUILTIN_FIELDS) | set(_schema_paths(definition.form_schema))
        open_prefixes: set[str] = set()
        exact.update(definition.conditions)
        exact.update(f"deadlines.{clock}" for clock in definition.clocks)  # each clock's due moment
        for flow in definition.flows.values():
            for step in flow.steps.values():
                if isinstance(step, DecideStep):
                    exact.update(name for name, _ in step.compute)
                    if step.table and step.table in definition.tables:
                        exact.update(definition.tables[step.table].outputs)
                if isinstance(step, ActionStep):
                    exact.update(name for name, _ in step.set)
                if isinstance(step, EachStep):
                    exact.update(
                        {
                            step.results,
                            f"{step.results}.*.outcome",
                            f"{step.results}.*.by",
                            f"{step.results}.*.item",
                            f"{step.results}.*.position",
                        }
                    )
                    # Each result carries what the caseworker recorded on the task's form.
                    if step.task.form and step.task.form in definition.files:
                        form_paths = _schema_paths(_json(definition.files[step.task.form]))
                        exact.update(f"{step.results}.*.{path}" for path in form_paths)
                    # ... and the item itself, whose fields are the list's items' fields.
                    if step.over is not None:
                        for list_path in sorted(step.over.expression.variables):
                            exact.update(
                                f"{step.results}.*.item{known[len(list_path) + 2 :]}"
                                for known in list(exact)
                                if known.startswith(f"{list_path}.*.")
                            )
                if isinstance(step, WaitStep):
                    for trigger in step.triggers:
                        if trigger.kind != "event" or trigger.event is None:
                            continue
                        spec = definition.events.get(trigger.event)
                        if spec is not None and spec.form and spec.form in definition.files:
                            exact.add(trigger.event)
                            exact.update(
                                f"{trigger.event}.{path}" for path in _schema_paths(_json(definition.files[spec.form]))
                            )
                        else:
                            open_prefixes.add(trigger.event)  # an event without a form: its data is not known
                if isinstance(step, (HumanStep, RequestStep)):
                    form = step.form if isinstance(step, HumanStep) else step.answer_form
                    if form and form in definition.files:
                        exact.add(step.name)
                        exact.update(f"{step.name}.{path}" for path in _schema_paths(_json(definition.files[form])))
                    else:
                        open_prefixes.add(step.name)
                    exact.add(f"{step.name}.outcome")
        return cls(exact, open_prefixes)

    def has(self, variable: str, extra: Iterable[str] = ()) -> bool:
        path = ".".join("*" if part.isdigit() else part for part in variable.split("."))
        first = path.split(".")[0]
        if first in set(extra) or first in self.open_prefixes:
            return True
        return path in self.exact or any(known.startswith(path + ".") for known in self.exact)


def _table_calls(logic: Any) -> Iterator[list[Any]]:
    """Every ``{"table": [...]}`` call inside a JSONLogic expression."""
    if isinstance(logic, dict):
        for operator, args in logic.items():
            if operator == "table" and isinstance(args, list) and len(args) >= 2:
                yield args
            yield from _table_calls(args)
    elif isinstance(logic, list):
        for item in logic:
            yield from _table_calls(item)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {}


def _schema_paths(schema: Any, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """Dotted paths of a JSON Schema's properties; array items appear as ``*``."""
    if not isinstance(schema, Mapping) or depth > 16:
        return
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []) or []:
            yield from _schema_paths(part, prefix, depth + 1)
    for branch in ("then", "else"):
        yield from _schema_paths(schema.get(branch), prefix, depth + 1)
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            path = f"{prefix}{name}"
            yield path
            yield from _schema_paths(sub, path + ".", depth + 1)
    items = schema.get("items")
    if isinstance(items, Mapping):
        yield from _schema_paths(items, f"{prefix}*.", depth + 1)


def _expressions_of(step: Step) -> Iterator[tuple[Compiled, str]]:
    label = f"step {step.name!r}"
    routes: tuple[Route, ...] = ()
    if isinstance(step, HumanStep):
        routes = tuple(route for group in step.outcomes.values() for route in group)
        if step.queue:
            yield step.queue, label + " queue"
        if step.assign_to:
            yield step.assign_to, label + " assign"
    if isinstance(step, DecideStep):
        routes = step.routes
        yield from ((compiled, f"{label} compute {name!r}") for name, compiled in step.compute)
    if isinstance(step, ParallelStep):
        routes = step.branches
    if isinstance(step, ActionStep):
        yield from ((compiled, f"{label} set {name!r}") for name, compiled in step.set)
    if isinstance(step, EachStep):
        if step.over:
            yield step.over, label + " over"
        yield from _expressions_of(step.task)
    if isinstance(step, WaitStep):
        yield from ((trigger.until, label + " until") for trigger in step.triggers if trigger.until)
    for route in routes:
        if route.when is not None:
            yield route.when, label + " condition"


def _item_scope(step: Step) -> tuple[str, ...]:
    return (step.item_name,) if isinstance(step, EachStep) else ()


def _reach(start: str, steps: Mapping[str, Step]) -> set[str]:
    seen = {start}
    frontier = [start]
    while frontier:
        step = steps.get(frontier.pop())
        if step is None:
            continue
        for target in step.targets():
            if target not in seen and target in steps:
                seen.add(target)
                frontier.append(target)
    return seen


def _reverse_reach(goals: set[str], steps: Mapping[str, Step]) -> set[str]:
    incoming: dict[str, set[str]] = {}
    for name, step in steps.items():
        for target in step.targets():
            incoming.setdefault(target, set()).add(name)
    seen = set(goals)
    frontier = list(goals)
    while frontier:
        for source in incoming.get(frontier.pop(), ()):
            if source not in seen:
                seen.add(source)
                frontier.append(source)
    return seen


def _escapes_without(start: str, joins: set[str], steps: Mapping[str, Step], *, finish_only: bool) -> bool:
    """Can a branch starting at ``start`` reach a finish step without passing any of ``joins``?"""
    seen = {start}
    frontier = [start]
    while frontier:
        name = frontier.pop()
        if name in joins:
            continue
        step = steps.get(name)
        if isinstance(step, FinishStep) or (not finish_only and isinstance(step, EndStep)):
            return True
        for target in step.targets() if step else ():
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return False
