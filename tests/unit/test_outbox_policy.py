"""The outbox's retry policy and crash rule: pure tables of cases, the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.domain.outbox_policy import Next, RetryPolicy, after_crash, after_failure
from ivr.domain.vocabulary import NotifyChannel, OutboxState

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    first_delay=timedelta(seconds=30),
    factor=2.0,
    max_delay=timedelta(minutes=10),
    max_attempts=6,
)


@pytest.mark.parametrize(
    ("attempts", "delay_s"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600), (50, 600), (10_000, 600)],
)
def test_backoff_doubles_up_to_the_cap(attempts: int, delay_s: int) -> None:
    assert POLICY.delay_after(attempts) == timedelta(seconds=delay_s)


@pytest.mark.parametrize(
    ("attempts", "permanent", "expected"),
    [
        (1, False, Next(OutboxState.PENDING, NOW + timedelta(seconds=30))),
        (3, False, Next(OutboxState.PENDING, NOW + timedelta(seconds=120))),
        (5, False, Next(OutboxState.PENDING, NOW + timedelta(seconds=480))),
        # The sixth failure is the last the policy allows.
        (6, False, Next(OutboxState.DEAD)),
        (7, False, Next(OutboxState.DEAD)),
        # A 4xx is not retried, whatever the count.
        (1, True, Next(OutboxState.DEAD)),
    ],
)
def test_after_failure(attempts: int, permanent: bool, expected: Next) -> None:
    assert after_failure(POLICY, attempts, NOW, permanent=permanent) == expected


@pytest.mark.parametrize(
    ("channel", "attempts", "expected"),
    [
        # SMS carries its key as the gateway's client id: resent at once.
        (NotifyChannel.SMS, 1, Next(OutboxState.PENDING, NOW)),
        (NotifyChannel.EMAIL, 2, Next(OutboxState.PENDING, NOW)),
        # A message that kills its sender every time still ends.
        (NotifyChannel.SMS, 6, Next(OutboxState.DEAD)),
        # A call cannot be recognised as a repeat: never made again on its own.
        (NotifyChannel.PHONE, 1, Next(OutboxState.UNKNOWN)),
    ],
)
def test_after_crash(channel: NotifyChannel, attempts: int, expected: Next) -> None:
    assert after_crash(POLICY, channel, attempts, NOW) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"factor": 0.5},
        {"first_delay": timedelta(seconds=-1)},
        {"first_delay": timedelta(hours=2), "max_delay": timedelta(hours=1)},
    ],
)
def test_a_nonsense_policy_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|need"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        POLICY.delay_after(0)
