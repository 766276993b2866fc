"""Expressions: conditions and computations that program designers write as readable text.

A designer writes ``household.size > 3 and income < 2500 * household.size``; the loader
compiles it, once, into JSONLogic (the stored form, a JSON tree that can be checked and
listed) and the runtime evaluates that tree with ``datalogic_py`` under an operation budget.

The text is read by a small hand-written tokenizer and Pratt parser: nothing here ever
evaluates designer text as Python (threat T5). JSONLogic written directly is accepted too,
but only with a closed list of operators, so an operator that reads the clock (``now``) or
anything outside that list is refused when the definition is loaded, not when a case runs.

Compile errors are ``ExpressionError`` (a stable code, a plain-English message and the
character offset); runtime failures, such as a division by zero or a runaway expression
stopped by the budget, are ``ExpressionFailed``.
"""

from __future__ import annotations

import calendar
import copy
import difflib
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

import datalogic_py

__all__ = ["Evaluator", "Expression", "ExpressionError", "ExpressionFailed", "compile_expression", "truthy"]

MAX_SOURCE_LENGTH: Final = 2_000
"""Longest infix text accepted, in characters."""

MAX_DEPTH: Final = 32
"""Deepest nesting of operations (and list literals) in the compiled JSONLogic."""

MAX_JSON_LENGTH: Final = 100_000
"""Longest JSONLogic accepted, as JSON text. Generous: it must admit whatever the infix
compiler produces from ``MAX_SOURCE_LENGTH`` characters, so stored forms always reload."""

MAX_NUMBER: Final = 2**53 - 1
"""Largest number written in an expression: the largest integer a browser holds exactly."""

_DEFAULT_BUDGET: Final = 10_000
_CACHE_SIZE: Final = 4_096


class ExpressionError(Exception):
    """A mistake in an expression, found when it is compiled (that is, when a definition loads).

    ``code`` is stable snake_case (``syntax_error``, ``unknown_function``, ``unknown_operator``,
    ``wrong_arguments``, ``too_deep``, ``too_long``, ``forbidden_name``); ``message`` is plain
    English for the designer; ``offset`` is the 0-based character where the problem is (0 for
    JSONLogic given as data).
    """

    def __init__(self, code: str, message: str, offset: int = 0) -> None:
        self.code = code
        self.message = message
        self.offset = offset
        super().__init__(f"{code} at character {offset}: {message}")

    def __reduce__(self) -> tuple[type[ExpressionError], tuple[str, str, int]]:
        return (type(self), (self.code, self.message, self.offset))


class ExpressionFailed(Exception):
    """An expression could not produce a value for this data (the deny branch applies).

    ``code`` is stable snake_case: ``budget_exceeded``, ``arithmetic_error`` (division by zero,
    text where a number is needed), ``invalid_value``, ``function_failed``, ``invalid_data``,
    ``invalid_expression``, ``unknown_operator`` or ``evaluation_error``.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def __reduce__(self) -> tuple[type[ExpressionFailed], tuple[str, str]]:
        return (type(self), (self.code, self.message))


@dataclass(frozen=True)
class Expression:
    """A compiled expression: what was written, its JSONLogic, and what it reads and calls.

    ``variables`` lists every data path read, dotted (``household.size``); a field read for
    each item of a list is listed under the list as ``household.members.*.age``.
    ``functions`` lists the caller-provided functions it calls (such as ``table``).
    """

    source: str
    logic: Any
    variables: frozenset[str]
    functions: frozenset[str]


def compile_expression(
    source: object,
    *,
    custom_functions: Mapping[str, tuple[int, int | None]] = {},
) -> Expression:
    """Compile infix text, a literal, or JSONLogic data into an ``Expression``.

    ``source`` is infix text (a ``str``); a ``bool``, ``int``, ``float`` or ``None`` literal;
    or a ``dict``/``list`` that is already JSONLogic, which is then checked against the
    allowed operators. ``custom_functions`` maps each extra function the caller allows to its
    ``(min_args, max_args or None)``. Raises ``ExpressionError`` on the first problem.
    """
    _check_custom_names(custom_functions)
    inspector = _Inspector(custom_functions)
    if isinstance(source, str):
        if len(source) > MAX_SOURCE_LENGTH:
            raise ExpressionError(
                "too_long",
                f"the expression is {len(source)} characters long; the limit is {MAX_SOURCE_LENGTH}",
                MAX_SOURCE_LENGTH,
            )
        parsed = _Parser(source, custom_functions).parse().logic
        # Compiled logic passes the same check as JSONLogic written by hand, which also lists
        # what it reads (one definition of "variables" for both forms) and returns a fresh
        # copy, so no two expressions share a mutable piece of JSON.
        logic = inspector.walk(parsed, _DATA_SCOPE, 0)[0]
        return Expression(source, logic, frozenset(inspector.variables), frozenset(inspector.functions))
    logic = inspector.walk(source, _DATA_SCOPE, 0)[0]
    text = json.dumps(logic, ensure_ascii=False)
    if len(text) > MAX_JSON_LENGTH:
        raise ExpressionError(
            "too_long", f"the JSONLogic is {len(text)} characters long; the limit is {MAX_JSON_LENGTH}"
        )
    return Expression(text, logic, frozenset(inspector.variables), frozenset(inspector.functions))


class Evaluator:
    """Evaluates compiled expressions against case data, each under an operation budget.

    One ``datalogic_py.Engine`` is built per evaluator, with the CivicFlow functions and the
    caller's ``custom_functions`` (each receives the evaluated arguments as a list and returns
    a JSON-compatible value). Safe to share across threads.
    """

    def __init__(self, custom_functions: Mapping[str, Callable[[list[Any]], Any]] = {}) -> None:
        _check_custom_names(custom_functions)
        operators = {name: _adapt(function) for name, function in custom_functions.items()}
        operators["days_between"] = _adapt(_days_between)
        operators["years_between"] = _adapt(_years_between)
        operators["add_days"] = _adapt(_add_days)
        operators["add_months"] = _adapt(_add_months)
        operators["month_start"] = _adapt(_month_start)
        self._custom_names: dict[str, tuple[int, int | None]] = dict.fromkeys(custom_functions, (0, None))
        self._engine = datalogic_py.Engine(
            # Division by zero must fail, not saturate to 1.8e308 as it does for decimals.
            config={"division_by_zero": "throw_error"},
            # The JSONLogic core plus the families the whitelist uses. Leaving out DateTime
            # (``now``), Tensor, Flagd, ErrorHandling and the rest means that even a hand-built
            # Expression that skipped compile_expression cannot read the clock.
            families=["ExtString", "ExtMath", "ExtControl"],
            custom_operators=operators,
            strict_operator_names=True,
        )
        self._rules: OrderedDict[str, datalogic_py.Rule] = OrderedDict()
        self._lock = threading.Lock()

    def evaluate(self, expression: Expression, data: Mapping[str, Any], *, budget: int = _DEFAULT_BUDGET) -> Any:
        """The expression's value for ``data``; raises ``ExpressionFailed``."""
        return json.loads(self._run(expression, data, budget))

    def test(self, expression: Expression, data: Mapping[str, Any], *, budget: int = _DEFAULT_BUDGET) -> bool:
        """Whether the expression holds for ``data``, by JSONLogic truthiness.

        False, null, 0, empty text, an empty list and an empty object are false; everything
        else, including the text ``"0"`` and ``"false"``, is true.
        """
        # The engine reads a str as JSON text, which is exactly what _run returns.
        return self._engine.truthy(self._run(expression, data, budget))

    def _run(self, expression: Expression, data: Mapping[str, Any], budget: int) -> str:
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ValueError(f"budget must be a whole number of operations >= 1, not {budget!r}")
        rule = self._rule(expression)
        try:
            # Through json.dumps rather than the binding's dict walk: the walk turns NaN and
            # infinity into null silently, and this refuses them (and dates, Decimals...).
            text = json.dumps(dict(data), allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as error:
            raise ExpressionFailed("invalid_data", f"the data cannot be read as JSON: {error}") from None
        try:
            result, _spent = rule.evaluate_metered(text, budget)
        except datalogic_py.DataLogicError as error:
            raise _failure(error, budget) from None
        return result

    def _rule(self, expression: Expression) -> datalogic_py.Rule:
        try:
            key = json.dumps(expression.logic, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            raise ExpressionFailed("invalid_expression", f"the expression is not JSON: {error}") from None
        with self._lock:
            rule = self._rules.get(key)
            if rule is not None:
                self._rules.move_to_end(key)
                return rule
        try:
            # Defence in depth: an Expression built by hand is held to the same whitelist.
            _Inspector(self._custom_names).walk(expression.logic, _DATA_SCOPE, 0)
        except ExpressionError as error:
            raise ExpressionFailed("invalid_expression", error.message) from None
        try:
            rule = self._engine.compile(key)
        except datalogic_py.DataLogicError as error:  # pragma: no cover - the whitelist admits only compilable logic
            raise ExpressionFailed("invalid_expression", str(error)) from None
        with self._lock:
            self._rules[key] = rule
            if len(self._rules) > _CACHE_SIZE:
                self._rules.popitem(last=False)
        return rule


def truthy(value: Any) -> bool:
    """JSONLogic truthiness of an evaluated value, the same as ``Evaluator.test`` applies.

    False: ``false``, ``null``, ``0``, empty text, an empty list and an empty object.
    True: everything else, including the text ``"0"`` and ``"false"`` and the list ``[0]``.
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list | dict | tuple):
        return len(value) > 0
    return True


# --------------------------------------------------------------------------- names

_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_LITERALS: Final[dict[str, Any]] = {"true": True, "false": False, "null": None}

_FUNCTION_USAGE: Final[dict[str, tuple[int, int | None, str]]] = {
    "abs": (1, 1, "abs(number)"),
    "all": (2, 2, "all(list, condition)"),
    "any": (2, 2, "any(list, condition)"),
    "ceil": (1, 1, "ceil(number)"),
    "contains": (2, 2, "contains(list_or_text, value)"),
    "count": (1, 2, "count(list) or count(list, condition)"),
    "add_days": (2, 2, "add_days(date, days)"),
    "add_months": (2, 2, "add_months(date, months)"),
    "days_between": (2, 2, "days_between(earlier_date, later_date)"),
    "exists": (1, 1, "exists(name)"),
    "filter": (2, 2, "filter(list, condition)"),
    "floor": (1, 1, "floor(number)"),
    "if": (3, None, "if(condition, then, otherwise)"),
    "length": (1, 1, "length(text_or_list)"),
    "lower": (1, 1, "lower(text)"),
    "map": (2, 2, "map(list, item_expression)"),
    "max": (1, None, "max(a, b, ...) or max(list)"),
    "min": (1, None, "min(a, b, ...) or min(list)"),
    "missing": (1, 1, "missing(name)"),
    "month_start": (1, 1, "month_start(date)"),
    "none": (2, 2, "none(list, condition)"),
    "round": (1, 2, "round(number) or round(number, digits)"),
    "sum": (1, 2, "sum(list) or sum(list, item_expression)"),
    "trim": (1, 1, "trim(text)"),
    "upper": (1, 1, "upper(text)"),
    "years_between": (2, 2, "years_between(earlier_date, later_date)"),
}

# JSONLogic operators accepted in the JSON form, with (min, max) argument counts. ``var``,
# ``missing``, ``missing_some`` and ``exists`` take names and are checked on their own.
_JSON_OPERATORS: Final[dict[str, tuple[int, int | None]]] = {
    "==": (2, 2),
    "===": (2, 2),
    "!=": (2, 2),
    "!==": (2, 2),
    ">": (2, 3),
    ">=": (2, 3),
    "<": (2, 3),
    "<=": (2, 3),
    "!": (1, 1),
    "!!": (1, 1),
    "and": (1, None),
    "or": (1, None),
    "if": (1, None),
    "+": (1, None),
    "-": (1, 2),
    "*": (1, None),
    "/": (2, 2),
    "%": (2, 2),
    "max": (1, None),
    "min": (1, None),
    "cat": (0, None),
    "substr": (2, 3),
    "in": (2, 2),
    "merge": (0, None),
    "filter": (2, 2),
    "map": (2, 2),
    "reduce": (2, 3),
    "all": (2, 2),
    "some": (2, 2),
    "none": (2, 2),
    "length": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "trim": (1, 1),
    "abs": (1, 1),
    "ceil": (1, 1),
    "floor": (1, 1),
    "??": (1, None),
    # CivicFlow's own, run by the Evaluator as custom operators.
    "days_between": (2, 2),
    "years_between": (2, 2),
    "add_days": (2, 2),
    "add_months": (2, 2),
    "month_start": (1, 1),
}
_NAME_OPERATORS = frozenset({"var", "missing", "missing_some", "exists"})
TODAY: Final = "today"
"""The name of today's date, which callers put at the top of the data (never an item's field)."""
_TODAY_FROM_THE_TOP: Final = {"val": [[64], TODAY]}
"""datalogic's ``val`` climbs that many scopes up, stopping at the top: deeper than any nesting allowed."""
_SCOPED_OPERATORS = frozenset({"filter", "map", "all", "some", "none", "reduce"})


def _forbidden(name: str) -> bool:
    """Names that could reach Python internals if they were ever used as attributes (T5)."""
    return name.startswith("_") or "__" in name


def _check_custom_names(functions: Mapping[str, object]) -> None:
    """A caller's function may not shadow the language: that is a programming error."""
    for name in functions:
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or _forbidden(name):
            raise ValueError(f"custom function name {name!r} must be a plain name, not starting with '_'")
        if name in _KEYWORDS or name in _FUNCTION_USAGE or name in _JSON_OPERATORS or name in _NAME_OPERATORS:
            raise ValueError(f"custom function name {name!r} is already part of the expression language")


def _arity(name: str, count: int, low: int, high: int | None) -> str | None:
    """A message when ``count`` arguments do not fit ``low..high``, else None."""
    if low <= count and (high is None or count <= high):
        return None
    if high is None:
        expected = f"at least {low}"
    elif low == high:
        expected = f"exactly {low}"
    else:
        expected = f"{low} or {high}" if high == low + 1 else f"{low} to {high}"
    return f"{name} takes {expected} {'input' if expected.endswith(' 1') else 'inputs'}, not {count}"


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["number", "string", "name", "keyword", "op", "end"]
    text: str
    value: Any
    start: int
    end: int


_OPERATORS_2 = ("==", "!=", "<=", ">=")
_OPERATORS_1 = frozenset("()[],+-*/%<>")
_HINTS: Final[dict[str, str]] = {
    "=": "use == to compare",
    "!": "use 'not' instead of '!'",
    "&&": "use 'and' instead of '&&'",
    "&": "use 'and' instead of '&'",
    "||": "use 'or' instead of '||'",
    "|": "use 'or' instead of '|'",
    "^": "there is no power operator; multiply instead",
    "{": "objects cannot be written in an expression",
    "}": "objects cannot be written in an expression",
}
_ESCAPES: Final[dict[str, str]] = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


def _scan(text: str, position: int) -> _Token:
    """The token that starts at or after ``position`` (whitespace is skipped)."""
    length = len(text)
    while position < length and text[position] in " \t\r\n":
        position += 1
    if position == length:
        return _Token("end", "", None, length, length)
    char = text[position]
    if char in _NAME_START:
        return _scan_name(text, position)
    if char in _DIGITS:
        return _scan_number(text, position)
    if char in "'\"":
        return _scan_string(text, position)
    pair = text[position : position + 2]
    if pair in _OPERATORS_2:
        return _Token("op", pair, pair, position, position + 2)
    if pair in _HINTS:
        raise ExpressionError("syntax_error", f"'{pair}' is not an operator: {_HINTS[pair]}", position)
    if char in _OPERATORS_1:
        return _Token("op", char, char, position, position + 1)
    if char in _HINTS:
        raise ExpressionError("syntax_error", f"'{char}' is not an operator: {_HINTS[char]}", position)
    if char == ".":
        raise ExpressionError("syntax_error", "a number must start with a digit: write 0.5, not .5", position)
    raise ExpressionError("syntax_error", f"unexpected character {char!r}", position)


def _scan_name(text: str, start: int) -> _Token:
    match = _IDENTIFIER.match(text, start)
    assert match is not None
    end = match.end()
    word = match.group()
    if word in _KEYWORDS:
        return _Token("keyword", word, word, start, end)
    segments = [word]
    _check_segment(word, start)
    while end < len(text) and text[end] == ".":
        segment_start = end + 1
        following = text[segment_start : segment_start + 1]
        if following and following in _DIGITS:
            segment_end = segment_start
            while segment_end < len(text) and text[segment_end] in _DIGITS:
                segment_end += 1
            if segment_end < len(text) and text[segment_end] in _NAME_START:
                raise ExpressionError(
                    "syntax_error", "a part of a name cannot start with a digit unless it is all digits", segment_start
                )
        elif following and following in _NAME_START:
            found = _IDENTIFIER.match(text, segment_start)
            assert found is not None
            segment_end = found.end()
        else:
            raise ExpressionError("syntax_error", f"expected a name after '{text[start:end]}.'", segment_start)
        segment = text[segment_start:segment_end]
        _check_segment(segment, segment_start)
        segments.append(segment)
        end = segment_end
    path = ".".join(segments)
    return _Token("name", path, path, start, end)


def _check_segment(segment: str, offset: int) -> None:
    if _forbidden(segment):
        raise ExpressionError(
            "forbidden_name", f"'{segment}' is not allowed: names may not start with '_' or contain '__'", offset
        )


def _scan_number(text: str, start: int) -> _Token:
    end = start
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    if end < len(text) and text[end] == ".":
        if end + 1 >= len(text) or text[end + 1] not in _DIGITS:
            raise ExpressionError("syntax_error", "expected digits after the decimal point", end + 1)
        end += 1
        while end < len(text) and text[end] in _DIGITS:
            end += 1
    if end < len(text) and (text[end] in _NAME_CHARS or text[end] == "."):
        raise ExpressionError("syntax_error", f"unexpected {text[end]!r} right after the number {text[start:end]}", end)
    written = text[start:end]
    value: int | float = float(written) if "." in written else int(written)
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ExpressionError("syntax_error", f"numbers may be at most {MAX_NUMBER}", start)
    return _Token("number", written, value, start, end)


def _scan_string(text: str, start: int) -> _Token:
    quote = text[start]
    parts: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            return _Token("string", text[start : position + 1], "".join(parts), start, position + 1)
        if char == "\\":
            escaped = text[position + 1 : position + 2]
            if escaped not in _ESCAPES:
                raise ExpressionError(
                    "syntax_error",
                    "unknown escape in text; write \\\\ for a backslash, \\' or \\\" for a quote, \\n or \\t",
                    position,
                )
            parts.append(_ESCAPES[escaped])
            position += 2
            continue
        parts.append(char)
        position += 1
    raise ExpressionError("syntax_error", f"this text is not closed: add a matching {quote} at its end", start)


# --------------------------------------------------------------------------- parser


@dataclass(frozen=True, slots=True)
class _Term:
    """A parsed piece of an expression: its JSONLogic and what the parser needs to know."""

    logic: Any
    depth: int
    offset: int
    path: str | None = None  # set when the term is a plain variable
    comparison: bool = False  # an unparenthesized comparison (comparisons do not chain)
    flat: str | None = None  # an n-ary operator that the same operator may extend


_OR, _AND, _NOT, _COMPARE, _ADD, _MULTIPLY = 1, 2, 3, 4, 5, 6
_BINDING: Final[dict[str, int]] = {
    "or": _OR,
    "and": _AND,
    "==": _COMPARE,
    "!=": _COMPARE,
    "<": _COMPARE,
    "<=": _COMPARE,
    ">": _COMPARE,
    ">=": _COMPARE,
    "in": _COMPARE,
    "not in": _COMPARE,
    "+": _ADD,
    "-": _ADD,
    "*": _MULTIPLY,
    "/": _MULTIPLY,
    "%": _MULTIPLY,
}
_JSONLOGIC_NAME: Final[dict[str, str]] = {"==": "===", "!=": "!=="}
_ASSOCIATIVE = frozenset({"or", "and", "+", "*"})
_ACCUMULATOR: Final = {"var": "accumulator"}
_CURRENT: Final = {"var": "current"}


class _Parser:
    """A Pratt parser from infix text straight to JSONLogic terms."""

    def __init__(self, text: str, custom_functions: Mapping[str, tuple[int, int | None]]) -> None:
        self._text = text
        self._custom = custom_functions
        self._nesting = 0
        self._previous: _Token | None = None
        self._token = _scan(text, 0)

    def parse(self) -> _Term:
        if self._at_end():
            raise ExpressionError("syntax_error", "the expression is empty", 0)
        term = self._expression(0)
        if not self._at_end():
            raise self._unexpected()
        return term

    # -- tokens

    def _at_end(self) -> bool:
        return self._token.kind == "end"

    def _advance(self) -> _Token:
        token = self._token
        self._previous = token
        self._token = _scan(self._text, token.end)
        return token

    def _is(self, text: str) -> bool:
        return self._token.kind in ("op", "keyword") and self._token.text == text

    def _expect(self, text: str, message: str) -> None:
        if not self._is(text):
            raise ExpressionError("syntax_error", message, self._token.start)
        self._advance()

    def _unexpected(self) -> ExpressionError:
        token = self._token
        if token.kind == "op" and token.text in ")]":
            return ExpressionError("syntax_error", f"'{token.text}' has no matching opening bracket", token.start)
        if token.kind == "op" and token.text == ",":
            return ExpressionError("syntax_error", "a ',' can only separate the inputs of a function", token.start)
        if token.kind == "name" and token.text.lower() in _KEYWORDS:
            return ExpressionError(
                "syntax_error",
                f"expected an operator, found '{token.text}'; did you mean '{token.text.lower()}'?",
                token.start,
            )
        return ExpressionError(
            "syntax_error",
            f"expected an operator such as 'and' or '+' before '{token.text}'",
            token.start,
        )

    def _enter(self, token: _Token) -> None:
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise ExpressionError(
                "too_deep", f"the expression is nested more than {MAX_DEPTH} levels deep", token.start
            )

    def _leave(self) -> None:
        self._nesting -= 1

    # -- expressions

    def _expression(self, min_binding: int) -> _Term:
        left = self._prefix(min_binding)
        while True:
            token = self._token
            operator = self._infix_operator()
            if operator is None or _BINDING[operator] <= min_binding:
                return left
            binding = _BINDING[operator]
            if binding == _COMPARE and left.comparison:
                raise ExpressionError(
                    "syntax_error",
                    f"comparisons cannot be chained: instead of a < b < c write a < b and b < c "
                    f"(found a second '{operator}')",
                    token.start,
                )
            self._advance()
            if operator == "not in":
                self._advance()
            right = self._expression(binding)
            left = self._binary(operator, left, right, token.start)

    def _infix_operator(self) -> str | None:
        token = self._token
        if token.kind == "op" and token.text in _BINDING:
            return token.text
        if token.kind == "keyword" and token.text in ("and", "or", "in"):
            return token.text
        if token.kind == "keyword" and token.text == "not":
            following = _scan(self._text, token.end)
            if following.kind == "keyword" and following.text == "in":
                return "not in"
            raise ExpressionError("syntax_error", "expected 'in' after 'not' (as in: a not in b)", following.start)
        return None

    def _binary(self, operator: str, left: _Term, right: _Term, offset: int) -> _Term:
        if operator == "in":
            term = self._operation("in", [left, right], offset)
        elif operator == "not in":
            term = self._operation("!", [self._operation("in", [left, right], offset)], offset)
        elif operator in _ASSOCIATIVE and left.flat == operator:
            depth = max(left.depth, 1 + right.depth)
            self._check_depth(depth, offset)
            return _Term({operator: [*left.logic[operator], right.logic]}, depth, left.offset, flat=operator)
        else:
            term = self._operation(_JSONLOGIC_NAME.get(operator, operator), [left, right], offset)
        return _Term(
            term.logic,
            term.depth,
            left.offset,
            comparison=_BINDING[operator] == _COMPARE,
            flat=operator if operator in _ASSOCIATIVE else None,
        )

    def _prefix(self, min_binding: int) -> _Term:
        token = self._token
        if token.kind in ("number", "string"):
            self._advance()
            return _Term(token.value, 0, token.start)
        if token.kind == "keyword" and token.text in _LITERALS:
            self._advance()
            return _Term(_LITERALS[token.text], 0, token.start)
        if token.kind == "name":
            self._advance()
            if self._is("("):
                return self._call(token)
            return _Term({"var": token.value}, 1, token.start, path=token.value)
        if token.kind == "keyword" and token.text == "not":
            if min_binding >= _NOT:
                raise ExpressionError(
                    "syntax_error", "put 'not ...' in brackets here, as in: a == (not b)", token.start
                )
            self._advance()
            self._enter(token)
            operand = self._expression(_AND)
            self._leave()
            return self._operation("!", [operand], token.start)
        if token.kind == "op" and token.text == "-":
            self._advance()
            self._enter(token)
            operand = self._expression(_MULTIPLY)
            self._leave()
            value = operand.logic
            if isinstance(value, int | float) and not isinstance(value, bool):
                return _Term(-value, 0, token.start)
            return self._operation("-", [operand], token.start)
        if token.kind == "op" and token.text == "(":
            self._advance()
            self._enter(token)
            inner = self._expression(0)
            self._leave()
            self._expect(")", f"expected ')' to close the '(' at character {token.start}")
            return _Term(inner.logic, inner.depth, token.start, path=inner.path, flat=inner.flat)
        if token.kind == "op" and token.text == "[":
            return self._list(token)
        raise self._missing_value()

    def _missing_value(self) -> ExpressionError:
        token = self._token
        previous = self._previous
        if previous is None:
            return ExpressionError("syntax_error", f"expected a value at the start, found '{token.text}'", token.start)
        if token.kind == "end":
            return ExpressionError(
                "syntax_error", f"expected a value after '{previous.text}', but the expression ends", token.start
            )
        return ExpressionError(
            "syntax_error", f"expected a value after '{previous.text}', found '{token.text}'", token.start
        )

    def _list(self, opening: _Token) -> _Term:
        self._advance()
        self._enter(opening)
        items = self._items("]", "in the list")
        self._leave()
        depth = 1 + max((item.depth for item in items), default=0)
        self._check_depth(depth, opening.start)
        return _Term([item.logic for item in items], depth, opening.start)

    def _items(self, closing: str, where: str) -> list[_Term]:
        """Comma-separated expressions up to and including ``closing``."""
        items: list[_Term] = []
        if self._is(closing):
            self._advance()
            return items
        while True:
            items.append(self._expression(0))
            if self._is(","):
                self._advance()
                continue
            if self._is(closing):
                self._advance()
                return items
            raise ExpressionError("syntax_error", f"expected ',' or '{closing}' {where}", self._token.start)

    # -- building JSONLogic

    def _check_depth(self, depth: int, offset: int) -> None:
        if depth > MAX_DEPTH:
            raise ExpressionError("too_deep", f"the expression is nested more than {MAX_DEPTH} levels deep", offset)

    def _operation(self, name: str, args: list[_Term], offset: int) -> _Term:
        depth = 1 + max((arg.depth for arg in args), default=0)
        self._check_depth(depth, offset)
        return _Term({name: [arg.logic for arg in args]}, depth, offset)

    def _fixed(self, logic: Any, depth: int, offset: int) -> _Term:
        """A piece of JSONLogic that reads nothing from the case (such as ``current``)."""
        return _Term(logic, depth, offset)

    # -- functions

    def _call(self, name: _Token) -> _Term:
        function = name.value
        if function in _FUNCTION_USAGE:
            low, high, usage = _FUNCTION_USAGE[function]
        elif function in self._custom:
            low, high = self._custom[function]
            usage = ""
        else:
            raise self._unknown_function(name)
        self._advance()
        self._enter(name)
        args = self._items(")", f"in the call to {function}")
        self._leave()
        problem = _arity(function, len(args), low, high)
        if problem is not None:
            raise ExpressionError("wrong_arguments", f"{problem}: write {usage}" if usage else problem, name.start)
        if function in self._custom:
            return self._operation(function, args, name.start)
        return self._builtin(function, args, name.start)

    def _unknown_function(self, name: _Token) -> ExpressionError:
        known = sorted({*_FUNCTION_USAGE, *self._custom})
        if "." in name.value:
            return ExpressionError(
                "unknown_function",
                f"'{name.value}' is a name, not a function; the functions are: {', '.join(known)}",
                name.start,
            )
        close = difflib.get_close_matches(name.value.lower(), known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return ExpressionError(
            "unknown_function",
            f"there is no function '{name.value}'.{hint} The functions are: {', '.join(known)}",
            name.start,
        )

    def _builtin(self, function: str, args: list[_Term], offset: int) -> _Term:
        simple = {"abs": "abs", "ceil": "ceil", "floor": "floor", "lower": "lower", "upper": "upper", "trim": "trim"}
        scoped = {"any": "some", "all": "all", "none": "none", "filter": "filter", "map": "map"}
        if function in simple:
            return self._operation(simple[function], args, offset)
        if function in scoped:
            return self._operation(scoped[function], args, offset)
        if function == "count":
            listed = self._operation("filter", args, offset) if len(args) == 2 else args[0]
            add_one = self._fixed({"+": [_ACCUMULATOR, 1]}, 2, offset)
            return self._operation("reduce", [listed, add_one, self._fixed(0, 0, offset)], offset)
        if function == "sum":
            listed = self._operation("map", args, offset) if len(args) == 2 else args[0]
            add = self._fixed({"+": [_ACCUMULATOR, _CURRENT]}, 2, offset)
            return self._operation("reduce", [listed, add, self._fixed(0, 0, offset)], offset)
        if function in ("min", "max"):
            if len(args) == 1:
                # datalogic spreads a single list-valued operand: {"max": {"var": "xs"}}.
                (only,) = args
                depth = 1 + only.depth
                self._check_depth(depth, offset)
                return _Term({function: only.logic}, depth, offset)
            return self._operation(function, args, offset)
        if function == "round":
            return self._round(args, offset)
        if function == "if":
            if len(args) % 2 == 0:
                raise ExpressionError(
                    "wrong_arguments",
                    "if takes a condition and a value in pairs, then the value otherwise: "
                    "if(condition, then, otherwise) or if(c1, v1, c2, v2, otherwise)",
                    offset,
                )
            return self._operation("if", args, offset)
        if function == "length":
            # A missing value has length 0 rather than failing.
            (value,) = args
            blank = self._operation("??", [value, self._fixed("", 0, offset)], offset)
            return self._operation("length", [blank], offset)
        if function == "contains":
            container, value = args
            return self._operation("in", [value, container], offset)
        if function in ("exists", "missing"):
            return self._presence(function, args[0], offset)
        assert function in ("days_between", "years_between", "add_days", "add_months", "month_start")
        return self._operation(function, args, offset)

    def _presence(self, function: str, value: _Term, offset: int) -> _Term:
        if value.path is None:
            raise ExpressionError(
                "wrong_arguments", f"{function} takes the name of a value, as in {function}(household.size)", offset
            )
        # Absent, null and empty text all count as "no answer", in every JSONLogic engine
        # (datalogic's own `missing` counts only absent keys; json-logic-js counts all three).
        blanks = self._fixed([None, ""], 1, offset)
        missing = self._operation("in", [value, blanks], offset)
        return missing if function == "missing" else self._operation("!", [missing], offset)

    def _round(self, args: list[_Term], offset: int) -> _Term:
        digits = 0
        if len(args) == 2:
            written = args[1].logic
            if isinstance(written, bool) or not isinstance(written, int) or not -10 <= written <= 10:
                raise ExpressionError(
                    "wrong_arguments",
                    "round's number of digits must be a whole number from -10 to 10 written directly, "
                    "as in round(amount, 2)",
                    args[1].offset,
                )
            digits = written
        # Half away from zero, like a spreadsheet's ROUND: the value is bound once as the only
        # item of a one-item reduce, so it is computed once however often the body reads it.
        current = self._fixed(_CURRENT, 1, offset)
        negated = self._operation("-", [current], offset)
        factor = self._fixed(10 ** abs(digits), 0, offset)
        half = self._fixed(0.5, 0, offset)

        def rounded(magnitude: _Term) -> _Term:
            if digits > 0:
                magnitude = self._operation("*", [magnitude, factor], offset)
            elif digits < 0:
                magnitude = self._operation("/", [magnitude, factor], offset)
            whole = self._operation("floor", [self._operation("+", [magnitude, half], offset)], offset)
            if digits > 0:
                return self._operation("/", [whole, factor], offset)
            if digits < 0:
                return self._operation("*", [whole, factor], offset)
            return whole

        below_zero = self._operation("<", [current, self._fixed(0, 0, offset)], offset)
        body = self._operation(
            "if", [below_zero, self._operation("-", [rounded(negated)], offset), rounded(current)], offset
        )
        value = _Term([args[0].logic], 1 + args[0].depth, offset)
        return self._operation("reduce", [value, body, self._fixed(None, 0, offset)], offset)


# --------------------------------------------------------------------------- inspection


@dataclass(frozen=True, slots=True)
class _Scope:
    """Where ``var`` reads from: the case data, the items of a list, or a reduce's body."""

    kind: Literal["data", "item", "reduce"]
    origin: str | None = None  # data path of the list whose items are in scope, if known


_DATA_SCOPE: Final = _Scope("data")


class _Inspector:
    """Checks JSONLogic against the whitelist and lists the data paths and functions used."""

    def __init__(self, custom_functions: Mapping[str, tuple[int, int | None]]) -> None:
        self._custom = custom_functions
        self.variables: set[str] = set()
        self.functions: set[str] = set()

    def walk(self, node: Any, scope: _Scope, level: int) -> tuple[Any, str | None]:
        """A clean copy of ``node``, and the data path of the list it yields (if known)."""
        if node is None or isinstance(node, bool | str):
            return node, None
        if isinstance(node, int | float):
            if not math.isfinite(node) or abs(node) > MAX_NUMBER:
                raise ExpressionError("syntax_error", f"numbers must be finite and at most {MAX_NUMBER}")
            return node, None
        if level + 1 > MAX_DEPTH:
            raise ExpressionError("too_deep", f"the expression is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, list):
            return [self.walk(item, scope, level + 1)[0] for item in node], None
        if isinstance(node, dict):
            return self._operation(node, scope, level + 1)
        raise ExpressionError("syntax_error", f"a {type(node).__name__} is not a JSON value")

    def _operation(self, node: dict[Any, Any], scope: _Scope, level: int) -> tuple[Any, str | None]:
        if len(node) != 1:
            raise ExpressionError(
                "unknown_operator",
                f"a JSONLogic operation is an object with exactly one key, not {len(node)}",
            )
        ((name, raw),) = node.items()
        if not isinstance(name, str):
            raise ExpressionError("unknown_operator", f"an operation's name must be text, not {name!r}")
        if _forbidden(name):
            raise ExpressionError(
                "forbidden_name", f"'{name}' is not allowed: names may not start with '_' or contain '__'"
            )
        if name in _NAME_OPERATORS or name == "val":  # val: only as _TODAY_FROM_THE_TOP, never written by hand
            return self._names(name, raw, scope, level)
        if name in _JSON_OPERATORS:
            low, high = _JSON_OPERATORS[name]
        elif name in self._custom:
            low, high = self._custom[name]
            self.functions.add(name)
        else:
            close = difflib.get_close_matches(name, [*_JSON_OPERATORS, *_NAME_OPERATORS, *self._custom], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ExpressionError("unknown_operator", f"the operation '{name}' is not allowed in expressions{hint}")
        args = raw if isinstance(raw, list) else [raw]
        problem = _arity(name, len(args), low, high)
        if problem is not None:
            raise ExpressionError("wrong_arguments", problem)
        if name in _SCOPED_OPERATORS:
            listed, origin = self.walk(args[0], scope, level)
            inner = _Scope("reduce" if name == "reduce" else "item", origin)
            copied = [listed, self.walk(args[1], inner, level)[0]]
            copied += [self.walk(arg, scope, level)[0] for arg in args[2:]]
            return {name: copied}, origin if name == "filter" else None
        copied = [self.walk(arg, scope, level)[0] for arg in args]
        return {name: copied if isinstance(raw, list) else copied[0]}, None

    def _names(self, name: str, raw: Any, scope: _Scope, level: int) -> tuple[Any, str | None]:
        """``var``, ``missing``, ``missing_some`` and ``exists``: their arguments are names."""
        if name == "val":
            # Only as compiled below: today's date read from the top of the data, inside a list function.
            if raw != _TODAY_FROM_THE_TOP["val"]:
                raise ExpressionError(
                    "unknown_operator", "the operation 'val' is not allowed in expressions; did you mean 'var'?"
                )
            self.variables.add(TODAY)
            return {"val": copy.deepcopy(raw)}, None
        if name == "var" and scope.kind != "data" and raw in (TODAY, [TODAY]):
            # ``today`` is the same for every item: read it where the caller put it, not in the item.
            self.variables.add(TODAY)
            return copy.deepcopy(_TODAY_FROM_THE_TOP), None
        if name == "var":
            args = raw if isinstance(raw, list) else [raw]
            if len(args) > 2:
                raise ExpressionError("wrong_arguments", f"var takes a name and an optional default, not {len(args)}")
            path = self._path(args[0] if args else "", scope)
            if len(args) == 2:
                return {"var": [args[0], self.walk(args[1], scope, level)[0]]}, path
            return {"var": raw}, path
        if name == "exists":
            segments = raw if isinstance(raw, list) else [raw]
            if not segments or not all(isinstance(segment, str) and segment for segment in segments):
                raise ExpressionError("wrong_arguments", "exists takes the parts of a name, written out as text")
            self._path(".".join(segments), scope)
            return {"exists": raw}, None
        if name == "missing_some":
            if (
                not isinstance(raw, list)
                or len(raw) != 2
                or isinstance(raw[0], bool)
                or not isinstance(raw[0], int)
                or not isinstance(raw[1], list)
            ):
                raise ExpressionError("wrong_arguments", "missing_some takes a number and a list of names")
            names = raw[1]
        else:
            names = raw if isinstance(raw, list) else [raw]
            if len(names) == 1 and isinstance(names[0], list):
                names = names[0]
        if not all(isinstance(path, str) for path in names):
            raise ExpressionError("wrong_arguments", f"{name} takes names written out as text")
        for path in names:
            self._path(path, scope)
        return {name: raw}, None

    def _path(self, path: Any, scope: _Scope) -> str | None:
        """Record a data path read in ``scope``; return its full dotted path, if known."""
        if isinstance(path, bool) or not isinstance(path, str | int):
            raise ExpressionError("wrong_arguments", "the name of a value to read must be written out, not computed")
        written = str(path)
        segments = written.split(".") if written else []
        for segment in segments:
            if not segment:
                raise ExpressionError("wrong_arguments", f"'{written}' is not a valid name")
            if _forbidden(segment):
                raise ExpressionError(
                    "forbidden_name", f"'{segment}' is not allowed: names may not start with '_' or contain '__'"
                )
        if scope.kind == "data":
            if not segments:
                raise ExpressionError("wrong_arguments", "name the value to read; the whole case cannot be read")
            self.variables.add(written)
            return written
        if scope.kind == "reduce":
            if not segments or segments[0] not in ("current", "accumulator"):
                raise ExpressionError("wrong_arguments", "inside reduce, only current and accumulator can be read")
            if segments[0] == "accumulator":
                return None
            segments = segments[1:]
        if scope.origin is None:
            return None
        if not segments:
            return f"{scope.origin}.*"
        full = ".".join([scope.origin, "*", *segments])
        self.variables.add(full)
        return full


# --------------------------------------------------------------------------- runtime

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _two_dates(args: list[Any], function: str) -> tuple[date, date]:
    """The two ISO dates (``YYYY-MM-DD``) a date function was given; ``ValueError`` otherwise."""
    if len(args) != 2 or not all(isinstance(arg, str) and _DATE.fullmatch(arg) for arg in args):
        raise ValueError(f"{function} needs two dates written as YYYY-MM-DD")
    return date.fromisoformat(args[0]), date.fromisoformat(args[1])


def _date_and_count(args: list[Any], function: str, unit: str, most: int) -> tuple[date, int]:
    """An ISO date and a whole number (of ``unit``, at most ``most`` either way); ``ValueError`` otherwise."""
    if (
        len(args) != 2
        or not (isinstance(args[0], str) and _DATE.fullmatch(args[0]))
        or isinstance(args[1], bool)
        or not isinstance(args[1], (int, float))
        or args[1] != int(args[1])
        or abs(args[1]) > most
    ):
        raise ValueError(f"{function} needs a date written as YYYY-MM-DD and a whole number of {unit}")
    return date.fromisoformat(args[0]), int(args[1])


def _days_between(args: list[Any]) -> int:
    """Whole days from the first ISO date (``YYYY-MM-DD``) to the second: later minus earlier."""
    first, second = _two_dates(args, "days_between")
    return (second - first).days


def _years_between(args: list[Any]) -> int:
    """Whole years from the first ISO date to the second, as an age is counted: a person born on
    29 February turns one year older on 1 March in years that have no 29 February."""
    first, second = _two_dates(args, "years_between")
    sign = 1
    if second < first:
        first, second, sign = second, first, -1
    years = second.year - first.year - ((second.month, second.day) < (first.month, first.day))
    return sign * years


def _add_days(args: list[Any]) -> str:
    """The ISO date ``days`` whole days after the ISO date (before it, for a negative number)."""
    start, days = _date_and_count(args, "add_days", "days", 3_660_000)
    try:
        return (start + timedelta(days=days)).isoformat()
    except OverflowError as error:
        raise ValueError("add_days went beyond the years 1 to 9999") from error


def _add_months(args: list[Any]) -> str:
    """The ISO date ``months`` calendar months later; a day the month lacks becomes its last day
    (``add_months('2026-01-31', 1)`` is ``2026-02-28``)."""
    start, months = _date_and_count(args, "add_months", "months", 120_000)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError("add_months went beyond the years 1 to 9999")
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day)).isoformat()


def _month_start(args: list[Any]) -> str:
    """The first day of the ISO date's month."""
    if len(args) != 1 or not (isinstance(args[0], str) and _DATE.fullmatch(args[0])):
        raise ValueError("month_start needs a date written as YYYY-MM-DD")
    return date.fromisoformat(args[0]).replace(day=1).isoformat()


def _adapt(function: Callable[[list[Any]], Any]) -> Callable[[str], str]:
    """datalogic hands custom operators a JSON array and wants JSON back."""

    def operator(arguments: str) -> str:
        return json.dumps(function(json.loads(arguments)), allow_nan=False, ensure_ascii=False)

    return operator


_DESIGNER_NAMES: Final[dict[str, str]] = {"some": "any", "===": "==", "!==": "!=", "!": "not", "val": "a name"}


def _failure(error: datalogic_py.DataLogicError, budget: int) -> ExpressionFailed:
    kind = getattr(error, "error_type", "")
    raw = getattr(error, "operator", None)
    operator = _DESIGNER_NAMES.get(raw, raw) if raw else "the expression"
    if kind == "BudgetExceeded":
        return ExpressionFailed(
            "budget_exceeded",
            f"the expression was stopped after {budget} steps: it does too much work for this data",
        )
    if kind == "Thrown":
        return ExpressionFailed(
            "arithmetic_error",
            f"'{operator}' did not give a number: a division by zero, or text or a list where a number is needed",
        )
    if kind == "InvalidArguments":
        return ExpressionFailed(
            "invalid_value",
            f"'{operator}' cannot use the value it was given (for example the largest of an empty list, "
            "or the length of a number)",
        )
    if kind == "Custom":
        hint = {
            "days_between": ": it needs two dates written as YYYY-MM-DD",
            "years_between": ": it needs two dates written as YYYY-MM-DD",
            "add_days": ": it needs a date written as YYYY-MM-DD and a whole number of days",
            "add_months": ": it needs a date written as YYYY-MM-DD and a whole number of months",
            "month_start": ": it needs a date written as YYYY-MM-DD",
        }.get(raw or "", "")
        return ExpressionFailed("function_failed", f"the function '{operator}' failed{hint}")
    if kind == "InvalidOperator":
        return ExpressionFailed("unknown_operator", f"the operation '{operator}' is not available")
    return ExpressionFailed("evaluation_error", f"the expression could not be evaluated ({kind or 'unknown error'})")
