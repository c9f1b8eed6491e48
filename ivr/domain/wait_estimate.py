"""How long a waiting caller is told they will wait (issue 18, "honest waiting"). Pure.

The estimate comes from the last hour of the queue's own conversations: the mean
talk time of its answered stays that ended in that hour, and the agents signed in
and not paused. A caller at `position` waits at most about ceil(position / agents)
conversations: in the worst case every agent has just picked up a call, and the
callers ahead take the agents in turn.

What a caller hears is true, so:
- with fewer than MIN_ANSWERED answered stays in the hour, or nobody to answer, the
  estimate is nothing, and the caller hears nothing about the wait (their position
  may still be told);
- the figure is rounded UP to a minute the prompts can say (1..10, then 15, 20, 30,
  45, 60), so "about N minutes" is never less than the arithmetic; past an hour the
  caller hears "more than an hour".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# The conversations an estimate is drawn from: the last hour's, as the issue asks.
WINDOW = timedelta(hours=1)
# Fewer answered stays than this in the window is too little to say anything: one or
# two long calls would swing the figure by minutes.
MIN_ANSWERED = 5
# The minutes a prompt exists for; an estimate is rounded up to the next of them.
SPOKEN_MINUTES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 45, 60)
OVER_PROMPT = "queue-wait-over-60"


@dataclass(frozen=True)
class Handled:
    """One answered queue stay whose conversation ended: when, and how long it lasted."""

    ended_at: datetime
    talk_s: float


@dataclass(frozen=True)
class WaitEstimate:
    # The arithmetic: ceil(position / agents) * mean talk time.
    seconds: float
    # What the caller hears: "about `minutes` minutes"; None: "more than an hour".
    minutes: int | None
    # The talk times it came from (at least MIN_ANSWERED).
    answered: int

    @property
    def prompt(self) -> str:
        return OVER_PROMPT if self.minutes is None else f"queue-wait-about-{self.minutes}"


def recent_talk(handled: Iterable[Handled], now: datetime) -> list[float]:
    """Talk times of the conversations that ended in the hour before `now`."""
    start = now - WINDOW
    return [h.talk_s for h in handled if start < h.ended_at <= now and h.talk_s >= 0]


def spoken_minutes(seconds: float) -> int | None:
    """`seconds` rounded up to a minute a prompt says; None past the last one."""
    minutes = max(1, math.ceil(seconds / 60))
    for step in SPOKEN_MINUTES:
        if minutes <= step:
            return step
    return None


def estimate_wait(
    handled: Iterable[Handled], *, now: datetime, position: int, agents: int
) -> WaitEstimate | None:
    """The wait of the caller at `position` (1 = next), or None: say nothing.

    `agents`: signed in to the queue and not paused. `handled`: the queue's answered
    stays (any age; only the last hour's count).
    """
    if agents <= 0 or position <= 0:
        return None
    talk = recent_talk(handled, now)
    if len(talk) < MIN_ANSWERED:
        return None
    mean = sum(talk) / len(talk)
    seconds = math.ceil(position / agents) * mean
    return WaitEstimate(seconds=seconds, minutes=spoken_minutes(seconds), answered=len(talk))


def estimate_prompts() -> tuple[str, ...]:
    """Every prompt an estimate may name (the catalogue must have them all)."""
    return (*(f"queue-wait-about-{m}" for m in SPOKEN_MINUTES), OVER_PROMPT)
