"""The month's pauses per agent and reason: edges of the month, how pauses end, open ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ivr.domain.pause_report import PauseRow, pause_rows
from ivr.domain.tickets import month_bounds

START, END = month_bounds("2026-11")
LATER = END + timedelta(days=30)  # a clock long after the month


@dataclass(frozen=True)
class Change:
    id: int
    agent_id: str
    state: str
    at: datetime
    reason: str | None = None


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # Asia/Taipei is UTC+8; Nov 2026 runs from Oct 31 16:00 UTC to Nov 30 16:00 UTC.
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_a_pause_ended_by_going_ready_and_one_ended_by_logout_both_count() -> None:
    changes = [
        Change(1, "1001", "logged_in", at(3, 1)),
        Change(2, "1001", "paused", at(3, 2), "meal"),
        Change(3, "1001", "unpaused", at(3, 2, 30)),
        Change(4, "1001", "paused", at(3, 5), "meal"),
        Change(5, "1001", "logged_out", at(3, 6, 30)),
    ]
    rows = pause_rows(changes, START, END, LATER)
    assert rows == [PauseRow("1001", "meal", 2, 2 * 3600.0, 3600.0, 0)]


def test_reasons_and_agents_are_separate_rows_and_no_reason_is_unspecified() -> None:
    changes = [
        Change(1, "1001", "paused", at(4, 1), "break"),
        Change(2, "1001", "paused", at(4, 1, 10), None),  # re-paused: the break ends
        Change(3, "1001", "unpaused", at(4, 1, 40)),
        Change(4, "1002", "paused", at(4, 1), "training"),
        Change(5, "1002", "unpaused", at(4, 2)),
        Change(6, "1002", "paused", at(4, 3), "training"),
        Change(7, "1002", "unpaused", at(4, 3, 20)),
        Change(8, "1002", "paused", at(4, 4), "training"),
        Change(9, "1002", "unpaused", at(4, 4, 5)),
    ]
    rows = pause_rows(changes, START, END, LATER)
    assert rows == [
        PauseRow("1001", "break", 1, 600.0, 600.0, 0),
        PauseRow("1001", "unspecified", 1, 1800.0, 1800.0, 0),
        PauseRow("1002", "training", 3, 85 * 60.0, 20 * 60.0, 0),
    ]
    assert pause_rows(changes, START, END, LATER, agent_id="1002") == rows[2:]


def test_a_pause_crossing_the_months_end_is_cut_at_the_end() -> None:
    changes = [
        Change(1, "1001", "paused", END - timedelta(minutes=15), "technical"),
        Change(2, "1001", "unpaused", END + timedelta(hours=2)),
    ]
    assert pause_rows(changes, START, END, LATER) == [
        PauseRow("1001", "technical", 1, 900.0, 900.0, 0)
    ]
    # The next month counts the rest, from its first instant.
    dec_start, dec_end = month_bounds("2026-12")
    assert pause_rows(changes, dec_start, dec_end, LATER) == [
        PauseRow("1001", "technical", 1, 7200.0, 7200.0, 0)
    ]


def test_a_pause_carried_in_from_last_month_counts_from_the_months_start() -> None:
    changes = [
        Change(1, "1001", "paused", START - timedelta(hours=3), "meeting"),
        Change(2, "1001", "unpaused", START + timedelta(minutes=40)),
        # Wholly in October: not November's.
        Change(3, "1002", "paused", START - timedelta(hours=3), "break"),
        Change(4, "1002", "unpaused", START - timedelta(hours=2)),
    ]
    assert pause_rows(changes, START, END, LATER) == [
        PauseRow("1001", "meeting", 1, 2400.0, 2400.0, 0)
    ]


def test_an_open_pause_is_cut_at_now_and_counted_open() -> None:
    now = at(20, 10)
    changes = [
        Change(1, "1001", "paused", at(20, 9), "after_call_work"),
        # A change after `now` is not yet known to have happened: still open at now.
        Change(2, "1002", "paused", at(20, 9, 30), "break"),
        Change(3, "1002", "unpaused", at(20, 11)),
    ]
    assert pause_rows(changes, START, END, now) == [
        PauseRow("1001", "after_call_work", 1, 3600.0, 3600.0, 1),
        PauseRow("1002", "break", 1, 1800.0, 1800.0, 1),
    ]
    # Left open past the month's end: cut at the end, still open.
    rows = pause_rows(changes[:1], START, END, LATER)
    assert rows == [
        PauseRow("1001", "after_call_work", 1, (END - at(20, 9)).total_seconds(),
                 (END - at(20, 9)).total_seconds(), 1)
    ]  # fmt: skip


def test_a_pause_after_now_or_no_pause_gives_no_rows() -> None:
    now = at(5, 0)
    changes = [
        Change(1, "1001", "logged_in", at(4, 0)),
        Change(2, "1001", "paused", at(6, 0), "break"),
    ]
    assert pause_rows(changes, START, END, now) == []
    assert pause_rows([], START, END, LATER) == []
