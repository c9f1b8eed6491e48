"""Service hours, disaster mode and the working-hour callback clock (DOMAIN.md §2-3).

Pure: every function takes the instant it reasons about; none reads the clock (that is
`ivr.domain.clock`). Every datetime argument must be timezone-aware; naive ones raise
ValueError, because guessing a zone is how callbacks end up due eight hours off.

Internally all arithmetic is on UTC instants. A calendar's wall-clock ranges are turned
into instants one local day at a time through the calendar's zone, so a zone with
daylight saving (Asia/Taipei has none, but the code does not rely on that) counts
elapsed time correctly: a wall time repeated by a fall-back resolves to its first
occurrence, and a wall time skipped by a spring-forward resolves to the instant the
clock jumps. Results are returned in the calendar's zone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Literal, Protocol, TypeAlias, get_args
from zoneinfo import ZoneInfo

from ivr.errors import HotlineError

__all__ = [
    "ALWAYS_OPEN",
    "SEARCH_DAYS",
    "AlwaysOpen",
    "Calendar",
    "DayOff",
    "HolidaySource",
    "NoWorkingTime",
    "ServiceHours",
    "ServiceReason",
    "ServiceState",
    "SlaBasis",
    "SlaPolicy",
    "TimeRange",
    "WeeklyHours",
    "add_wall_clock_hours",
    "add_working_hours",
    "callback_due",
    "compute_service_state",
    "hours_on",
    "is_open",
    "national_holiday",
    "next_working_day_end",
    "with_days_off",
    "working_time_between",
]

# How far ahead a search for working time looks before giving up. A year plus the
# longest run of public holidays: a calendar with nothing in that window is broken.
SEARCH_DAYS = 400

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)

ServiceReason: TypeAlias = Literal[
    "always_open", "in_hours", "disaster", "closed_weekly", "closed_holiday"
]
SlaBasis: TypeAlias = Literal["working_hours", "wall_clock"]


class NoWorkingTime(HotlineError, ValueError):
    """A calendar has no working time in the window a computation needs."""

    code = "calendar.no_working_time"


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """Opening hours within one day, half-open: [start, end), wall-clock, start < end."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            # The zone belongs to the calendar; a zone here would be silently ignored.
            raise ValueError(f"TimeRange times must be naive wall-clock times: {self}")
        if not self.start < self.end:
            raise ValueError(
                f"TimeRange start must be before end on the same day: "
                f"{self.start.isoformat()}-{self.end.isoformat()}"
            )


WeeklyHours: TypeAlias = Mapping[int, Sequence[TimeRange]]


class HolidaySource(Protocol):
    """National public holidays, with their observed days, for any day it knows."""

    def holiday(self, day: date) -> str | None:
        """The holiday's name when `day` is a day off, else None."""

    @property
    def last_known_day(self) -> date:
        """The last day the source can answer for; after it, it knows nothing."""


DayOffKind: TypeAlias = Literal["local", "closure", "half_day"]


@dataclass(frozen=True, slots=True)
class DayOff:
    """A day without working time beyond the national holidays, or its rest from `closes_at`.

    `local`: a local day off from the tables; `half_day`: a planned early close from the
    tables; `closure`: a day the city declared closed (a typhoon day, 颱風停班), from the
    case store. `closes_at` None means the whole day.
    """

    name: str
    kind: DayOffKind = "local"
    closes_at: time | None = None

    def __post_init__(self) -> None:
        if self.closes_at is not None and self.closes_at.tzinfo is not None:
            raise ValueError(f"closes_at must be a naive wall-clock time: {self.closes_at}")

    def closes_more_than(self, other: DayOff) -> bool:
        """Whether this one leaves less working time: the whole day, or an earlier hour."""
        if self.closes_at is None:
            return other.closes_at is not None
        return other.closes_at is not None and self.closes_at < other.closes_at


@dataclass(frozen=True, slots=True)
class Calendar:
    """Working hours of one office: a weekly pattern, public holidays and make-up days.

    `weekly` maps weekday (0=Monday … 6=Sunday) to that day's ranges; a missing weekday
    is closed. `national` names the public holidays (with observed days) of any year
    it knows; `holidays` and `days_off` add days off (local ones, declared closures,
    half days). A date in `makeup_workdays` (Taiwan moves working days to Saturdays, or
    takes back a national holiday) uses `makeup_hours`, or, if None, Monday's ranges as
    the hours of a normal working day; a day off in `days_off` still closes it.
    """

    tz: ZoneInfo
    weekly: WeeklyHours
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    makeup_hours: Sequence[TimeRange] | None = None
    national: HolidaySource | None = None
    days_off: Mapping[date, DayOff] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for weekday, ranges in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
            _check_disjoint(ranges, f"weekday {weekday}")
        if self.makeup_hours is not None:
            _check_disjoint(self.makeup_hours, "makeup_hours")
        both = self.holidays & self.makeup_workdays
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates cannot be both a holiday and a make-up workday: {listed}")


def _check_disjoint(ranges: Sequence[TimeRange], where: str) -> None:
    # Overlapping ranges would count the shared time twice on the callback clock.
    for before, after in pairwise(sorted(ranges)):
        if after.start < before.end:
            raise ValueError(f"overlapping ranges on {where}: {before} and {after}")


@dataclass(frozen=True, slots=True)
class AlwaysOpen:
    """A 24-hour service (Taipei's 1999)."""


ALWAYS_OPEN = AlwaysOpen()

ServiceHours: TypeAlias = AlwaysOpen | Calendar


@dataclass(frozen=True, slots=True)
class ServiceState:
    """Whether the hotline takes calls at an instant, why, and when it opens next."""

    open: bool
    reason: ServiceReason
    next_open: datetime | None = None
    disaster: bool = False


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """How long a callback may take: 4 working hours by default (T4(2)1)."""

    hours: float = 4
    basis: SlaBasis = "working_hours"

    def __post_init__(self) -> None:
        _as_duration(self.hours)
        if self.basis not in get_args(SlaBasis):
            raise ValueError(
                f"SLA basis must be one of {', '.join(get_args(SlaBasis))}, got {self.basis!r}"
            )


# --- public functions -------------------------------------------------------------


def hours_on(cal: Calendar, day: date) -> tuple[TimeRange, ...]:
    """The ranges a calendar is open on a local date, sorted; empty when closed."""
    off = cal.days_off.get(day)
    if day in cal.holidays or (off is not None and off.closes_at is None):
        return ()
    if day in cal.makeup_workdays:
        ranges = cal.makeup_hours if cal.makeup_hours is not None else cal.weekly.get(0, ())
    elif national_holiday(cal, day) is not None:
        return ()
    else:
        ranges = cal.weekly.get(day.weekday(), ())
    ordered = tuple(sorted(ranges))
    if off is None or off.closes_at is None:
        return ordered
    closes = off.closes_at
    # A half day keeps what lies before the hour it closes at.
    return tuple(TimeRange(r.start, min(r.end, closes)) for r in ordered if r.start < closes)


def national_holiday(cal: Calendar, day: date) -> str | None:
    """The national holiday's name on `day`, if the calendar has a national source."""
    return None if cal.national is None else cal.national.holiday(day)


def with_days_off(cal: Calendar, days_off: Mapping[date, DayOff]) -> Calendar:
    """`cal` with more days off; on a date with two, the one leaving less working time wins."""
    if not days_off:
        return cal
    merged = dict(cal.days_off)
    for day, off in days_off.items():
        known = merged.get(day)
        if known is None or off.closes_more_than(known):
            merged[day] = off
    return replace(cal, days_off=merged)


def is_open(cal: Calendar, at: datetime) -> bool:
    """True when `at` falls inside a working range (start included, end excluded)."""
    instant = _utc(at, "at")
    local_day = instant.astimezone(cal.tz).date()
    # Neighbouring days too: around a zone transition a range can cross local midnight.
    return any(
        start <= instant < end
        for day in (local_day - _ONE_DAY, local_day, local_day + _ONE_DAY)
        for start, end in _day_intervals(cal, day)
    )


def compute_service_state(hours: ServiceHours, at: datetime, *, disaster: bool) -> ServiceState:
    """The service state at `at`; disaster mode forces 24-hour service (K10(1)).

    Disaster mode wins over every other reason, also for an always-open service, so
    the IVR can tell callers the line is in disaster mode.
    """
    instant = _utc(at, "at")
    if disaster:
        return ServiceState(open=True, reason="disaster", disaster=True)
    if isinstance(hours, AlwaysOpen):
        return ServiceState(open=True, reason="always_open")
    if is_open(hours, instant):
        return ServiceState(open=True, reason="in_hours")
    local_day = instant.astimezone(hours.tz).date()
    holiday = (
        local_day in hours.holidays
        or local_day in hours.days_off
        or (local_day not in hours.makeup_workdays and national_holiday(hours, local_day))
    )
    reason: ServiceReason = "closed_holiday" if holiday else "closed_weekly"
    return ServiceState(open=False, reason=reason, next_open=_next_opening(hours, instant))


def add_working_hours(cal: Calendar, start: datetime, hours: float | timedelta) -> datetime:
    """When `hours` of working time have passed since `start`, in the calendar's zone.

    The clock only runs inside working ranges: a start outside them (lunch, night,
    weekend, holiday, or exactly at a range's end) starts the clock at the next opening.
    A due time that lands exactly on a range's end is that end, not the next opening.
    Zero hours gives the instant the clock starts.
    Raises NoWorkingTime when the calendar has no working time for SEARCH_DAYS days.
    """
    remaining = _as_duration(hours)
    for opens, closes in _intervals(cal, _utc(start, "start")):
        if remaining <= closes - opens:
            return (opens + remaining).astimezone(cal.tz)
        remaining -= closes - opens
    raise AssertionError("unreachable: _intervals without a bound never ends")


def add_wall_clock_hours(start: datetime, hours: float | timedelta) -> datetime:
    """`start` plus elapsed (not working) hours, in `start`'s zone.

    Computed on UTC: aware `datetime + timedelta` in one zone moves the wall clock, which
    is wrong by the DST shift when a span crosses a transition.
    """
    instant = _utc(start, "start") + _as_duration(hours)
    return instant.astimezone(start.tzinfo)


def next_working_day_end(cal: Calendar, start: datetime) -> datetime:
    """When an off-hours ticket opened at `start` is due: the end of the next working day.

    The next working day is the first local day whose first opening is at or after
    `start`. So a ticket taken before a day opens (07:00, or 08:30 sharp) is due when
    that same day closes, while one taken after the day has opened (in hours, at lunch,
    after closing) is due at the close of the following working day: the officer always
    gets a whole working day (K4(4)). Returned in the calendar's zone.
    Raises NoWorkingTime when no day in SEARCH_DAYS days qualifies.
    """
    instant = _utc(start, "start")
    day = instant.astimezone(cal.tz).date()
    for _ in range(SEARCH_DAYS + 1):
        intervals = _day_intervals(cal, day)
        if intervals and intervals[0][0] >= instant:
            return intervals[-1][1].astimezone(cal.tz)
        day += _ONE_DAY
    raise _no_working_time(cal, instant)


def working_time_between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """Working time from `a` to `b`; negative when `b` is before `a`, like `b - a`."""
    start, end = _utc(a, "a"), _utc(b, "b")
    if end < start:
        return -working_time_between(cal, end, start)
    total = _ZERO
    for opens, closes in _intervals(cal, start, until=end):
        total += closes - opens
    return total


def callback_due(policy: SlaPolicy, cal: Calendar, opened_at: datetime) -> datetime:
    """When the callback for a ticket opened at `opened_at` is due, in the calendar's zone."""
    if policy.basis == "wall_clock":
        return add_wall_clock_hours(_utc(opened_at, "opened_at"), policy.hours).astimezone(cal.tz)
    return add_working_hours(cal, opened_at, policy.hours)


# --- internals ----------------------------------------------------------------------


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)


def _as_duration(hours: float | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        duration = hours
    elif not math.isfinite(hours):
        raise ValueError(f"hours must be finite, got {hours!r}")
    else:
        duration = timedelta(hours=hours)
    if duration < _ZERO:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return duration


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant a local wall-clock time happens on `day`."""
    naive = datetime.combine(day, at)
    # Both folds, so a repeated wall time (fall-back) and a skipped one (spring-forward)
    # are told apart by whether the earlier candidate really shows that wall time.
    first, last = sorted(naive.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    if _wall(first, tz) == naive:
        return first
    # Skipped: nobody's clock ever shows it, so the range starts/ends when the clock
    # jumps over it, i.e. the first instant whose wall time is not before it.
    low, high = first, last
    while high - low > _ONE_MICROSECOND:
        middle = low + (high - low) // 2
        if _wall(middle, tz) >= naive:
            high = middle
        else:
            low = middle
    return high


def _day_intervals(cal: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """A local day's working ranges as UTC instants, in order, non-empty, not overlapping."""
    intervals: list[tuple[datetime, datetime]] = []
    floor: datetime | None = None
    for span in hours_on(cal, day):
        opens = _instant(day, span.start, cal.tz)
        closes = _instant(day, span.end, cal.tz)
        # A zone transition can pull a wall time before an earlier one; clipping keeps
        # the intervals ordered so no instant is counted twice.
        if floor is not None:
            opens = max(opens, floor)
        if closes > opens:
            intervals.append((opens, closes))
        floor = closes if floor is None else max(floor, closes)
    return intervals


def _intervals(
    cal: Calendar, start: datetime, *, until: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals after `start` (and before `until`), clipped to that window.

    Unbounded, the walk would spin forever on a calendar without working time, so it
    raises NoWorkingTime after SEARCH_DAYS consecutive days without any.
    """
    # The day before, because near a zone transition its last range can end after
    # the local midnight `start` falls after.
    day = start.astimezone(cal.tz).date() - _ONE_DAY
    last_day = None if until is None else until.astimezone(cal.tz).date() + _ONE_DAY
    floor = start
    idle_days = 0
    while last_day is None or day <= last_day:
        found = False
        for opens, closes in _day_intervals(cal, day):
            clipped_open = max(opens, floor)
            clipped_close = closes if until is None else min(closes, until)
            if clipped_close > clipped_open:
                found = True
                yield clipped_open, clipped_close
            floor = max(floor, closes)
        if last_day is None:
            idle_days = 0 if found else idle_days + 1
            if idle_days > SEARCH_DAYS:
                raise _no_working_time(cal, start)
        day += _ONE_DAY


def _next_opening(cal: Calendar, instant: datetime) -> datetime | None:
    try:
        opens, _ = next(_intervals(cal, instant))
    except NoWorkingTime:
        return None
    return opens.astimezone(cal.tz)


def _no_working_time(cal: Calendar, instant: datetime) -> NoWorkingTime:
    return NoWorkingTime(
        f"calendar ({cal.tz.key}) has no working time within {SEARCH_DAYS} days after "
        f"{instant.astimezone(cal.tz).isoformat()}: check its weekly hours and holidays"
    )
