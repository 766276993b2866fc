"""``today`` and the date functions while a case runs: the date of the event, in the program's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import engine
from engine.expressions import ExpressionError, compile_expression
from tests.engine.programs import program

TZ = ZoneInfo("America/Los_Angeles")

AGES = """
start: screen
steps:
  screen:
    kind: decide
    compute:
      applied_on: today
      age: years_between(decision_date, today)
      follow_up: add_days(today, 30)
    routes:
      - {when: "years_between(decision_date, today) < 19", to: child}
      - {to: adult}
  child: {kind: end, outcome: child}
  adult: {kind: end, outcome: adult}
"""


def test_today_is_the_local_date_of_the_event_not_the_utc_one():
    definition = program(AGES)
    # 23:30 in Los Angeles on 14 March is already 15 March in UTC: the program's zone decides.
    late_evening = datetime(2027, 3, 14, 23, 30, tzinfo=TZ)
    assert late_evening.astimezone(UTC).date().isoformat() == "2027-03-15"
    state, _ = engine.step(
        definition, engine.new_state(definition), engine.Submitted({"decision_date": "2008-03-15"}), late_evening
    )
    assert state.data["applied_on"] == "2027-03-14"
    assert state.data["age"] == 18  # the 19th birthday is tomorrow, local time
    assert state.data["follow_up"] == "2027-04-13"
    assert state.outcome == "child"


def test_on_the_birthday_the_age_goes_up():
    definition = program(AGES)
    birthday = datetime(2027, 3, 15, 0, 5, tzinfo=TZ)
    state, _ = engine.step(
        definition, engine.new_state(definition), engine.Submitted({"decision_date": "2008-03-15"}), birthday
    )
    assert (state.data["age"], state.outcome) == (19, "adult")


def test_an_answer_called_today_cannot_move_the_date():
    definition = program(AGES)
    now = datetime(2027, 3, 14, 12, 0, tzinfo=TZ)
    state, _ = engine.step(
        definition,
        engine.new_state(definition),
        engine.Submitted({"decision_date": "2008-03-15", "today": "2030-01-01"}),
        now,
    )
    assert (state.data["applied_on"], state.outcome) == ("2027-03-14", "child")


def test_today_inside_a_list_function_is_still_today_not_an_items_field():
    definition = program(
        """
start: screen
steps:
  screen:
    kind: decide
    compute:
      younger: "count(household.members, age < years_between('2008-03-15', today))"
    next: done
  done: {kind: end, outcome: done}
""",
    )
    members = [{"name": "Ana", "age": 18}, {"name": "Bo", "age": 9}]
    for day, expected in ((14, 1), (15, 2)):  # on the 15th, 2008-03-15 is 19 years ago
        state, _ = engine.step(
            definition,
            engine.new_state(definition),
            engine.Submitted({"household": {"members": members}}),
            datetime(2027, 3, day, 12, tzinfo=TZ),
        )
        assert state.data["younger"] == expected


@pytest.mark.parametrize("written", [{"val": [[1], "ssn"]}, {"val": "today"}, {"val": [[0], "today"]}])
def test_a_hand_written_val_other_than_today_from_the_top_is_refused(written):
    with pytest.raises(ExpressionError) as refused:
        compile_expression({"map": [{"var": "xs"}, written]})
    assert refused.value.code == "unknown_operator"
    assert compile_expression({"map": [{"var": "xs"}, {"val": [[64], "today"]}]}).variables == {"xs", "today"}
