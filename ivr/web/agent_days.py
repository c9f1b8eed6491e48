"""An agent's day (issue 16), read for the supervisor's page and the JSON API alike:
one agent's state changes and answered calls on one local date, with the day's totals
(`ivr.domain.agent_day`). Every reading is audited with who read whose day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ivr.domain.agent_day import Entry, Totals, agent_day
from ivr.store import audit
from ivr.store.agent_day_reads import AgentDayReads
from ivr.web.context import Console


@dataclass(frozen=True)
class AgentDay:
    agent_id: str
    name: str
    day: date
    entries: list[Entry]
    totals: Totals


def agents(ctx: Console) -> list[tuple[str, str]]:
    """(id, name) of every agent in the tables, as the page's choice lists them."""
    return [(a.id, a.name) for a in ctx.tables().agents.agents]


# The dates a day can be read for: a day's bounds in UTC stay within datetime's range.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)


def today(ctx: Console) -> date:
    return ctx.clock().astimezone(ctx.routing_view().office.tz).date()


async def read(ctx: Console, who: str, agent_id: str, when: date) -> AgentDay | None:
    """The agent's day `when` (office time), audited; None for an agent not in the tables.

    ValueError for a date outside FIRST_DAY..LAST_DAY."""
    if not FIRST_DAY <= when <= LAST_DAY:
        raise ValueError(f"no day {when} to read")
    names = dict(agents(ctx))
    if agent_id not in names:
        return None
    tz = ctx.routing_view().office.tz
    now = ctx.clock()
    start = datetime.combine(when, time(0), tz)
    end = datetime.combine(when + timedelta(days=1), time(0), tz)
    reads = AgentDayReads.of(ctx.store)
    states = await reads.states(agent_id, start, end)
    calls = await reads.answered(agent_id, start, end)
    entries, totals = agent_day(states, calls, start, end, now)
    await audit.record(
        ctx.store,
        at=now,
        who=who,
        action="view",
        subject=f"agent-day:{agent_id}",
        detail=f"{when}: {len(entries)} entries",
    )
    return AgentDay(agent_id, names[agent_id], when, entries, totals)
