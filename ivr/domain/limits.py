"""Per-caller limits (profile.yaml `privacy.limits`): which one a caller is past. Pure.

A caller past a limit is not refused: they hear a notice and go to an agent, who can
judge a real emergency from abuse. An anonymous caller has no number to count by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class CallerLimits(Protocol):
    """The limits a profile sets (the tables' `privacy.limits`); None: no such limit."""

    @property
    def calls_per_hour(self) -> int | None: ...

    @property
    def tickets_per_day(self) -> int | None: ...

    @property
    def recording_minutes_per_day(self) -> int | None: ...


@dataclass(frozen=True)
class Usage:
    """What one caller number used, counted by the store."""

    calls_last_hour: int  # this call included
    tickets_today: int
    recorded_s_today: float = 0.0  # voice messages left today


def windows(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(an hour ago, the local midnight that began today): where the counts start."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - timedelta(hours=1), midnight


def exceeded(limits: CallerLimits, usage: Usage) -> str | None:
    """The first limit the caller is past, by its table name, or None."""
    if limits.calls_per_hour is not None and usage.calls_last_hour > limits.calls_per_hour:
        return "calls_per_hour"
    if limits.tickets_per_day is not None and usage.tickets_today >= limits.tickets_per_day:
        return "tickets_per_day"
    minutes = limits.recording_minutes_per_day
    if minutes is not None and usage.recorded_s_today >= minutes * 60:
        return "recording_minutes_per_day"
    return None


def any_limit(limits: CallerLimits) -> bool:
    """False when the profile sets no limit: then nothing needs counting."""
    return any(
        v is not None
        for v in (limits.calls_per_hour, limits.tickets_per_day, limits.recording_minutes_per_day)
    )
