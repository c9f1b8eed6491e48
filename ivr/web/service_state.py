"""What the service switches say now, read once for the service page and the JSON API:
disaster mode and its recent switches, the days closed from today on, and the recent
closures and openings (`ivr.service_switches` is what throws them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ivr import service_switches as switches
from ivr.store import ClosureRecord, ModeChange
from ivr.web.context import Console

# How far back the history of closures reaches, and how many rows of each history.
HISTORY_DAYS = 60
HISTORY_ROWS = 10


@dataclass(frozen=True)
class ServiceState:
    today: date
    disaster: bool
    # Disaster switches, newest first.
    modes: list[ModeChange]
    # Days closed from today on, soonest first.
    closed: list[ClosureRecord]
    # Closures and openings of the last HISTORY_DAYS, newest first.
    history: list[ClosureRecord]


async def read(ctx: Console) -> ServiceState:
    today = ctx.clock().astimezone(ctx.routing_view().office.tz).date()
    modes = [m for m in await ctx.store.mode_history(50) if m.mode == switches.DISASTER]
    history = await ctx.store.closure_history(today - timedelta(days=HISTORY_DAYS))
    return ServiceState(
        today=today,
        disaster=switches.disaster_on(modes),
        modes=modes[:HISTORY_ROWS],
        closed=sorted(
            (c for c in switches.in_force(history) if c.day >= today), key=lambda c: c.day
        ),
        history=list(reversed(history))[:HISTORY_ROWS],
    )
