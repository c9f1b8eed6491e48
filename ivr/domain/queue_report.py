"""The month's queue figures per queue and language (DOMAIN 8). Pure.

A caller is counted once per queue however many rounds they waited in it: offered
(they joined), answered (an agent took them), abandoned (they hung up while
waiting, never answered). Waits are the answered callers' hold times; talk time is
the conversations' sum. Callbacks are the waiting callers' callbacks (a kept place or a
ticket, one per caller: a kept place that failed and became a ticket counts once),
counted in the queue they last waited in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ivr.domain.vocabulary import QueueLegOutcome

TOTAL = "*"


class Stay(Protocol):
    @property
    def uniqueid(self) -> str: ...
    @property
    def queue(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def joined_at(self) -> datetime: ...
    @property
    def hold_s(self) -> float | None: ...
    @property
    def talk_s(self) -> float | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def capped(self) -> bool: ...


@dataclass(frozen=True)
class Callback:
    uniqueid: str
    completed: bool


@dataclass(frozen=True)
class QueueRow:
    queue: str
    language: str
    offered: int
    answered: int
    abandoned: int
    callbacks_requested: int
    callbacks_completed: int
    wait_median_s: float | None
    wait_p90_s: float | None
    talk_s: float
    capped: int


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values (say nothing rather than guess)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def one_per_caller(*sources: Iterable[Callback]) -> list[Callback]:
    """One callback per caller: completed if any of theirs was."""
    done: dict[str, bool] = {}
    for source in sources:
        for cb in source:
            done[cb.uniqueid] = done.get(cb.uniqueid, False) or cb.completed
    return [Callback(uid, completed) for uid, completed in done.items()]


def queue_rows(stays: Iterable[Stay], callbacks: Iterable[Callback]) -> list[QueueRow]:
    by_key: dict[tuple[str, str], list[Stay]] = {}
    last_queue: dict[str, tuple[str, str]] = {}
    for stay in sorted(stays, key=lambda s: s.joined_at):
        key = (stay.queue, stay.language or "-")
        by_key.setdefault(key, []).append(stay)
        last_queue[stay.uniqueid] = key
    asked: dict[tuple[str, str], list[Callback]] = {}
    for cb in callbacks:
        if cb.uniqueid in last_queue:
            asked.setdefault(last_queue[cb.uniqueid], []).append(cb)
    rows = [_row(key, by_key[key], asked.get(key, [])) for key in sorted(by_key)]
    if rows:
        every = [s for group in by_key.values() for s in group]
        rows.append(_row((TOTAL, TOTAL), every, [c for cbs in asked.values() for c in cbs]))
    return rows


def _row(key: tuple[str, str], stays: list[Stay], callbacks: list[Callback]) -> QueueRow:
    callers: dict[str, list[Stay]] = {}
    for s in stays:
        callers.setdefault(f"{s.queue}\0{s.uniqueid}", []).append(s)
    answered_outcomes = {QueueLegOutcome.ANSWERED, QueueLegOutcome.TRANSFERRED}
    answered = [s for s in stays if s.outcome in answered_outcomes]
    waits = [s.hold_s for s in answered if s.hold_s is not None]
    abandoned = sum(
        1
        for legs in callers.values()
        if legs[-1].outcome == QueueLegOutcome.ABANDONED
        and not any(s.outcome in answered_outcomes for s in legs)
    )
    return QueueRow(
        queue=key[0],
        language=key[1],
        offered=len(callers),
        answered=len({f"{s.queue}\0{s.uniqueid}" for s in answered}),
        abandoned=abandoned,
        callbacks_requested=len(callbacks),
        callbacks_completed=sum(1 for c in callbacks if c.completed),
        wait_median_s=percentile(waits, 0.5),
        wait_p90_s=percentile(waits, 0.9),
        talk_s=sum(s.talk_s or 0.0 for s in stays),
        capped=sum(1 for s in stays if s.capped),
    )


def as_dicts(rows: Sequence[QueueRow]) -> list[Mapping[str, object]]:
    return [dict(row.__dict__) for row in rows]
