"""Month calendars for the preview: weeks from Monday, each day with what happens on it.

Pure data, no HTML: the template draws it. Only months that have entries get a
calendar, and a day outside its month (the grey days that fill the first and
last week) carries no entries: those are shown in their own month.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKS = calendar.Calendar(firstweekday=calendar.MONDAY)


@dataclass(frozen=True)
class Day(Generic[T]):
    """One cell of a month: its date, whether it belongs to the month, what is on it."""

    date: date
    in_month: bool
    entries: tuple[T, ...]

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.date.weekday()]


@dataclass(frozen=True)
class Week(Generic[T]):
    """Monday to Sunday, with the ISO week number Swedish calendars show."""

    number: int
    days: tuple[Day[T], ...]


@dataclass(frozen=True)
class Month(Generic[T]):
    year: int
    month: int
    weeks: tuple[Week[T], ...]

    @property
    def title(self) -> str:
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    @property
    def anchor(self) -> str:
        return f"month-{self.year:04d}-{self.month:02d}"

    @property
    def entry_count(self) -> int:
        return sum(len(day.entries) for week in self.weeks for day in week.days)


def month_calendars(dated: Iterable[tuple[date, T]]) -> list[Month[T]]:
    """A calendar for each month with at least one entry, in order; entries keep their order."""
    by_day: dict[date, list[T]] = defaultdict(list)
    for day, entry in dated:
        by_day[day].append(entry)
    months = sorted({(day.year, day.month) for day in by_day})
    return [_month(year, month, by_day) for year, month in months]


def _month(year: int, month: int, by_day: dict[date, list[T]]) -> Month[T]:
    weeks = []
    for dates in _WEEKS.monthdatescalendar(year, month):
        days = tuple(
            Day(d, d.month == month, tuple(by_day.get(d, ())) if d.month == month else ())
            for d in dates
        )
        weeks.append(Week(dates[0].isocalendar().week, days))
    return Month(year, month, tuple(weeks))
