"""The agent state changes a month's pause report needs (ivr.domain.pause_report)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ivr.store.core import StoreCore
from ivr.store.models import AgentState, require_utc_aware
from ivr.store.views import AgentStateRecord, agent_state_record


class PauseReads:
    """Read-only view of agent_states over the case store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, store: StoreCore) -> PauseReads:
        return cls(store.engine)

    async def changes_for_month(self, start: datetime, end: datetime) -> list[AgentStateRecord]:
        """Every change in [start, end), and each agent's last before and first after.

        The last change before the month tells whether a pause was carried into it; the
        first after tells whether a pause left at the month's end has ended since.
        """
        start = require_utc_aware(start, "start")
        end = require_utc_aware(end, "end")
        reads = (
            select(AgentState).where(AgentState.at >= start, AgentState.at < end),
            _nearest(AgentState.at < start, last=True),
            _nearest(AgentState.at >= end, last=False),
        )
        rows: list[AgentState] = []
        async with AsyncSession(self._engine) as session:
            for read in reads:
                rows += (await session.scalars(read)).all()
        return [agent_state_record(r) for r in rows]


def _nearest(where: ColumnElement[bool], *, last: bool) -> Select[tuple[AgentState]]:
    """Each agent's newest (`last`) or oldest change among those matching `where`."""
    order = (
        (AgentState.at.desc(), AgentState.id.desc())
        if last
        else (AgentState.at.asc(), AgentState.id.asc())
    )
    ranked = (
        select(
            AgentState,
            func.row_number().over(partition_by=AgentState.agent_id, order_by=order).label("rank"),
        )
        .where(where)
        .subquery()
    )
    edge = aliased(AgentState, ranked)
    return select(edge).where(ranked.c.rank == 1)
