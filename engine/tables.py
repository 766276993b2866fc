"""Effective-dated decision tables: read from ``tables/<name>.yaml``, checked, looked up.

A table answers a question of policy ("what is the poverty guideline for a household of
four?") from rows that policy staff can read. Each table has versions that take effect on
dates, so a case decided in March uses the figures in force in March.

Three parts, kept apart as in the rest of the engine:

- ``load_table`` reads the text (the caller did the I/O) into a frozen ``DecisionTable``,
  collecting every author mistake with its ``path:line:col``;
- ``check_table`` analyses a well-formed table for gaps, overlaps and rows that can never
  match. The analysis is exact: each input's value space is cut at every number the rows
  mention, so a finite set of pieces stands for all values, and coverage is decided piece
  by piece (see ``_Axis``);
- ``lookup`` picks the version in force on a date and applies the hit policy.

Output formulas (``= 54150 + (household_size - 8) * 5500``) are parsed by a small
recursive-descent parser into a tree of four node kinds; nothing is ever ``eval``-ed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import Any, ClassVar

from engine.problems import DefinitionError, Problem
from engine.source import Document, Pointer, parse_yaml

HIT_POLICIES = ("first", "unique", "collect")
MAX_ROWS = 1000
MAX_FORMULA_LENGTH = 500
MAX_FORMULA_DEPTH = 32
MAX_GAPS_SHOWN = 10

_TABLE_KEYS = {"title", "hit policy", "inputs", "outputs", "domain", "versions"}
_VERSION_KEYS = {"effective from", "rows", "source"}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INPUT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[+-]?\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?$")
_COMPARISON = re.compile(r"^(<=|>=|!=|<|>|=|≤|≥|≠)\s*(.*)$", re.DOTALL)
_RANGE = re.compile(r"^([\[(]?)\s*(\S+?)\s*\.\.\s*(\S+?)\s*([\])]?)$")
_WHOLE = re.compile(r"^whole numbers?\b\s*(.*)$", re.IGNORECASE | re.DOTALL)
_NUMERIC_LOOKING = re.compile(r"^[\s$€£]*[+-]?[\d.,_\s]*\d[\d.,_\s]*%?$")
_OPERATOR_ALIASES = {"≤": "<=", "≥": ">=", "≠": "!="}
_KIND_WORDS = {"number": "numbers", "text": "text", "bool": "true/false values"}
_KIND_WORD = {"number": "a number", "text": "text", "bool": "true or false"}

type Number = Decimal | Fraction
type Text = Mapping[str, str]  # language code -> words, as in every definition file


# ---------------------------------------------------------------- cells


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of the number line; a ``None`` end is unbounded (and never closed)."""

    low: Decimal | None = None
    high: Decimal | None = None
    low_closed: bool = False
    high_closed: bool = False

    def contains(self, number: Number) -> bool:
        if self.low is not None and (number < self.low or (number == self.low and not self.low_closed)):
            return False
        return self.high is None or number < self.high or (number == self.high and self.high_closed)

    def whole_numbers(self) -> tuple[int | None, int | None] | None:
        """The least and greatest whole numbers inside (``None``: unbounded), or ``None`` if there are none."""
        least = None
        if self.low is not None:
            least = math.ceil(self.low)
            if least == self.low and not self.low_closed:
                least += 1
        greatest = None
        if self.high is not None:
            greatest = math.floor(self.high)
            if greatest == self.high and not self.high_closed:
                greatest -= 1
        if least is not None and greatest is not None and least > greatest:
            return None
        return least, greatest

    def __str__(self) -> str:
        """The interval in cell syntax, so a designer can copy it into a row."""
        low, high = self.low, self.high
        if low is None:
            return "any number" if high is None else f"{'<=' if self.high_closed else '<'} {_show_number(high)}"
        if high is None:
            return f"{'>=' if self.low_closed else '>'} {_show_number(low)}"
        if low == high:
            return f"= {_show_number(low)}"
        if self.low_closed and self.high_closed:
            return f"{_show_number(low)}..{_show_number(high)}"
        opening = "[" if self.low_closed else "("
        closing = "]" if self.high_closed else ")"
        return f"{opening}{_show_number(low)}..{_show_number(high)}{closing}"


@dataclass(frozen=True)
class AnyValue:
    """``-`` or ``any``: matches every value, including a missing one."""

    text: str = "-"
    kind: ClassVar[str] = "any"

    def matches(self, value: object) -> bool:
        return True


@dataclass(frozen=True)
class NumberCondition:
    """A number, comparison, range or list of them: the union of ``intervals``."""

    text: str
    intervals: tuple[Interval, ...]
    kind: ClassVar[str] = "number"

    def matches(self, value: object) -> bool:
        return isinstance(value, Decimal | Fraction) and any(interval.contains(value) for interval in self.intervals)


@dataclass(frozen=True)
class TextCondition:
    """Text equal to one of ``values`` (or, when ``negated``, to none of them)."""

    text: str
    values: frozenset[str]
    negated: bool = False
    kind: ClassVar[str] = "text"

    def matches(self, value: object) -> bool:
        return isinstance(value, str) and (value in self.values) != self.negated


@dataclass(frozen=True)
class BoolCondition:
    """``true``, ``false`` (or ``yes``/``no``, which YAML reads as the same)."""

    text: str
    values: frozenset[bool]
    kind: ClassVar[str] = "bool"

    def matches(self, value: object) -> bool:
        return isinstance(value, bool) and value in self.values


type Condition = AnyValue | NumberCondition | TextCondition | BoolCondition


@dataclass(frozen=True)
class Domain:
    """What values an input can take: a (whole-)number interval, or a closed list of texts."""

    text: str
    kind: str  # "number" or "text"
    whole: bool = False
    interval: Interval = Interval()
    values: frozenset[str] | None = None

    def refuses(self, name: str, value: object) -> str | None:
        """Why ``value`` is outside this domain, or ``None`` if it is inside."""
        if isinstance(value, str):
            if self.values is not None and value not in self.values:
                return f"{name} {value!r} is not one of the values its domain lists: {self.text}"
            return None
        if not isinstance(value, Decimal):  # a kind the domain does not speak of
            return None
        if self.whole and value != math.floor(value):
            return f"{name} must be a whole number, not {_show_number(value)}"
        if not self.interval.contains(value):
            return f"{name} {_show_number(value)} is outside its domain {self.text}"
        return None


# ---------------------------------------------------------------- formulas


@dataclass(frozen=True, slots=True)
class _Constant:
    value: Fraction


@dataclass(frozen=True, slots=True)
class _Input:
    name: str


@dataclass(frozen=True, slots=True)
class _Negate:
    operand: _Expression


@dataclass(frozen=True, slots=True)
class _Operation:
    operator: str
    left: _Expression
    right: _Expression


type _Expression = _Constant | _Input | _Negate | _Operation


@dataclass(frozen=True)
class Formula:
    """An output computed from the row's inputs, such as ``= 54150 + (household_size - 8) * 5500``.

    Only numbers, input names, ``+ - * /`` and parentheses; division only by a constant
    that is not zero, so a formula that loads always has a value.
    """

    text: str
    expression: _Expression

    @property
    def names(self) -> frozenset[str]:
        """The inputs the formula reads."""
        return frozenset(_names_in(self.expression))

    def evaluate(self, values: Mapping[str, Number]) -> Fraction:
        """The exact value, given a number for every name the formula reads."""
        return _evaluate(self.expression, values)


class _FormulaError(Exception):
    pass


def parse_formula(text: str) -> Formula:
    """Parse ``= ...`` into a ``Formula``; raise ``ValueError`` saying what is wrong."""
    try:
        return Formula(text, _FormulaParser(text).parse())
    except _FormulaError as error:
        raise ValueError(str(error)) from None


_TOKEN = re.compile(
    r"(?P<number>\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<symbol>[-+*/()])"
)


class _FormulaParser:
    """Recursive descent over ``expression := term (+|- term)*``, ``term := factor (*|/ factor)*``,
    ``factor := (-|+) factor | number | name | ( expression )``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, 1-based character)
        self.position = 0
        if not text.startswith("="):
            raise _FormulaError("a formula starts with '='")
        if len(text) > MAX_FORMULA_LENGTH:
            raise _FormulaError(f"a formula may be at most {MAX_FORMULA_LENGTH} characters long")
        index = text.index("=") + 1
        while index < len(text):
            if text[index].isspace():
                index += 1
                continue
            match = _TOKEN.match(text, index)
            if match is None:
                raise _FormulaError(f"unexpected {text[index]!r} at character {index + 1}")
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(), index + 1))
            index = match.end()

    def parse(self) -> _Expression:
        if not self.tokens:
            raise _FormulaError("the formula is empty after '='")
        expression = self.expression(0)
        if self.position < len(self.tokens):
            _, text, at = self.tokens[self.position]
            raise _FormulaError(f"unexpected {text!r} at character {at}")
        return expression

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def expression(self, depth: int) -> _Expression:
        left = self.term(depth)
        while (operator := self.peek()) in ("+", "-"):
            self.position += 1
            left = _Operation(str(operator), left, self.term(depth))
        return left

    def term(self, depth: int) -> _Expression:
        left = self.factor(depth)
        while (operator := self.peek()) in ("*", "/"):
            at = self.tokens[self.position][2]
            self.position += 1
            right = self.factor(depth)
            if operator == "/":
                divisor = _constant_value(right)
                if divisor is None:
                    raise _FormulaError(
                        f"the '/' at character {at} divides by an input; divide only by numbers, "
                        "so that the formula always has a value"
                    )
                if divisor == 0:
                    raise _FormulaError(f"the '/' at character {at} divides by zero")
            left = _Operation(str(operator), left, right)
        return left

    def factor(self, depth: int) -> _Expression:
        if depth > MAX_FORMULA_DEPTH:
            raise _FormulaError(f"the formula is nested more than {MAX_FORMULA_DEPTH} levels deep")
        if self.position == len(self.tokens):
            raise _FormulaError("the formula ends too early")
        kind, text, at = self.tokens[self.position]
        self.position += 1
        if kind == "number":
            return _Constant(Fraction(text.replace("_", "")))
        if kind == "name":
            return _Input(text)
        if text in ("-", "+"):
            operand = self.factor(depth + 1)
            return _Negate(operand) if text == "-" else operand
        if text == "(":
            inner = self.expression(depth + 1)
            if self.peek() != ")":
                raise _FormulaError(f"the '(' at character {at} is never closed")
            self.position += 1
            return inner
        raise _FormulaError(f"unexpected {text!r} at character {at}")


def _names_in(expression: _Expression) -> set[str]:
    if isinstance(expression, _Constant):
        return set()
    if isinstance(expression, _Input):
        return {expression.name}
    if isinstance(expression, _Negate):
        return _names_in(expression.operand)
    return _names_in(expression.left) | _names_in(expression.right)


def _constant_value(expression: _Expression) -> Fraction | None:
    """The value of an expression without inputs; ``None`` if it reads an input."""
    if _names_in(expression):
        return None
    return _evaluate(expression, {})


def _evaluate(expression: _Expression, values: Mapping[str, Number]) -> Fraction:
    if isinstance(expression, _Constant):
        return expression.value
    if isinstance(expression, _Input):
        return Fraction(values[expression.name])
    if isinstance(expression, _Negate):
        return -_evaluate(expression.operand, values)
    a, b = _evaluate(expression.left, values), _evaluate(expression.right, values)
    if expression.operator == "+":
        return a + b
    if expression.operator == "-":
        return a - b
    if expression.operator == "*":
        return a * b
    return a / b


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class TableRow:
    """One row: a condition per input and a value (or ``Formula``) per output.

    ``number`` counts from 1 within its version; ``line`` and ``col`` are where the row
    was written, for messages.
    """

    number: int
    line: int
    col: int
    conditions: Mapping[str, Condition]
    outputs: Mapping[str, Any]

    def matches(self, values: Mapping[str, object]) -> bool:
        return all(condition.matches(values.get(name)) for name, condition in self.conditions.items())


@dataclass(frozen=True)
class TableVersion:
    """The rows in force from ``effective_from`` until the next version's date."""

    effective_from: date
    rows: tuple[TableRow, ...]
    line: int
    col: int
    source: str | None = None


@dataclass(frozen=True)
class DecisionTable:
    """A table of rules with effective-dated versions; see ``docs/reference/decision-tables.md``."""

    id: str
    title: Text
    hit_policy: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    versions: tuple[TableVersion, ...]
    domain: Mapping[str, Domain] = field(default_factory=lambda: MappingProxyType({}))

    @cached_property
    def input_kinds(self) -> Mapping[str, str]:
        """Per input: ``number``, ``text``, ``bool``, ``any`` (only ``-`` cells) or ``mixed``."""
        kinds: dict[str, str] = {}
        for name in self.inputs:
            found = {row.conditions[name].kind for version in self.versions for row in version.rows} - {"any"}
            if name in self.domain:
                found.add(self.domain[name].kind)
            kinds[name] = found.pop() if len(found) == 1 else ("any" if not found else "mixed")
        return MappingProxyType(kinds)


class TableError(Exception):
    """A lookup that has no single answer; carries what was asked."""

    def __init__(self, message: str, *, table_id: str, values: Mapping[str, Any], as_of: date) -> None:
        self.table_id = table_id
        self.values = dict(values)
        self.as_of = as_of
        super().__init__(message)


class TableMiss(TableError):
    """No answer: no version in force on ``as_of``, no row matches, or a value the table cannot take."""

    def __init__(self, *, table_id: str, values: Mapping[str, Any], as_of: date, reason: str) -> None:
        self.reason = reason
        super().__init__(f"table {table_id!r}: {reason}", table_id=table_id, values=values, as_of=as_of)


class TableConflict(TableError):
    """Hit policy ``unique``, and several rows match: ``rows`` are their numbers, ``lines`` their lines."""

    def __init__(
        self,
        *,
        table_id: str,
        values: Mapping[str, Any],
        as_of: date,
        effective_from: date,
        rows: tuple[int, ...],
        lines: tuple[int, ...],
    ) -> None:
        self.effective_from = effective_from
        self.rows = rows
        self.lines = lines
        message = (
            f"table {table_id!r}: {_rows_phrase(rows, lines)} of the version of {effective_from.isoformat()} "
            f"{'both' if len(rows) == 2 else 'all'} match {_show_values(values)}; "
            "with hit policy unique only one row may match"
        )
        super().__init__(message, table_id=table_id, values=values, as_of=as_of)


# ---------------------------------------------------------------- lookup


def lookup(table: DecisionTable, values: Mapping[str, Any], *, as_of: date) -> dict[str, Any] | list[dict[str, Any]]:
    """The outputs for ``values`` (input name -> value) in the version in force on ``as_of``.

    ``first``: the first matching row's outputs. ``unique``: the only matching row's
    outputs (``TableConflict`` if several match). ``collect``: a list of every matching
    row's outputs, in row order, possibly empty. ``TableMiss`` when no version is in force,
    when no row matches (``first``, ``unique``), or when a value is of the wrong kind or
    outside the table's ``domain``. A missing or ``None`` value matches only ``-`` cells.
    """
    asked = {name: values.get(name) for name in table.inputs}

    def miss(reason: str) -> TableMiss:
        return TableMiss(table_id=table.id, values=asked, as_of=as_of, reason=reason)

    in_force = [version for version in table.versions if version.effective_from <= as_of]
    if not in_force:
        if not table.versions:
            raise miss("the table has no versions")
        first = min(version.effective_from for version in table.versions)
        raise miss(f"no version is in force on {as_of.isoformat()}; the first takes effect on {first.isoformat()}")
    version = max(in_force, key=lambda candidate: candidate.effective_from)

    admitted: dict[str, object] = {}
    for name, value in asked.items():
        admitted[name], refusal = _admit(table, name, value)
        if refusal is not None:
            raise miss(refusal)

    matched = [row for row in version.rows if row.matches(admitted)]
    when = f"the version of {version.effective_from.isoformat()}"
    if table.hit_policy == "collect":
        return [_outputs_of(row, admitted, miss) for row in matched]
    if table.hit_policy not in ("first", "unique"):
        raise ValueError(f"unknown hit policy {table.hit_policy!r}")
    if not matched:
        raise miss(f"no row of {when} matches {_show_values(asked)}")
    if table.hit_policy == "unique" and len(matched) > 1:
        raise TableConflict(
            table_id=table.id,
            values=asked,
            as_of=as_of,
            effective_from=version.effective_from,
            rows=tuple(row.number for row in matched),
            lines=tuple(row.line for row in matched),
        )
    return _outputs_of(matched[0], admitted, miss)


def _admit(table: DecisionTable, name: str, value: object) -> tuple[object, str | None]:
    """The value as rows compare it (numbers exact), or why the table cannot take it."""
    if value is None:
        return None, None
    number = _exact_number(value)
    kind = table.input_kinds[name]
    if kind == "number" and number is None:
        return value, f"{name} must be a number, not {_show_value(value)}"
    if kind == "text" and not isinstance(value, str):
        return value, f"{name} must be text, not {_show_value(value)}"
    if kind == "bool" and not isinstance(value, bool):
        return value, f"{name} must be true or false, not {_show_value(value)}"
    admitted: object = value if number is None else number
    domain = table.domain.get(name)
    refusal = domain.refuses(name, admitted) if domain is not None else None
    return admitted, refusal


def _exact_number(value: object) -> Decimal | None:
    """A finite int, float or Decimal as an exact Decimal; floats by their shortest text, so 0.1 is 0.1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


def _outputs_of(row: TableRow, values: Mapping[str, object], miss: Callable[[str], TableMiss]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, output in row.outputs.items():
        if isinstance(output, Formula):
            numbers: dict[str, Number] = {}
            for used in sorted(output.names):
                value = values.get(used)
                if not isinstance(value, Decimal | Fraction):
                    raise miss(f"row {row.number}'s formula for {name} needs a number for {used}")
                numbers[used] = value
            exact = output.evaluate(numbers)
            result[name] = int(exact) if exact.denominator == 1 else float(exact)
        else:
            result[name] = _thaw(output)
    return result


# ---------------------------------------------------------------- loading


def load_table(path: str, text: str, *, table_id: str) -> DecisionTable:
    """Read one table file; raise ``DefinitionError`` carrying every problem, located.

    ``table_id`` is the table's name, normally its file name without ``.yaml``.
    """
    document = parse_yaml(path, text)
    reader = _Reader(document)
    if not _NAME.match(table_id):
        reader.problems.append(
            Problem(
                path, 0, 0, "invalid_name", f"the table's name {table_id!r} (its file name) must be a snake_case name"
            )
        )
    table = reader.read(table_id)
    if reader.problems or table is None:
        raise DefinitionError(sorted(reader.problems, key=lambda problem: (problem.line, problem.col)))
    return table


class _Reader:
    """Reads one table document, collecting problems instead of stopping at the first."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.cells: list[tuple[Pointer, str, Condition]] = []
        self.formulas: list[tuple[Pointer, str, Formula, Mapping[str, Condition]]] = []
        self.output_cells: list[tuple[Pointer, str, Any]] = []

    def report(self, pointer: Pointer, code: str, message: str) -> None:
        self.problems.append(self.document.problem(pointer, code, message))

    def position(self, pointer: Pointer) -> tuple[int, int]:
        return self.document.marks.get(pointer, (1, 1))

    def read(self, table_id: str) -> DecisionTable | None:
        data = self.document.data
        if not isinstance(data, dict):
            self.report((), "invalid_type", "a table file must be a mapping of keys to values")
            return None
        self.refuse_unknown_keys((), data, _TABLE_KEYS)
        title = self.title(data)
        policy = data.get("hit policy")
        if policy is None:
            self.report(("hit policy",), "missing_key", f"hit policy must be given: one of {', '.join(HIT_POLICIES)}")
        elif policy not in HIT_POLICIES:
            self.report(
                ("hit policy",),
                "unknown_hit_policy",
                f"hit policy {policy!r} is not one of: {', '.join(HIT_POLICIES)}",
            )
        inputs = self.names(data, "inputs", _INPUT_NAME, "a data path of snake_case names, like household.size")
        outputs = self.names(data, "outputs", _NAME, "a snake_case name, like annual_fpl", example="annual_fpl")
        if inputs is not None and outputs is not None:
            for index, name in enumerate(data["outputs"]):
                if name in inputs:
                    self.report(("outputs", index), "duplicate_name", f"{name!r} is both an input and an output")
        domain = self.domain(data.get("domain"), inputs)
        columns = (inputs, outputs) if inputs is not None and outputs is not None else None
        versions = self.versions(data.get("versions"), columns)
        if columns is not None:
            self.check_columns(*columns, domain)
        if title is None or not isinstance(policy, str) or columns is None or versions is None:
            return None
        return DecisionTable(
            id=table_id,
            title=title,
            hit_policy=policy,
            inputs=columns[0],
            outputs=columns[1],
            versions=versions,
            domain=MappingProxyType(domain),
        )

    def refuse_unknown_keys(self, where: Pointer, data: Mapping[str, Any], known: set[str]) -> None:
        for key in data:
            if key not in known:
                self.report(
                    (*where, key), "unknown_key", f"unknown key {key!r}; expected one of: {', '.join(sorted(known))}"
                )

    def title(self, data: Mapping[str, Any]) -> Text | None:
        value = data.get("title")
        if value is None:
            self.report(("title",), "missing_key", "title must be given, e.g. {en: ..., zh-Hans: ...}")
            return None
        if not isinstance(value, dict) or not value:
            self.report(("title",), "invalid_text", "title must map language codes to text, e.g. {en: ...}")
            return None
        text: dict[str, str] = {}
        for language, words in value.items():
            if not _LANGUAGE.match(language):
                self.report(("title", language), "invalid_language", f"{language!r} is not a language code")
            elif not isinstance(words, str) or not words.strip():
                self.report(("title", language), "invalid_text", f"{language} text must not be empty")
            else:
                text[language] = words
        if "en" not in text:
            self.report(("title",), "missing_translation", "title needs English text (en)")
        return MappingProxyType(text)

    def names(
        self, data: Mapping[str, Any], key: str, pattern: re.Pattern[str], shape: str, example: str = "household_size"
    ) -> tuple[str, ...] | None:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.report((key,), "missing_key", f"{key} must list at least one name, e.g. [{example}]")
            return None
        names: list[str] = []
        for index, name in enumerate(value):
            if not isinstance(name, str) or not pattern.match(name):
                self.report((key, index), "invalid_name", f"{name!r} must be {shape}")
            elif name in names:
                self.report((key, index), "duplicate_name", f"{name!r} is listed twice")
            else:
                names.append(name)
        return tuple(names)

    def domain(self, value: object, inputs: tuple[str, ...] | None) -> dict[str, Domain]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.report(
                ("domain",),
                "invalid_type",
                "domain must map inputs to the values they can take, e.g. {household_size: whole numbers >= 1}",
            )
            return {}
        domains: dict[str, Domain] = {}
        for name, raw in value.items():
            if inputs is not None and name not in inputs:
                self.report(
                    ("domain", name),
                    "unknown_key",
                    f"domain names {name!r}, which is not one of the inputs: {', '.join(inputs)}",
                )
                continue
            try:
                domains[name] = _parse_domain(raw)
            except ValueError as error:
                self.report(("domain", name), "invalid_domain", f"the domain of {name}: {error}")
        return domains

    def versions(
        self, value: object, columns: tuple[tuple[str, ...], tuple[str, ...]] | None
    ) -> tuple[TableVersion, ...] | None:
        if not isinstance(value, list) or not value:
            self.report(
                ("versions",),
                "missing_key",
                "versions must list at least one version, each with effective from and rows",
            )
            return None
        versions: list[TableVersion] = []
        previous: date | None = None
        complete = True
        for index, raw in enumerate(value):
            where: Pointer = ("versions", index)
            if not isinstance(raw, dict):
                self.report(where, "invalid_type", "a version must be a mapping with effective from and rows")
                complete = False
                continue
            self.refuse_unknown_keys(where, raw, _VERSION_KEYS)
            effective = self.effective_date(where, raw.get("effective from"))
            if effective is not None and previous is not None and effective <= previous:
                self.report(
                    (*where, "effective from"),
                    "table_version_order",
                    f"two versions take effect on {effective.isoformat()}; keep one"
                    if effective == previous
                    else f"versions must be listed oldest first: {effective.isoformat()} "
                    f"comes after {previous.isoformat()}",
                )
            previous = effective if effective is not None else previous
            source = raw.get("source")
            if source is not None and (not isinstance(source, str) or not source.strip()):
                self.report((*where, "source"), "invalid_type", "source must be text, e.g. the rule's citation")
                source = None
            rows = self.rows((*where, "rows"), raw.get("rows"), columns)
            if effective is None or rows is None:
                complete = False
                continue
            line, col = self.position(where)
            versions.append(TableVersion(effective, rows, line, col, source))
        return tuple(versions) if complete else None

    def effective_date(self, where: Pointer, value: object) -> date | None:
        pointer: Pointer = (*where, "effective from")
        if value is None:
            self.report(pointer, "missing_key", "effective from must give the date the version takes effect")
            return None
        text = value.strip() if isinstance(value, str) else ""
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.report(pointer, "invalid_date", f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-01-15")
            return None

    def rows(
        self, where: Pointer, value: object, columns: tuple[tuple[str, ...], tuple[str, ...]] | None
    ) -> tuple[TableRow, ...] | None:
        if not isinstance(value, list) or not value:
            self.report(where, "missing_key", "rows must list at least one row")
            return None
        if len(value) > MAX_ROWS:
            self.report(where, "too_many_rows", f"a version may have at most {MAX_ROWS} rows, not {len(value)}")
            return None
        if columns is None:
            return None
        rows: list[TableRow] = []
        for index, raw in enumerate(value):
            row = self.row((*where, index), index + 1, raw, *columns)
            if row is not None:
                rows.append(row)
        return tuple(rows) if len(rows) == len(value) else None

    def row(
        self, where: Pointer, number: int, raw: object, inputs: tuple[str, ...], outputs: tuple[str, ...]
    ) -> TableRow | None:
        if not isinstance(raw, dict):
            self.report(
                where,
                "invalid_type",
                "a row must give a cell for each input and output, e.g. {household_size: 1, annual_fpl: 15650}",
            )
            return None
        ok = True
        for key in raw:
            if key not in inputs and key not in outputs:
                ok = False
                self.report(
                    (*where, key),
                    "unknown_key",
                    f"{key!r} is not a column of this table; inputs: {', '.join(inputs)}; "
                    f"outputs: {', '.join(outputs)}",
                )
        conditions: dict[str, Condition] = {}
        for name in inputs:
            if name not in raw:
                ok = False
                self.report(
                    where, "missing_input", f"the row has no cell for input {name!r}; write {name}: - for any value"
                )
                continue
            try:
                conditions[name] = parse_condition(raw[name])
            except ValueError as error:
                ok = False
                self.report((*where, name), "invalid_cell", str(error))
        results: dict[str, Any] = {}
        for name in outputs:
            if name not in raw:
                ok = False
                self.report(where, "missing_output", f"the row has no value for output {name!r}")
                continue
            cell = raw[name]
            if isinstance(cell, str) and cell.lstrip().startswith("="):
                try:
                    formula = parse_formula(cell.strip())
                except ValueError as error:
                    ok = False
                    self.report((*where, name), "invalid_formula", f"{cell.strip()!r}: {error}")
                    continue
                self.formulas.append(((*where, name), name, formula, conditions))
                results[name] = formula
            else:
                results[name] = _freeze(cell)
            self.output_cells.append(((*where, name), name, results[name]))
        for name, condition in conditions.items():
            self.cells.append(((*where, name), name, condition))
        if not ok:
            return None
        line, col = self.position(where)
        return TableRow(number, line, col, MappingProxyType(conditions), MappingProxyType(results))

    def check_columns(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Mapping[str, Domain]) -> None:
        """Each column holds one kind of value, text cells are in a closed domain, formulas read numbers."""
        kinds: dict[str, tuple[str, int]] = {
            name: (item.kind, self.position(("domain", name))[0]) for name, item in domain.items()
        }
        for pointer, name, condition in self.cells:
            if condition.kind == "any":
                continue
            first = kinds.setdefault(name, (condition.kind, self.position(pointer)[0]))
            if condition.kind != first[0]:
                self.report(pointer, "mixed_types", _mixed(name, first, condition.kind, repr(condition.text)))
            elif isinstance(condition, TextCondition) and name in domain:
                allowed = domain[name].values
                assert allowed is not None  # a text domain is a list
                for text in sorted(condition.values - allowed):
                    self.report(
                        pointer,
                        "unknown_value",
                        f"{text!r} is not one of the values the domain of {name} lists: {domain[name].text}",
                    )
        output_kinds: dict[str, tuple[str, int]] = {}
        for pointer, name, value in self.output_cells:
            kind = _output_kind(value)
            if kind is None:
                continue
            first = output_kinds.setdefault(name, (kind, self.position(pointer)[0]))
            if kind != first[0]:
                shown = repr(value.text) if isinstance(value, Formula) else _show_value(value)
                self.report(pointer, "mixed_types", _mixed(name, first, kind, shown))
        for pointer, name, formula, conditions in self.formulas:
            for used in sorted(formula.names):
                if used not in inputs:
                    self.report(
                        pointer,
                        "invalid_formula",
                        f"the formula for {name} uses {used!r}, which is not one of the inputs: {', '.join(inputs)}",
                    )
                elif kinds.get(used, ("any", 0))[0] != "number":
                    self.report(
                        pointer,
                        "invalid_formula",
                        f"the formula for {name} uses {used}, but the table does not compare {used} with numbers",
                    )
                elif isinstance(conditions.get(used), AnyValue):
                    self.report(
                        pointer,
                        "invalid_formula",
                        f"the formula for {name} uses {used}, but this row matches any {used}, even a missing one; "
                        f"give this row a range for {used}, such as >= 0",
                    )


def _mixed(name: str, first: tuple[str, int], kind: str, shown: str) -> str:
    message = f"{name} holds {_KIND_WORDS[first[0]]} (see line {first[1]}), but {shown} here is {_KIND_WORD[kind]}"
    if kind == "text" and _NUMERIC_LOOKING.match(shown.strip("'\"")):
        message += "; write numbers without commas, % or currency signs, and without quotes"
    return message


def _output_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Formula):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


def parse_condition(raw: object) -> Condition:
    """Read one input cell; raise ``ValueError`` with a message for designers."""
    if isinstance(raw, list):
        if not raw:
            raise ValueError("an empty list matches nothing; list at least one value, or write - for any value")
        items = [_parse_single(item, in_list=True) for item in raw]
        text = "[" + ", ".join(item.text for item in items) + "]"
        kinds = {item.kind for item in items}
        if len(kinds) > 1:
            raise ValueError(f"the list {text} mixes {' and '.join(_KIND_WORDS[kind] for kind in sorted(kinds))}")
        if isinstance(items[0], NumberCondition):
            return NumberCondition(
                text, tuple(i for item in items if isinstance(item, NumberCondition) for i in item.intervals)
            )
        if isinstance(items[0], TextCondition):
            return TextCondition(
                text, frozenset(v for item in items if isinstance(item, TextCondition) for v in item.values)
            )
        return BoolCondition(
            text, frozenset(v for item in items if isinstance(item, BoolCondition) for v in item.values)
        )
    return _parse_single(raw, in_list=False)


def _parse_single(raw: object, *, in_list: bool) -> Condition:
    if isinstance(raw, bool):
        return BoolCondition(_show_value(raw), frozenset({raw}))
    if isinstance(raw, int | float):
        number = _exact_number(raw)
        if number is None:
            raise ValueError(f"{raw!r} is not a finite number")
        return NumberCondition(_show_number(number), (Interval(number, number, True, True),))
    if raw is None:
        raise ValueError("an empty cell matches nothing; write - for any value")
    if isinstance(raw, list):
        raise ValueError("a list cannot hold another list")
    if not isinstance(raw, str):
        raise ValueError("a cell holds a value, a comparison, a range or a list, not a mapping")
    text = raw.strip()
    if text == "-" or text.lower() == "any":
        if in_list:
            raise ValueError(f"{text!r} (any value) cannot be part of a list; write it alone")
        return AnyValue(text)
    if not text:
        raise ValueError("an empty cell matches nothing; write - for any value")
    comparison = _COMPARISON.match(text)
    if comparison is not None:
        return _parse_comparison(
            text, _OPERATOR_ALIASES.get(comparison[1], comparison[1]), comparison[2].strip(), in_list
        )
    bounds = _RANGE.match(text)
    if bounds is not None and (_NUMBER.match(bounds[2]) or _NUMBER.match(bounds[3])):
        return _parse_range(text, bounds)
    return TextCondition(text, frozenset({text}))


def _parse_comparison(text: str, operator: str, operand: str, in_list: bool) -> Condition:
    if not operand:
        raise ValueError(f"{operator!r} needs a value after it, e.g. '{operator} 133'")
    if operator in ("=", "!="):
        if operator == "!=" and in_list:
            raise ValueError(f"{text!r}: != cannot be part of a list; write the list of values that match instead")
        if _NUMBER.match(operand):
            number = Decimal(operand)
            point = Interval(number, number, True, True)
            if operator == "=":
                return NumberCondition(text, (point,))
            return NumberCondition(text, (Interval(None, number), Interval(number, None)))
        if operand.lower() in ("true", "false"):
            value = operand.lower() == "true"
            return BoolCondition(text, frozenset({value if operator == "=" else not value}))
        if len(operand) >= 2 and operand[0] == operand[-1] and operand[0] in "'\"":
            operand = operand[1:-1]
        return TextCondition(text, frozenset({operand}), negated=operator == "!=")
    if not _NUMBER.match(operand):
        raise ValueError(f"{operand!r} is not a number; write numbers without commas, % or currency signs")
    number = Decimal(operand)
    interval = {
        "<": Interval(None, number, False, False),
        "<=": Interval(None, number, False, True),
        ">": Interval(number, None, False, False),
        ">=": Interval(number, None, True, False),
    }[operator]
    return NumberCondition(text, (interval,))


def _parse_range(text: str, bounds: re.Match[str]) -> NumberCondition:
    opening, low_text, high_text, closing = bounds.groups()
    for part in (low_text, high_text):
        if not _NUMBER.match(part):
            raise ValueError(f"{part!r} in the range {text!r} is not a number")
    if bool(opening) != bool(closing):
        raise ValueError(f"the range {text!r} needs a bracket at both ends or at neither, e.g. [100..133) or 100..133")
    low, high = Decimal(low_text), Decimal(high_text)
    interval = Interval(low, high, opening != "(", closing != ")")
    if low > high or (low == high and not (interval.low_closed and interval.high_closed)):
        raise ValueError(f"the range {text!r} contains no number; its first number must be the smaller")
    return NumberCondition(text, (interval,))


def _parse_domain(raw: object) -> Domain:
    if isinstance(raw, list):
        if not raw or not all(isinstance(item, str) and item.strip() for item in raw):
            raise ValueError("a list of values must hold at least one text, and only text")
        values = [item.strip() for item in raw]
        return Domain("[" + ", ".join(values) + "]", "text", values=frozenset(values))
    if not isinstance(raw, str):
        raise ValueError("write a range such as 'whole numbers >= 1' or '0..100', or a list of texts")
    text = raw.strip()
    whole = _WHOLE.match(text)
    rest = whole[1].strip() if whole is not None else text
    if not rest and whole is not None:
        return Domain(text, "number", whole=True)
    condition = parse_condition(rest) if rest else None
    if not isinstance(condition, NumberCondition) or len(condition.intervals) != 1:
        raise ValueError(f"{text!r} is not a range such as 'whole numbers >= 1', '>= 0' or '0..100'")
    interval = condition.intervals[0]
    if whole is not None and interval.whole_numbers() is None:
        raise ValueError(f"{text!r} contains no whole number")
    return Domain(text, "number", whole=whole is not None, interval=interval)


# ---------------------------------------------------------------- design-time checks


def check_table(table: DecisionTable, path: str) -> list[Problem]:
    """Gaps, overlaps and rows that can never match, per version, located in ``path``.

    ``unique``: overlapping rows (``table_overlap``) and gaps (``table_gap``). ``first``:
    rows that earlier rows hide (``table_unreachable_row``) and gaps. ``collect``: neither;
    a ``collect`` table may match no row. Every policy: rows outside the ``domain``.
    The analysis covers present values; a missing value matches only ``-`` cells.
    """
    problems: list[Problem] = []
    for version in table.versions:
        axes = [_Axis.build(table, name, version) for name in table.inputs]
        live: list[tuple[TableRow, _Box]] = []
        for row in version.rows:
            box = tuple(axis.cover(row.conditions[axis.name]) for axis in axes)
            empty = next((axis for axis, part in zip(axes, box, strict=True) if not part), None)
            if empty is None:
                live.append((row, box))
                continue
            domain = table.domain.get(empty.name)
            cell = f"{empty.name} {row.conditions[empty.name].text}"
            reason = f"{cell} is outside its domain {domain.text}" if domain is not None else f"no value fits {cell}"
            problems.append(
                Problem(path, row.line, row.col, "table_unreachable_row", f"row {row.number} can never match: {reason}")
            )
        if table.hit_policy == "first":
            problems.extend(_hidden_rows(live, path))
        if table.hit_policy == "unique":
            problems.extend(_overlaps(axes, live, path))
        if table.hit_policy != "collect":
            problems.extend(_gaps(axes, [box for _, box in live], version, path))
    return sorted(problems, key=lambda problem: (problem.line, problem.col))


type _Box = tuple[frozenset[int], ...]
_OTHER_TEXT = object()


@dataclass(frozen=True)
class _Axis:
    """One input's value space cut into pieces no cell of the version splits.

    Numbers: the open stretches between the numbers the cells (and the domain) mention,
    and those numbers themselves, kept if inside the domain (and, for whole numbers, if
    holding a whole number). Text: each text mentioned, plus one piece for every other
    text unless the domain lists the texts. True and false. An input with only ``-``
    cells is one piece. Each cell covers whole pieces, so testing a ``sample`` from each
    piece decides coverage exactly.
    """

    name: str
    pieces: tuple[object, ...]  # Interval | str | _OTHER_TEXT | bool | None
    samples: tuple[object, ...]
    whole: bool
    counted: bool  # no domain, and some cell is an exact number: perhaps a count

    @classmethod
    def build(cls, table: DecisionTable, name: str, version: TableVersion) -> _Axis:
        conditions = [row.conditions[name] for row in version.rows]
        domain = table.domain.get(name)
        pieces: list[object] = []
        samples: list[object] = []
        numbers = [c for c in conditions if isinstance(c, NumberCondition)]
        if numbers or (domain is not None and domain.kind == "number"):
            interval = domain.interval if domain is not None else Interval()
            whole = domain is not None and domain.whole
            for piece in _number_pieces(numbers, interval):
                sample = _sample(piece, whole)
                if sample is not None and interval.contains(sample):
                    pieces.append(piece)
                    samples.append(sample)
        texts = [c for c in conditions if isinstance(c, TextCondition)]
        if texts or (domain is not None and domain.kind == "text"):
            listed = domain.values if domain is not None and domain.values is not None else None
            mentioned = sorted(listed if listed is not None else {v for c in texts for v in c.values})
            pieces.extend(mentioned)
            samples.extend(mentioned)
            if listed is None:
                other = max(mentioned, key=len, default="") + "\0"  # longer than any text mentioned
                pieces.append(_OTHER_TEXT)
                samples.append(other)
        if any(isinstance(c, BoolCondition) for c in conditions):
            pieces.extend([True, False])
            samples.extend([True, False])
        if not pieces:
            pieces.append(None)
            samples.append(None)
        counted = domain is None and any(
            all(interval.low == interval.high for interval in condition.intervals) for condition in numbers
        )
        return cls(name, tuple(pieces), tuple(samples), domain is not None and domain.whole, counted)

    def cover(self, condition: Condition) -> frozenset[int]:
        return frozenset(index for index, sample in enumerate(self.samples) if condition.matches(sample))

    def describe(self, part: frozenset[int]) -> str | None:
        """The values in ``part`` in words and cell syntax; ``None`` when that is every value."""
        if len(part) == len(self.pieces):
            return None
        phrases: list[str] = []
        numbers = [index for index in sorted(part) if isinstance(self.pieces[index], Interval)]
        if numbers:
            stretches: list[list[int]] = []
            for index in numbers:
                if stretches and stretches[-1][-1] == index - 1:
                    stretches[-1].append(index)
                else:
                    stretches.append([index])
            phrases.append(f"{self.name} " + " or ".join(self.stretch(stretch) for stretch in stretches))
        chosen = [self.pieces[index] for index in sorted(part)]
        named = [piece for piece in chosen if isinstance(piece, str)]
        if _OTHER_TEXT in chosen:
            left_out = [piece for piece in self.pieces if isinstance(piece, str) and piece not in named]
            phrases.append(
                f"{self.name} is none of {', '.join(map(repr, left_out))}" if left_out else f"{self.name} is any text"
            )
        elif named:
            phrases.append(f"{self.name} is {' or '.join(map(repr, named))}")
        truths = [piece for piece in chosen if isinstance(piece, bool)]
        if truths:
            phrases.append(f"{self.name} is {' or '.join(_show_value(truth) for truth in truths)}")
        return " or ".join(phrases)

    def stretch(self, indexes: list[int]) -> str:
        first, last = self.pieces[indexes[0]], self.pieces[indexes[-1]]
        assert isinstance(first, Interval)
        assert isinstance(last, Interval)
        if not self.whole:
            return str(Interval(first.low, last.high, first.low_closed, last.high_closed))
        least, greatest = (first.whole_numbers() or (None, None))[0], (last.whole_numbers() or (None, None))[1]
        return str(
            Interval(
                None if least is None else Decimal(least),
                None if greatest is None else Decimal(greatest),
                least is not None,
                greatest is not None,
            )
        )

    def hint(self, part: frozenset[int]) -> bool:
        """Whether to suggest a ``whole numbers`` domain: the input is matched by exact numbers (as counts
        are; amounts and percentages are matched by ranges), and ``part`` holds a stretch without whole numbers."""
        return self.counted and any(
            isinstance(piece, Interval) and piece.whole_numbers() is None
            for piece in (self.pieces[index] for index in part)
        )


def _number_pieces(conditions: Sequence[NumberCondition], domain: Interval) -> list[Interval]:
    ends = {end for c in conditions for interval in c.intervals for end in (interval.low, interval.high)}
    ends |= {domain.low, domain.high}
    points = sorted(end for end in ends if end is not None)
    if not points:
        return [Interval()]
    pieces = [Interval(None, points[0])]
    for low, high in pairwise(points):
        pieces += [Interval(low, low, True, True), Interval(low, high)]
    return [*pieces, Interval(points[-1], points[-1], True, True), Interval(points[-1], None)]


def _sample(piece: Interval, whole: bool) -> Number | None:
    """A number inside ``piece`` (a whole one if ``whole``), or ``None`` if there is none."""
    if whole:
        found = piece.whole_numbers()
        if found is None:
            return None
        least, greatest = found
        return Decimal(least if least is not None else greatest if greatest is not None else 0)
    if piece.low is None:
        return Fraction(piece.high) - 1 if piece.high is not None else Fraction(0)
    if piece.high is None:
        return Fraction(piece.low) + 1
    return (Fraction(piece.low) + Fraction(piece.high)) / 2


def _uncovered(region: _Box, boxes: Sequence[_Box], dimension: int = 0) -> list[_Box]:
    """The parts of ``region`` that no box covers, as boxes (exact: pieces are atoms).

    Split on one input at a time: pieces that the same boxes cover go together, and the
    rest of the region is decided among those boxes only.
    """
    if not boxes:
        return [region[dimension:]]
    if dimension == len(region):
        return []
    groups: dict[frozenset[int], set[int]] = {}
    for piece in sorted(region[dimension]):
        covering = frozenset(index for index, box in enumerate(boxes) if piece in box[dimension])
        groups.setdefault(covering, set()).add(piece)
    found: list[_Box] = []
    for covering, pieces in groups.items():
        for rest in _uncovered(region, [boxes[index] for index in sorted(covering)], dimension + 1):
            found.append((frozenset(pieces), *rest))
    return found


def _describe(axes: Sequence[_Axis], box: _Box) -> str:
    words = [axis.describe(part) for axis, part in zip(axes, box, strict=True)]
    return " and ".join(word for word in words if word is not None)


def _gaps(axes: Sequence[_Axis], boxes: Sequence[_Box], version: TableVersion, path: str) -> list[Problem]:
    everything = tuple(frozenset(range(len(axis.pieces))) for axis in axes)
    gaps = _uncovered(everything, boxes)
    problems: list[Problem] = []
    for number, gap in enumerate(gaps[:MAX_GAPS_SHOWN], start=1):
        message = f"no row covers {_describe(axes, gap) or 'any value'}"
        for axis, part in zip(axes, gap, strict=True):
            if axis.hint(part):
                message += (
                    f"; if {axis.name} is a count (always a whole number), "
                    f"declare domain: {{{axis.name}: whole numbers}}"
                )
        if number == MAX_GAPS_SHOWN and len(gaps) > MAX_GAPS_SHOWN:
            message += f" (and {len(gaps) - MAX_GAPS_SHOWN} more gaps not shown)"
        problems.append(Problem(path, version.line, version.col, "table_gap", message))
    return problems


def _overlaps(axes: Sequence[_Axis], live: Sequence[tuple[TableRow, _Box]], path: str) -> list[Problem]:
    problems: list[Problem] = []
    for later_index, (later, later_box) in enumerate(live):
        for earlier, earlier_box in live[:later_index]:
            common = tuple(a & b for a, b in zip(earlier_box, later_box, strict=True))
            if all(common):
                problems.append(
                    Problem(
                        path,
                        later.line,
                        later.col,
                        "table_overlap",
                        f"{_rows_phrase((earlier.number, later.number), (earlier.line, later.line))} both match "
                        f"{_describe(axes, common) or 'every value'}; with hit policy unique only one row may match",
                    )
                )
    return problems


def _hidden_rows(live: Sequence[tuple[TableRow, _Box]], path: str) -> list[Problem]:
    problems: list[Problem] = []
    for index, (row, box) in enumerate(live):
        earlier = [
            (other, other_box)
            for other, other_box in live[:index]
            if all(a & b for a, b in zip(box, other_box, strict=True))
        ]
        if earlier and not _uncovered(box, [other_box for _, other_box in earlier]):
            phrase = _rows_phrase(
                tuple(other.number for other, _ in earlier), tuple(other.line for other, _ in earlier)
            )
            verb = "matches" if len(earlier) == 1 else "match"
            problems.append(
                Problem(
                    path,
                    row.line,
                    row.col,
                    "table_unreachable_row",
                    f"row {row.number} can never match: {phrase} above already {verb} every value it matches",
                )
            )
    return problems


# ---------------------------------------------------------------- words


def _rows_phrase(numbers: Sequence[int], lines: Sequence[int]) -> str:
    """``row 2 (line 9)``, ``rows 2 and 3 (lines 9 and 10)``, ``rows 1, 2 and 3 (lines 8, 9 and 10)``."""
    if len(numbers) == 1:
        return f"row {numbers[0]} (line {lines[0]})"
    return f"rows {_and(map(str, numbers))} (lines {_and(map(str, lines))})"


def _and(words: Iterable[str]) -> str:
    listed = list(words)
    return f"{', '.join(listed[:-1])} and {listed[-1]}"


def _show_number(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def _show_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Decimal):
        return _show_number(value)
    return str(value)


def _show_values(values: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name} (missing)" if value is None else f"{name} = {_show_value(value)}" for name, value in values.items()
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    return value
