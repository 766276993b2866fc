"""Durations, business-day calendars and statutory clocks, with the dates an agency would check by hand.

Calendars below are drawn like this (federal holidays in brackets):

    November 2026                 December 2026                January 2027
    Mo Tu We Th Fr Sa Su          Mo Tu We Th Fr Sa Su         Mo Tu We Th Fr Sa Su
                       1              1  2  3  4  5  6                      [1] 2  3
     2  3  4  5  6  7  8           7  8  9 10 11 12 13          4  5  6  7  8  9 10
     9 10[11]12 13 14 15          14 15 16 17 18 19 20         11 12 13 14 15 16 17
    16 17 18 19 20 21 22          21 22 23 24[25]26 27        [18]19 20 21 22 23 24
    23 24 25[26]27 28 29          28 29 30 31                  25 26 27 28 29 30 31
    30
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import (
    END_OF_DAY,
    MAX_AMOUNT,
    UNITS,
    Calendar,
    ClockError,
    ClockState,
    Duration,
    DurationError,
    FixedDate,
    Holiday,
    WeekdayRule,
    clock_due,
    clock_extend,
    clock_is_paused,
    clock_pause,
    clock_resume,
    clock_start,
    clock_stop,
    clock_warn_at,
    is_timezone,
    load_calendar,
    parse_duration,
)
from engine.problems import DefinitionError

CALENDARS = Path(__file__).resolve().parents[2] / "definitions" / "calendars"
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def shipped(name: str) -> Calendar:
    path = CALENDARS / f"{name}.yaml"
    return load_calendar(f"definitions/calendars/{name}.yaml", path.read_text(encoding="utf-8"))


FEDERAL = shipped("us-federal")
WEEKDAYS_ONLY = shipped("weekdays")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def end_of(year: int, month: int, day: int, tz: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(date(year, month, day), END_OF_DAY, tzinfo=tz)


def bd(amount: int) -> Duration:
    return Duration(amount, "business day")


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "amount", "unit", "canonical"),
    [
        ("10 business days", 10, "business day", "10 business days"),
        ("1 business day", 1, "business day", "1 business day"),
        ("20 days", 20, "day", "20 days"),
        ("10 calendar days", 10, "day", "10 days"),
        ("3 weeks", 3, "week", "3 weeks"),
        ("48 hours", 48, "hour", "48 hours"),
        ("30 minutes", 30, "minute", "30 minutes"),
        ("11 months", 11, "month", "11 months"),
        ("1 year", 1, "year", "1 year"),
        ("  10   Business   DAYS ", 10, "business day", "10 business days"),
        ("1 days", 1, "day", "1 day"),
        ("2 Week", 2, "week", "2 weeks"),
        ("007 days", 7, "day", "7 days"),
    ],
)
def test_durations_are_read_in_words_and_written_back_canonically(text, amount, unit, canonical):
    duration = parse_duration(text)
    assert duration == Duration(amount, unit)
    assert str(duration) == canonical
    assert parse_duration(canonical) == duration


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten days", '\'ten days\': write the amount in digits, for example "10 business days" or "30 days"'),
        ("-3 days", "'-3 days': the amount must be a whole number of at least 1"),
        ("1.5 days", "'1.5 days': the amount must be a whole number of at least 1"),
        ("0 days", "'0 days': a duration must be at least 1 day; to act at once, leave the duration out"),
        (
            "3 fortnights",
            "'3 fortnights': unknown unit 'fortnights'; use one of: minutes, hours, days, business days, "
            "weeks, months, years",
        ),
        ("10 working days", "'10 working days': unknown unit 'working days'; use one of: minutes, hours"),
        ("10", "'10' is not a duration: write a number and a unit, for example"),
        ("", "'' is not a duration: write a number and a unit"),
        ("9999999999 days", "'9999999999 days': at most 36,500 days; durations stop at about 100 years"),
        ("36501 days", "at most 36,500 days; durations stop at about 100 years"),
        ("101 years", "at most 100 years; durations stop at about 100 years"),
    ],
)
def test_a_bad_duration_is_refused_with_a_message_naming_the_fix(text, message):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert caught.value.message.startswith(message)
    assert str(caught.value) == caught.value.message


def test_a_duration_that_is_not_text_is_refused():
    with pytest.raises(DurationError, match="a duration is written as words"):
        parse_duration(10)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (0, "day", "the amount must be a whole number of at least 1, not 0"),
        (True, "day", "the amount must be a whole number of at least 1, not True"),
        (1.5, "day", "the amount must be a whole number of at least 1, not 1.5"),
        (3, "fortnight", "unknown unit 'fortnight'; use one of: minute, hour, day, business day"),
    ],
)
def test_a_duration_built_in_code_is_checked_too(amount, unit, message):
    with pytest.raises(DurationError) as caught:
        Duration(amount, unit)
    assert caught.value.message.startswith(message)


@given(
    st.sampled_from(UNITS).flatmap(lambda unit: st.builds(Duration, st.integers(1, MAX_AMOUNT[unit]), st.just(unit)))
)
def test_every_duration_reads_back_from_its_words(duration):
    assert parse_duration(str(duration)) == duration
    assert parse_duration(str(duration).upper()) == duration


# ---------------------------------------------------------------- the shipped calendars

# The reference list was produced OUTSIDE the project, with the `holidays` package from PyPI
# (version 0.109), installed in a throw-away virtualenv (/tmp/hol-venv), never in .venv:
#
#   import holidays
#   us = holidays.country_holidays("US", years=range(2019, 2037))
#   days_off = sorted(d for d in us if 2020 <= d.year <= 2035 and d.weekday() < 5)
#
# It keeps the weekdays only: `holidays` lists both a weekend holiday and its observed weekday,
# and only the weekday is a day off. One line per year (two for years with twelve days off).
HOLIDAYS_PACKAGE_REFERENCE = """
2020-01-01 2020-01-20 2020-02-17 2020-05-25 2020-07-03 2020-09-07 2020-10-12 2020-11-11 2020-11-26 2020-12-25
2021-01-01 2021-01-18 2021-02-15 2021-05-31 2021-06-18 2021-07-05 2021-09-06 2021-10-11 2021-11-11 2021-11-25
    2021-12-24 2021-12-31
2022-01-17 2022-02-21 2022-05-30 2022-06-20 2022-07-04 2022-09-05 2022-10-10 2022-11-11 2022-11-24 2022-12-26
2023-01-02 2023-01-16 2023-02-20 2023-05-29 2023-06-19 2023-07-04 2023-09-04 2023-10-09 2023-11-10 2023-11-23 2023-12-25
2024-01-01 2024-01-15 2024-02-19 2024-05-27 2024-06-19 2024-07-04 2024-09-02 2024-10-14 2024-11-11 2024-11-28 2024-12-25
2025-01-01 2025-01-20 2025-02-17 2025-05-26 2025-06-19 2025-07-04 2025-09-01 2025-10-13 2025-11-11 2025-11-27 2025-12-25
2026-01-01 2026-01-19 2026-02-16 2026-05-25 2026-06-19 2026-07-03 2026-09-07 2026-10-12 2026-11-11 2026-11-26 2026-12-25
2027-01-01 2027-01-18 2027-02-15 2027-05-31 2027-06-18 2027-07-05 2027-09-06 2027-10-11 2027-11-11 2027-11-25
    2027-12-24 2027-12-31
2028-01-17 2028-02-21 2028-05-29 2028-06-19 2028-07-04 2028-09-04 2028-10-09 2028-11-10 2028-11-23 2028-12-25
2029-01-01 2029-01-15 2029-02-19 2029-05-28 2029-06-19 2029-07-04 2029-09-03 2029-10-08 2029-11-12 2029-11-22 2029-12-25
2030-01-01 2030-01-21 2030-02-18 2030-05-27 2030-06-19 2030-07-04 2030-09-02 2030-10-14 2030-11-11 2030-11-28 2030-12-25
2031-01-01 2031-01-20 2031-02-17 2031-05-26 2031-06-19 2031-07-04 2031-09-01 2031-10-13 2031-11-11 2031-11-27 2031-12-25
2032-01-01 2032-01-19 2032-02-16 2032-05-31 2032-06-18 2032-07-05 2032-09-06 2032-10-11 2032-11-11 2032-11-25
    2032-12-24 2032-12-31
2033-01-17 2033-02-21 2033-05-30 2033-06-20 2033-07-04 2033-09-05 2033-10-10 2033-11-11 2033-11-24 2033-12-26
2034-01-02 2034-01-16 2034-02-20 2034-05-29 2034-06-19 2034-07-04 2034-09-04 2034-10-09 2034-11-10 2034-11-23 2034-12-25
2035-01-01 2035-01-15 2035-02-19 2035-05-28 2035-06-19 2035-07-04 2035-09-03 2035-10-08 2035-11-12 2035-11-22 2035-12-25
"""


def reference_days_off() -> dict[int, list[date]]:
    by_year: dict[int, list[date]] = {}
    for word in HOLIDAYS_PACKAGE_REFERENCE.split():
        day = date.fromisoformat(word)
        by_year.setdefault(day.year, []).append(day)
    return by_year


@pytest.mark.parametrize(("year", "days_off"), sorted(reference_days_off().items()))
def test_us_federal_holidays_match_the_holidays_package(year, days_off):
    assert sorted(FEDERAL.holidays_in(year)) == days_off


def test_the_federal_calendar_is_read_as_written():
    assert FEDERAL.id == "us-federal"
    assert FEDERAL.title == {"en": "US federal holidays", "zh-Hans": "美国联邦假日"}
    assert FEDERAL.timezone == "America/New_York"
    assert FEDERAL.weekend == frozenset({5, 6})
    assert len(FEDERAL.holidays) == 11
    assert FEDERAL.closures == {}


def test_a_weekend_holiday_is_observed_on_the_nearest_weekday_and_says_so():
    assert FEDERAL.holidays_in(2026)[date(2026, 7, 3)] == "Independence Day (observed)"  # July 4 is a Saturday
    assert date(2026, 7, 4) not in FEDERAL.holidays_in(2026)
    assert FEDERAL.holidays_in(2027)[date(2027, 7, 5)] == "Independence Day (observed)"  # a Sunday
    assert FEDERAL.holidays_in(2027)[date(2027, 12, 31)] == "New Year's Day (observed)"  # for 1 January 2028
    assert date(2028, 1, 1) not in FEDERAL.holidays_in(2028)
    assert FEDERAL.holidays_in(2026)[date(2026, 1, 19)] == "Birthday of Martin Luther King, Jr."


def test_juneteenth_is_a_holiday_from_2021_only():
    assert date(2020, 6, 19) not in FEDERAL.holidays_in(2020)
    assert FEDERAL.holidays_in(2021)[date(2021, 6, 18)] == "Juneteenth National Independence Day (observed)"


def test_the_weekdays_calendar_has_no_holidays():
    assert WEEKDAYS_ONLY.holidays_in(2026) == {}
    assert WEEKDAYS_ONLY.is_business_day(date(2026, 12, 25))
    assert not WEEKDAYS_ONLY.is_business_day(date(2026, 12, 26))


def test_a_calendar_is_a_value():
    again = shipped("us-federal")
    assert again == FEDERAL
    assert hash(again) == hash(FEDERAL)
    assert again != WEEKDAYS_ONLY


def test_holidays_in_returns_a_copy_the_caller_may_change():
    days = FEDERAL.holidays_in(2026)
    days.clear()
    assert len(FEDERAL.holidays_in(2026)) == 11


# ---------------------------------------------------------------- rules in calendar files

RULES = """\
id: rules
title: {en: Rules}
weekend: [Saturday, sunday]
holidays:
  - {name: Day after Thanksgiving, rule: friday after fourth thursday of november}
  - {name: Election Day, rule: Tuesday after first Monday in November}
  - {name: Memorial Day, rule: last monday of may}
  - {name: Boxing Day, date: 12-26, observed: next monday}
  - {name: Christmas Day, date: 12-25, observed: next monday}
  - {name: Flag Day, date: 6-14}
  - {name: Old holiday, date: 03-01, until: 2024}
  - {name: Span, rule: second wednesday of march, from: 2025, until: 2026}
closures:
  - {name: Storm, date: 2026-01-26}
  - {name: Office move, date: 2026-01-23}
"""


def test_weekday_rules_fixed_dates_and_year_ranges():
    calendar = load_calendar("calendars/rules.yaml", RULES)
    assert calendar.holidays_in(2026) == {
        date(2026, 3, 11): "Span",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 6, 14): "Flag Day",  # a Sunday, and observed: none leaves it there
        date(2026, 11, 3): "Election Day",
        date(2026, 11, 27): "Day after Thanksgiving",
        date(2026, 12, 25): "Christmas Day",
        date(2026, 12, 28): "Boxing Day (observed)",  # the 26th is a Saturday
    }
    # 2027: Christmas on a Saturday and Boxing Day on a Sunday both land on Monday the 27th.
    assert calendar.holidays_in(2027)[date(2027, 12, 27)] == "Boxing Day (observed); Christmas Day (observed)"
    assert date(2024, 3, 1) in calendar.holidays_in(2024)
    assert date(2025, 3, 1) not in calendar.holidays_in(2025)
    assert date(2027, 3, 10) not in calendar.holidays_in(2027)
    assert list(calendar.closures) == [date(2026, 1, 23), date(2026, 1, 26)]
    assert not calendar.is_business_day(date(2026, 1, 26))
    assert calendar.business_days_between(date(2026, 1, 22), date(2026, 1, 27)) == 1


def test_rules_read_back_as_words():
    assert str(WeekdayRule(nth=4, weekday=3, month=11)) == "fourth thursday of november"
    assert str(WeekdayRule(nth=-1, weekday=0, month=5)) == "last monday of may"
    assert str(WeekdayRule(nth=4, weekday=3, month=11, following=4)) == "friday after fourth thursday of november"


def test_a_holiday_outside_the_years_dates_can_hold_is_skipped():
    edge = Calendar(
        id="edge",
        holidays=(
            Holiday("Late", WeekdayRule(nth=-1, weekday=4, month=12, following=0)),  # into year 10000
            Holiday("New Year", FixedDate(1, 1, "nearest weekday")),
        ),
    )
    assert edge.holidays_in(9999) == {date(9999, 1, 1): "New Year"}
    assert date(1, 1, 1) in edge.holidays_in(1)  # year 0, before it, does not exist


# ---------------------------------------------------------------- calendar file problems


def problems_of(text: str, path: str = "calendars/bad.yaml") -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_calendar(path, text)
    return [str(problem) for problem in caught.value.problems]


def test_every_mistake_in_a_calendar_file_is_reported_with_its_place():
    text = """\
id: bad
title: {en: Bad, fr: "", xx_1: Mauvais}
timezone: Mars/Olympus
weekend: [saturday, sun, saturday]
colour: blue
holidays:
  - {name: Typo, rule: thrid monday of january}
  - {name: Both, date: 12-25, rule: last monday of may}
  - {name: Neither}
  - {name: Year in date, date: 2026-12-24}
  - {name: Leap, date: 02-29}
  - {name: Nonsense, date: 13-45}
  - {name: Policy, date: 07-04, observed: closest}
  - {name: Ruled, rule: first monday of june, observed: next monday}
  - {rule: first monday of june, from: 2030, until: 2020}
  - {name: Years, date: 01-02, from: "2021", until: true, when: always}
  - just text
closures:
  - {name: Typo, date: 2026-02-30}
  - {name: Twice, date: 2026-03-02}
  - {name: Twice again, date: 2026-03-02}
  - {name: No date}
  - [2026-03-03]
"""
    assert problems_of(text) == [
        "calendars/bad.yaml:5:9: unknown_key: unknown key 'colour'; expected one of: closures, holidays, id, "
        "timezone, title, weekend",
        "calendars/bad.yaml:2:22: invalid_text: fr text must not be empty",
        "calendars/bad.yaml:2:32: invalid_language: 'xx_1' is not a language code",
        "calendars/bad.yaml:3:11: invalid_timezone: timezone 'Mars/Olympus' is not a time zone name such as "
        "America/New_York",
        "calendars/bad.yaml:4:21: invalid_weekday: 'sun' is not a day of the week (monday, tuesday, wednesday, "
        "thursday, friday, saturday, sunday)",
        "calendars/bad.yaml:4:26: duplicate_day: 'saturday' is listed twice",
        "calendars/bad.yaml:7:24: invalid_rule: 'thrid' is not one of: first, second, third, fourth, last",
        "calendars/bad.yaml:8:37: conflicting_keys: a holiday has either a date or a rule, not both",
        "calendars/bad.yaml:9:5: missing_key: a holiday needs a date (month-day, e.g. 12-25) or a rule "
        "(e.g. fourth thursday of november)",
        "calendars/bad.yaml:10:32: invalid_date: date '2026-12-24' has a year; a holiday repeats every year, so "
        "write month-day (e.g. 12-24), and list a one-off date under closures",
        "calendars/bad.yaml:11:24: invalid_date: 29 February is not in every year; choose another date",
        "calendars/bad.yaml:12:28: invalid_date: date '13-45' is not a month and day written MM-DD, e.g. 12-25",
        "calendars/bad.yaml:13:43: invalid_observed: observed 'closest' is not one of: none, nearest weekday, "
        "next monday",
        "calendars/bad.yaml:14:57: invalid_observed: observed applies only to a holiday with a date; a rule "
        "already names the day off",
        "calendars/bad.yaml:15:5: missing_key: name must be given as text",
        "calendars/bad.yaml:15:53: invalid_year: until (2020) is before from (2030)",
        "calendars/bad.yaml:16:65: unknown_key: unknown key 'when'; expected one of: date, from, name, observed, "
        "rule, until",
        "calendars/bad.yaml:16:38: invalid_year: from must be a year, e.g. 2021",
        "calendars/bad.yaml:16:53: invalid_year: until must be a year, e.g. 2021",
        "calendars/bad.yaml:17:5: invalid_type: a holiday is a mapping, e.g. {name: Christmas Day, date: 12-25}",
        "calendars/bad.yaml:19:24: invalid_date: date '2026-02-30' is not a date written YYYY-MM-DD, e.g. 2026-12-24",
        "calendars/bad.yaml:21:31: duplicate_date: 2026-03-02 is listed twice in closures",
        "calendars/bad.yaml:22:5: missing_key: a closure needs a date, e.g. 2026-12-24",
        "calendars/bad.yaml:23:5: invalid_type: a closure is a mapping, e.g. {name: Office closed, date: 2026-12-24}",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a list\n", ["cal.yaml:1:1: invalid_type: a calendar file must be a mapping of keys to values"]),
        ("", ["cal.yaml:1:1: invalid_type: a calendar file must be a mapping of keys to values"]),
        ("title: {en: T}\n", ["cal.yaml:1:1: missing_key: id must name the calendar, e.g. us-federal"]),
        ("id: Cal\ntitle: {en: T}\n", ["cal.yaml:1:5: invalid_id: id must be lower-case letters, digits and dashes"]),
        ("id: other\ntitle: {en: T}\n", ["cal.yaml:1:5: id_mismatch: id 'other' must match the file name 'cal.yaml'"]),
        ("id: cal\n", ["cal.yaml:1:1: missing_key: title must be given, e.g. {en: US federal holidays}"]),
        ("id: cal\ntitle: Cal\n", ["cal.yaml:2:8: invalid_text: title must map language codes to text"]),
        ("id: cal\ntitle: {zh-Hans: 日历}\n", ["cal.yaml:2:8: missing_translation: title needs English text (en)"]),
        ("id: cal\ntitle: {en: T}\ntimezone: 5\n", ["cal.yaml:3:11: invalid_timezone: timezone 5 is not a time"]),
        ("id: cal\ntitle: {en: T}\nweekend: sunday\n", ["cal.yaml:3:10: invalid_type: weekend must list days"]),
        ("id: cal\ntitle: {en: T}\nweekend: [6]\n", ["cal.yaml:3:11: invalid_weekday: 6 is not a day of the week"]),
        (
            "id: cal\ntitle: {en: T}\nweekend: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]\n",
            ["cal.yaml:3:10: no_business_days: a weekend of all seven days leaves no business days"],
        ),
        ("id: cal\ntitle: {en: T}\nholidays: {}\n", ["cal.yaml:3:11: invalid_type: holidays must be a list"]),
        ("id: cal\ntitle: {en: T}\nclosures: 2026-01-01\n", ["cal.yaml:3:11: invalid_type: closures must be a list"]),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, rule: 3}\n",
            ['cal.yaml:4:21: invalid_rule: rule must be text; write "<first|second|third|fourth|last>'],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, rule: the day after thanksgiving}\n",
            ["cal.yaml:4:21: invalid_rule: rule 'the day after thanksgiving' is not understood; write"],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, rule: fryday after fourth thursday of november}\n",
            ["cal.yaml:4:21: invalid_rule: 'fryday' is not a day of the week"],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, rule: fourth thursdy of november}\n",
            ["cal.yaml:4:21: invalid_rule: 'thursdy' is not a day of the week"],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, rule: fourth thursday of novembre}\n",
            ["cal.yaml:4:21: invalid_rule: 'novembre' is not a month (january ... december)"],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, rule: fifth thursday of may}\n",
            ["cal.yaml:4:21: invalid_rule: 'fifth' is not one of: first, second, third, fourth, last"],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, date: 1225}\n",
            ["cal.yaml:4:21: invalid_date: date '1225' is not a month and day written MM-DD"],
        ),
        (
            "id: cal\ntitle: {en: T}\nholidays:\n  - {name: X, date: 12-25, observed: 1}\n",
            ["cal.yaml:4:38: invalid_observed: observed 1 is not one of: none, nearest weekday, next monday"],
        ),
        (
            "id: cal\ntitle: {en: T}\nclosures:\n  - {name: X, date: 12/24/2026}\n",
            ["cal.yaml:4:21: invalid_date: date '12/24/2026' is not a date written YYYY-MM-DD"],
        ),
        ("id: cal\nid: again\n", ["cal.yaml:2:1: duplicate_key: the key 'id' appears twice"]),
    ],
)
def test_a_calendar_file_mistake_is_located(text, expected):
    found = problems_of(text, path="cal.yaml")
    assert len(found) == len(expected), found
    for problem, start in zip(found, expected, strict=True):
        assert problem.startswith(start), problem


def test_the_file_name_check_applies_only_to_yaml_files():
    assert load_calendar("<memory>", "id: anything\ntitle: {en: T}\n").id == "anything"
    assert load_calendar("calendars/cal.yml", "id: cal\ntitle: {en: T}\n").weekend == frozenset({5, 6})


def test_is_timezone_knows_iana_names_only():
    assert is_timezone("America/New_York")
    assert is_timezone("UTC")
    for name in ("Mars/Olympus", "", "/etc/passwd", "../zoneinfo", "America"):
        assert not is_timezone(name)


def test_a_calendar_built_in_code_is_checked():
    with pytest.raises(ValueError, match="weekend days are numbers 0"):
        Calendar(id="x", weekend=frozenset({7}))
    with pytest.raises(ValueError, match="has no business days"):
        Calendar(id="x", weekend=frozenset(range(7)))


# ---------------------------------------------------------------- business days


def test_business_days_skip_weekends_holidays_and_closures():
    assert FEDERAL.is_business_day(date(2026, 11, 25))
    assert not FEDERAL.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert not FEDERAL.is_business_day(date(2026, 11, 28))  # Saturday
    assert not FEDERAL.is_business_day(date(2026, 7, 3))  # Independence Day, observed
    with_closure = Calendar(id="c", closures={date(2026, 12, 24): "Office closed"})
    assert not with_closure.is_business_day(date(2026, 12, 24))


def test_a_datetime_is_not_taken_for_a_date():
    with pytest.raises(TypeError, match="pass a local date, not a datetime"):
        FEDERAL.is_business_day(ny(2026, 11, 26))
    with pytest.raises(TypeError, match="pass a local date"):
        FEDERAL.business_days_between(date(2026, 1, 1), ny(2026, 2, 1))


def test_adding_business_days_across_thanksgiving():
    # Wednesday 25 November 2026: Thursday is Thanksgiving, Friday counts, then Monday.
    assert FEDERAL.add(ny(2026, 11, 25, 10), bd(1), NEW_YORK) == end_of(2026, 11, 27)
    assert FEDERAL.add(ny(2026, 11, 25, 10), bd(2), NEW_YORK) == end_of(2026, 11, 30)
    assert FEDERAL.add(ny(2026, 11, 20, 9), bd(5), NEW_YORK) == end_of(2026, 11, 30)  # Fri 20 -> 23 24 25 27 30


def test_adding_business_days_across_christmas_and_new_year():
    # Thursday 24 December 2026: the 25th and 1 January are Fridays and holidays.
    assert FEDERAL.add(ny(2026, 12, 24, 16), bd(1), NEW_YORK) == end_of(2026, 12, 28)
    assert FEDERAL.add(ny(2026, 12, 24, 16), bd(5), NEW_YORK) == end_of(2027, 1, 4)
    # A FOIA request received Monday 14 December 2026: 20 business days end on Wednesday 13 January 2027.
    assert FEDERAL.add(ny(2026, 12, 14, 11), bd(20), NEW_YORK) == end_of(2027, 1, 13)
    # With the weekdays calendar (no holidays) the same request is due two business days earlier.
    assert WEEKDAYS_ONLY.add(ny(2026, 12, 14, 11), bd(20), NEW_YORK) == end_of(2027, 1, 11)


def test_a_request_received_on_friday_afternoon_is_due_at_the_end_of_monday():
    assert FEDERAL.add(ny(2027, 1, 8, 16, 30), bd(1), NEW_YORK) == end_of(2027, 1, 11)
    # ... or Tuesday when Monday is a holiday (Martin Luther King, Jr. Day 2027).
    assert FEDERAL.add(ny(2027, 1, 15, 16, 30), bd(1), NEW_YORK) == end_of(2027, 1, 19)
    # The day of receipt never counts, even at one minute past midnight, nor does a weekend receipt.
    assert FEDERAL.add(ny(2027, 1, 11, 0, 1), bd(1), NEW_YORK) == end_of(2027, 1, 12)
    assert FEDERAL.add(ny(2027, 1, 9, 12), bd(1), NEW_YORK) == end_of(2027, 1, 11)


def test_business_days_are_counted_in_the_given_time_zone():
    # 02:00 UTC on Friday 8 January 2027 is still Thursday evening in New York.
    thursday_evening = datetime(2027, 1, 8, 2, 0, tzinfo=UTC)
    due = FEDERAL.add(thursday_evening, bd(1), NEW_YORK)
    assert due == end_of(2027, 1, 8)
    assert due.tzinfo is NEW_YORK
    assert (due.hour, due.minute, due.second, due.microsecond) == (23, 59, 59, 999_999)
    assert FEDERAL.add(thursday_evening, bd(1), UTC) == datetime(2027, 1, 11, 23, 59, 59, 999_999, tzinfo=UTC)


def test_business_days_between_counts_after_the_start_up_to_the_end():
    assert FEDERAL.business_days_between(date(2026, 11, 25), date(2026, 11, 30)) == 2
    assert FEDERAL.business_days_between(date(2026, 11, 25), date(2026, 11, 25)) == 0
    assert FEDERAL.business_days_between(date(2026, 11, 27), date(2026, 11, 29)) == 0
    assert FEDERAL.business_days_between(date(2026, 11, 30), date(2026, 11, 25)) == -2
    assert FEDERAL.business_days_between(date(2026, 12, 14), date(2027, 1, 13)) == 20


def test_a_calendar_with_no_business_day_in_two_years_is_an_error_not_a_hang():
    sundays = {date(2026, 1, 4) + timedelta(weeks=week): "Closed" for week in range(200)}
    closed = Calendar(id="closed", weekend=frozenset(range(6)), closures=sundays)
    with pytest.raises(ValueError, match="has no business day in the 733 days up to"):
        closed.add(ny(2026, 1, 1), bd(1), NEW_YORK)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2019, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2040, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    amount=st.integers(1, 80),
    tz=st.sampled_from([NEW_YORK, LOS_ANGELES, ZoneInfo("Pacific/Honolulu"), UTC]),
)
def test_adding_business_days_lands_on_a_business_day_that_many_business_days_later(start, amount, tz):
    due = FEDERAL.add(start, bd(amount), tz)
    assert due.time() == END_OF_DAY
    assert FEDERAL.is_business_day(due.date())
    assert FEDERAL.business_days_between(start.astimezone(tz).date(), due.date()) == amount
    assert due > start
    assert FEDERAL.add(start, bd(amount), tz) == due  # same inputs, same answer
    assert due.tzinfo is tz


# ---------------------------------------------------------------- calendar time


def test_months_keep_the_day_or_clamp_to_the_end_of_a_shorter_month():
    month = Duration(1, "month")
    assert FEDERAL.add(ny(2026, 1, 31, 9), month, NEW_YORK) == ny(2026, 2, 28, 9)
    assert FEDERAL.add(ny(2028, 1, 31, 9), month, NEW_YORK) == ny(2028, 2, 29, 9)
    assert FEDERAL.add(ny(2026, 3, 31, 9), month, NEW_YORK) == ny(2026, 4, 30, 9)
    assert FEDERAL.add(ny(2026, 12, 15, 9), month, NEW_YORK) == ny(2027, 1, 15, 9)
    assert FEDERAL.add(ny(2026, 8, 31, 9), Duration(11, "month"), NEW_YORK) == ny(2027, 7, 31, 9)
    assert FEDERAL.add(ny(2026, 9, 30, 9), Duration(11, "month"), NEW_YORK) == ny(2027, 8, 30, 9)
    assert FEDERAL.add(ny(2028, 2, 29, 9), Duration(1, "year"), NEW_YORK) == ny(2029, 2, 28, 9)
    assert FEDERAL.add(ny(2028, 2, 29, 9), Duration(4, "year"), NEW_YORK) == ny(2032, 2, 29, 9)


def test_calendar_days_and_weeks_ignore_holidays():
    assert FEDERAL.add(ny(2026, 11, 25, 10), Duration(1, "day"), NEW_YORK) == ny(2026, 11, 26, 10)
    assert FEDERAL.add(ny(2026, 12, 20, 10), Duration(2, "week"), NEW_YORK) == ny(2027, 1, 3, 10)
    assert FEDERAL.add(ny(2026, 12, 31, 23, 50), Duration(30, "minute"), NEW_YORK) == ny(2027, 1, 1, 0, 20)


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOS_ANGELES, fold=fold)


def test_a_day_across_a_daylight_saving_change_keeps_the_wall_clock_time():
    # Clocks in Los Angeles spring forward on Sunday 8 March 2026 and fall back on Sunday 1 November 2026.
    spring = FEDERAL.add(la(2026, 3, 7, 9), Duration(1, "day"), LOS_ANGELES)
    assert (spring.date(), spring.hour, spring.utcoffset()) == (date(2026, 3, 8), 9, timedelta(hours=-7))
    assert spring.astimezone(UTC) - la(2026, 3, 7, 9).astimezone(UTC) == timedelta(hours=23)
    autumn = FEDERAL.add(la(2026, 10, 31, 9), Duration(1, "day"), LOS_ANGELES)
    assert (autumn.date(), autumn.hour, autumn.utcoffset()) == (date(2026, 11, 1), 9, timedelta(hours=-8))
    assert autumn.astimezone(UTC) - la(2026, 10, 31, 9).astimezone(UTC) == timedelta(hours=25)
    week = FEDERAL.add(la(2026, 3, 4, 17), Duration(1, "week"), LOS_ANGELES)
    assert (week.date(), week.hour) == (date(2026, 3, 11), 17)


def test_hours_are_elapsed_time_across_a_daylight_saving_change():
    after = FEDERAL.add(la(2026, 3, 7, 9), Duration(48, "hour"), LOS_ANGELES)
    assert (after.date(), after.hour) == (date(2026, 3, 9), 10)
    assert after.astimezone(UTC) - la(2026, 3, 7, 9).astimezone(UTC) == timedelta(hours=48)


def test_a_time_missing_or_doubled_by_a_daylight_saving_change():
    # 02:30 does not exist on 8 March 2026: it moves forward by the hour skipped.
    gap = FEDERAL.add(la(2026, 3, 7, 2, 30), Duration(1, "day"), LOS_ANGELES)
    assert (gap.date(), gap.hour, gap.minute) == (date(2026, 3, 8), 3, 30)
    # 01:30 happens twice on 1 November 2026: the first (daylight-saving) one is meant.
    fold = FEDERAL.add(la(2026, 10, 31, 1, 30), Duration(1, "day"), LOS_ANGELES)
    assert (fold.date(), fold.hour, fold.utcoffset()) == (date(2026, 11, 1), 1, timedelta(hours=-7))
    # From the second 01:30 (standard time), one day later is an ordinary 01:30.
    second = FEDERAL.add(la(2026, 11, 1, 1, 30, fold=1), Duration(1, "day"), LOS_ANGELES)
    assert (second.date(), second.hour, second.utcoffset()) == (date(2026, 11, 2), 1, timedelta(hours=-8))


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        FEDERAL.add(datetime(2026, 1, 1, 9), Duration(1, "day"), NEW_YORK)  # noqa: DTZ001


# ---------------------------------------------------------------- statutory clocks


def test_a_foia_clock_with_tolling_and_an_extension():
    # Received Monday 4 January 2027; 20 business days; escalate at day 15.
    clock = clock_start(bd(20), ny(2027, 1, 4, 10))
    assert clock_due(clock, FEDERAL, NEW_YORK) == end_of(2027, 2, 2)  # MLK Day (18 Jan) skipped
    assert clock_warn_at(clock, bd(15), FEDERAL, NEW_YORK) == end_of(2027, 1, 26)

    # Wednesday 13 January, 15:00: the agency asks for clarification. The clock stops.
    clock = clock_pause(clock, ny(2027, 1, 13, 15))
    assert clock_is_paused(clock)
    assert clock_due(clock, FEDERAL, NEW_YORK) is None
    assert clock_warn_at(clock, bd(15), FEDERAL, NEW_YORK) is None

    # Wednesday 20 January, 11:00: the answer arrives. 13, 14, 15 and 19 January did not
    # count (18 January is a holiday anyway; the 20th counts again): 4 business days.
    clock = clock_resume(clock, ny(2027, 1, 20, 11))
    assert not clock_is_paused(clock)
    assert clock_due(clock, FEDERAL, NEW_YORK) == end_of(2027, 2, 8)
    assert clock_warn_at(clock, bd(15), FEDERAL, NEW_YORK) == end_of(2027, 2, 1)

    # Unusual circumstances: 10 more business days (15 February is Washington's Birthday).
    clock = clock_extend(clock, bd(10))
    assert clock_due(clock, FEDERAL, NEW_YORK) == end_of(2027, 2, 23)
    assert clock_warn_at(clock, bd(15), FEDERAL, NEW_YORK) == end_of(2027, 2, 1)

    # Answered on 22 February: the clock stops, and the deadline it met is still known.
    clock = clock_stop(clock, ny(2027, 2, 22, 16))
    assert clock.stopped
    due = clock_due(clock, FEDERAL, NEW_YORK)
    assert due is not None
    assert clock.stopped_at is not None
    assert clock.stopped_at <= due


def test_the_day_a_clock_stops_does_not_count_and_the_day_it_restarts_does():
    # 1 business day from Friday 8 January 2027: due at the end of Monday the 11th.
    clock = clock_start(bd(1), ny(2027, 1, 8, 12))
    # Paused and resumed the same day: nothing changes.
    same_day = clock_resume(clock_pause(clock, ny(2027, 1, 11, 9)), ny(2027, 1, 11, 17))
    assert clock_due(same_day, FEDERAL, NEW_YORK) == end_of(2027, 1, 11)
    # Paused on the last day, resumed on Wednesday: Wednesday is the last day now.
    last_day = clock_resume(clock_pause(clock, ny(2027, 1, 11, 14)), ny(2027, 1, 13, 9))
    assert clock_due(last_day, FEDERAL, NEW_YORK) == end_of(2027, 1, 13)
    # Paused on Friday, the answer arrives on Saturday: Monday counts.
    weekend = clock_start(bd(1), ny(2027, 1, 7, 12))  # due Friday the 8th
    weekend = clock_resume(clock_pause(weekend, ny(2027, 1, 8, 10)), ny(2027, 1, 9, 10))
    assert clock_due(weekend, FEDERAL, NEW_YORK) == end_of(2027, 1, 11)


def test_a_pause_after_the_deadline_does_not_revive_the_clock():
    clock = clock_start(bd(1), ny(2027, 1, 8, 12))
    late = clock_resume(clock_pause(clock, ny(2027, 1, 12, 9)), ny(2027, 1, 20, 9))
    assert clock_due(late, FEDERAL, NEW_YORK) == end_of(2027, 1, 11)


def test_several_pauses_add_up():
    clock = clock_start(bd(10), ny(2026, 11, 2, 9))  # Monday 2 November 2026
    assert clock_due(clock, FEDERAL, NEW_YORK) == end_of(2026, 11, 17)  # Veterans Day skipped
    clock = clock_resume(clock_pause(clock, ny(2026, 11, 4, 9)), ny(2026, 11, 6, 9))  # 4 and 5 November
    clock = clock_resume(clock_pause(clock, ny(2026, 11, 9, 9)), ny(2026, 11, 10, 9))  # 9 November
    assert clock_due(clock, FEDERAL, NEW_YORK) == end_of(2026, 11, 20)


def test_a_calendar_time_clock_stands_still_for_exactly_as_long_as_it_is_paused():
    clock = clock_start(Duration(10, "day"), la(2026, 3, 1, 9))
    assert clock_due(clock, FEDERAL, LOS_ANGELES) == la(2026, 3, 11, 9)
    paused = clock_resume(clock_pause(clock, la(2026, 3, 3, 12)), la(2026, 3, 5, 12))
    assert clock_due(paused, FEDERAL, LOS_ANGELES) == la(2026, 3, 13, 9)
    # A pause across the change to daylight-saving time is 47 real hours, not 48.
    across = clock_resume(clock_pause(clock, la(2026, 3, 7, 12)), la(2026, 3, 9, 12))
    assert clock_due(across, FEDERAL, LOS_ANGELES) == la(2026, 3, 13, 8)
    # A pause after the deadline changes nothing; an extension adds calendar time.
    late = clock_resume(clock_pause(clock, la(2026, 3, 12, 9)), la(2026, 3, 20, 9))
    assert clock_due(late, FEDERAL, LOS_ANGELES) == la(2026, 3, 11, 9)
    extended = clock_extend(clock, Duration(1, "month"))
    assert clock_due(extended, FEDERAL, LOS_ANGELES) == la(2026, 4, 11, 9)
    assert clock_warn_at(extended, Duration(7, "day"), FEDERAL, LOS_ANGELES) == la(2026, 3, 8, 9)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda c: clock_resume(c, ny(2027, 1, 5)), "the clock is not paused"),
        (lambda c: clock_pause(clock_pause(c, ny(2027, 1, 5)), ny(2027, 1, 6)), "the clock is already paused"),
        (lambda c: clock_pause(c, ny(2027, 1, 3)), "cannot pause at 2027-01-03T00:00:00-05:00, before the clock"),
        (
            lambda c: clock_resume(clock_pause(c, ny(2027, 1, 6)), ny(2027, 1, 5)),
            "cannot resume at 2027-01-05T00:00:00-05:00, before the clock was paused",
        ),
        (lambda c: clock_stop(c, ny(2027, 1, 3)), "cannot stop at 2027-01-03T00:00:00-05:00, before the clock"),
        (lambda c: clock_extend(c, Duration(10, "day")), "a clock of 20 business days is extended in business days"),
        (
            lambda c: clock_warn_at(c, Duration(15, "day"), FEDERAL, NEW_YORK),
            "a clock of 20 business days is warned in business days, not by 15 days",
        ),
        (lambda c: clock_pause(clock_stop(c, ny(2027, 1, 5)), ny(2027, 1, 6)), "cannot pause a clock that stopped"),
        (lambda c: clock_extend(clock_stop(c, ny(2027, 1, 5)), bd(1)), "cannot extend a clock that stopped"),
        (lambda c: clock_pause(c, datetime(2027, 1, 5)), "at must be a timezone-aware datetime"),  # noqa: DTZ001
    ],
)
def test_a_clock_refuses_what_cannot_happen(action, message):
    clock = clock_start(bd(20), ny(2027, 1, 4, 10))
    with pytest.raises(ClockError) as caught:
        action(clock)
    assert caught.value.message.startswith(message)


def test_a_calendar_time_clock_is_extended_in_calendar_time():
    with pytest.raises(ClockError, match=r"a clock of 30 days is extended in calendar time \(minutes to years\)"):
        clock_extend(clock_start(Duration(30, "day"), ny(2027, 1, 4)), bd(5))


def test_stopping_a_paused_clock_ends_the_pause_and_stopping_twice_changes_nothing():
    clock = clock_pause(clock_start(bd(20), ny(2027, 1, 4, 10)), ny(2027, 1, 13, 15))
    stopped = clock_stop(clock, ny(2027, 1, 20, 11))
    assert stopped.pauses == ((ny(2027, 1, 13, 15), ny(2027, 1, 20, 11)),)
    assert not stopped.paused
    assert stopped.stopped_at == ny(2027, 1, 20, 11)
    assert clock_stop(stopped, ny(2027, 3, 1)) is stopped
    assert clock_due(stopped, FEDERAL, NEW_YORK) == end_of(2027, 2, 8)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"limit": "20 business days"}, "limit must be a Duration"),
        ({"started_at": datetime(2027, 1, 4)}, "started_at must be a timezone-aware datetime"),  # noqa: DTZ001
        ({"extensions": (Duration(1, "day"),)}, "a clock of 20 business days is extended in business days"),
        ({"pauses": ((ny(2027, 1, 3), ny(2027, 1, 5)),)}, "pauses must be in order, after the start"),
        ({"pauses": ((ny(2027, 1, 6), ny(2027, 1, 5)),)}, "pauses must be in order"),
        (
            {"pauses": ((ny(2027, 1, 5), ny(2027, 1, 7)),), "paused_since": ny(2027, 1, 6)},
            "paused_since must not be before the start or the last resumption",
        ),
        ({"stopped_at": ny(2027, 1, 3)}, "stopped_at must not be before the start"),
        ({"paused_since": ny(2027, 1, 5), "stopped_at": ny(2027, 1, 6)}, "a stopped clock is not paused"),
    ],
)
def test_a_clock_state_is_checked_when_built(fields, message):
    with pytest.raises(ClockError, match=message):
        ClockState(**{"limit": bd(20), "started_at": ny(2027, 1, 4), **fields})


def test_a_clock_stores_moments_in_utc_and_serialises_to_json():
    clock = clock_start(bd(20), ny(2027, 1, 4, 10))
    clock = clock_resume(clock_pause(clock, ny(2027, 1, 13, 15)), ny(2027, 1, 20, 11, 30))
    clock = clock_pause(clock_extend(clock, bd(10)), ny(2027, 2, 1, 9))
    assert clock.started_at.tzinfo is UTC
    assert clock.to_json() == {
        "limit": "20 business days",
        "started_at": "2027-01-04T15:00:00+00:00",
        "extensions": ["10 business days"],
        "pauses": [["2027-01-13T20:00:00+00:00", "2027-01-20T16:30:00+00:00"]],
        "paused_since": "2027-02-01T14:00:00+00:00",
        "stopped_at": None,
    }
    assert ClockState.from_json(clock.to_json()) == clock
    assert clock_stop(clock, ny(2027, 2, 2, 9)).to_json()["stopped_at"] == "2027-02-02T14:00:00+00:00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"limit": "20 fortnights"}, "a clock's duration is invalid: '20 fortnights': unknown unit"),
        ({"extensions": "10 business days"}, "a clock's extensions and pauses must be lists"),
        ({"pauses": {}}, "a clock's extensions and pauses must be lists"),
        ({"started_at": 1767225600}, "a moment must be ISO 8601 text with an offset, not 1767225600"),
        ({"started_at": "4 January 2027"}, "'4 January 2027' is not an ISO 8601 date and time"),
        ({"started_at": "2027-01-04T10:00:00"}, "'2027-01-04T10:00:00' must be a timezone-aware datetime"),
        ({"pauses": [["2027-01-05T10:00:00+00:00"]]}, "a pause is a list \\[paused at, resumed at\\]"),
        ({"surprise": 1}, "a clock is a mapping with exactly the keys"),
    ],
)
def test_bad_clock_json_is_refused(change, message):
    raw = {**clock_start(bd(20), ny(2027, 1, 4)).to_json(), **change}
    with pytest.raises(ClockError, match=message):
        ClockState.from_json(raw)


def test_clock_json_that_is_not_a_mapping_is_refused():
    with pytest.raises(ClockError, match="a clock is a mapping"):
        ClockState.from_json(["20 business days"])  # type: ignore[arg-type]


def test_clock_json_with_z_offsets_reads_as_utc():
    raw = {**clock_start(bd(20), ny(2027, 1, 4)).to_json(), "started_at": "2027-01-04T05:00:00Z"}
    assert ClockState.from_json(raw) == clock_start(bd(20), ny(2027, 1, 4))


# ---------------------------------------------------------------- clock properties

MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2029, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
GAPS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@st.composite
def clocks(draw: st.DrawFn, *, business: bool | None = None) -> ClockState:
    """A clock with a random history of pauses, resumptions and extensions, maybe stopped."""
    in_business_days = draw(st.booleans()) if business is None else business
    units = ["business day"] if in_business_days else ["minute", "hour", "day", "week", "month"]
    limit = Duration(draw(st.integers(1, 30)), draw(st.sampled_from(units)))
    moment = draw(MOMENTS)
    clock = clock_start(limit, moment)
    for action in draw(st.lists(st.sampled_from(["pause", "extend"]), max_size=5)):
        moment += draw(GAPS)
        if action == "extend":
            clock = clock_extend(clock, Duration(draw(st.integers(1, 10)), draw(st.sampled_from(units))))
        elif clock.paused:
            clock = clock_resume(clock, moment)
        else:
            clock = clock_pause(clock, moment)
    if draw(st.booleans()):
        clock = clock_stop(clock, moment + draw(GAPS))
    return clock


@given(clocks())
def test_clock_json_round_trips_exactly(clock):
    raw = clock.to_json()
    assert ClockState.from_json(raw) == clock
    assert ClockState.from_json(raw).to_json() == raw


@settings(deadline=None)
@given(clocks(business=True), st.sampled_from([NEW_YORK, LOS_ANGELES]))
def test_a_business_day_clock_is_due_when_its_counted_days_reach_the_limit(clock, tz):
    due = clock_due(clock, FEDERAL, tz)
    if clock.paused:
        assert due is None
        return
    assert due is not None
    assert due.time() == END_OF_DAY
    assert FEDERAL.is_business_day(due.date())
    stopped = [(paused.astimezone(tz).date(), resumed.astimezone(tz).date()) for paused, resumed in clock.pauses]
    day = clock.started_at.astimezone(tz).date()
    counted = 0
    while day < due.date():
        day += timedelta(days=1)
        if FEDERAL.is_business_day(day) and not any(first <= day < until for first, until in stopped):
            counted += 1
    assert counted == clock.limit.amount + sum(extension.amount for extension in clock.extensions)
    assert not any(first <= due.date() < until for first, until in stopped)


@settings(deadline=None)
@given(clocks(), st.sampled_from([NEW_YORK, LOS_ANGELES]))
def test_pauses_and_extensions_never_bring_a_deadline_forward(clock, tz):
    bare = ClockState(limit=clock.limit, started_at=clock.started_at)
    due = clock_due(clock, FEDERAL, tz)
    bare_due = clock_due(bare, FEDERAL, tz)
    assert bare_due is not None
    assert due is None or due >= bare_due


@settings(deadline=None)
@given(
    start=MOMENTS,
    limit=st.integers(1, 30),
    pause_after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    length=GAPS,
)
def test_a_pause_before_the_deadline_moves_it_by_the_business_days_from_pause_to_resumption(
    start, limit, pause_after, length
):
    clock = clock_start(bd(limit), start)
    first_due = clock_due(clock, FEDERAL, NEW_YORK)
    assert first_due is not None
    paused_at, resumed_at = start + pause_after, start + pause_after + length
    clock = clock_resume(clock_pause(clock, paused_at), resumed_at)
    due = clock_due(clock, FEDERAL, NEW_YORK)
    if paused_at >= first_due:
        assert due == first_due
        return
    # The business days from the pause's day up to, not including, the resumption's day; but
    # never the start's day, which does not count anyway.
    day = timedelta(days=1)
    first = max(paused_at.astimezone(NEW_YORK).date(), start.astimezone(NEW_YORK).date() + day)
    shift = max(0, FEDERAL.business_days_between(first - day, resumed_at.astimezone(NEW_YORK).date() - day))
    assert due == (FEDERAL.add(first_due, bd(shift), NEW_YORK) if shift else first_due)
