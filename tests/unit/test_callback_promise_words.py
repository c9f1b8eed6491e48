"""What a caller is told about their callback: "within 4 hours" only when it is true.

Pure, no mocks. Due times come from the real calendar functions on calendars shaped
like the shipped profiles, so each row is a promise a caller could really hear.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.calendar import (
    Calendar,
    SlaPolicy,
    TimeRange,
    callback_due,
    next_working_day_end,
)
from ivr.domain.callback_promise import (
    CALLBACK_BY,
    CALLBACK_BY_END,
    PROMISE_PROMPTS,
    WITHIN_4H_PROMPT,
    callback_promise,
)
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view

REPO = Path(__file__).resolve().parents[2]
TPE = ZoneInfo("Asia/Taipei")
SLA = SlaPolicy(4, "working_hours")

# A Taipei agency: 08:30-12:30 and 13:30-17:30 on weekdays, with some 2026 holidays
# and New Year's Day 2027 (the hand-typed 2026 lists stop before it).
HOLIDAYS = frozenset(
    {
        *(date(2026, 2, d) for d in range(16, 21)),  # Lunar New Year, Mon-Fri
        date(2026, 12, 25),  # Constitution Day, a Friday
        date(2027, 1, 1),  # New Year's Day, a Friday
    }
)
TAIPEI_OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(
        range(5), (TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30)))
    ),
    holidays=HOLIDAYS,
)
# Kinmen's county offices: 08:00-12:00 and 13:30-17:30 on weekdays.
KINMEN_OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(
        range(5), (TimeRange(time(8), time(12)), TimeRange(time(13, 30), time(17, 30)))
    ),
    holidays=HOLIDAYS,
)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TPE)


def by(*pieces: str) -> list[str]:
    return [CALLBACK_BY, *pieces, CALLBACK_BY_END]


WITHIN = [WITHIN_4H_PROMPT]
MON_1230_ZH = by("day-monday", "time-noon", "hour-12", "minute-30")
MON_1230_EN = by("day-monday", "hour-12", "minute-30", "time-pm")

# (now, language, prompts) for a 4-working-hour ticket on the Taipei office calendar.
SLA_CASES = [
    pytest.param(at(2026, 11, 20, 22), "zh-TW", MON_1230_ZH, id="fri-22:00-zh-monday-12:30"),
    pytest.param(at(2026, 11, 20, 22), "en", MON_1230_EN, id="fri-22:00-en-monday-12:30"),
    pytest.param(at(2026, 11, 21, 3), "zh-TW", MON_1230_ZH, id="sat-night-monday"),
    pytest.param(at(2026, 11, 23, 8, 30), "zh-TW", WITHIN, id="opening-within-4h"),
    pytest.param(at(2026, 11, 23, 13, 30), "en", WITHIN, id="afternoon-exactly-4h"),
    pytest.param(
        at(2026, 11, 23, 9),
        "zh-TW",
        by("day-today", "time-pm", "hour-2"),
        id="lunch-inside-makes-it-5h-today-14:00",
    ),
    pytest.param(
        at(2026, 11, 23, 9),
        "en",
        by("day-today", "hour-2", "time-pm"),
        id="lunch-inside-en",
    ),
    pytest.param(
        at(2026, 11, 23, 7),
        "en",
        by("day-today", "hour-12", "minute-30", "time-pm"),
        id="before-opening-today-12:30",
    ),
    pytest.param(
        at(2026, 11, 24, 16, 30),
        "zh-TW",
        by("day-tomorrow", "time-am", "hour-11", "minute-30"),
        id="late-afternoon-tomorrow-11:30",
    ),
    pytest.param(
        at(2026, 11, 24, 16, 53),
        "en",
        by("day-tomorrow", "hour-11", "minute-53", "time-am"),
        id="any-minute",
    ),
    pytest.param(
        at(2026, 12, 24, 15),
        "en",
        by("day-monday", "hour-10", "time-am"),
        id="holiday-friday-skipped-monday-10:00",
    ),
    pytest.param(
        at(2026, 12, 31, 16, 30),
        "zh-TW",
        by("day-monday", "time-am", "hour-11", "minute-30"),
        id="end-of-year-new-years-day-skipped",
    ),
    pytest.param(
        at(2026, 12, 31, 16, 30),
        "en",
        by("day-monday", "hour-11", "minute-30", "time-am"),
        id="end-of-year-en",
    ),
    pytest.param(
        at(2026, 2, 13, 16),
        "zh-TW",
        by("month-2", "date-23", "day-monday", "time-am", "hour-11"),
        id="lunar-new-year-ten-days-says-the-date",
    ),
    pytest.param(
        at(2026, 2, 13, 16),
        "en",
        by("day-monday", "month-2", "date-23", "hour-11", "time-am"),
        id="lunar-new-year-en",
    ),
    pytest.param(
        at(2026, 2, 13, 16),
        "nan",
        by("month-2", "date-23", "day-monday", "time-am", "hour-11"),
        id="taiwanese-in-chinese-order",
    ),
]


@pytest.mark.parametrize(("now", "language", "expected"), SLA_CASES)
def test_the_caller_hears_when_a_4_hour_ticket_is_really_due(
    now: datetime, language: str, expected: list[str]
) -> None:
    due = callback_due(SLA, TAIPEI_OFFICE, now)
    assert callback_promise(due, now, language, TPE) == expected


@pytest.mark.parametrize(
    ("now", "language", "expected"),
    [
        pytest.param(
            at(2026, 11, 21, 10),
            "zh-TW",
            by("day-monday", "time-pm", "hour-5", "minute-30"),
            id="saturday-monday-17:30",
        ),
        pytest.param(
            at(2026, 11, 23, 19),
            "en",
            by("day-tomorrow", "hour-5", "minute-30", "time-pm"),
            id="weekday-evening-tomorrow",
        ),
        pytest.param(
            at(2026, 11, 23, 7),
            "zh-TW",
            by("day-today", "time-pm", "hour-5", "minute-30"),
            id="before-opening-today",
        ),
        pytest.param(
            at(2026, 12, 31, 19),
            "en",
            by("day-monday", "hour-5", "minute-30", "time-pm"),
            id="new-years-eve-monday",
        ),
    ],
)
def test_an_off_hours_ticket_names_the_end_of_the_next_working_day(
    now: datetime, language: str, expected: list[str]
) -> None:
    due = next_working_day_end(KINMEN_OFFICE, now)
    assert callback_promise(due, now, language, TPE) == expected


def test_the_shipped_taipei_calendar_promises_monday_12_30_for_friday_22_00() -> None:
    view = build_view(load_profile(REPO / "routing" / "taipei"))
    friday = at(2026, 11, 20, 22)
    due = callback_due(view.sla, view.office, friday)
    assert due == at(2026, 11, 23, 12, 30)
    assert callback_promise(due, friday, "zh-TW", view.office.tz) == MON_1230_ZH
    assert WITHIN_4H_PROMPT not in callback_promise(due, friday, "en", view.office.tz)


@pytest.mark.parametrize(
    ("hour", "minute", "zh", "en"),
    [
        (0, 0, ["time-midnight", "hour-12"], ["hour-12", "time-midnight"]),
        (0, 30, ["time-midnight", "hour-12", "minute-30"], ["hour-12", "minute-30", "time-am"]),
        (9, 5, ["time-am", "hour-9", "minute-05"], ["hour-9", "minute-05", "time-am"]),
        (12, 0, ["time-noon", "hour-12"], ["hour-12", "time-noon"]),
        (17, 59, ["time-pm", "hour-5", "minute-59"], ["hour-5", "minute-59", "time-pm"]),
        (20, 0, ["time-evening", "hour-8"], ["hour-8", "time-pm"]),
        (23, 1, ["time-evening", "hour-11", "minute-01"], ["hour-11", "minute-01", "time-pm"]),
    ],
)
def test_every_hour_of_the_clock_is_spoken(
    hour: int, minute: int, zh: list[str], en: list[str]
) -> None:
    # Wall-clock SLAs can fall due at any hour, midnight included.
    now = at(2026, 11, 23, 0) - timedelta(days=3)
    due = at(2026, 11, 23, hour, minute)
    assert callback_promise(due, now, "zh-TW", TPE) == by("day-monday", *zh)
    assert callback_promise(due, now, "en", TPE) == by("day-monday", *en)


def test_a_due_time_in_utc_is_spoken_in_the_profile_zone() -> None:
    now = at(2026, 11, 20, 22)
    due_utc = at(2026, 11, 23, 12, 30).astimezone(UTC)
    assert callback_promise(due_utc, now.astimezone(UTC), "zh-TW", TPE) == MON_1230_ZH


def test_a_language_without_a_grammar_is_read_in_english_order() -> None:
    now = at(2026, 11, 20, 22)
    due = at(2026, 11, 23, 12, 30)
    assert callback_promise(due, now, "ja", TPE) == MON_1230_EN


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 23, 12, 30)  # noqa: DTZ001 - refusing it is the point
    with pytest.raises(ValueError, match="due must be a timezone-aware"):
        callback_promise(naive, at(2026, 11, 20, 22), "en", TPE)
    with pytest.raises(ValueError, match="now must be a timezone-aware"):
        callback_promise(at(2026, 11, 23, 12, 30), naive, "en", TPE)


def _spoken(prompts: list[str]) -> tuple[int, int] | None:
    """The 24-hour wall time an English promise names (None for "within 4 hours")."""
    if prompts == WITHIN:
        return None
    hour = next(int(p.split("-")[1]) for p in prompts if p.startswith("hour-"))
    minute = next((int(p.split("-")[1]) for p in prompts if p.startswith("minute-")), 0)
    if "time-am" in prompts or "time-midnight" in prompts:
        return hour % 12, minute
    return hour % 12 + 12, minute


def _day_offset(prompts: list[str], now: datetime) -> date:
    """The local date an English promise names."""
    if "day-today" in prompts:
        return now.date()
    if "day-tomorrow" in prompts:
        return now.date() + timedelta(days=1)
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    weekday = next(names.index(p[4:]) for p in prompts if p[4:] in names)
    month = next((int(p[6:]) for p in prompts if p.startswith("month-")), None)
    day = next((int(p[5:]) for p in prompts if p.startswith("date-")), None)
    candidate = now.date() + timedelta(days=2)
    while True:
        if candidate.weekday() == weekday and (
            month is None or (candidate.month, candidate.day) == (month, day)
        ):
            return candidate
        candidate += timedelta(days=1)


# Naive bounds, as hypothesis requires; the instants are made local to Taipei below.
FIRST = datetime(2026, 1, 1)  # noqa: DTZ001
LAST = datetime(2027, 12, 31)  # noqa: DTZ001


@given(
    now=st.datetimes(min_value=FIRST, max_value=LAST),
    ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
    language=st.sampled_from(["zh-TW", "en", "nan", "hak"]),
)
def test_any_promise_names_the_due_day_and_time_or_is_within_4_hours(
    now: datetime, ahead: timedelta, language: str
) -> None:
    local_now = now.replace(tzinfo=TPE)
    due = (local_now + ahead).replace(second=0, microsecond=0)
    prompts = callback_promise(due, local_now, language, TPE)
    assert set(prompts) <= set(PROMISE_PROMPTS)
    if due - local_now <= timedelta(hours=4):
        assert prompts == WITHIN
        return
    assert WITHIN_4H_PROMPT not in prompts
    english = callback_promise(due, local_now, "en", TPE)
    # Every language names the same day, hour and minute, in its own order (only the
    # part of the day differs: 晚上 for the evening, where English says p.m.).
    assert sorted(p for p in prompts if not p.startswith("time-")) == sorted(
        p for p in english if not p.startswith("time-")
    )
    assert _spoken(english) == (due.hour, due.minute)
    assert _day_offset(english, local_now) == due.date()
