"""Durations in words, business-day calendars and statutory clocks.

Pure, like the rest of ``engine``: no file is opened (``load_calendar`` is handed the
text), the clock is never read (every function takes the moment it needs), and
nothing is random. Time zones come from the standard library's ``zoneinfo``.

Three layers, each usable alone:

* ``Duration`` and ``parse_duration``: ``"10 business days"``, ``"11 months"``.
* ``Calendar`` and ``load_calendar``: weekends, holidays (fixed dates with an
  observed-day policy, or weekday rules such as ``fourth thursday of november``) and
  one-off closures; ``Calendar.add`` and ``Calendar.business_days_between`` do the
  arithmetic.
* ``ClockState`` and the ``clock_*`` functions: a statutory clock that starts,
  pauses (tolls), resumes, is extended and stops, and says when it is due.

The counting rules are documented in ``docs/reference/calendars-and-durations.md``;
the docstrings below state them precisely.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import islice
from types import MappingProxyType
from typing import Any, Final, Literal, assert_never
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.problems import DefinitionError, Problem
from engine.source import Document, Pointer, parse_yaml

# ---------------------------------------------------------------- durations

Unit = Literal["minute", "hour", "day", "business day", "week", "month", "year"]

UNITS: Final[tuple[Unit, ...]] = ("minute", "hour", "day", "business day", "week", "month", "year")
"""The units of a ``Duration``, in their canonical (singular) spelling."""

MAX_AMOUNT: Final[Mapping[Unit, int]] = MappingProxyType(
    {
        "minute": 52_560_000,
        "hour": 876_000,
        "day": 36_500,
        "business day": 26_000,
        "week": 5_200,
        "month": 1_200,
        "year": 100,
    }
)
"""The largest amount of each unit: about a hundred years, so arithmetic always ends."""

_UNIT_WORDS: Final[Mapping[str, Unit]] = MappingProxyType(
    {
        "minute": "minute",
        "minutes": "minute",
        "hour": "hour",
        "hours": "hour",
        "day": "day",
        "days": "day",
        "calendar day": "day",
        "calendar days": "day",
        "business day": "business day",
        "business days": "business day",
        "week": "week",
        "weeks": "week",
        "month": "month",
        "months": "month",
        "year": "year",
        "years": "year",
    }
)
_UNIT_LIST = "minutes, hours, days, business days, weeks, months, years"
_DURATION_EXAMPLE = 'for example "10 business days" or "30 days"'


class DurationError(ValueError):
    """A duration that cannot be read or built; ``message`` says why, for the author."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Duration:
    """A whole, positive number of one unit: ``Duration(10, "business day")``.

    ``str()`` gives the canonical words (``"10 business days"``, ``"1 month"``), which
    ``parse_duration`` reads back to an equal ``Duration``.
    """

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise DurationError(f"unknown unit {self.unit!r}; use one of: {', '.join(UNITS)}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise DurationError(f"the amount must be a whole number of at least 1, not {self.amount!r}")
        if self.amount > MAX_AMOUNT[self.unit]:
            raise DurationError(f"at most {MAX_AMOUNT[self.unit]:,} {self.unit}s; durations stop at about 100 years")

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}" if self.amount == 1 else f"{self.amount} {self.unit}s"

    @property
    def in_business_days(self) -> bool:
        """Whether this duration counts business days (the others are calendar time)."""
        return self.unit == "business day"


def parse_duration(text: str) -> Duration:
    """Read a duration written in words: a whole number (digits), then a unit.

    Units, singular or plural, in any letter case: minutes, hours, days (also
    "calendar days"), business days, weeks, months, years. Extra spaces are
    ignored. Zero, negative, fractional and spelt-out amounts are refused:
    raises ``DurationError`` with a message for the author.
    """
    if not isinstance(text, str):
        raise DurationError(f"a duration is written as words, {_DURATION_EXAMPLE}; got {text!r}")
    words = text.split()
    if len(words) < 2:
        raise DurationError(f"{text.strip()!r} is not a duration: write a number and a unit, {_DURATION_EXAMPLE}")
    amount_text = words[0]
    unit_text = " ".join(words[1:]).lower()
    if not re.fullmatch(r"[0-9]+", amount_text):
        if re.fullmatch(r"[+-]?[0-9]*[.,]?[0-9]+", amount_text):
            raise DurationError(f"{text.strip()!r}: the amount must be a whole number of at least 1")
        raise DurationError(f"{text.strip()!r}: write the amount in digits, {_DURATION_EXAMPLE}")
    unit = _UNIT_WORDS.get(unit_text)
    if unit is None:
        raise DurationError(f"{text.strip()!r}: unknown unit {unit_text!r}; use one of: {_UNIT_LIST}")
    if len(amount_text.lstrip("0")) > 9:
        raise DurationError(
            f"{text.strip()!r}: at most {MAX_AMOUNT[unit]:,} {unit}s; durations stop at about 100 years"
        )
    amount = int(amount_text)
    if amount == 0:
        raise DurationError(
            f"{text.strip()!r}: a duration must be at least 1 {unit}; to act at once, leave the duration out"
        )
    return Duration(amount, unit)


# ---------------------------------------------------------------- calendars

WEEKDAYS: Final[tuple[str, ...]] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS: Final[tuple[str, ...]] = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
ORDINALS: Final[Mapping[str, int]] = MappingProxyType({"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1})

Observed = Literal["none", "nearest weekday", "next monday"]
OBSERVED: Final[tuple[Observed, ...]] = ("none", "nearest weekday", "next monday")
_OBSERVED_WORDS: Final[Mapping[str, Observed]] = MappingProxyType({policy: policy for policy in OBSERVED})

END_OF_DAY: Final = time.max
"""A deadline "at the end of a day" is 23:59:59.999999 local time on that day."""

_SATURDAY = 5
_SUNDAY = 6
_LONGEST_CLOSURE = 2 * 366
"""Searching this many days in a row without a business day means the calendar has none."""


@dataclass(frozen=True, slots=True)
class FixedDate:
    """A holiday on the same month and day every year, shifted when it falls on a weekend.

    ``observed``: ``none`` (the date itself), ``nearest weekday`` (Saturday -> the Friday
    before, Sunday -> the Monday after: 5 U.S.C. 6103(b)), ``next monday`` (Saturday or
    Sunday -> the Monday after).
    """

    month: int
    day: int
    observed: Observed = "none"

    def observed_in(self, year: int) -> date:
        """The day the holiday is observed for ``year`` (which may be in another year)."""
        actual = date(year, self.month, self.day)
        weekday = actual.weekday()
        shift = 0
        if self.observed == "nearest weekday":
            shift = {_SATURDAY: -1, _SUNDAY: 1}.get(weekday, 0)
        elif self.observed == "next monday":
            shift = {_SATURDAY: 2, _SUNDAY: 1}.get(weekday, 0)
        return actual + timedelta(days=shift)


@dataclass(frozen=True, slots=True)
class WeekdayRule:
    """The ``nth`` ``weekday`` of ``month`` (``nth`` 1-4, or -1 for the last).

    With ``following`` set, the first ``following`` weekday strictly after that day:
    ``friday after fourth thursday of november``. Weekdays count from Monday = 0.
    """

    nth: int
    weekday: int
    month: int
    following: int | None = None

    def date_in(self, year: int) -> date:
        """The day the rule names in ``year``."""
        if self.nth > 0:
            first = date(year, self.month, 1)
            day = first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1))
        else:
            last = _last_day_of_month(year, self.month)
            day = last - timedelta(days=(last.weekday() - self.weekday) % 7)
        if self.following is not None:
            day += timedelta(days=(self.following - day.weekday() - 1) % 7 + 1)
        return day

    def __str__(self) -> str:
        ordinal = next(word for word, number in ORDINALS.items() if number == self.nth)
        text = f"{ordinal} {WEEKDAYS[self.weekday]} of {MONTHS[self.month - 1]}"
        return text if self.following is None else f"{WEEKDAYS[self.following]} after {text}"


@dataclass(frozen=True, slots=True)
class Holiday:
    """A named holiday, kept in the years ``from_year`` to ``until_year`` (inclusive, if given).

    The years are those of the holiday itself: New Year's Day 2022, a Saturday, is
    observed on Friday 31 December 2021 when 2022 is in range.
    """

    name: str
    when: FixedDate | WeekdayRule
    from_year: int | None = None
    until_year: int | None = None

    def observed_in(self, year: int) -> date | None:
        """The day off for this holiday's ``year`` occurrence, or None outside its years."""
        if (self.from_year is not None and year < self.from_year) or (
            self.until_year is not None and year > self.until_year
        ):
            return None
        try:
            if isinstance(self.when, FixedDate):
                return self.when.observed_in(year)
            return self.when.date_in(year)
        except (ValueError, OverflowError):  # before year 1 or after year 9999
            return None


def _no_closures() -> Mapping[date, str]:
    return MappingProxyType({})


def _no_title() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Calendar:
    """Which days are business days: not a weekend day, not a holiday, not a closure.

    ``weekend`` holds weekday numbers (Monday = 0 ... Sunday = 6). ``timezone`` is the
    calendar's suggested IANA zone; callers usually pass the program's zone instead.
    """

    id: str
    weekend: frozenset[int] = frozenset({_SATURDAY, _SUNDAY})
    holidays: tuple[Holiday, ...] = ()
    closures: Mapping[date, str] = field(default_factory=_no_closures)
    title: Mapping[str, str] = field(default_factory=_no_title)
    timezone: str | None = None
    _holiday_cache: dict[int, Mapping[date, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not self.weekend <= frozenset(range(7)):
            raise ValueError(f"weekend days are numbers 0 (Monday) to 6 (Sunday), not {sorted(self.weekend)}")
        if len(self.weekend) == 7:
            raise ValueError("a calendar whose weekend is every day has no business days")

    def __hash__(self) -> int:
        # The generated hash would fail on the closures and title mappings.
        return hash(
            (
                self.id,
                self.weekend,
                self.holidays,
                tuple(self.closures.items()),
                tuple(self.title.items()),
                self.timezone,
            )
        )

    def holidays_in(self, year: int) -> dict[date, str]:
        """The days off for holidays that fall in ``year`` (observed dates), with their names.

        A day moved off a weekend is named "<holiday> (observed)". Two holidays observed on
        one day give one entry, their names joined by "; ". Closures are not included: see
        ``closures``.
        """
        return dict(self._holidays_of(year))

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` (a local date, not a datetime) is a business day."""
        _require_date(day)
        return day.weekday() not in self.weekend and day not in self._holidays_of(day.year) and day not in self.closures

    def business_days_between(self, start: date, end: date) -> int:
        """How many business days there are after ``start``, up to and including ``end``.

        That is, in the interval (start, end]. When ``end`` is before ``start`` the count is
        negative: ``-business_days_between(end, start)``.
        """
        _require_date(start)
        _require_date(end)
        if end < start:
            return -self.business_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return count

    def add(self, start: datetime, duration: Duration, tz: tzinfo) -> datetime:
        """The moment ``duration`` after ``start`` ends, as an aware datetime in ``tz``.

        * business days: the end (23:59:59.999999 local) of the Nth business day after
          the local date of ``start``. The day of ``start`` never counts, whatever the
          hour: 1 business day from Friday afternoon is the end of Monday (Tuesday if
          Monday is a holiday).
        * days, weeks, months, years: the same local wall-clock time on the day reached
          by counting calendar days in ``tz`` (DST changes do not move the hour). Months
          and years keep the day of the month, or the month's last day if it is shorter
          (31 January + 1 month = 28 or 29 February). A local time that does not exist on
          that day (a spring-forward gap) moves forward by the gap; one that exists twice
          is the first (daylight-saving) one.
        * hours and minutes: elapsed time (48 hours is 48 real hours even across a DST
          change).

        Raises ``ValueError`` if ``start`` is naive, ``OverflowError`` past year 9999.
        """
        _require_aware(start, "start")
        local = start.astimezone(tz)
        amount = duration.amount
        match duration.unit:
            case "business day":
                day = next(islice(self.business_days_after(local.date()), amount - 1, None))
                return _end_of_day(day, tz)
            case "minute":
                return (start.astimezone(UTC) + timedelta(minutes=amount)).astimezone(tz)
            case "hour":
                return (start.astimezone(UTC) + timedelta(hours=amount)).astimezone(tz)
            case "day":
                return _localize(local.replace(tzinfo=None) + timedelta(days=amount), tz)
            case "week":
                return _localize(local.replace(tzinfo=None) + timedelta(weeks=amount), tz)
            case "month":
                return _localize(_add_months(local.replace(tzinfo=None), amount), tz)
            case "year":
                return _localize(_add_months(local.replace(tzinfo=None), 12 * amount), tz)
        assert_never(duration.unit)  # pragma: no cover - every unit is handled above

    def business_days_after(self, day: date) -> Iterator[date]:
        """The business days after ``day``, in order, without end.

        Raises ``ValueError`` if two years pass without one (a calendar closed every day).
        """
        _require_date(day)
        gap = 0
        while True:
            day += timedelta(days=1)
            if self.is_business_day(day):
                gap = 0
                yield day
            else:
                gap += 1
                if gap > _LONGEST_CLOSURE:
                    raise ValueError(f"calendar {self.id!r} has no business day in the {gap} days up to {day}")

    def _holidays_of(self, year: int) -> Mapping[date, str]:
        cached = self._holiday_cache.get(year)
        if cached is None:
            found: dict[date, list[str]] = {}
            # An observed day can fall in the year before or after the holiday's own year.
            for holiday_year in (year - 1, year, year + 1):
                for holiday in self.holidays:
                    day = holiday.observed_in(holiday_year)
                    if day is not None and day.year == year:
                        found.setdefault(day, []).append(_holiday_label(holiday, day))
            cached = MappingProxyType({day: "; ".join(names) for day, names in sorted(found.items())})
            self._holiday_cache[year] = cached
        return cached


def _holiday_label(holiday: Holiday, day: date) -> str:
    """The holiday's name, marked "(observed)" on a day moved off a weekend."""
    when = holiday.when
    if isinstance(when, FixedDate) and (day.month, day.day) != (when.month, when.day):
        return f"{holiday.name} (observed)"
    return holiday.name


def _require_date(day: date) -> None:
    if isinstance(day, datetime):
        raise TypeError(f"pass a local date, not a datetime ({day.isoformat()}): use moment.astimezone(tz).date()")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {moment.isoformat()}")


def _localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a local wall-clock time, resolving gaps forward and folds to the first."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def _end_of_day(day: date, tz: tzinfo) -> datetime:
    return _localize(datetime.combine(day, END_OF_DAY), tz)


def _last_day_of_month(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    last = _last_day_of_month(year, month + 1).day
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last))


# ---------------------------------------------------------------- calendar files

_CALENDAR_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_MONTH_DAY = re.compile(r"^([0-9]{1,2})-([0-9]{1,2})$")
_FULL_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CALENDAR_KEYS = frozenset({"id", "title", "timezone", "weekend", "holidays", "closures"})
_HOLIDAY_KEYS = frozenset({"name", "date", "rule", "observed", "from", "until"})
_CLOSURE_KEYS = frozenset({"name", "date"})
_RULE_FORMS = (
    'write "<first|second|third|fourth|last> <weekday> of <month>" (e.g. "fourth thursday of november") '
    'or "<weekday> after <...>" (e.g. "friday after fourth thursday of november")'
)


def load_calendar(path: str, text: str) -> Calendar:
    """Read a calendar file's text; ``path`` names the file in problems.

    A ``.yaml`` file's name must be its ``id`` (``us-federal.yaml`` holds ``id: us-federal``).

    Raises ``DefinitionError`` carrying every problem found, each located as
    ``path:line:col: code: message``.
    """
    document = parse_yaml(path, text)
    problems: list[Problem] = []
    calendar = _read_calendar(document, problems)
    if calendar is None or problems:
        raise DefinitionError(problems)
    return calendar


def _read_calendar(document: Document, problems: list[Problem]) -> Calendar | None:
    data = document.data
    if not isinstance(data, dict):
        problems.append(
            document.problem(
                (), "invalid_type", "a calendar file must be a mapping of keys to values, starting with id"
            )
        )
        return None
    _refuse_unknown_keys(document, (), data, _CALENDAR_KEYS, problems)
    calendar_id = data.get("id")
    if not isinstance(calendar_id, str):
        problems.append(document.problem(("id",), "missing_key", "id must name the calendar, e.g. us-federal"))
    elif not _CALENDAR_ID.match(calendar_id):
        problems.append(
            document.problem(
                ("id",), "invalid_id", "id must be lower-case letters, digits and dashes, starting with a letter"
            )
        )
    else:
        file_name = document.path.rsplit("/", 1)[-1]
        stem, dot, suffix = file_name.rpartition(".")
        if dot and suffix in {"yaml", "yml"} and stem != calendar_id:
            problems.append(
                document.problem(
                    ("id",),
                    "id_mismatch",
                    f"id {calendar_id!r} must match the file name {file_name!r}: workflows find a calendar by its file",
                )
            )
    title = _read_title(document, data, problems)
    timezone = _read_timezone(document, data, problems)
    weekend = _read_weekend(document, data, problems)
    holidays = _read_holidays(document, data, problems)
    closures = _read_closures(document, data, problems)
    if problems or not isinstance(calendar_id, str):
        return None
    return Calendar(
        id=calendar_id,
        weekend=weekend,
        holidays=holidays,
        closures=MappingProxyType(closures),
        title=title,
        timezone=timezone,
    )


def _read_title(document: Document, data: Mapping[str, Any], problems: list[Problem]) -> Mapping[str, str]:
    value = data.get("title")
    if value is None:
        problems.append(
            document.problem(("title",), "missing_key", "title must be given, e.g. {en: US federal holidays}")
        )
        return _no_title()
    if not isinstance(value, dict) or not value:
        problems.append(
            document.problem(("title",), "invalid_text", "title must map language codes to text, e.g. {en: ...}")
        )
        return _no_title()
    text: dict[str, str] = {}
    for language, words in value.items():
        if not _LANGUAGE.match(language):
            problems.append(
                document.problem(("title", language), "invalid_language", f"{language!r} is not a language code")
            )
        elif not isinstance(words, str) or not words.strip():
            problems.append(document.problem(("title", language), "invalid_text", f"{language} text must not be empty"))
        else:
            text[language] = words
    if "en" not in value:
        problems.append(document.problem(("title",), "missing_translation", "title needs English text (en)"))
    return MappingProxyType(text)


def _read_timezone(document: Document, data: Mapping[str, Any], problems: list[Problem]) -> str | None:
    value = data.get("timezone")
    if value is None:
        return None
    if not isinstance(value, str) or not is_timezone(value):
        problems.append(
            document.problem(
                ("timezone",),
                "invalid_timezone",
                f"timezone {value!r} is not a time zone name such as America/New_York",
            )
        )
        return None
    return value


def is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone name the system knows (``America/New_York``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _read_weekend(document: Document, data: Mapping[str, Any], problems: list[Problem]) -> frozenset[int]:
    value = data.get("weekend", ["saturday", "sunday"])
    if not isinstance(value, list):
        problems.append(
            document.problem(("weekend",), "invalid_type", "weekend must list days, e.g. [saturday, sunday]")
        )
        return frozenset()
    days: set[int] = set()
    for index, name in enumerate(value):
        number = _weekday_number(name)
        if number is None:
            problems.append(
                document.problem(
                    ("weekend", index), "invalid_weekday", f"{name!r} is not a day of the week ({', '.join(WEEKDAYS)})"
                )
            )
        elif number in days:
            problems.append(document.problem(("weekend", index), "duplicate_day", f"{name!r} is listed twice"))
        else:
            days.add(number)
    if len(days) == 7:
        problems.append(
            document.problem(("weekend",), "no_business_days", "a weekend of all seven days leaves no business days")
        )
    return frozenset(days)


def _read_holidays(document: Document, data: Mapping[str, Any], problems: list[Problem]) -> tuple[Holiday, ...]:
    value = data.get("holidays", [])
    if not isinstance(value, list):
        problems.append(document.problem(("holidays",), "invalid_type", "holidays must be a list of holidays"))
        return ()
    holidays: list[Holiday] = []
    for index, raw in enumerate(value):
        holiday = _read_holiday(document, ("holidays", index), raw, problems)
        if holiday is not None:
            holidays.append(holiday)
    return tuple(holidays)


def _read_holiday(document: Document, where: Pointer, raw: object, problems: list[Problem]) -> Holiday | None:
    if not isinstance(raw, dict):
        problems.append(
            document.problem(where, "invalid_type", "a holiday is a mapping, e.g. {name: Christmas Day, date: 12-25}")
        )
        return None
    _refuse_unknown_keys(document, where, raw, _HOLIDAY_KEYS, problems)
    name = _read_name(document, where, raw, problems)
    when: FixedDate | WeekdayRule | None = None
    if "date" in raw and "rule" in raw:
        problems.append(
            document.problem((*where, "rule"), "conflicting_keys", "a holiday has either a date or a rule, not both")
        )
    elif "date" in raw:
        when = _read_fixed_date(document, where, raw, problems)
    elif "rule" in raw:
        rule = raw["rule"]
        parsed = _parse_rule(rule) if isinstance(rule, str) else f"rule must be text; {_RULE_FORMS}"
        if isinstance(parsed, str):
            problems.append(document.problem((*where, "rule"), "invalid_rule", parsed))
        else:
            when = parsed
        if "observed" in raw:
            problems.append(
                document.problem(
                    (*where, "observed"),
                    "invalid_observed",
                    "observed applies only to a holiday with a date; a rule already names the day off",
                )
            )
    else:
        problems.append(
            document.problem(
                where,
                "missing_key",
                "a holiday needs a date (month-day, e.g. 12-25) or a rule (e.g. fourth thursday of november)",
            )
        )
    from_year = _read_year(document, (*where, "from"), raw.get("from"), problems)
    until_year = _read_year(document, (*where, "until"), raw.get("until"), problems)
    if from_year is not None and until_year is not None and until_year < from_year:
        problems.append(
            document.problem((*where, "until"), "invalid_year", f"until ({until_year}) is before from ({from_year})")
        )
    if name is None or when is None:
        return None
    return Holiday(name=name, when=when, from_year=from_year, until_year=until_year)


def _read_fixed_date(
    document: Document, where: Pointer, raw: Mapping[str, Any], problems: list[Problem]
) -> FixedDate | None:
    value = raw["date"]
    observed_value = raw.get("observed", "none")
    observed = _OBSERVED_WORDS.get(_normalise_words(observed_value)) if isinstance(observed_value, str) else None
    if observed is None:
        problems.append(
            document.problem(
                (*where, "observed"),
                "invalid_observed",
                f"observed {observed_value!r} is not one of: {', '.join(OBSERVED)}",
            )
        )
    text = value if isinstance(value, str) else str(value)
    match = _MONTH_DAY.match(text)
    month_day: tuple[int, int] | None = None
    if match is not None:
        month, day = int(match.group(1)), int(match.group(2))
        if (month, day) != (2, 29) and _valid_month_day(month, day):
            month_day = (month, day)
    if month_day is None:
        if _FULL_DATE.match(text):
            message = (
                f"date {text!r} has a year; a holiday repeats every year, so write month-day "
                "(e.g. 12-24), and list a one-off date under closures"
            )
        elif text in {"02-29", "2-29"}:
            message = "29 February is not in every year; choose another date"
        else:
            message = f"date {text!r} is not a month and day written MM-DD, e.g. 12-25"
        problems.append(document.problem((*where, "date"), "invalid_date", message))
        return None
    if observed is None:
        return None
    return FixedDate(month=month_day[0], day=month_day[1], observed=observed)


def _valid_month_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _last_day_of_month(2000, month).day


def _parse_rule(text: str) -> WeekdayRule | str:
    """A ``WeekdayRule`` from words, or a message saying what is wrong."""
    words = _normalise_words(text).split()
    following: int | None = None
    if len(words) == 6 and words[1] == "after":
        following = _weekday_number(words[0])
        if following is None:
            return f"{words[0]!r} is not a day of the week ({', '.join(WEEKDAYS)})"
        words = words[2:]
    if len(words) != 4 or words[2] not in {"of", "in"}:
        return f"rule {text!r} is not understood; {_RULE_FORMS}"
    ordinal, weekday_word, _, month_word = words
    nth = ORDINALS.get(ordinal)
    if nth is None:
        return f"{ordinal!r} is not one of: {', '.join(ORDINALS)}"
    weekday = _weekday_number(weekday_word)
    if weekday is None:
        return f"{weekday_word!r} is not a day of the week ({', '.join(WEEKDAYS)})"
    if month_word not in MONTHS:
        return f"{month_word!r} is not a month (january ... december)"
    return WeekdayRule(nth=nth, weekday=weekday, month=MONTHS.index(month_word) + 1, following=following)


def _read_year(document: Document, pointer: Pointer, value: object, problems: list[Problem]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999:
        problems.append(document.problem(pointer, "invalid_year", f"{pointer[-1]} must be a year, e.g. 2021"))
        return None
    return value


def _read_closures(document: Document, data: Mapping[str, Any], problems: list[Problem]) -> dict[date, str]:
    value = data.get("closures", [])
    if not isinstance(value, list):
        problems.append(document.problem(("closures",), "invalid_type", "closures must be a list of closed days"))
        return {}
    closures: dict[date, str] = {}
    for index, raw in enumerate(value):
        where: Pointer = ("closures", index)
        if not isinstance(raw, dict):
            problems.append(
                document.problem(
                    where, "invalid_type", "a closure is a mapping, e.g. {name: Office closed, date: 2026-12-24}"
                )
            )
            continue
        _refuse_unknown_keys(document, where, raw, _CLOSURE_KEYS, problems)
        name = _read_name(document, where, raw, problems)
        day = _read_full_date(document, (*where, "date"), raw.get("date"), problems)
        if day is not None and day in closures:
            problems.append(
                document.problem((*where, "date"), "duplicate_date", f"{day.isoformat()} is listed twice in closures")
            )
        elif day is not None and name is not None:
            closures[day] = name
    return dict(sorted(closures.items()))


def _read_full_date(document: Document, pointer: Pointer, value: object, problems: list[Problem]) -> date | None:
    if value is None:
        problems.append(document.problem(pointer, "missing_key", "a closure needs a date, e.g. 2026-12-24"))
        return None
    if isinstance(value, str) and _FULL_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(
        document.problem(pointer, "invalid_date", f"date {value!r} is not a date written YYYY-MM-DD, e.g. 2026-12-24")
    )
    return None


def _read_name(document: Document, where: Pointer, raw: Mapping[str, Any], problems: list[Problem]) -> str | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(document.problem((*where, "name"), "missing_key", "name must be given as text"))
        return None
    return name.strip()


def _weekday_number(name: object) -> int | None:
    if not isinstance(name, str):
        return None
    word = name.strip().lower()
    return WEEKDAYS.index(word) if word in WEEKDAYS else None


def _normalise_words(text: str) -> str:
    return " ".join(text.lower().split())


def _refuse_unknown_keys(
    document: Document, where: Pointer, data: Mapping[str, Any], known: frozenset[str], problems: list[Problem]
) -> None:
    for key in data:
        if key not in known:
            problems.append(
                document.problem(
                    (*where, key), "unknown_key", f"unknown key {key!r}; expected one of: {', '.join(sorted(known))}"
                )
            )


# ---------------------------------------------------------------- statutory clocks


class ClockError(ValueError):
    """A clock asked to do something impossible (resume a running clock, go back in time)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


Pause = tuple[datetime, datetime]
"""A finished pause: (paused at, resumed at)."""


@dataclass(frozen=True)
class ClockState:
    """A statutory clock: its limit, when it started, its pauses, extensions and stop.

    The state is the clock's history, not a running total: ``clock_due`` works the
    deadline out from it with the calendar each time. ``pauses`` are the finished
    pauses, oldest first; ``paused_since`` is set while the clock is paused;
    ``stopped_at`` once it has stopped for good (the request was answered).

    Moments are stored in UTC (any aware datetime given is converted), so the JSON form
    round-trips exactly. Extensions count the same way as the limit: business days
    extend business days; calendar time (minutes to years) extends calendar time.
    """

    limit: Duration
    started_at: datetime
    extensions: tuple[Duration, ...] = ()
    pauses: tuple[Pause, ...] = ()
    paused_since: datetime | None = None
    stopped_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.limit, Duration):
            raise ClockError(f"limit must be a Duration, not {self.limit!r}")
        for extension in self.extensions:
            _require_same_counting(self.limit, extension, "extended")
        latest = _as_utc(self.started_at, "started_at")
        object.__setattr__(self, "started_at", latest)
        pauses: list[Pause] = []
        for paused_at, resumed_at in self.pauses:
            paused_at = _as_utc(paused_at, "a pause")
            resumed_at = _as_utc(resumed_at, "a resumption")
            if paused_at < latest or resumed_at < paused_at:
                raise ClockError("pauses must be in order, after the start, each resumed after it was paused")
            pauses.append((paused_at, resumed_at))
            latest = resumed_at
        object.__setattr__(self, "pauses", tuple(pauses))
        if self.paused_since is not None:
            paused_since = _as_utc(self.paused_since, "paused_since")
            if paused_since < latest:
                raise ClockError("paused_since must not be before the start or the last resumption")
            object.__setattr__(self, "paused_since", paused_since)
            latest = paused_since
        if self.stopped_at is not None:
            stopped_at = _as_utc(self.stopped_at, "stopped_at")
            if stopped_at < latest:
                raise ClockError("stopped_at must not be before the start, the last pause or resumption")
            if self.paused_since is not None:
                raise ClockError("a stopped clock is not paused: end the pause when the clock stops")
            object.__setattr__(self, "stopped_at", stopped_at)

    @property
    def paused(self) -> bool:
        """Whether the clock is paused now."""
        return self.paused_since is not None

    @property
    def stopped(self) -> bool:
        """Whether the clock has stopped for good."""
        return self.stopped_at is not None

    def to_json(self) -> dict[str, Any]:
        """The clock as JSON-ready data: durations in words, moments as ISO 8601 text (UTC)."""
        return {
            "limit": str(self.limit),
            "started_at": self.started_at.isoformat(),
            "extensions": [str(extension) for extension in self.extensions],
            "pauses": [[paused_at.isoformat(), resumed_at.isoformat()] for paused_at, resumed_at in self.pauses],
            "paused_since": _moment_to_json(self.paused_since),
            "stopped_at": _moment_to_json(self.stopped_at),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ClockState:
        """The clock ``to_json`` gave; raises ``ClockError`` on anything else."""
        if not isinstance(raw, Mapping) or set(raw) != _CLOCK_KEYS:
            found = sorted(raw) if isinstance(raw, Mapping) else raw
            raise ClockError(f"a clock is a mapping with exactly the keys {sorted(_CLOCK_KEYS)}, not {found!r}")
        extensions = raw["extensions"]
        pauses = raw["pauses"]
        if not isinstance(extensions, list) or not isinstance(pauses, list):
            raise ClockError("a clock's extensions and pauses must be lists")
        try:
            return cls(
                limit=parse_duration(raw["limit"]),
                started_at=_moment_from_json(raw["started_at"]),
                extensions=tuple(parse_duration(extension) for extension in extensions),
                pauses=tuple(_pause_from_json(pause) for pause in pauses),
                paused_since=None if raw["paused_since"] is None else _moment_from_json(raw["paused_since"]),
                stopped_at=None if raw["stopped_at"] is None else _moment_from_json(raw["stopped_at"]),
            )
        except DurationError as error:
            raise ClockError(f"a clock's duration is invalid: {error.message}") from None


_CLOCK_KEYS: Final = frozenset({"limit", "started_at", "extensions", "pauses", "paused_since", "stopped_at"})


def _moment_to_json(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment_from_json(value: object) -> datetime:
    if not isinstance(value, str):
        raise ClockError(f"a moment must be ISO 8601 text with an offset, not {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ClockError(f"{value!r} is not an ISO 8601 date and time") from None
    return _as_utc(moment, repr(value))


def _pause_from_json(value: object) -> Pause:
    if not isinstance(value, list) or len(value) != 2:
        raise ClockError(f"a pause is a list [paused at, resumed at], not {value!r}")
    return _moment_from_json(value[0]), _moment_from_json(value[1])


def _as_utc(moment: object, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ClockError(f"{name} must be a timezone-aware datetime, not {moment!r}")
    return moment.astimezone(UTC)


def _require_same_counting(limit: Duration, other: Duration, verb: str) -> None:
    if limit.in_business_days != other.in_business_days:
        kind = "business days" if limit.in_business_days else "calendar time (minutes to years)"
        raise ClockError(f"a clock of {limit} is {verb} in {kind}, not by {other}")


def _require_not_stopped(state: ClockState, action: str) -> None:
    if state.stopped_at is not None:
        raise ClockError(f"cannot {action} a clock that stopped at {state.stopped_at.isoformat()}")


def clock_start(limit: Duration, at: datetime) -> ClockState:
    """A clock of ``limit`` started at ``at`` (for example, when the request was received)."""
    return ClockState(limit=limit, started_at=at)


def clock_is_paused(state: ClockState) -> bool:
    """Whether the clock is paused now (``state.paused``)."""
    return state.paused


def clock_pause(state: ClockState, at: datetime) -> ClockState:
    """The clock paused (tolled) at ``at``.

    Raises ``ClockError`` if it is already paused or stopped, or ``at`` is before its
    start or last resumption.
    """
    _require_not_stopped(state, "pause")
    if state.paused_since is not None:
        raise ClockError(f"the clock is already paused (since {state.paused_since.isoformat()})")
    latest = state.pauses[-1][1] if state.pauses else state.started_at
    if _as_utc(at, "at") < latest:
        raise ClockError(f"cannot pause at {at.isoformat()}, before the clock last started ({latest.isoformat()})")
    return replace(state, paused_since=at)


def clock_resume(state: ClockState, at: datetime) -> ClockState:
    """The clock running again from ``at``.

    Raises ``ClockError`` if it is not paused or ``at`` is before the pause. The pause is
    recorded as it happened; what it is worth is worked out by ``clock_due``, with the
    calendar and time zone it is given.
    """
    if state.paused_since is None:
        raise ClockError("the clock is not paused")
    if _as_utc(at, "at") < state.paused_since:
        raise ClockError(
            f"cannot resume at {at.isoformat()}, before the clock was paused ({state.paused_since.isoformat()})"
        )
    return replace(state, pauses=(*state.pauses, (state.paused_since, at)), paused_since=None)


def clock_extend(state: ClockState, by: Duration) -> ClockState:
    """The clock with ``by`` added to its limit (allowed while paused, and after the deadline).

    Raises ``ClockError`` if the clock has stopped, or ``by`` does not count the same way
    as the limit.
    """
    _require_not_stopped(state, "extend")
    _require_same_counting(state.limit, by, "extended")
    return replace(state, extensions=(*state.extensions, by))


def clock_stop(state: ClockState, at: datetime) -> ClockState:
    """The clock stopped for good at ``at`` (the request was answered, the case closed).

    A pause still open ends at ``at``. Stopping a stopped clock changes nothing. After
    that, ``clock_due`` still says where the deadline stood, so whether it was met is
    ``stopped_at <= clock_due(...)``.
    """
    if state.stopped_at is not None:
        return state
    if state.paused_since is not None:
        state = clock_resume(state, at)
    latest = state.pauses[-1][1] if state.pauses else state.started_at
    if _as_utc(at, "at") < latest:
        raise ClockError(f"cannot stop at {at.isoformat()}, before the clock last started ({latest.isoformat()})")
    return replace(state, stopped_at=at)


def clock_due(state: ClockState, calendar: Calendar, tz: tzinfo) -> datetime | None:
    """When the clock runs out (limit plus extensions, pauses discounted), in ``tz``; None while paused.

    Business-day clocks: the business days after the local date of the start count,
    except those from the local date a pause began up to, but not including, the local
    date it ended (the day the clock stops does not count; the day it restarts does).
    The clock is due at the end of the day on which the count reaches the limit, so a
    pause that begins after that day does not move the deadline.

    Calendar-time clocks: the limit and then each extension are added to the start with
    ``Calendar.add``; each pause that began before the deadline so found moves it later
    by exactly the pause's length.
    """
    return _run_for(state, (state.limit, *state.extensions), calendar, tz)


def clock_warn_at(state: ClockState, elapsed: Duration, calendar: Calendar, tz: tzinfo) -> datetime | None:
    """When the clock has run for ``elapsed`` (``warn at: 8 business days`` of 10); None while paused.

    Pauses count exactly as in ``clock_due``; extensions do not move the warning.
    ``elapsed`` must count the same way as the limit (``ClockError`` otherwise). A warning
    at or after the deadline is not refused here: the definition checker should refuse it.
    """
    _require_same_counting(state.limit, elapsed, "warned")
    return _run_for(state, (elapsed,), calendar, tz)


def _run_for(state: ClockState, durations: Sequence[Duration], calendar: Calendar, tz: tzinfo) -> datetime | None:
    if state.paused_since is not None:
        return None
    if state.limit.in_business_days:
        return _business_days_run(state, sum(duration.amount for duration in durations), calendar, tz)
    moment = state.started_at
    for duration in durations:
        moment = calendar.add(moment, duration, tz)
    for paused_at, resumed_at in state.pauses:
        if paused_at < moment:
            # Elapsed time: adding to an aware local datetime would add wall-clock time.
            moment = moment.astimezone(UTC) + (resumed_at - paused_at)
    return moment.astimezone(tz)


def _business_days_run(state: ClockState, count: int, calendar: Calendar, tz: tzinfo) -> datetime:
    stopped = [(paused.astimezone(tz).date(), resumed.astimezone(tz).date()) for paused, resumed in state.pauses]
    counted = (
        day
        for day in calendar.business_days_after(state.started_at.astimezone(tz).date())
        if not any(first <= day < until for first, until in stopped)
    )
    return _end_of_day(next(islice(counted, count - 1, None)), tz)
