"""Expressions: infix text compiles at load to whitelisted JSONLogic, evaluated under a budget (T5)."""

from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import datalogic_py
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import expressions
from engine.expressions import (
    MAX_DEPTH,
    MAX_JSON_LENGTH,
    MAX_SOURCE_LENGTH,
    Evaluator,
    Expression,
    ExpressionError,
    ExpressionFailed,
    compile_expression,
    truthy,
)

TABLE: dict[str, tuple[int, int | None]] = {"table": (1, 2)}

DATA: dict[str, Any] = {
    "household": {
        "size": 4,
        "members": [
            {"name": " Ann ", "age": 3, "monthly_income": 0, "kids": []},
            {"name": "Bo", "age": 40, "monthly_income": 1200, "kids": [{"age": 3}, {"age": 12}]},
            {"name": "Cy", "age": 17, "monthly_income": 100.5, "kids": []},
        ],
    },
    "income": 2000,
    "percent_fpl": 120,
    "applied": "2024-02-28",
    "decided": "2024-03-01",
    "name": "Ada",
    "codes": ["A", "B"],
    "amounts": [5, 2, 9],
    "blank": "",
    "nothing": None,
    "zero": 0,
    "text_number": "2",
}


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator({"table": lambda args: {"fpl": 1000, "smi": 5000}[args[0]] * (args[1] if len(args) > 1 else 1)})


def value_of(evaluator: Evaluator, source: object, data: dict[str, Any] | None = None) -> Any:
    return evaluator.evaluate(compile_expression(source, custom_functions=TABLE), DATA if data is None else data)


def refusal(source: object, **kwargs: Any) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, **kwargs)
    return caught.value


def failure(
    evaluator: Evaluator, source: object, data: dict[str, Any] | None = None, **kwargs: Any
) -> ExpressionFailed:
    expression = compile_expression(source, custom_functions=TABLE)
    with pytest.raises(ExpressionFailed) as caught:
        evaluator.evaluate(expression, DATA if data is None else data, **kwargs)
    return caught.value


# ------------------------------------------------------------------ what designers write

DESIGNER_EXAMPLES = [
    ("household.size > 3 and income < 2500 * household.size", True),
    ("percent_fpl <= 133", True),
    ("any(household.members, age < 19)", True),
    ("count(household.members)", 3),
    ("sum(household.members, monthly_income) * 12", 15606),
]


@pytest.mark.parametrize(("source", "expected"), DESIGNER_EXAMPLES)
def test_the_examples_from_the_brief(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


LITERALS = [
    ("42", 42),
    ("007", 7),
    ("2.50", 2.5),
    ("'single'", "single"),
    ('"double"', "double"),
    (r"'it\'s'", "it's"),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'back\\slash'", "back\\slash"),
    (r"'a\nb\tc'", "a\nb\tc"),
    ("'日本'", "日本"),
    ("true", True),
    ("false", False),
    ("null", None),
    ("[1, 2, 3]", [1, 2, 3]),
    ("[]", []),
    ("[1, [2, 'x'], null]", [1, [2, "x"], None]),
    ("[income, 1 + 1]", [2000, 2]),
    ("  income\n ", 2000),
]


@pytest.mark.parametrize(("source", "expected"), LITERALS)
def test_literals(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


def test_literals_compile_to_plain_json():
    assert compile_expression("[1, 'a', true, null]").logic == [1, "a", True, None]
    assert compile_expression("-5").logic == -5
    assert compile_expression("- -2.5").logic == 2.5
    assert compile_expression("-true").logic == {"-": [True]}


VARIABLES = [
    ("income", 2000),
    ("household.size", 4),
    ("household.members.1.age", 40),
    ("household.members.0.kids", []),
    ("household.nope", None),
    ("not_there.at.all", None),
    ("household.members.9.age", None),
]


@pytest.mark.parametrize(("source", "expected"), VARIABLES)
def test_variables_read_dotted_paths_and_a_missing_path_reads_null(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


def test_a_variable_compiles_to_var_with_its_dotted_path():
    expression = compile_expression("household.members.0.age")
    assert expression.logic == {"var": "household.members.0.age"}
    assert expression.variables == {"household.members.0.age"}
    assert expression.functions == frozenset()


# ------------------------------------------------------------------ operators

OPERATORS = [
    ("1 + 2", 3),
    ("1 + 2 + 3 + 4", 10),
    ("10 - 2 - 3", 5),
    ("2 * 3 * 4", 24),
    ("7 / 2", 3.5),
    ("6 / 2", 3),
    ("-7 / 2", -3.5),
    ("7 % 3", 1),
    ("-7 % 3", -1),  # the sign follows the dividend, as in JavaScript (Python says 2)
    ("7.5 % 2", 1.5),
    ("-income", -2000),
    ("0.1 + 0.2", 0.30000000000000004),
    ("text_number + 1", 3),  # text that is a number is converted
    ("nothing + 1", 1),  # null counts as 0 in arithmetic
    ("1 == 1", True),
    ("1 == 1.0", True),
    ("'1' == 1", False),  # == is strict: text is never equal to a number
    ("0 == false", False),
    ("null == null", True),
    ("[1, 2] == [1, 2]", True),
    ("1 != 2", True),
    ("'1' != 1", True),
    ("2 > 1", True),
    ("2 >= 2", True),
    ("1 < 2", True),
    ("2 <= 1", False),
    ("'apple' < 'banana'", True),
    ("'10' < '9'", True),  # two texts compare alphabetically
    ("applied < decided", True),  # so ISO dates compare correctly
    ("nothing < 1", True),  # null compares as 0
    ("true and 0", 0),  # and/or give back one of their values
    ("0 or '' or 'x'", "x"),
    ("null or false", False),
    ("not 0", True),
    ("not ''", True),
    ("not '0'", False),
    ("not []", True),
    ("not not 5", True),
    ("'B' in codes", True),
    ("'C' in codes", False),
    ("'C' not in codes", True),
    ("'ell' in 'hello'", True),
    ("1 in [1, 2]", True),
    ("'1' in [1, 2]", False),
    ("1 in nothing", False),
]


@pytest.mark.parametrize(("source", "expected"), OPERATORS)
def test_operators(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


COMPILED_OPERATORS = [
    ("a == b", {"===": [{"var": "a"}, {"var": "b"}]}),
    ("a != b", {"!==": [{"var": "a"}, {"var": "b"}]}),
    ("a < b", {"<": [{"var": "a"}, {"var": "b"}]}),
    ("a in b", {"in": [{"var": "a"}, {"var": "b"}]}),
    ("a not in b", {"!": [{"in": [{"var": "a"}, {"var": "b"}]}]}),
    ("not a", {"!": [{"var": "a"}]}),
    ("-a", {"-": [{"var": "a"}]}),
    ("a + b + c", {"+": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}),
    ("(a + b) + c", {"+": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}),
    ("a + (b + c)", {"+": [{"var": "a"}, {"+": [{"var": "b"}, {"var": "c"}]}]}),
    ("a - b - c", {"-": [{"-": [{"var": "a"}, {"var": "b"}]}, {"var": "c"}]}),
    ("a * b * c", {"*": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}),
    ("a / b / c", {"/": [{"/": [{"var": "a"}, {"var": "b"}]}, {"var": "c"}]}),
    ("a or b or c", {"or": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}),
    ("a and b and c", {"and": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}),
    ("a and b or c", {"or": [{"and": [{"var": "a"}, {"var": "b"}]}, {"var": "c"}]}),
]


@pytest.mark.parametrize(("source", "logic"), COMPILED_OPERATORS)
def test_operators_compile_to_json_logic(source, logic):
    assert compile_expression(source).logic == logic


PRECEDENCE = [
    ("1 + 2 * 3 == 7", True),
    ("(1 + 2) * 3", 9),
    ("2 * 3 + 1", 7),
    ("10 - 4 / 2", 8),
    ("-2 * 3", -6),
    ("2 * -3", -6),
    ("-(2 + 3)", -5),
    ("1 + 2 < 4", True),
    ("not 1 == 2", True),  # not (1 == 2)
    ("not false and false", False),  # (not false) and false
    ("not (false and false)", True),
    ("true or true and false", True),  # true or (true and false)
    ("(true or true) and false", False),
    ("false and true or true", True),
    ("1 < 2 and 2 < 3", True),
    ("(1 < 2) == true", True),  # a bracketed comparison may be compared
    ("not 'B' in codes", False),
]


@pytest.mark.parametrize(("source", "expected"), PRECEDENCE)
def test_precedence(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


def test_not_binds_looser_than_comparison_but_tighter_than_and():
    assert compile_expression("not a and b").logic == {"and": [{"!": [{"var": "a"}]}, {"var": "b"}]}
    assert compile_expression("not a == b").logic == {"!": [{"===": [{"var": "a"}, {"var": "b"}]}]}


# ------------------------------------------------------------------ functions

FUNCTIONS = [
    ("count(household.members)", 3),
    ("count(household.members, age < 19)", 2),
    ("count(nothing)", 0),
    ("count([])", 0),
    ("sum(amounts)", 16),
    ("sum(household.members, monthly_income)", 1300.5),
    ("sum(household.members, count(kids))", 2),
    ("sum(nothing)", 0),
    ("sum([1, '2', null])", 3),
    ("any(household.members, age > 39)", True),
    ("any(household.members, age > 40)", False),
    ("any([], true)", False),
    ("all(household.members, age > 1)", True),
    ("all(household.members, age > 3)", False),
    ("all([], true)", False),  # JSONLogic: all() of an empty list is false
    ("none(household.members, age > 40)", True),
    ("none([], true)", True),
    ("filter(amounts, true)", [5, 2, 9]),
    ("filter(household.members, age > 16)", [DATA["household"]["members"][1], DATA["household"]["members"][2]]),
    ("map(household.members, name)", [" Ann ", "Bo", "Cy"]),
    ("map(household.members, age * 2)", [6, 80, 34]),
    ("map(nothing, age)", []),
    ("any(household.members, any(kids, age > 10))", True),
    ("count(household.members, count(kids, age < 5) > 0)", 1),
    ("min(3, 1, 2)", 1),
    ("max(3, 1, 2)", 3),
    ("max(1.5, 2)", 2),
    ("min(amounts)", 2),
    ("max(amounts)", 9),
    ("max([4, 8])", 8),
    ("max(map(household.members, age))", 40),
    ("max(7)", 7),
    ("abs(-3)", 3),
    ("abs(2.5)", 2.5),
    ("floor(2.7)", 2),
    ("floor(-2.5)", -3),
    ("ceil(2.1)", 3),
    ("ceil(-2.5)", -2),
    ("if(income > 100, 'high', 'low')", "high"),
    ("if(income > 9999, 'high', 'low')", "low"),
    ("if(false, 1, false, 2, 3)", 3),
    ("if(false, 1, true, 2, 3)", 2),
    ("length('hello')", 5),
    ("length('日本語')", 3),
    ("length(codes)", 2),
    ("length(nothing)", 0),
    ("length(blank)", 0),
    ("lower('AbC')", "abc"),
    ("upper('AbC')", "ABC"),
    ("trim('  a b  ')", "a b"),
    ("trim(household.members.0.name)", "Ann"),
    ("lower(nothing)", ""),
    ("lower(5)", "5"),
    ("contains(codes, 'A')", True),
    ("contains(codes, 'Z')", False),
    ("contains('hello', 'ell')", True),
    ("contains(nothing, 'x')", False),
    ("exists(income)", True),
    ("exists(zero)", True),
    ("exists(nope)", False),
    ("exists(nothing)", False),
    ("exists(blank)", False),
    ("missing(income)", False),
    ("missing(nope)", True),
    ("missing(nothing)", True),
    ("missing(blank)", True),
    ("missing(household.members.0.age)", False),
    ("any(household.members, exists(monthly_income))", True),
    ("days_between(applied, decided)", 2),
    ("days_between(decided, applied)", -2),
    ("days_between('2023-02-28', '2023-03-01')", 1),
    ("days_between('2024-01-01', '2024-01-01')", 0),
    ("days_between('1999-12-31', '2000-01-01')", 1),
    ("days_between('2000-01-01', '2100-01-01')", 36525),
    # An age: the birthday itself counts, the day before does not.
    ("years_between('2008-03-15', '2027-03-15')", 19),
    ("years_between('2008-03-15', '2027-03-14')", 18),
    ("years_between('2024-02-29', '2025-02-28')", 0),
    ("years_between('2024-02-29', '2025-03-01')", 1),
    ("years_between('2027-03-15', '2008-03-15')", -19),
    ("years_between(applied, decided)", 0),
    ("add_days('2026-12-20', 14)", "2027-01-03"),
    ("add_days('2024-03-01', -1)", "2024-02-29"),
    ("add_days(applied, 0)", "2024-02-28"),
    ("add_months('2026-01-31', 1)", "2026-02-28"),
    ("add_months('2024-01-31', 1)", "2024-02-29"),
    ("add_months('2026-12-15', 11)", "2027-11-15"),
    ("add_months('2026-03-31', -1)", "2026-02-28"),
    ("month_start(add_months('2026-12-15', 1))", "2027-01-01"),
    ("table('fpl')", 1000),
    ("table('fpl', household.size)", 4000),
]


@pytest.mark.parametrize(("source", "expected"), FUNCTIONS)
def test_functions(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


ROUNDING = [
    ("round(2.5)", 3),
    ("round(3.5)", 4),  # half away from zero, not to even
    ("round(-2.5)", -3),
    ("round(2.4)", 2),
    ("round(-2.4)", -2),
    ("round(-0.4)", 0),
    ("round(7)", 7),
    ("round(null)", 0),
    ("round('3.5')", 4),
    ("round(2.345, 2)", 2.35),
    ("round(-2.345, 2)", -2.35),
    ("round(0.125, 2)", 0.13),
    ("round(2.675, 2)", 2.68),
    ("round(1.005, 2)", 1),  # 1.005 is stored as 1.00499999999999989…, so it rounds down
    ("round(1234, -2)", 1200),
    ("round(1250, -2)", 1300),
    ("round(-1250, -2)", -1300),
    ("round(1249.99, 0)", 1250),
    ("round(household.size / 3, 1)", 1.3),
]


@pytest.mark.parametrize(("source", "expected"), ROUNDING)
def test_round_goes_half_away_from_zero(evaluator, source, expected):
    assert value_of(evaluator, source) == expected


def test_compiled_expressions_share_no_json_objects():
    first, second = compile_expression("count(a) + round(b)"), compile_expression("count(c) + round(d)")
    first.logic["+"][0]["reduce"][1]["+"][0]["var"] = "changed"
    assert second.logic["+"][0]["reduce"][1] == {"+": [{"var": "accumulator"}, 1]}
    assert compile_expression("count(a)").logic["reduce"][1] == {"+": [{"var": "accumulator"}, 1]}


def test_round_computes_its_value_once():
    # The value is bound as the one item of a reduce, so nested rounds do not multiply work.
    logic = compile_expression("round(round(round(income)))").logic
    assert json.dumps(logic).count('"income"') == 1


COMPILED_FUNCTIONS = [
    ("any(xs, age < 19)", {"some": [{"var": "xs"}, {"<": [{"var": "age"}, 19]}]}),
    ("all(xs, ok)", {"all": [{"var": "xs"}, {"var": "ok"}]}),
    ("none(xs, ok)", {"none": [{"var": "xs"}, {"var": "ok"}]}),
    ("filter(xs, ok)", {"filter": [{"var": "xs"}, {"var": "ok"}]}),
    ("map(xs, a)", {"map": [{"var": "xs"}, {"var": "a"}]}),
    ("count(xs)", {"reduce": [{"var": "xs"}, {"+": [{"var": "accumulator"}, 1]}, 0]}),
    (
        "count(xs, ok)",
        {"reduce": [{"filter": [{"var": "xs"}, {"var": "ok"}]}, {"+": [{"var": "accumulator"}, 1]}, 0]},
    ),
    ("sum(xs)", {"reduce": [{"var": "xs"}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, 0]}),
    (
        "sum(xs, a)",
        {"reduce": [{"map": [{"var": "xs"}, {"var": "a"}]}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, 0]},
    ),
    ("max(xs)", {"max": {"var": "xs"}}),
    ("min(a, b)", {"min": [{"var": "a"}, {"var": "b"}]}),
    ("abs(a)", {"abs": [{"var": "a"}]}),
    ("floor(a)", {"floor": [{"var": "a"}]}),
    ("ceil(a)", {"ceil": [{"var": "a"}]}),
    ("if(a, b, c)", {"if": [{"var": "a"}, {"var": "b"}, {"var": "c"}]}),
    ("length(a)", {"length": [{"??": [{"var": "a"}, ""]}]}),
    ("lower(a)", {"lower": [{"var": "a"}]}),
    ("upper(a)", {"upper": [{"var": "a"}]}),
    ("trim(a)", {"trim": [{"var": "a"}]}),
    ("contains(xs, 1)", {"in": [1, {"var": "xs"}]}),
    ("missing(a)", {"in": [{"var": "a"}, [None, ""]]}),
    ("exists(a)", {"!": [{"in": [{"var": "a"}, [None, ""]]}]}),
    ("days_between(a, b)", {"days_between": [{"var": "a"}, {"var": "b"}]}),
    (
        "round(a)",
        {
            "reduce": [
                [{"var": "a"}],
                {
                    "if": [
                        {"<": [{"var": "current"}, 0]},
                        {"-": [{"floor": [{"+": [{"-": [{"var": "current"}]}, 0.5]}]}]},
                        {"floor": [{"+": [{"var": "current"}, 0.5]}]},
                    ]
                },
                None,
            ]
        },
    ),
]


@pytest.mark.parametrize(("source", "logic"), COMPILED_FUNCTIONS)
def test_functions_compile_to_json_logic(source, logic):
    assert compile_expression(source).logic == logic


def test_custom_functions_are_called_with_evaluated_arguments_and_listed():
    seen: list[list[Any]] = []

    def table(args: list[Any]) -> Any:
        seen.append(args)
        return {"row": args}

    evaluator = Evaluator({"table": table})
    expression = compile_expression("table('fpl', household.size + 1, [1, 'x'])", custom_functions={"table": (1, None)})
    assert expression.logic == {"table": ["fpl", {"+": [{"var": "household.size"}, 1]}, [1, "x"]]}
    assert expression.functions == {"table"}
    assert evaluator.evaluate(expression, DATA) == {"row": ["fpl", 5, [1, "x"]]}
    assert seen == [["fpl", 5, [1, "x"]]]


def test_custom_function_argument_counts_are_checked():
    error = refusal("table()", custom_functions={"table": (1, 2)})
    assert (error.code, error.offset, error.message) == ("wrong_arguments", 0, "table takes 1 or 2 inputs, not 0")
    assert refusal("x + table(1, 2, 3, 4)", custom_functions={"table": (3, 3)}).message == (
        "table takes exactly 3 inputs, not 4"
    )
    assert refusal("t(1)", custom_functions={"t": (2, None)}).message == "t takes at least 2 inputs, not 1"
    assert refusal("t()", custom_functions={"t": (1, 4)}).message == "t takes 1 to 4 inputs, not 0"
    assert refusal("t(1, 2)", custom_functions={"t": (1, 1)}).message == "t takes exactly 1 input, not 2"


@pytest.mark.parametrize("name", ["count", "var", "reduce", "missing", "and", "_secret", "a__b", "with space", ""])
def test_a_custom_function_may_not_shadow_the_language_or_be_a_bad_name(name):
    with pytest.raises(ValueError, match="custom function name"):
        compile_expression("1", custom_functions={name: (0, 0)})
    with pytest.raises(ValueError, match="custom function name"):
        Evaluator({name: lambda args: 1})


# ------------------------------------------------------------------ what an expression reads

READS = [
    ("income > 3 and household.size < 2", {"income", "household.size"}),
    ("any(household.members, age < 19)", {"household.members", "household.members.*.age"}),
    (
        "count(household.members, age < 19 and income > 0)",
        {"household.members", "household.members.*.age", "household.members.*.income"},
    ),
    ("sum(household.members, monthly_income) * 12", {"household.members", "household.members.*.monthly_income"}),
    ("map(xs, a.b)", {"xs", "xs.*.a.b"}),
    ("any(households, any(members, age < 19))", {"households", "households.*.members", "households.*.members.*.age"}),
    ("count(filter(members, age < 19), disabled)", {"members", "members.*.age", "members.*.disabled"}),
    ("sum(amounts)", {"amounts"}),
    ("max(map(members, age))", {"members", "members.*.age"}),
    ("any(map(members, kids), x)", {"members", "members.*.kids"}),  # items of a computed list: not known
    ("round(income / 12, 2)", {"income"}),
    ("exists(a.b) or missing(c)", {"a.b", "c"}),
    ("members.0.age", {"members.0.age"}),
    ("1 + 2", set()),
]


@pytest.mark.parametrize(("source", "variables"), READS)
def test_variables_list_every_path_read_with_item_fields_under_their_list(source, variables):
    assert compile_expression(source).variables == variables


def test_inside_a_list_function_bare_names_are_the_items_fields(evaluator):
    data = {"limit": 10, "people": [{"age": 5}, {"age": 20, "limit": 30}]}
    # `limit` inside the condition is each person's own field, not the top-level value.
    assert value_of(evaluator, "filter(people, age < limit)", data) == [{"age": 20, "limit": 30}]
    assert value_of(evaluator, "map(people, limit)", data) == [None, 30]


# ------------------------------------------------------------------ mistakes, found at load

SYNTAX = [
    ("a <", 3, "expected a value after '<', but the expression ends"),
    ("a and", 5, "expected a value after 'and', but the expression ends"),
    ("a and or b", 6, "expected a value after 'and', found 'or'"),
    ("and a", 0, "expected a value at the start, found 'and'"),
    ("a = 1", 2, "'=' is not an operator: use == to compare"),
    ("(a + 1", 6, "expected ')' to close the '(' at character 0"),
    ("a + 1)", 5, "')' has no matching opening bracket"),
    ("a]", 1, "']' has no matching opening bracket"),
    (")", 0, "expected a value at the start, found ')'"),
    ("()", 1, "expected a value after '(', found ')'"),
    ("1 < 2 < 3", 6, "comparisons cannot be chained"),
    ("a == b != c", 7, "comparisons cannot be chained"),
    ("a < b + 1 < c", 10, "comparisons cannot be chained"),
    ("a in b in c", 7, "comparisons cannot be chained"),
    ("", 0, "the expression is empty"),
    ("  \n ", 0, "the expression is empty"),
    ("a b", 2, "expected an operator such as 'and' or '+' before 'b'"),
    ("a 1", 2, "expected an operator such as 'and' or '+' before '1'"),
    ("a AND b", 2, "did you mean 'and'?"),
    ("1,2", 1, "a ',' can only separate the inputs of a function"),
    ("a not b", 6, "expected 'in' after 'not'"),
    ("a not", 5, "expected 'in' after 'not'"),
    ("a == not b", 5, "put 'not ...' in brackets"),
    ("-not a", 1, "put 'not ...' in brackets"),
    ("'abc", 0, "this text is not closed"),
    ('"abc', 0, 'add a matching " at its end'),
    (r"'a\qb'", 2, "unknown escape in text"),
    ("'a\\", 2, "unknown escape in text"),
    ("1.", 2, "expected digits after the decimal point"),
    ("1.x", 2, "expected digits after the decimal point"),
    ("1.2.3", 3, "unexpected '.' right after the number 1.2"),
    ("3x", 1, "unexpected 'x' right after the number 3"),
    (".5", 0, "write 0.5, not .5"),
    ("a..b", 2, "expected a name after 'a.'"),
    ("a.", 2, "expected a name after 'a.'"),
    ("a.0b", 2, "cannot start with a digit"),
    ("a && b", 2, "use 'and' instead of '&&'"),
    ("a & b", 2, "use 'and' instead of '&'"),
    ("a || b", 2, "use 'or' instead of '||'"),
    ("a | b", 2, "use 'or' instead of '|'"),
    ("!a", 0, "use 'not' instead of '!'"),
    ("a ^ 2", 2, "there is no power operator"),
    ("{a: 1}", 0, "objects cannot be written"),
    ("a @ b", 2, "unexpected character '@'"),
    ("émile", 0, "unexpected character 'é'"),
    ("99999999999999999999", 0, "numbers may be at most 9007199254740991"),
    ("[1, 2", 5, "expected ',' or ']' in the list"),
    ("[1 2]", 3, "expected ',' or ']' in the list"),
    ("count(a b)", 8, "expected ',' or ')' in the call to count"),
    ("count(a,)", 8, "expected a value after ',', found ')'"),
]


@pytest.mark.parametrize(("source", "offset", "message"), SYNTAX)
def test_syntax_errors_say_what_and_where(source, offset, message):
    error = refusal(source)
    assert (error.code, error.offset) == ("syntax_error", offset)
    assert message in error.message


def test_the_largest_number_is_the_largest_a_browser_holds_exactly(evaluator):
    assert value_of(evaluator, "9007199254740991") == 2**53 - 1
    assert refusal("9007199254740992").code == "syntax_error"


def test_an_unknown_function_names_the_allowed_ones():
    error = refusal("x + foo(1)", custom_functions=TABLE)
    assert (error.code, error.offset) == ("unknown_function", 4)
    assert error.message.startswith(
        "there is no function 'foo'. Did you mean 'floor'? The functions are: abs, add_days, add_months, all,"
    )
    assert "table" in error.message
    assert "Did you mean 'count'?" in refusal("Count(x)").message
    assert "Did you mean" not in refusal("zzzzz(x)").message


def test_only_a_plain_name_can_be_called():
    error = refusal("household.count(x)")
    assert (error.code, error.offset) == ("unknown_function", 0)
    assert error.message.startswith("'household.count' is a name, not a function")


ARGUMENTS = [
    ("count()", 0, "count takes 1 or 2 inputs, not 0: write count(list) or count(list, condition)"),
    ("x + count(a, b, c)", 4, "count takes 1 or 2 inputs, not 3"),
    ("any(xs)", 0, "any takes exactly 2 inputs, not 1: write any(list, condition)"),
    ("max()", 0, "max takes at least 1 input, not 0"),
    ("abs(1, 2)", 0, "abs takes exactly 1 input, not 2"),
    ("if(a, b)", 0, "if takes at least 3 inputs, not 2"),
    ("if(a, b, c, d)", 0, "if takes a condition and a value in pairs"),
    ("round(a, b)", 9, "round's number of digits must be a whole number from -10 to 10"),
    ("round(a, 2.5)", 9, "whole number"),
    ("round(a, 11)", 9, "whole number"),
    ("round(a, true)", 9, "whole number"),
    ("exists(1)", 0, "exists takes the name of a value, as in exists(household.size)"),
    ("missing(a + 1)", 0, "missing takes the name of a value"),
]


@pytest.mark.parametrize(("source", "offset", "message"), ARGUMENTS)
def test_wrong_arguments(source, offset, message):
    error = refusal(source)
    assert (error.code, error.offset) == ("wrong_arguments", offset)
    assert message in error.message


FORBIDDEN = [
    ("__class__", 0, "__class__"),
    ("a.__class__", 2, "__class__"),
    ("x.__class__.__bases__", 2, "__class__"),
    ("_private", 0, "_private"),
    ("a._b", 2, "_b"),
    ("a__b", 0, "a__b"),
    ("__import__('os')", 0, "__import__"),
    ("count(__builtins__)", 6, "__builtins__"),
    ("any(xs, __class__)", 8, "__class__"),
]


@pytest.mark.parametrize(("source", "offset", "name"), FORBIDDEN)
def test_names_that_could_reach_python_internals_are_refused_t5(source, offset, name):
    error = refusal(source)
    assert (error.code, error.offset) == ("forbidden_name", offset)
    assert error.message == f"'{name}' is not allowed: names may not start with '_' or contain '__'"


def test_text_inside_quotes_is_only_text():
    assert compile_expression("'__class__'").logic == "__class__"
    assert compile_expression("'__import__(\"os\")'").variables == frozenset()


# ------------------------------------------------------------------ limits


def test_the_source_is_at_most_2000_characters():
    assert compile_expression("1" + " " * (MAX_SOURCE_LENGTH - 1)).logic == 1
    error = refusal("1" + " " * MAX_SOURCE_LENGTH)
    assert (error.code, error.offset) == ("too_long", MAX_SOURCE_LENGTH)
    assert error.message == "the expression is 2001 characters long; the limit is 2000"


@pytest.mark.parametrize(
    ("source", "offset"),
    [
        ("(" * 33 + "1" + ")" * 33, 32),
        ("-" * 33 + "a", 32),
        ("not " * 33 + "a", 128),
        ("[" * 33 + "]" * 33, 32),
        ("abs(" * 33 + "1" + ")" * 33, 128),
        ("a" + "-1" * 32, 63),  # left-nested: (((a - 1) - 1) - 1)...
        ("round(" * 14 + "a" + ")" * 14, 0),  # each round is 2 levels deeper than its value
    ],
)
def test_nesting_is_at_most_32_deep(source, offset):
    error = refusal(source)
    assert (error.code, error.offset) == ("too_deep", offset)
    assert error.message == "the expression is nested more than 32 levels deep"


def test_nesting_up_to_the_limit_is_fine(evaluator):
    assert value_of(evaluator, "(" * 32 + "1" + ")" * 32) == 1
    assert value_of(evaluator, "a" + "-1" * 31, {"a": 31}) == 0
    assert value_of(evaluator, "abs(" * 31 + "-1" + ")" * 31) == 1
    assert value_of(evaluator, "+".join(["1"] * 500)) == 500  # a long flat sum is not deep


def test_any_infix_within_the_limits_compiles_to_json_logic_that_reloads():
    worst = "+".join(["round(a,-9)"] * (MAX_SOURCE_LENGTH // 12))  # the most JSON per character
    assert len(worst) <= MAX_SOURCE_LENGTH
    expression = compile_expression(worst)
    assert len(json.dumps(expression.logic)) < MAX_JSON_LENGTH
    assert compile_expression(expression.logic).logic == expression.logic


# ------------------------------------------------------------------ JSONLogic written directly


def test_json_logic_is_accepted_and_var_reads_dotted_paths(evaluator):
    expression = compile_expression({"var": "household.size"})
    assert expression.source == '{"var": "household.size"}'
    assert expression.variables == {"household.size"}
    assert evaluator.evaluate(expression, DATA) == 4
    # datalogic's own name is `val`, which does not split on dots; `var` does.
    assert datalogic_py.Engine().eval({"val": "a.b"}, {"a": {"b": 1}}) is None
    assert datalogic_py.Engine().eval({"var": "a.b"}, {"a": {"b": 1}}) == 1


@pytest.mark.parametrize(
    ("source", "text"),
    [(True, "true"), (False, "false"), (None, "null"), (3, "3"), (2.5, "2.5"), ([1, "a"], '[1, "a"]')],
)
def test_literal_json_values(evaluator, source, text):
    expression = compile_expression(source)
    assert (expression.source, expression.logic) == (text, source)
    assert evaluator.evaluate(expression, {}) == source


ACCEPTED_JSON = [
    ({"==": [1, 1]}, True),
    ({"===": [1, 1]}, True),
    ({"!=": [1, 2]}, True),
    ({"!==": [1, 1]}, False),
    ({">": [2, 1]}, True),
    ({">=": [2, 2]}, True),
    ({"<": [1, 2, 3]}, True),
    ({"<=": [1, 1, 2]}, True),
    ({"!": [0]}, True),
    ({"!": 0}, True),
    ({"!!": ["x"]}, True),
    ({"and": [1, 2]}, 2),
    ({"or": [0, 2]}, 2),
    ({"if": [False, 1, 2]}, 2),
    ({"+": [1, 2]}, 3),
    ({"-": [5, 2]}, 3),
    ({"-": [5]}, -5),
    ({"*": [2, 3]}, 6),
    ({"/": [6, 3]}, 2),
    ({"%": [7, 4]}, 3),
    ({"max": [1, 5]}, 5),
    ({"min": [1, 5]}, 1),
    ({"cat": ["a", 1]}, "a1"),
    ({"substr": ["hello", 1, 3]}, "ell"),
    ({"in": ["a", ["a"]]}, True),
    ({"merge": [[1], 2]}, [1, 2]),
    ({"filter": [{"var": "amounts"}, {">": [{"var": ""}, 4]}]}, [5, 9]),
    ({"map": [{"var": "amounts"}, {"*": [{"var": ""}, 2]}]}, [10, 4, 18]),
    ({"reduce": [{"var": "amounts"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}, 16),
    ({"all": [{"var": "amounts"}, {">": [{"var": ""}, 1]}]}, True),
    ({"some": [{"var": "amounts"}, {">": [{"var": ""}, 8]}]}, True),
    ({"none": [{"var": "amounts"}, {">": [{"var": ""}, 9]}]}, True),
    ({"missing": ["income", "nope"]}, ["nope"]),
    ({"missing": [["income", "nope"]]}, ["nope"]),
    ({"missing": "nope"}, ["nope"]),
    ({"missing_some": [1, ["income", "nope"]]}, []),
    ({"length": ["abc"]}, 3),
    ({"lower": ["A"]}, "a"),
    ({"upper": ["a"]}, "A"),
    ({"trim": [" a "]}, "a"),
    ({"abs": [-1]}, 1),
    ({"ceil": [1.2]}, 2),
    ({"floor": [1.8]}, 1),
    ({"exists": "income"}, True),
    ({"exists": ["household", "size"]}, True),
    ({"??": [None, 2]}, 2),
    ({"var": ["nope", 7]}, 7),
    ({"days_between": ["2024-01-01", "2024-02-01"]}, 31),
]


@pytest.mark.parametrize(("logic", "expected"), ACCEPTED_JSON)
def test_every_whitelisted_operator_is_accepted(evaluator, logic, expected):
    assert evaluator.evaluate(compile_expression(logic), DATA) == expected


JSON_READS = [
    ({"var": "a.b"}, {"a.b"}),
    ({"var": ["a", {"var": "b"}]}, {"a", "b"}),
    ({"var": 0}, {"0"}),
    ({"some": [{"var": "xs"}, {"<": [{"var": "age"}, 19]}]}, {"xs", "xs.*.age"}),
    ({"some": [{"var": "xs"}, {"var": ""}]}, {"xs"}),
    ({"some": [{"var": "xs"}, {"var": []}]}, {"xs"}),
    ({"filter": [{"var": "m"}, {"some": [{"var": "kids"}, {"var": "age"}]}]}, {"m", "m.*.kids", "m.*.kids.*.age"}),
    (
        {"reduce": [{"var": "xs"}, {"+": [{"var": "current.amount"}, {"var": "accumulator"}]}, {"var": "start"}]},
        {"xs", "xs.*.amount", "start"},
    ),
    ({"missing": ["a", "b.c"]}, {"a", "b.c"}),
    ({"missing_some": [1, ["a", "b"]]}, {"a", "b"}),
    ({"exists": ["a", "b"]}, {"a.b"}),
    ({"some": [{"var": "xs"}, {"missing": ["age"]}]}, {"xs", "xs.*.age"}),
    ({"map": [[1, 2], {"var": "x"}]}, set()),
]


@pytest.mark.parametrize(("logic", "variables"), JSON_READS)
def test_json_logic_variables(logic, variables):
    assert compile_expression(logic).variables == variables


REFUSED_JSON = [
    ({"now": []}, "unknown_operator", "the operation 'now' is not allowed in expressions"),
    ({"val": "a"}, "unknown_operator", "did you mean 'var'?"),
    ({"tensor": [[1, 2]]}, "unknown_operator", "'tensor' is not allowed"),
    ({"date_diff": ["a", "b", "days"]}, "unknown_operator", "'date_diff' is not allowed"),
    ({"try": [1]}, "unknown_operator", "'try' is not allowed"),
    ({"table": [1]}, "unknown_operator", "'table' is not allowed"),  # not allowed by this caller
    ({"+": [1, {"now": []}]}, "unknown_operator", "'now'"),
    ({"a": 1, "b": 2}, "unknown_operator", "exactly one key, not 2"),
    ({}, "unknown_operator", "exactly one key, not 0"),
    ({"__import__": ["os"]}, "forbidden_name", "'__import__' is not allowed"),
    ({"_x": 1}, "forbidden_name", "'_x' is not allowed"),
    ({"var": "a.__class__"}, "forbidden_name", "'__class__' is not allowed"),
    ({"missing": ["__globals__"]}, "forbidden_name", "'__globals__'"),
    ({"exists": ["a", "__dict__"]}, "forbidden_name", "'__dict__'"),
    ({"var": ""}, "wrong_arguments", "the whole case cannot be read"),
    ({"var": []}, "wrong_arguments", "the whole case cannot be read"),
    ({"var": {"cat": ["a", "b"]}}, "wrong_arguments", "must be written out, not computed"),
    ({"var": 1.5}, "wrong_arguments", "must be written out"),
    ({"var": True}, "wrong_arguments", "must be written out"),
    ({"var": ["a", 1, 2]}, "wrong_arguments", "var takes a name and an optional default, not 3"),
    ({"var": "a..b"}, "wrong_arguments", "'a..b' is not a valid name"),
    ({"missing": [{"var": "x"}]}, "wrong_arguments", "missing takes names written out as text"),
    ({"missing_some": [1, "a"]}, "wrong_arguments", "missing_some takes a number and a list of names"),
    ({"missing_some": [True, ["a"]]}, "wrong_arguments", "missing_some takes a number"),
    ({"missing_some": [1]}, "wrong_arguments", "missing_some takes a number"),
    ({"exists": []}, "wrong_arguments", "exists takes the parts of a name"),
    ({"exists": [""]}, "wrong_arguments", "exists takes the parts of a name"),
    ({"reduce": [{"var": "xs"}, {"var": "total"}, 0]}, "wrong_arguments", "only current and accumulator"),
    ({"reduce": [{"var": "xs"}, {"var": ""}, 0]}, "wrong_arguments", "only current and accumulator"),
    ({"==": [1]}, "wrong_arguments", "== takes exactly 2 inputs, not 1"),
    ({"if": []}, "wrong_arguments", "if takes at least 1 input, not 0"),
    ({"!": [1, 2]}, "wrong_arguments", "! takes exactly 1 input, not 2"),
    ({"+": [1, float("nan")]}, "syntax_error", "numbers must be finite"),
    ({"+": [1, float("inf")]}, "syntax_error", "numbers must be finite"),
    ({"+": [1, 2**60]}, "syntax_error", "at most 9007199254740991"),
    ((1, 2), "syntax_error", "a tuple is not a JSON value"),
    ({"in": ["a", {"b"}]}, "syntax_error", "a set is not a JSON value"),
    ({1: 2}, "unknown_operator", "an operation's name must be text"),
]


@pytest.mark.parametrize(("logic", "code", "message"), REFUSED_JSON)
def test_json_logic_outside_the_whitelist_is_refused_at_load(logic, code, message):
    error = refusal(logic)
    assert (error.code, error.offset) == (code, 0)
    assert message in error.message


def test_allowed_custom_functions_pass_the_json_whitelist():
    expression = compile_expression({"table": ["fpl", 2]}, custom_functions=TABLE)
    assert expression.functions == {"table"}
    assert refusal({"table": []}, custom_functions=TABLE).message == "table takes 1 or 2 inputs, not 0"


def test_deep_json_is_refused_without_recursing_through_it():
    deep: Any = 1
    for _ in range(100_000):
        deep = {"!": [deep]}
    assert refusal(deep).code == "too_deep"
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    assert refusal(nested).code == "too_deep"
    level: Any = 1
    for _ in range(MAX_DEPTH):
        level = {"!": [level]}
    assert compile_expression(level).logic == level


def test_long_json_is_refused():
    error = refusal({"+": [1] * (MAX_JSON_LENGTH // 3)})
    assert error.code == "too_long"
    assert error.message.startswith("the JSONLogic is ")


INFIX_CORPUS = [source for source, _ in DESIGNER_EXAMPLES + OPERATORS + PRECEDENCE + FUNCTIONS + ROUNDING]


@pytest.mark.parametrize("source", INFIX_CORPUS)
def test_compiled_json_logic_reloads_unchanged(source):
    """What the loader stores passes the JSON whitelist and lists the same reads."""
    compiled = compile_expression(source, custom_functions=TABLE)
    reloaded = compile_expression(compiled.logic, custom_functions=TABLE)
    assert reloaded.logic == compiled.logic
    assert (reloaded.variables, reloaded.functions) == (compiled.variables, compiled.functions)
    assert json.loads(reloaded.source) == compiled.logic


# ------------------------------------------------------------------ runtime failures


@pytest.mark.parametrize(
    ("source", "data"),
    [("1 / 0", {}), ("1.5 / 0", {}), ("a / b", {"a": 1, "b": 0}), ("a / b", {"a": 1.5, "b": 0.0}), ("5 % 0", {})],
)
def test_division_by_zero_fails_instead_of_giving_null_or_infinity(evaluator, source, data):
    error = failure(evaluator, source, data)
    assert error.code == "arithmetic_error"
    assert "division by zero" in error.message


def test_text_in_arithmetic_fails(evaluator):
    assert failure(evaluator, "'abc' + 1").code == "arithmetic_error"
    assert failure(evaluator, "-name").message.startswith("'-' did not give a number")
    assert failure(evaluator, "1 < 'x'").code == "arithmetic_error"
    assert failure(evaluator, "sum(['1', 'x'])").code == "arithmetic_error"


def test_a_runaway_expression_is_stopped_by_the_budget(evaluator):
    data = {"xs": [{"ys": list(range(200))} for _ in range(200)]}
    error = failure(evaluator, "map(xs, map(ys, 1))", data)
    assert error.code == "budget_exceeded"
    assert error.message == "the expression was stopped after 10000 steps: it does too much work for this data"
    big = {"n": list(range(20_000))}
    assert failure(evaluator, "count(n)", big).code == "budget_exceeded"
    assert value_of_with_budget(evaluator, "count(n)", big, 100_000) == 20_000
    assert failure(evaluator, "count(n)", {"n": list(range(50))}, budget=10).code == "budget_exceeded"


def value_of_with_budget(evaluator: Evaluator, source: str, data: dict[str, Any], budget: int) -> Any:
    return evaluator.evaluate(compile_expression(source), data, budget=budget)


def test_a_result_beyond_the_largest_decimal_is_null_not_a_failure(evaluator):
    # A datalogic behaviour, documented for designers: overflow gives null in every preset.
    assert evaluator.evaluate(compile_expression("a * 10"), {"a": 1e308}) is None


@pytest.mark.parametrize("budget", [0, -1, True, 1.5])
def test_the_budget_must_be_a_positive_whole_number(evaluator, budget):
    with pytest.raises(ValueError, match="budget must be a whole number"):
        evaluator.evaluate(compile_expression("1"), {}, budget=budget)


INVALID_VALUES: list[tuple[str, dict[str, Any], str]] = [
    ("max(xs)", {"xs": []}, "'max' cannot use the value it was given"),
    ("min(nothing)", {}, "'min' cannot use"),
    ("max(1, null)", {}, "'max' cannot use"),
    ("length(5)", {}, "'length' cannot use"),
    ("abs(nothing)", {}, "'abs' cannot use"),
    ("filter('abc', true)", {}, "'filter' cannot use"),
]


@pytest.mark.parametrize(("source", "data", "message"), INVALID_VALUES)
def test_values_an_operation_cannot_use_fail(evaluator, source, data, message):
    error = failure(evaluator, source, data)
    assert error.code == "invalid_value"
    assert error.message.startswith(message)


@pytest.mark.parametrize(
    "source",
    [
        "days_between('2024-1-1', '2024-01-02')",
        "days_between('2024-02-30', '2024-03-01')",
        "days_between('20240101', '2024-01-02')",
        "days_between('2024-01-01T00:00:00', '2024-01-02')",
        "days_between(null, '2024-01-02')",
        "days_between(20240101, '2024-01-02')",
        "days_between(nothing, decided)",
    ],
)
def test_days_between_needs_two_iso_dates(evaluator, source):
    error = failure(evaluator, source)
    assert (error.code, error.message) == (
        "function_failed",
        "the function 'days_between' failed: it needs two dates written as YYYY-MM-DD",
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("years_between('2024-02-30', '2025-01-01')", "it needs two dates written as YYYY-MM-DD"),
        ("years_between(nothing, '2025-01-01')", "it needs two dates written as YYYY-MM-DD"),
        ("add_days('2024-01-01', 1.5)", "it needs a date written as YYYY-MM-DD and a whole number of days"),
        ("add_days('2024-01-01', '3')", "it needs a date written as YYYY-MM-DD and a whole number of days"),
        ("add_days('9999-12-31', 1)", "it needs a date written as YYYY-MM-DD and a whole number of days"),
        ("add_days('2024-01-01', 99999999)", "it needs a date written as YYYY-MM-DD and a whole number of days"),
        ("add_months('2024-01-01', 0.5)", "it needs a date written as YYYY-MM-DD and a whole number of months"),
        ("add_months('9999-12-01', 1)", "it needs a date written as YYYY-MM-DD and a whole number of months"),
        ("month_start('2024-13-01')", "it needs a date written as YYYY-MM-DD"),
    ],
)
def test_date_functions_fail_clearly_on_what_is_not_a_date(evaluator, source, message):
    error = failure(evaluator, source)
    assert error.code == "function_failed"
    assert error.message.endswith(message)


def test_a_failing_custom_function_fails_without_repeating_its_message():
    def leaky(args: list[Any]) -> Any:
        raise RuntimeError("SSN 123-45-6789 not found")  # must not reach logs through us (T11)

    evaluator = Evaluator({"leaky": leaky, "nan": lambda args: float("nan"), "odd": lambda args: object()})
    functions = {"leaky": (0, 0), "nan": (0, 0), "odd": (0, 0)}
    for name in functions:
        with pytest.raises(ExpressionFailed) as caught:
            evaluator.evaluate(compile_expression(f"{name}()", custom_functions=functions), {})
        assert (caught.value.code, caught.value.message) == ("function_failed", f"the function '{name}' failed")
        assert "6789" not in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [{"a": float("nan")}, {"a": float("inf")}, {"a": {1, 2}}, {"a": object()}],
)
def test_data_that_is_not_json_fails_instead_of_becoming_null(evaluator, data):
    with pytest.raises(ExpressionFailed) as caught:
        evaluator.evaluate(compile_expression("a"), data)
    assert caught.value.code == "invalid_data"


def test_a_hand_built_expression_is_held_to_the_same_whitelist(evaluator):
    for logic in [{"now": []}, {"var": "__class__"}, {"unknown": [1]}]:
        with pytest.raises(ExpressionFailed) as caught:
            evaluator.evaluate(Expression("x", logic, frozenset(), frozenset()), {})
        assert caught.value.code == "invalid_expression"
    for logic in [{"+": [1, float("nan")]}, {"x": object()}]:
        with pytest.raises(ExpressionFailed) as caught:
            evaluator.evaluate(Expression("x", logic, frozenset(), frozenset()), {})
        assert (caught.value.code, caught.value.message[:26]) == ("invalid_expression", "the expression is not JSON")


def test_a_function_allowed_at_load_but_not_registered_fails_at_run_time():
    expression = compile_expression("table(1)", custom_functions=TABLE)
    with pytest.raises(ExpressionFailed) as caught:
        Evaluator().evaluate(expression, {})
    assert caught.value.code == "invalid_expression"


class _FakeError(datalogic_py.DataLogicError):
    def __init__(self, error_type: str, operator: str | None) -> None:
        super().__init__("boom")
        self.error_type = error_type
        self.operator = operator


@pytest.mark.parametrize(
    ("error_type", "operator", "code", "message"),
    [
        ("InvalidOperator", "tensor", "unknown_operator", "the operation 'tensor' is not available"),
        ("InvalidOperator", "some", "unknown_operator", "the operation 'any' is not available"),
        ("Thrown", "!==", "arithmetic_error", "'!=' did not give a number"),
        ("Thrown", None, "arithmetic_error", "'the expression' did not give a number"),
        ("Mystery", None, "evaluation_error", "the expression could not be evaluated (Mystery)"),
        ("", None, "evaluation_error", "the expression could not be evaluated (unknown error)"),
    ],
)
def test_other_engine_errors_become_readable_failures(error_type, operator, code, message):
    failed = expressions._failure(_FakeError(error_type, operator), 10)
    assert failed.code == code
    assert failed.message.startswith(message)


def test_errors_carry_fields_and_survive_copying():
    error = refusal("a = 1")
    copied = copy.deepcopy(error)  # deepcopy goes through __reduce__, as pickle does
    assert (copied.code, copied.message, copied.offset) == (error.code, error.message, error.offset)
    assert str(error) == "syntax_error at character 2: '=' is not an operator: use == to compare"
    failed = ExpressionFailed("budget_exceeded", "stopped")
    copy_failed = copy.deepcopy(failed)
    assert (copy_failed.code, copy_failed.message, str(copy_failed)) == ("budget_exceeded", "stopped", str(failed))


# ------------------------------------------------------------------ truthiness

TRUTHINESS = [
    (None, False),
    (False, False),
    (True, True),
    (0, False),
    (0.0, False),
    (-1, True),
    (0.5, True),
    ("", False),
    ("0", True),
    ("false", True),
    (" ", True),
    ([], False),
    ([0], True),
    ({}, False),  # unlike JavaScript, an empty object is false
    ({"a": 1}, True),
]


@pytest.mark.parametrize(("value", "expected"), TRUTHINESS)
def test_conditions_use_json_logic_truthiness(evaluator, value, expected):
    expression = compile_expression("v")
    assert evaluator.test(expression, {"v": value}) is expected
    assert truthy(value) is expected


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)


@given(JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_truthy_agrees_with_the_engine(value):
    engine = datalogic_py.Engine()
    assert truthy(value) is engine.truthy(json.dumps(value))


def test_truthy_of_other_values():
    assert truthy(float("nan")) is False
    assert truthy(()) is False
    assert truthy(object()) is True


def test_test_fails_like_evaluate(evaluator):
    with pytest.raises(ExpressionFailed):
        evaluator.test(compile_expression("1 / 0"), {})
    assert evaluator.test(compile_expression("any(household.members, age < 19)"), DATA) is True


# ------------------------------------------------------------------ determinism, caching, threads


def test_the_evaluator_caches_one_rule_per_logic(monkeypatch):
    fresh = Evaluator()
    first = compile_expression("income + 1")
    again = compile_expression("income+1")
    assert fresh.evaluate(first, DATA) == fresh.evaluate(again, DATA) == 2001
    assert len(fresh._rules) == 1
    monkeypatch.setattr(expressions, "_CACHE_SIZE", 2)
    for n in range(5):
        assert fresh.evaluate(compile_expression(f"income + {n}"), DATA) == 2000 + n
    assert len(fresh._rules) == 2
    assert fresh.evaluate(compile_expression("income + 4"), DATA) == 2004


def test_one_evaluator_can_be_shared_by_threads(evaluator):
    compiled = [compile_expression(source, custom_functions=TABLE) for source, _ in FUNCTIONS + ROUNDING]
    expected = [evaluator.evaluate(expression, DATA) for expression in compiled]
    shared = Evaluator({"table": lambda args: {"fpl": 1000}[args[0]] * (args[1] if len(args) > 1 else 1)})
    barrier = threading.Barrier(8)

    def work(seed: int) -> dict[int, list[Any]]:
        barrier.wait()  # start together, so the cache is filled concurrently
        results: dict[int, list[Any]] = {}
        for _ in range(3):
            for index in [*range(seed, len(compiled)), *range(seed)]:
                results.setdefault(index, []).append(shared.evaluate(compiled[index], DATA))
        return results

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(work, range(8)))
    for outcome in outcomes:
        assert outcome == {index: [expected[index]] * 3 for index in range(len(compiled))}


# Random integer arithmetic, printed as infix with as few brackets as precedence allows,
# must compile to JSONLogic that computes what Python computes on the same tree.

Tree = tuple[Any, ...]
_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6}

LEAVES = st.one_of(
    st.integers(-30, 30).map(lambda n: ("num", n)),
    st.sampled_from(["x", "y", "z"]).map(lambda name: ("var", name)),
)
ARITHMETIC = st.recursive(
    LEAVES,
    lambda children: st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*"]), children, children),
    max_leaves=6,
)
COMPARISON = st.tuples(st.just("cmp"), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), ARITHMETIC, ARITHMETIC)
CONDITION = st.recursive(
    COMPARISON,
    lambda children: st.one_of(
        st.tuples(st.just("bool"), st.sampled_from(["and", "or"]), children, children),
        st.tuples(st.just("not"), children),
    ),
    max_leaves=4,
)


def precedence(tree: Tree) -> int:
    kind = tree[0]
    if kind in ("num", "var"):
        return 9
    if kind == "not":
        return _PRECEDENCE["not"]
    if kind == "cmp":
        return _PRECEDENCE["cmp"]
    return _PRECEDENCE[tree[1]]


def infix(tree: Tree) -> str:
    kind = tree[0]
    if kind == "num":
        return str(tree[1])
    if kind == "var":
        return str(tree[1])
    if kind == "not":
        return f"not {wrap(tree[1], 3, right=True)}"
    own = precedence(tree)
    return f"{wrap(tree[2], own, right=False)} {tree[1]} {wrap(tree[3], own, right=True)}"


def wrap(tree: Tree, parent: int, *, right: bool) -> str:
    child = precedence(tree)
    needs = child < parent or (right and child == parent)
    return f"({infix(tree)})" if needs else infix(tree)


def python_value(tree: Tree, env: dict[str, int]) -> Any:
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "var":
        return env[tree[1]]
    if kind == "not":
        return not python_value(tree[1], env)
    left, right = python_value(tree[2], env), python_value(tree[3], env)
    results = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "==": lambda: left == right,
        "!=": lambda: left != right,
        "<": lambda: left < right,
        "<=": lambda: left <= right,
        ">": lambda: left > right,
        ">=": lambda: left >= right,
        "and": lambda: left and right,
        "or": lambda: left or right,
    }
    return results[tree[1]]()


def names_in(tree: Tree) -> set[str]:
    if tree[0] == "var":
        return {tree[1]}
    return set().union(*(names_in(part) for part in tree[1:] if isinstance(part, tuple)))


ENVIRONMENTS = st.fixed_dictionaries({name: st.integers(-30, 30) for name in ("x", "y", "z")})
SHARED = Evaluator()


@given(st.one_of(ARITHMETIC, CONDITION), ENVIRONMENTS)
@settings(max_examples=400, deadline=None)
def test_compiled_infix_computes_what_python_computes(tree, env):
    source = infix(tree)
    expression = compile_expression(source)
    assert expression.variables == names_in(tree)
    result, expected = SHARED.evaluate(expression, env), python_value(tree, env)
    assert (type(result), result) == (type(expected), expected), source


@given(st.one_of(ARITHMETIC, CONDITION), ENVIRONMENTS)
@settings(max_examples=100, deadline=None)
def test_the_same_expression_and_data_give_the_same_result(tree, env):
    source = infix(tree)
    first = compile_expression(source)
    second = compile_expression(source)
    assert first == second
    results = {json.dumps(Evaluator().evaluate(first, env)) for _ in range(2)}
    results.add(json.dumps(SHARED.evaluate(second, env)))
    assert len(results) == 1
