"""An agent's day for supervisors (issue 16): their state changes (sign-in, pauses with
their reasons, ready, sign-out) and the calls they answered, in time order, with the
day's totals. Pure: the day's bounds and `now` are passed in.

A state holds from its change until the agent's next change. Time before the first
change of the day is in the state of the last change before it (so an agent signed in
since yesterday counts from midnight); time after `now` has not happened and never
counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ivr.domain.vocabulary import AgentState


class StateChange(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def reason(self) -> str | None: ...


class AnsweredCall(Protocol):
    @property
    def uniqueid(self) -> str: ...
    @property
    def queue(self) -> str: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def talk_s(self) -> float | None: ...
    @property
    def hold_s(self) -> float | None: ...


@dataclass(frozen=True)
class Entry:
    at: datetime
    # "state" (what: the state, reason: a pause's) or "call" (what: the queue).
    kind: str
    what: str
    reason: str | None = None
    talk_s: float | None = None
    hold_s: float | None = None


@dataclass(frozen=True)
class Totals:
    signed_in_s: float
    paused_s: float
    # Paused seconds per reason ("" when none was given).
    paused_by_reason: dict[str, float]
    calls: int
    talk_s: float


def agent_day(
    changes: Iterable[StateChange],
    calls: Iterable[AnsweredCall],
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[list[Entry], Totals]:
    """The day [start, end) of one agent: entries in time order, and its totals.

    `changes` are the agent's, with at least its last change before `start` if any.
    """
    stop = min(end, now)
    ordered = sorted(changes, key=lambda c: c.at)
    before = [c for c in ordered if c.at < start]
    inside = [c for c in ordered if start <= c.at < end]
    current = before[-1] if before else None
    signed_in = paused = 0.0
    by_reason: dict[str, float] = {}
    edge = start
    for change in [*inside, None]:
        until = min(change.at, stop) if change is not None else stop
        span = max(0.0, (until - edge).total_seconds())
        if current is not None and current.state != AgentState.LOGGED_OUT:
            signed_in += span
            if current.state == AgentState.PAUSED:
                paused += span
                key = current.reason or ""
                by_reason[key] = by_reason.get(key, 0.0) + span
        if change is not None:
            current, edge = change, max(edge, change.at)
    entries = [Entry(c.at, "state", c.state, c.reason) for c in inside]
    answered = [c for c in calls if c.answered_at is not None and start <= c.answered_at < end]
    entries += [
        Entry(c.answered_at, "call", c.queue, None, c.talk_s, c.hold_s)
        for c in answered
        if c.answered_at is not None
    ]
    entries.sort(key=lambda e: (e.at, e.kind != "state"))
    totals = Totals(
        signed_in_s=signed_in,
        paused_s=paused,
        paused_by_reason=by_reason,
        calls=len(answered),
        talk_s=sum(c.talk_s or 0.0 for c in answered),
    )
    return entries, totals
