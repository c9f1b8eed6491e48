"""The supervisors' wallboard: each queue now, and tickets near their deadline per agency.

Queue figures come from Asterisk (AMI QueueStatus): callers waiting and their waits,
members by state, and the queue's answered and abandoned counters. Deadlines come from
the store. Without AMI the queues are listed with zeros and the page says why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from ivr.adapters.ami import AmiActionFailed, AmiEvent, AmiUnavailable
from ivr.asterisk.generate import FALLBACK_QUEUE, queue_name
from ivr.store import console as reads
from ivr.web.context import Console

log = structlog.get_logger()

NEAR_DEADLINE = timedelta(hours=24)
# app_queue's device states (AST_DEVICE_*): 1 not in use; 2 in use, 3 busy, 6 ringing,
# 7 ringing and in use, 8 on hold.
_BUSY_STATES = frozenset({"2", "3", "6", "7", "8"})
_READY_STATES = frozenset({"1"})


@dataclass
class QueueRow:
    id: str
    name: str
    waiting: int = 0
    longest_wait_s: int = 0
    ready: int = 0
    busy: int = 0
    paused: int = 0
    answered: int = 0
    abandoned: int = 0


@dataclass
class AgentRow:
    """One signed-in agent, as Asterisk has them in its queues (phone or console)."""

    agent_id: str
    # "ready", "busy" or "paused".
    state: str
    # The pause reason Asterisk holds (`*47`+digit or the console's), or None.
    reason: str | None
    queues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeadlineRow:
    agency_id: str
    count: int
    overdue: int
    soonest_ticket: str
    soonest_due: datetime


@dataclass
class Board:
    queues: list[QueueRow]
    deadlines: list[DeadlineRow]
    phone_down: bool = False
    at: datetime | None = None
    agents: list[AgentRow] = field(default_factory=list)


def apply_status(
    rows: dict[str, QueueRow], messages: list[AmiEvent], agents: dict[str, AgentRow] | None = None
) -> None:
    """Fold QueueStatus's QueueParams, QueueMember and QueueEntry events into the rows,
    and each member (by its MemberName, the agent id) into `agents`."""
    for message in messages:
        if agents is not None and message.get("Event") == "QueueMember":
            _apply_member(agents, message, rows)
        row = rows.get(message.get("Queue", ""))
        if row is None:
            continue
        kind = message.get("Event", "")
        if kind == "QueueParams":
            row.waiting = _int(message.get("Calls"))
            row.answered = _int(message.get("Completed"))
            row.abandoned = _int(message.get("Abandoned"))
        elif kind == "QueueEntry":
            row.longest_wait_s = max(row.longest_wait_s, _int(message.get("Wait")))
        elif kind == "QueueMember":
            if message.get("Paused") == "1":
                row.paused += 1
            elif message.get("Status") in _BUSY_STATES or message.get("InCall") == "1":
                row.busy += 1
            elif message.get("Status") in _READY_STATES:
                row.ready += 1


def _member_state(message: AmiEvent) -> str:
    if message.get("Paused") == "1":
        return "paused"
    if message.get("Status") in _BUSY_STATES or message.get("InCall") == "1":
        return "busy"
    return "ready"


def _apply_member(
    agents: dict[str, AgentRow], message: AmiEvent, rows: dict[str, QueueRow]
) -> None:
    name = message.get("MemberName") or message.get("Name") or message.get("Interface", "?")
    queue = rows.get(message.get("Queue", ""))
    state = _member_state(message)
    row = agents.setdefault(name, AgentRow(name, state, None))
    # Paused in one queue and ready in another is shown as paused: it is why calls
    # do not reach them there.
    if state == "paused":
        row.state = "paused"
        row.reason = message.get("PausedReason") or row.reason
    elif state == "busy" and row.state == "ready":
        row.state = "busy"
    if queue is not None:
        row.queues.append(queue.id)


def deadlines(tickets: list[reads.TicketRecord], now: datetime) -> list[DeadlineRow]:
    """Open tickets due within a day (or overdue), grouped per agency, soonest first."""
    near: dict[str, list[reads.TicketRecord]] = defaultdict(list)
    for ticket in tickets:
        if ticket.due_at - now <= NEAR_DEADLINE:
            near[ticket.agency_id].append(ticket)
    rows = [
        DeadlineRow(
            agency_id=agency,
            count=len(items),
            overdue=sum(1 for t in items if t.overdue or t.due_at < now),
            soonest_ticket=items[0].number,
            soonest_due=items[0].due_at,
        )
        for agency, items in near.items()
    ]
    return sorted(rows, key=lambda r: r.soonest_due)


async def board(ctx: Console) -> Board:
    tables = ctx.tables()
    rows = {queue_name(q.id): QueueRow(q.id, q.name) for q in tables.agents.queues}
    rows[FALLBACK_QUEUE] = QueueRow("agents", FALLBACK_QUEUE)
    agents: dict[str, AgentRow] = {}
    phone_down = ctx.ami is None or not ctx.ami.connected
    if not phone_down:
        assert ctx.ami is not None
        try:
            apply_status(rows, await ctx.ami.action_list({"Action": "QueueStatus"}), agents)
        except (AmiUnavailable, AmiActionFailed) as exc:
            log.warning("wallboard_queue_status_failed", error=str(exc))
            phone_down = True
    now = ctx.clock()
    return Board(
        queues=list(rows.values()),
        deadlines=deadlines(await reads.open_tickets(ctx.store), now),
        phone_down=phone_down,
        at=now,
        agents=sorted(agents.values(), key=lambda a: a.agent_id),
    )


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
