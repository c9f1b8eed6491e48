"""Service hours, disaster mode and the working-hour callback clock: pure, no mocks."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.domain.calendar import (
    ALWAYS_OPEN,
    Calendar,
    NoWorkingTime,
    ServiceHours,
    ServiceState,
    SlaPolicy,
    TimeRange,
    add_wall_clock_hours,
    add_working_hours,
    callback_due,
    compute_service_state,
    hours_on,
    is_open,
    next_working_day_end,
    working_time_between,
)

TPE = ZoneInfo("Asia/Taipei")
NYC = ZoneInfo("America/New_York")

# Office hours of a Taipei agency: two blocks around the lunch break, Monday to Friday.
OFFICE_DAY = (TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30)))
# Sample 2024 dates: Lunar New Year (Thu 8 Feb to Wed 14 Feb), the make-up Saturday
# 17 Feb for the bridge day, and the Dragon Boat Festival on Monday 10 June.
LUNAR_NEW_YEAR = frozenset(date(2024, 2, d) for d in range(8, 15))
DRAGON_BOAT = date(2024, 6, 10)
MAKEUP_SATURDAY = date(2024, 2, 17)

OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(range(5), OFFICE_DAY),
    holidays=LUNAR_NEW_YEAR | {DRAGON_BOAT},
    makeup_workdays=frozenset({MAKEUP_SATURDAY}),
)
# Kinmen K10(1): daily 08:00-20:00.
KINMEN = Calendar(tz=TPE, weekly={d: (TimeRange(time(8), time(20)),) for d in range(7)})
EMPTY = Calendar(tz=TPE, weekly={})
# Night hours in New York straddle both 2024 DST transitions (10 Mar, 3 Nov at 02:00),
# and one range starts inside the spring-forward gap.
NIGHT_NYC = Calendar(
    tz=NYC,
    weekly={
        6: (TimeRange(time(0, 30), time(1, 45)), TimeRange(time(2, 30), time(3, 30))),
        0: (TimeRange(time(9), time(17)),),
    },
)
# One long night range, so the repeated hour of the fall-back lies inside it.
LONG_NIGHT_NYC = Calendar(tz=NYC, weekly={6: (TimeRange(time(0, 30), time(3, 30)),)})


def tpe(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Taipei wall-clock instant."""
    return datetime(y, mo, d, h, mi, tzinfo=TPE)


# Reference week: Mon 4 Mar 2024 to Sun 10 Mar 2024.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2024, 3, d) for d in range(4, 11))


def at(day: date, h: int = 0, mi: int = 0) -> datetime:
    """A Taipei instant on a given date."""
    return datetime.combine(day, time(h, mi), tzinfo=TPE)


NEXT_MON = date(2024, 3, 11)


# --- add_working_hours --------------------------------------------------------------

WORKING_HOURS_CASES = [
    pytest.param(at(FRI, 16, 30), 4, at(NEXT_MON, 11, 30), id="friday-1630-to-monday-1130"),
    pytest.param(at(MON, 12, 45), 1, at(MON, 14, 30), id="lunch-starts-at-1330"),
    pytest.param(at(MON, 12, 45), 4, at(MON, 17, 30), id="lunch-4h-ends-at-close"),
    pytest.param(at(MON, 7), 4, at(MON, 12, 30), id="before-hours-starts-0830"),
    pytest.param(at(MON, 7), 5, at(MON, 14, 30), id="before-hours-skips-lunch"),
    pytest.param(at(SAT, 10), 4, at(NEXT_MON, 12, 30), id="saturday-starts-monday"),
    pytest.param(at(SUN, 23, 59), 1, at(NEXT_MON, 9, 30), id="sunday-night"),
    pytest.param(at(MON, 17, 30), 1, at(TUE, 9, 30), id="at-close-starts-next-day"),
    pytest.param(at(MON, 12, 30), 1, at(MON, 14, 30), id="at-lunch-start"),
    pytest.param(at(MON, 8, 30), 1, at(MON, 9, 30), id="at-opening"),
    pytest.param(at(MON, 10), 2.5, at(MON, 12, 30), id="due-exactly-at-range-end"),
    pytest.param(at(FRI, 16, 30), 1, at(FRI, 17, 30), id="due-exactly-at-close"),
    pytest.param(at(MON, 8, 30), 20, at(WED, 12, 30), id="20h-from-monday-opening"),
    pytest.param(at(THU, 10), 20, at(NEXT_MON, 15), id="20h-over-a-weekend"),
    pytest.param(at(MON, 9), 0.25, at(MON, 9, 15), id="fraction-of-an-hour"),
    pytest.param(at(MON, 9), timedelta(minutes=90), at(MON, 10, 30), id="timedelta"),
    pytest.param(at(SAT, 10), 0, at(NEXT_MON, 8, 30), id="zero-hours-is-clock-start"),
    pytest.param(at(MON, 9), 0, at(MON, 9), id="zero-hours-in-hours"),
    pytest.param(
        tpe(2024, 6, 7, 16, 30), 4, tpe(2024, 6, 11, 11, 30), id="holiday-monday-to-tuesday"
    ),
    pytest.param(
        tpe(2024, 2, 16, 16, 30), 4, tpe(2024, 2, 17, 11, 30), id="makeup-saturday-counts"
    ),
    pytest.param(tpe(2024, 2, 7, 16, 30), 4, tpe(2024, 2, 15, 11, 30), id="over-lunar-new-year"),
    pytest.param(datetime(2024, 3, 8, 8, 30, tzinfo=UTC), 4, at(NEXT_MON, 11, 30), id="utc-start"),
]


@pytest.mark.parametrize(("start", "hours", "due"), WORKING_HOURS_CASES)
def test_add_working_hours(start: datetime, hours: float | timedelta, due: datetime) -> None:
    """The due time counts only office hours, skipping lunch, nights, weekends, holidays."""
    result = add_working_hours(OFFICE, start, hours)
    assert result == due
    assert result.tzinfo is TPE


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(at(MON, 19), 4, at(TUE, 11), id="evening-1h-then-next-morning"),
        pytest.param(at(SAT, 7), 13, at(SUN, 9), id="weekend-counts-daily"),
        pytest.param(at(MON, 10), 10, at(MON, 20), id="due-at-2000-close"),
    ],
)
def test_add_working_hours_kinmen(start: datetime, hours: float, due: datetime) -> None:
    """Kinmen's daily 08:00-20:00 runs the clock every day of the week."""
    assert add_working_hours(KINMEN, start, hours) == due


# --- is_open ------------------------------------------------------------------------

OPEN_CASES = [
    pytest.param(OFFICE, at(MON, 8, 29), False, id="before-opening"),
    pytest.param(OFFICE, at(MON, 8, 30), True, id="opening-included"),
    pytest.param(OFFICE, at(MON, 12, 29), True, id="before-lunch"),
    pytest.param(OFFICE, at(MON, 12, 30), False, id="lunch-start-excluded"),
    pytest.param(OFFICE, at(MON, 13, 30), True, id="after-lunch"),
    pytest.param(OFFICE, at(MON, 17, 30), False, id="close-excluded"),
    pytest.param(OFFICE, at(SAT, 10), False, id="saturday"),
    pytest.param(OFFICE, at(SUN, 10), False, id="sunday"),
    pytest.param(OFFICE, at(DRAGON_BOAT, 10), False, id="holiday-monday"),
    pytest.param(OFFICE, at(MAKEUP_SATURDAY, 10), True, id="makeup-saturday"),
    pytest.param(OFFICE, datetime(2024, 3, 4, 2, tzinfo=UTC), True, id="utc-0200-is-1000"),
    pytest.param(KINMEN, at(SUN, 8), True, id="kinmen-sunday-0800"),
    pytest.param(KINMEN, at(SUN, 20), False, id="kinmen-2000-closed"),
    pytest.param(EMPTY, at(MON, 10), False, id="empty-calendar"),
]


@pytest.mark.parametrize(("cal", "moment", "expected"), OPEN_CASES)
def test_is_open(cal: Calendar, moment: datetime, expected: bool) -> None:
    """Ranges are half-open; holidays close weekdays, make-up days open Saturdays."""
    assert is_open(cal, moment) is expected


def test_makeup_day_uses_its_own_hours_when_given() -> None:
    """A make-up day with explicit hours uses them instead of Monday's."""
    morning_only = (TimeRange(time(9), time(12)),)
    cal = Calendar(
        tz=TPE,
        weekly=OFFICE.weekly,
        makeup_workdays=frozenset({MAKEUP_SATURDAY}),
        makeup_hours=morning_only,
    )
    assert hours_on(cal, MAKEUP_SATURDAY) == morning_only
    assert is_open(cal, at(MAKEUP_SATURDAY, 9))
    assert not is_open(cal, at(MAKEUP_SATURDAY, 13, 30))


def test_hours_on_sorts_ranges_and_closes_holidays() -> None:
    """Ranges come back sorted whatever order the table gave; a holiday has none."""
    cal = Calendar(tz=TPE, weekly={0: tuple(reversed(OFFICE_DAY))}, holidays={DRAGON_BOAT})
    assert hours_on(cal, MON) == OFFICE_DAY
    assert hours_on(cal, DRAGON_BOAT) == ()


# --- compute_service_state ----------------------------------------------------------

STATE_CASES = [
    pytest.param(ALWAYS_OPEN, at(SUN, 3), False, ServiceState(True, "always_open"), id="taipei"),
    pytest.param(
        ALWAYS_OPEN,
        at(SUN, 3),
        True,
        ServiceState(True, "disaster", disaster=True),
        id="taipei-disaster",
    ),
    pytest.param(KINMEN, at(MON, 10), False, ServiceState(True, "in_hours"), id="kinmen-day"),
    pytest.param(
        KINMEN,
        at(MON, 20),
        False,
        ServiceState(False, "closed_weekly", next_open=at(TUE, 8)),
        id="kinmen-2000-next-morning",
    ),
    pytest.param(
        KINMEN,
        at(MON, 7, 59),
        False,
        ServiceState(False, "closed_weekly", next_open=at(MON, 8)),
        id="kinmen-early-same-day",
    ),
    pytest.param(
        KINMEN,
        at(MON, 23),
        True,
        ServiceState(True, "disaster", disaster=True),
        id="kinmen-disaster-24h",
    ),
    pytest.param(
        OFFICE,
        at(FRI, 18),
        False,
        ServiceState(False, "closed_weekly", next_open=at(NEXT_MON, 8, 30)),
        id="office-friday-evening",
    ),
    pytest.param(
        OFFICE,
        at(MON, 12, 45),
        False,
        ServiceState(False, "closed_weekly", next_open=at(MON, 13, 30)),
        id="office-lunch",
    ),
    pytest.param(
        OFFICE,
        at(DRAGON_BOAT, 10),
        False,
        ServiceState(False, "closed_holiday", next_open=tpe(2024, 6, 11, 8, 30)),
        id="office-holiday",
    ),
    pytest.param(
        OFFICE,
        tpe(2024, 2, 16, 18),
        False,
        ServiceState(False, "closed_weekly", next_open=tpe(2024, 2, 17, 8, 30)),
        id="office-before-makeup-saturday",
    ),
    pytest.param(EMPTY, at(MON, 10), False, ServiceState(False, "closed_weekly"), id="never-open"),
]


@pytest.mark.parametrize(("hours", "moment", "disaster", "expected"), STATE_CASES)
def test_compute_service_state(
    hours: ServiceHours, moment: datetime, disaster: bool, expected: ServiceState
) -> None:
    """Open/closed, the reason, and the next opening; disaster mode forces 24 h."""
    state = compute_service_state(hours, moment, disaster=disaster)
    assert state == expected
    if state.next_open is not None:
        assert state.next_open.tzinfo is TPE


# --- next_working_day_end -----------------------------------------------------------

NEXT_DAY_CASES = [
    pytest.param(OFFICE, at(FRI, 18), at(NEXT_MON, 17, 30), id="friday-evening"),
    pytest.param(OFFICE, at(SAT, 10), at(NEXT_MON, 17, 30), id="saturday"),
    pytest.param(OFFICE, at(MON, 7), at(MON, 17, 30), id="before-opening-same-day"),
    pytest.param(OFFICE, at(MON, 8, 30), at(MON, 17, 30), id="at-opening-same-day"),
    pytest.param(OFFICE, at(MON, 10), at(TUE, 17, 30), id="in-hours-next-day"),
    pytest.param(OFFICE, at(MON, 12, 45), at(TUE, 17, 30), id="lunch-next-day"),
    pytest.param(OFFICE, at(MON, 17, 30), at(TUE, 17, 30), id="at-close-next-day"),
    pytest.param(
        OFFICE, tpe(2024, 6, 7, 18), tpe(2024, 6, 11, 17, 30), id="holiday-monday-skipped"
    ),
    pytest.param(OFFICE, tpe(2024, 2, 16, 18), tpe(2024, 2, 17, 17, 30), id="makeup-saturday"),
    pytest.param(
        OFFICE,
        datetime(2024, 3, 8, 10, tzinfo=UTC),
        at(NEXT_MON, 17, 30),
        id="utc-start-friday-1800-taipei",
    ),
    pytest.param(KINMEN, at(SAT, 21), at(SUN, 20), id="kinmen-night"),
]


@pytest.mark.parametrize(("cal", "start", "due"), NEXT_DAY_CASES)
def test_next_working_day_end(cal: Calendar, start: datetime, due: datetime) -> None:
    """Off-hours tickets are due at the close of the first day not yet opened at start."""
    result = next_working_day_end(cal, start)
    assert result == due
    assert result.tzinfo is TPE


# --- working_time_between -----------------------------------------------------------

BETWEEN_CASES = [
    pytest.param(at(FRI, 16, 30), at(NEXT_MON, 11, 30), timedelta(hours=4), id="over-weekend"),
    pytest.param(at(MON, 10), at(MON, 10), timedelta(0), id="same-instant"),
    pytest.param(at(MON), at(NEXT_MON), timedelta(hours=40), id="whole-week"),
    pytest.param(at(SAT), at(NEXT_MON), timedelta(0), id="weekend"),
    pytest.param(at(MON, 12, 30), at(MON, 13, 30), timedelta(0), id="lunch"),
    pytest.param(at(MON, 12), at(MON, 14), timedelta(hours=1), id="across-lunch"),
    pytest.param(at(NEXT_MON, 11, 30), at(FRI, 16, 30), -timedelta(hours=4), id="reversed"),
    pytest.param(
        tpe(2024, 2, 5), tpe(2024, 2, 19), timedelta(hours=8 * 6), id="lunar-new-year-fortnight"
    ),
    pytest.param(
        datetime(2024, 3, 8, 8, 30, tzinfo=UTC),
        at(NEXT_MON, 11, 30),
        timedelta(hours=4),
        id="mixed-zones",
    ),
]


@pytest.mark.parametrize(("a", "b", "expected"), BETWEEN_CASES)
def test_working_time_between(a: datetime, b: datetime, expected: timedelta) -> None:
    """Working time between two instants, signed like subtraction."""
    assert working_time_between(OFFICE, a, b) == expected


def test_working_time_between_on_empty_calendar_is_zero() -> None:
    """A bounded span needs no search limit: no working time simply counts as zero."""
    assert working_time_between(EMPTY, at(MON), at(MON) + timedelta(days=1000)) == timedelta(0)


# --- wall clock and SLA policy ------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(at(FRI, 16, 30), 4, at(FRI, 20, 30), id="evening"),
        pytest.param(at(SAT, 22), 4, at(SUN, 2), id="over-midnight"),
        pytest.param(at(MON, 9), timedelta(minutes=30), at(MON, 9, 30), id="timedelta"),
        pytest.param(
            datetime(2024, 3, 9, 12, tzinfo=NYC),
            24,
            datetime(2024, 3, 10, 13, tzinfo=NYC),
            id="elapsed-across-spring-forward",
        ),
    ],
)
def test_add_wall_clock_hours(start: datetime, hours: float | timedelta, due: datetime) -> None:
    """Wall-clock SLAs count elapsed hours, nights and weekends included."""
    result = add_wall_clock_hours(start, hours)
    assert result.astimezone(UTC) == due.astimezone(UTC)
    assert result.tzinfo is start.tzinfo


@pytest.mark.parametrize(
    ("policy", "opened", "due"),
    [
        pytest.param(SlaPolicy(), at(FRI, 16, 30), at(NEXT_MON, 11, 30), id="default-4-working"),
        pytest.param(
            SlaPolicy(8, "working_hours"), at(MON, 12, 45), at(TUE, 12, 30), id="8-working"
        ),
        pytest.param(SlaPolicy(4, "wall_clock"), at(FRI, 16, 30), at(FRI, 20, 30), id="wall"),
        pytest.param(
            SlaPolicy(4, "wall_clock"),
            datetime(2024, 3, 8, 8, 30, tzinfo=UTC),
            at(FRI, 20, 30),
            id="wall-utc-start",
        ),
    ],
)
def test_callback_due(policy: SlaPolicy, opened: datetime, due: datetime) -> None:
    """The policy picks working-hour or wall-clock counting; results are in Taipei time."""
    result = callback_due(policy, OFFICE, opened)
    assert result == due
    assert result.tzinfo is TPE


# --- zones with daylight saving -----------------------------------------------------


def nyc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A UTC instant given as New York wall time (first occurrence when repeated)."""
    return datetime(y, mo, d, h, mi, tzinfo=NYC).astimezone(UTC)


@pytest.mark.parametrize(
    ("cal", "day", "expected"),
    [
        # 00:30-01:45 EST, then 02:30 does not exist: the second range opens at 03:00 EDT.
        pytest.param(
            NIGHT_NYC, date(2024, 3, 10), timedelta(hours=1, minutes=45), id="gap-spring-forward"
        ),
        # The repeated 01:00-02:00 falls between the two ranges: nothing changes.
        pytest.param(
            NIGHT_NYC, date(2024, 11, 3), timedelta(hours=2, minutes=15), id="gap-fall-back"
        ),
        pytest.param(
            NIGHT_NYC, date(2024, 3, 17), timedelta(hours=2, minutes=15), id="gap-ordinary"
        ),
        # 00:30-03:30 on the wall is 2 h, 4 h or 3 h of elapsed time.
        pytest.param(LONG_NIGHT_NYC, date(2024, 3, 10), timedelta(hours=2), id="spring-forward"),
        pytest.param(LONG_NIGHT_NYC, date(2024, 11, 3), timedelta(hours=4), id="fall-back"),
        pytest.param(LONG_NIGHT_NYC, date(2024, 3, 17), timedelta(hours=3), id="ordinary"),
    ],
)
def test_working_time_counts_elapsed_time_across_dst(
    cal: Calendar, day: date, expected: timedelta
) -> None:
    """Working time is elapsed time, whatever the wall clock does on transition days."""
    midnight = datetime.combine(day, time(), tzinfo=NYC)
    assert working_time_between(cal, midnight, midnight + timedelta(days=1)) == expected


def test_range_starting_in_the_gap_opens_when_the_clock_jumps() -> None:
    """A range starting at a skipped wall time opens at the jump instant (03:00 EDT)."""
    jump = datetime(2024, 3, 10, 7, tzinfo=UTC)
    assert not is_open(NIGHT_NYC, jump - timedelta(microseconds=1))
    assert is_open(NIGHT_NYC, jump)
    state = compute_service_state(NIGHT_NYC, nyc(2024, 3, 10, 1, 50), disaster=False)
    assert state.next_open == jump
    assert state.next_open is not None
    assert state.next_open.tzinfo is NYC
    assert state.next_open.hour == 3


@pytest.mark.parametrize(
    ("cal", "hours", "due_utc"),
    [
        # 00:30 EDT + 2 h is the second 01:30 (EST), not 02:30 on the wall.
        pytest.param(LONG_NIGHT_NYC, 2, datetime(2024, 11, 3, 6, 30, tzinfo=UTC), id="long"),
        # 1 h 15 min until 01:45 EDT, then 45 min from 02:30 EST.
        pytest.param(NIGHT_NYC, 2, datetime(2024, 11, 3, 8, 15, tzinfo=UTC), id="split"),
    ],
)
def test_add_working_hours_across_fall_back(cal: Calendar, hours: float, due_utc: datetime) -> None:
    """Over the repeated hour the clock counts elapsed time, not wall time."""
    due = add_working_hours(cal, nyc(2024, 11, 3, 0, 30), hours)
    assert due.astimezone(UTC) == due_utc
    assert due.tzinfo is NYC


# --- validation ---------------------------------------------------------------------

NAIVE = datetime(2024, 3, 4, 10)  # noqa: DTZ001 - the point is that it is naive
NAIVE_CALLS: list[Callable[[], object]] = [
    lambda: is_open(OFFICE, NAIVE),
    lambda: compute_service_state(ALWAYS_OPEN, NAIVE, disaster=False),
    lambda: compute_service_state(OFFICE, NAIVE, disaster=True),
    lambda: add_working_hours(OFFICE, NAIVE, 4),
    lambda: add_wall_clock_hours(NAIVE, 4),
    lambda: next_working_day_end(OFFICE, NAIVE),
    lambda: working_time_between(OFFICE, NAIVE, at(MON)),
    lambda: working_time_between(OFFICE, at(MON), NAIVE),
    lambda: callback_due(SlaPolicy(), OFFICE, NAIVE),
    lambda: callback_due(SlaPolicy(basis="wall_clock"), OFFICE, NAIVE),
]


@pytest.mark.parametrize(
    "call",
    [pytest.param(call, id=f"call-{n}") for n, call in enumerate(NAIVE_CALLS)],
)
def test_naive_datetimes_are_rejected(call: Callable[[], object]) -> None:
    """Every entry point refuses a naive datetime instead of guessing a zone."""
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: TimeRange(time(12), time(12)), "before end", id="empty-range"),
        pytest.param(lambda: TimeRange(time(18), time(9)), "before end", id="inverted-range"),
        pytest.param(
            lambda: TimeRange(time(8, tzinfo=TPE), time(9)), "naive", id="range-with-zone"
        ),
        pytest.param(
            lambda: Calendar(TPE, {7: OFFICE_DAY}), "weekday must be", id="weekday-out-of-range"
        ),
        pytest.param(
            lambda: Calendar(
                TPE, {0: (TimeRange(time(8), time(12)), TimeRange(time(11), time(13)))}
            ),
            "overlapping",
            id="overlapping-ranges",
        ),
        pytest.param(
            lambda: Calendar(
                TPE, {}, makeup_hours=(TimeRange(time(8), time(12)), TimeRange(time(9), time(10)))
            ),
            "overlapping",
            id="overlapping-makeup-hours",
        ),
        pytest.param(
            lambda: Calendar(TPE, {}, holidays=frozenset({MON}), makeup_workdays=frozenset({MON})),
            "both a holiday and a make-up",
            id="holiday-and-makeup",
        ),
        pytest.param(lambda: SlaPolicy(-1), "negative", id="negative-sla"),
        pytest.param(lambda: SlaPolicy(math.nan), "finite", id="nan-sla"),
        pytest.param(lambda: SlaPolicy(4, "fortnights"), "basis", id="unknown-basis"),
        pytest.param(
            lambda: add_working_hours(OFFICE, at(MON), -0.5), "negative", id="negative-hours"
        ),
        pytest.param(
            lambda: add_working_hours(OFFICE, at(MON), math.inf), "finite", id="infinite-hours"
        ),
        pytest.param(
            lambda: add_wall_clock_hours(at(MON), timedelta(hours=-1)),
            "negative",
            id="negative-wall-clock",
        ),
    ],
)
def test_invalid_input_is_rejected(build: Callable[[], object], message: str) -> None:
    """Bad tables and arguments fail loudly with a message naming the problem."""
    with pytest.raises(ValueError, match=message):
        build()


def test_adjacent_ranges_are_allowed() -> None:
    """Ranges that touch do not overlap, and the clock runs straight through them."""
    cal = Calendar(TPE, {0: (TimeRange(time(8), time(12)), TimeRange(time(12), time(16)))})
    assert is_open(cal, at(MON, 12))
    assert add_working_hours(cal, at(MON, 11), 2) == at(MON, 13)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: add_working_hours(EMPTY, at(MON), 4), id="add-working-hours"),
        pytest.param(lambda: next_working_day_end(EMPTY, at(MON)), id="next-working-day"),
        pytest.param(lambda: callback_due(SlaPolicy(), EMPTY, at(MON)), id="callback-due-working"),
        pytest.param(
            lambda: add_working_hours(
                Calendar(
                    TPE, OFFICE.weekly, holidays=frozenset(MON + timedelta(n) for n in range(500))
                ),
                at(MON),
                1,
            ),
            id="holidays-for-500-days",
        ),
    ],
)
def test_calendar_without_working_time_raises(call: Callable[[], object]) -> None:
    """A calendar that never opens raises instead of looping forever."""
    with pytest.raises(NoWorkingTime, match="no working time within 400 days"):
        call()


def test_wall_clock_policy_needs_no_working_time() -> None:
    """A wall-clock SLA does not depend on the calendar having hours."""
    assert callback_due(SlaPolicy(basis="wall_clock"), EMPTY, at(MON)) == at(MON, 4)


# --- properties ---------------------------------------------------------------------

CALENDARS = st.sampled_from([OFFICE, KINMEN, NIGHT_NYC, LONG_NIGHT_NYC])
STARTS = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2025, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([TPE, UTC, NYC]),
)
HOURS = st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200))


def _is_working_or_range_end(cal: Calendar, moment: datetime) -> bool:
    return is_open(cal, moment) or is_open(cal, moment - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=STARTS, hours=HOURS)
def test_property_due_is_after_start_in_working_time(
    cal: Calendar, start: datetime, hours: float
) -> None:
    """The due time never precedes the start and lies in working time or at a range end."""
    due = add_working_hours(cal, start, hours)
    assert due.astimezone(UTC) >= start.astimezone(UTC)
    assert _is_working_or_range_end(cal, due)


@settings(max_examples=300, deadline=None)
@given(cal=CALENDARS, start=STARTS, hours=HOURS)
def test_property_working_time_round_trips_to_the_second(
    cal: Calendar, start: datetime, hours: float
) -> None:
    """Measuring from start to the due time gives back the hours added, to the second."""
    due = add_working_hours(cal, start, hours)
    measured = working_time_between(cal, start, due)
    assert abs(measured - timedelta(hours=hours)) < timedelta(seconds=1)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, start=STARTS, duration=DURATIONS)
def test_property_timedelta_round_trip_is_exact(
    cal: Calendar, start: datetime, duration: timedelta
) -> None:
    """With a timedelta the round trip is exact to the microsecond."""
    assert working_time_between(cal, start, add_working_hours(cal, start, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, start=STARTS, first=DURATIONS, second=DURATIONS)
def test_property_adding_in_two_steps_matches_one(
    cal: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    """Adding a then b working hours (b > 0) lands where adding a + b does."""
    if second <= timedelta(0):
        second = timedelta(seconds=1)
    stepwise = add_working_hours(cal, add_working_hours(cal, start, first), second)
    at_once = add_working_hours(cal, start, first + second)
    assert stepwise.astimezone(UTC) == at_once.astimezone(UTC)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, moment=STARTS)
def test_property_next_open_is_the_next_working_instant(cal: Calendar, moment: datetime) -> None:
    """When closed, next_open is open and no working time lies before it."""
    state = compute_service_state(cal, moment, disaster=False)
    assert state.open == is_open(cal, moment)
    if not state.open:
        assert state.next_open is not None
        assert is_open(cal, state.next_open)
        assert working_time_between(cal, moment, state.next_open) == timedelta(0)
        clock_start = add_working_hours(cal, moment, 0)
        assert clock_start.astimezone(UTC) == state.next_open.astimezone(UTC)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, start=STARTS)
def test_property_next_working_day_end_gives_a_whole_day(cal: Calendar, start: datetime) -> None:
    """The next-working-day due time closes a day that opened at or after the start."""
    due = next_working_day_end(cal, start)
    assert due.astimezone(UTC) > start.astimezone(UTC)
    assert not is_open(cal, due)
    assert is_open(cal, due - timedelta(microseconds=1))
    day_ranges = hours_on(cal, due.date())
    assert day_ranges
    assert due.time() == day_ranges[-1].end
