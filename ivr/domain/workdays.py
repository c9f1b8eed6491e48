"""National holidays from the `holidays` package, and why a day has the hours it has. Pure.

The package computes Taiwan's public holidays and their observed days (補假) by the
rules in force for every year it supports, so the calendar no longer runs out when a
hand-typed list ends. The routing tables only add to it or take from it: make-up
workdays, local days off, half days; the case store adds declared closures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from typing import Literal, Protocol, TypeAlias

import holidays

from ivr.domain.calendar import Calendar, DayOff, TimeRange, hours_on, national_holiday

__all__ = [
    "Closure",
    "DayReport",
    "NationalHolidays",
    "Reason",
    "closure_days",
    "coverage_end",
    "explain_day",
    "national_holidays",
]

Reason: TypeAlias = Literal[
    "working_day",
    "weekend",
    "no_hours",
    "holiday",
    "makeup_day",
    "local_day_off",
    "closure",
    "half_day",
]


class NationalHolidays:
    """One country's public holidays as the pinned `holidays` package states them.

    Names are in the country's own language (zh_TW for Taiwan), whatever the machine's
    locale, so a ticket or a report reads the same on every server.
    """

    def __init__(self, country: str) -> None:
        self.country = country
        cls = holidays.country_holidays(country).__class__
        self._language = cls.default_language
        self._first = date(cls.start_year, 1, 1)
        self._last = date(cls.end_year, 12, 31)
        self._days = holidays.country_holidays(country, language=self._language)

    def holiday(self, day: date) -> str | None:
        if not self._first <= day <= self._last:
            return None
        # The package fills a year the first time a day of it is asked for.
        name: str | None = self._days.get(day)
        return name

    @property
    def last_known_day(self) -> date:
        return self._last

    def __repr__(self) -> str:
        return f"NationalHolidays({self.country!r})"


@cache
def national_holidays(country: str) -> NationalHolidays:
    """One shared source per country: the package's per-year tables fill once."""
    return NationalHolidays(country)


@dataclass(frozen=True)
class DayReport:
    """A local day's working time and why, for `ivr calendar show`."""

    day: date
    hours: tuple[TimeRange, ...]
    reason: Reason
    # The holiday's, day off's or closure's name; empty for plain days.
    name: str = ""


def explain_day(cal: Calendar, day: date) -> DayReport:
    """The working ranges of `day` and the rule that gave them, most specific first."""
    hours = hours_on(cal, day)
    off = cal.days_off.get(day)
    if off is not None:
        reason: Reason = "local_day_off" if off.kind == "local" else off.kind
        if off.kind == "local" and off.closes_at is not None:
            reason = "half_day"
        return DayReport(day, hours, reason, off.name)
    if day in cal.holidays:
        return DayReport(day, hours, "local_day_off")
    if day in cal.makeup_workdays:
        return DayReport(day, hours, "makeup_day", national_holiday(cal, day) or "")
    name = national_holiday(cal, day)
    if name is not None:
        return DayReport(day, hours, "holiday", name)
    if not hours:
        # Saturday and Sunday, or a weekday the weekly hours leave out.
        return DayReport(day, hours, "weekend" if day.weekday() >= 5 else "no_hours")
    return DayReport(day, hours, "working_day")


def coverage_end(cal: Calendar) -> date | None:
    """The last day the calendar can say is a working day or not; None: no limit."""
    return None if cal.national is None else cal.national.last_known_day


class Closure(Protocol):
    """A day the city declared closed, as the case store keeps it."""

    @property
    def day(self) -> date: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def closes_at(self) -> time | None: ...


def closure_days(closures: Iterable[Closure]) -> dict[date, DayOff]:
    """Declared closures as days off to lay over a calendar (`with_days_off`)."""
    return {c.day: DayOff(c.reason or "closed", "closure", c.closes_at) for c in closures}
