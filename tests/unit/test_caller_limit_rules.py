"""Per-caller limits: which limit a caller is past, and the tables that set them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ivr.domain.limits import Usage, any_limit, exceeded, windows
from ivr.routing.privacy import CallerLimits, Privacy

TAIPEI = ZoneInfo("Asia/Taipei")


def test_a_caller_within_the_limits_is_served() -> None:
    """At the limit is still within it: the Nth call of the hour is allowed."""
    limits = CallerLimits(calls_per_hour=3, tickets_per_day=2)
    assert exceeded(limits, Usage(calls_last_hour=3, tickets_today=1)) is None


def test_the_first_limit_passed_is_named() -> None:
    """Too many calls this hour, or as many tickets today as allowed, names the limit."""
    limits = CallerLimits(calls_per_hour=3, tickets_per_day=2)
    assert exceeded(limits, Usage(calls_last_hour=4, tickets_today=0)) == "calls_per_hour"
    assert exceeded(limits, Usage(calls_last_hour=1, tickets_today=2)) == "tickets_per_day"


def test_the_day_starts_at_local_midnight() -> None:
    """01:30 in Taipei is 17:30 UTC the day before: the day began at 16:00 UTC."""
    now = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    hour_ago, day_start = windows(now, TAIPEI)
    assert hour_ago == datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    assert day_start == datetime(2026, 3, 2, 0, 0, tzinfo=TAIPEI)
    with pytest.raises(ValueError, match="timezone-aware"):
        windows(datetime(2026, 3, 1), TAIPEI)  # noqa: DTZ001 - refusing it is the point


def test_bad_limits_and_periods_are_refused_by_name() -> None:
    """A zero limit or a negative retention period is a table error, not a silent default."""
    with pytest.raises(ValidationError, match="calls_per_hour"):
        Privacy.model_validate({"limits": {"calls_per_hour": 0}})
    with pytest.raises(ValidationError, match="recordings_days"):
        Privacy.model_validate({"retention": {"recordings_days": -1}})
    with pytest.raises(ValidationError, match="extra"):
        Privacy.model_validate({"retention": {"keep_forever": True}})


def test_recordings_quota_warns_from_ninety_percent() -> None:
    """Under 90% is fine, from 90% `ivr status` warns, at the quota it reports a fault."""
    from ivr.domain.quota import MB, quota_state

    assert quota_state(89 * MB, 100).warning is False
    near = quota_state(95 * MB, 100)
    assert (near.ok, near.warning) == (True, True)
    assert "WARNING" in near.detail
    over = quota_state(100 * MB, 100)
    assert (over.ok, over.warning) == (False, True)


def test_limits_are_off_unless_set() -> None:
    """A profile without limits counts nothing and stops no one."""
    assert any_limit(CallerLimits()) is False
    assert exceeded(CallerLimits(), Usage(10_000, 10_000, 10_000.0)) is None
    assert any_limit(CallerLimits(tickets_per_day=3)) is True


def test_recording_minutes_count_toward_the_day() -> None:
    """Thirty minutes of messages today, with a 30-minute limit: the next call is past it."""
    limits = CallerLimits(recording_minutes_per_day=30)
    under = Usage(calls_last_hour=1, tickets_today=0, recorded_s_today=29 * 60)
    assert exceeded(limits, under) is None
    at = Usage(calls_last_hour=1, tickets_today=0, recorded_s_today=30 * 60)
    assert exceeded(limits, at) == "recording_minutes_per_day"
