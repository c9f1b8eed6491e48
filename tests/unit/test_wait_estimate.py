"""The wait a queued caller is told (ivr.domain.wait_estimate): true, or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.domain.wait_estimate import (
    MIN_ANSWERED,
    SPOKEN_MINUTES,
    Handled,
    estimate_prompts,
    estimate_wait,
    spoken_minutes,
)
from ivr.prompts import load_catalogue

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def _handled(*talk_s: float, minutes_ago: float = 10) -> list[Handled]:
    return [Handled(NOW - timedelta(minutes=minutes_ago), t) for t in talk_s]


def test_too_little_data_says_nothing() -> None:
    four = _handled(*[120.0] * (MIN_ANSWERED - 1))
    assert estimate_wait(four, now=NOW, position=1, agents=1) is None
    assert estimate_wait([], now=NOW, position=3, agents=2) is None


def test_only_the_last_hour_counts() -> None:
    old = _handled(*[60.0] * 10, minutes_ago=61)
    assert estimate_wait(old, now=NOW, position=1, agents=1) is None
    # Conversations "ending" after now (a skewed clock) are not the past hour's either.
    future = _handled(*[60.0] * 10, minutes_ago=-1)
    assert estimate_wait(future, now=NOW, position=1, agents=1) is None
    recent = _handled(*[60.0] * MIN_ANSWERED, minutes_ago=59)
    estimate = estimate_wait(old + recent, now=NOW, position=1, agents=1)
    assert estimate is not None
    assert estimate.answered == MIN_ANSWERED


def test_nobody_to_answer_says_nothing() -> None:
    data = _handled(*[60.0] * 10)
    assert estimate_wait(data, now=NOW, position=1, agents=0) is None
    assert estimate_wait(data, now=NOW, position=0, agents=2) is None


def test_callers_ahead_share_the_agents_in_turns() -> None:
    data = _handled(100, 100, 100, 100, 100)
    # Next in line, one agent: one conversation, 100 s, said as about 2 minutes.
    one = estimate_wait(data, now=NOW, position=1, agents=1)
    assert one is not None
    assert (one.seconds, one.minutes, one.prompt) == (100, 2, "queue-wait-about-2")
    # Fifth in line, two agents: three conversations in turn, 300 s, 5 minutes.
    fifth = estimate_wait(data, now=NOW, position=5, agents=2)
    assert fifth is not None
    assert (fifth.seconds, fifth.minutes) == (300, 5)


def test_the_mean_talk_time_is_used() -> None:
    estimate = estimate_wait(_handled(60, 60, 60, 60, 360), now=NOW, position=1, agents=1)
    assert estimate is not None
    assert estimate.seconds == 120


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [
        (1, 1),
        (60, 1),
        (61, 2),
        (599, 10),
        (601, 15),
        (15 * 60, 15),
        (15 * 60 + 1, 20),
        (31 * 60, 45),
        (3600, 60),
        (3601, None),
    ],
)
def test_the_minutes_said_are_never_fewer_than_the_arithmetic(
    seconds: float, minutes: int | None
) -> None:
    assert spoken_minutes(seconds) == minutes
    if minutes is not None:
        assert minutes * 60 >= seconds


def test_past_an_hour_the_caller_hears_more_than_an_hour() -> None:
    estimate = estimate_wait(_handled(*[1800.0] * 5), now=NOW, position=3, agents=1)
    assert estimate is not None
    assert (estimate.minutes, estimate.prompt) == (None, "queue-wait-over-60")


def test_every_estimate_prompt_is_in_the_catalogue_in_every_voiced_language() -> None:
    catalogue = load_catalogue(REPO / "recordings")
    assert len(estimate_prompts()) == len(SPOKEN_MINUTES) + 1
    for name in (
        *estimate_prompts(),
        "queue-position-next",
        "queue-position-before",
        "queue-position-after",
    ):
        assert name in catalogue.engine, name
        assert set(catalogue.prompts[name]) == {"zh-TW", "en"}, name
