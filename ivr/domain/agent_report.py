"""The month's work per agent (issue 18: "all are reported"). Pure.

Per agent: the queue calls they answered (stays that began in the month), the talk
time of those calls, the wrap-up time after them, the calls that reached the call cap,
and the paused time per reason (ivr.domain.pause_report: cut at the month's edges and
at now). Wrap-up time is app_queue's: after each answered call the queue holds the
agent for its `wrapup_s` before offering another, so it is the sum of the answering
queues' `wrapup_s` as the tables given to the report set it; the store has no event
for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ivr.domain.pause_report import PauseRow


class AnsweredStay(Protocol):
    @property
    def queue(self) -> str: ...
    @property
    def agent(self) -> str | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def talk_s(self) -> float | None: ...
    @property
    def capped(self) -> bool: ...


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    answered: int
    talk_s: float
    wrapup_s: float
    capped: int
    paused_s: float
    # Paused seconds per reason, reasons in order.
    paused_by_reason: dict[str, float] = field(default_factory=dict)
    # Answered calls whose talk time is not known yet (still talking, or no end seen).
    talk_unknown: int = 0


@dataclass
class _Tally:
    answered: int = 0
    talk_s: float = 0.0
    wrapup_s: float = 0.0
    capped: int = 0
    talk_unknown: int = 0
    paused: dict[str, float] = field(default_factory=dict)


def agent_rows(
    stays: Iterable[AnsweredStay],
    pauses: Iterable[PauseRow],
    wrapup_by_queue: Mapping[str, int],
    *,
    agent_id: str | None = None,
) -> list[AgentRow]:
    """One row per agent who answered a call or paused in the month, by agent id.

    `stays`: the month's queue stays (unanswered ones are skipped); `pauses`: the
    month's pause rows; `wrapup_by_queue`: each queue's wrap-up seconds (a queue no
    longer in the tables counts none).
    """
    tallies: dict[str, _Tally] = {}
    for stay in stays:
        if stay.answered_at is None or not stay.agent:
            continue
        if agent_id is not None and stay.agent != agent_id:
            continue
        t = tallies.setdefault(stay.agent, _Tally())
        t.answered += 1
        if stay.talk_s is None:
            t.talk_unknown += 1
        else:
            t.talk_s += max(0.0, stay.talk_s)
        t.wrapup_s += wrapup_by_queue.get(stay.queue, 0)
        t.capped += 1 if stay.capped else 0
    for p in pauses:
        if agent_id is not None and p.agent_id != agent_id:
            continue
        t = tallies.setdefault(p.agent_id, _Tally())
        t.paused[p.reason] = t.paused.get(p.reason, 0.0) + p.paused_s
    return [
        AgentRow(
            agent_id=agent,
            answered=t.answered,
            talk_s=t.talk_s,
            wrapup_s=t.wrapup_s,
            capped=t.capped,
            paused_s=sum(t.paused.values()),
            paused_by_reason=dict(sorted(t.paused.items())),
            talk_unknown=t.talk_unknown,
        )
        for agent, t in sorted(tallies.items())
    ]


def as_dicts(rows: Iterable[AgentRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
