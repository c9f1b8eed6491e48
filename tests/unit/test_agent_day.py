"""An agent's day (ivr.domain.agent_day): states hold until the next change, the day
is cut at its bounds and at now, pauses are summed per reason, calls are counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ivr.domain.agent_day import agent_day

DAY = datetime(2026, 9, 1, tzinfo=UTC)
END = DAY + timedelta(days=1)


@dataclass(frozen=True)
class Change:
    state: str
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Call:
    uniqueid: str
    queue: str
    answered_at: datetime | None
    talk_s: float | None
    hold_s: float | None


def h(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def test_states_and_calls_in_time_order_with_the_days_totals() -> None:
    changes = [
        Change("logged_in", h(-2)),  # signed in since yesterday: counts from midnight
        Change("paused", h(1), "lunch"),
        Change("unpaused", h(2)),
        Change("paused", h(3), "training"),
        Change("paused", h(3.5), "lunch"),
        Change("unpaused", h(4)),
        Change("logged_out", h(8)),
    ]
    calls = [
        Call("c1", "general", h(2.5), 240.0, 12.0),
        Call("c2", "general", None, None, None),  # never answered: not the agent's call
        Call("c3", "general", h(-1), 100.0, 5.0),  # yesterday
    ]
    entries, totals = agent_day(changes, calls, DAY, END, now=END + timedelta(hours=1))
    assert [(e.kind, e.what, e.reason) for e in entries] == [
        ("state", "paused", "lunch"),
        ("state", "unpaused", None),
        ("call", "general", None),
        ("state", "paused", "training"),
        ("state", "paused", "lunch"),
        ("state", "unpaused", None),
        ("state", "logged_out", None),
    ]
    assert totals.signed_in_s == 8 * 3600
    assert totals.paused_s == 2 * 3600
    assert totals.paused_by_reason == {"lunch": 1.5 * 3600, "training": 0.5 * 3600}
    assert (totals.calls, totals.talk_s) == (1, 240.0)


def test_time_that_has_not_happened_does_not_count() -> None:
    changes = [Change("logged_in", h(9)), Change("paused", h(10))]
    _, totals = agent_day(changes, [], DAY, END, now=h(10.25))
    assert totals.signed_in_s == 1.25 * 3600
    assert totals.paused_by_reason == {"": 0.25 * 3600}


def test_a_day_without_changes_is_empty_or_wholly_signed_out() -> None:
    entries, totals = agent_day([], [], DAY, END, now=END)
    assert entries == []
    assert (totals.signed_in_s, totals.calls) == (0.0, 0)
    _, out = agent_day([Change("logged_out", h(-5))], [], DAY, END, now=END)
    assert out.signed_in_s == 0.0
