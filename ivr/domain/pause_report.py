"""The month's pauses per agent and reason (issue 18: "all are reported"). Pure.

An agent's pause starts at a `paused` state change and ends at that agent's next state
change of any kind: going ready (`unpaused`), logging out or in, or pausing again with
another reason (that starts a new pause). Only the part of a pause inside the month
counts: one that began the month before counts from the month's first instant, one
that runs past the month's end is cut there, and one still open is cut at `now` (the
clock passed in), so a month's figures never include time that has not happened.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from ivr.domain.vocabulary import AgentState, PauseReason


class StateChange(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def agent_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def reason(self) -> str | None: ...


@dataclass(frozen=True)
class PauseRow:
    agent_id: str
    reason: str
    pauses: int
    paused_s: float
    median_s: float
    # Pauses not yet ended at `now` (cut at `now`).
    open: int


def pause_rows(
    changes: Iterable[StateChange],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    agent_id: str | None = None,
) -> list[PauseRow]:
    """Per agent and reason: pauses overlapping [start, end), their paused time in it.

    `changes` must hold every agent's changes in the month and, for each agent, its
    last change before `start` (so a pause carried over from last month is seen) and
    its first at or after `end` (so a pause cut at the end is known to have ended).
    """
    stop = min(end, now)
    by_agent: dict[str, list[StateChange]] = {}
    for c in changes:
        if agent_id is None or c.agent_id == agent_id:
            by_agent.setdefault(c.agent_id, []).append(c)
    spans: dict[tuple[str, str], list[tuple[float, bool]]] = {}
    for agent, rows in by_agent.items():
        rows.sort(key=lambda c: (c.at, c.id))
        for i, c in enumerate(rows):
            if c.state != AgentState.PAUSED:
                continue
            ended = rows[i + 1].at if i + 1 < len(rows) else None
            begin = max(c.at, start)
            finish = stop if ended is None else min(ended, stop)
            if begin >= stop or (ended is not None and ended <= start):
                continue  # wholly outside the month (or not yet happened)
            reason = c.reason or PauseReason.UNSPECIFIED
            seconds = max(0.0, (finish - begin).total_seconds())
            still_open = ended is None or ended > now
            spans.setdefault((agent, str(reason)), []).append((seconds, still_open))
    return [
        PauseRow(
            agent_id=agent,
            reason=reason,
            pauses=len(found),
            paused_s=sum(s for s, _ in found),
            median_s=float(statistics.median(s for s, _ in found)),
            open=sum(1 for _, o in found if o),
        )
        for (agent, reason), found in sorted(spans.items())
    ]


def as_dicts(rows: Iterable[PauseRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
