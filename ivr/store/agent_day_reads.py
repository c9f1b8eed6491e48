"""What an agent's day (ivr.domain.agent_day) reads: one agent's state changes in a
range with the last one before it, and the queue calls the agent answered in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ivr.store.core import StoreCore
from ivr.store.models import AgentState, require_utc_aware
from ivr.store.queue_legs import QueueLegRecord, _record
from ivr.store.queue_legs_models import QueueLeg
from ivr.store.views import AgentStateRecord, agent_state_record


class AgentDayReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, store: StoreCore) -> AgentDayReads:
        return cls(store.engine)

    async def states(self, agent_id: str, start: datetime, end: datetime) -> list[AgentStateRecord]:
        """The agent's changes in [start, end), oldest first, after its last before `start`."""
        start = require_utc_aware(start, "start")
        end = require_utc_aware(end, "end")
        mine = AgentState.agent_id == agent_id
        last_before = (
            select(AgentState)
            .where(mine, AgentState.at < start)
            .order_by(AgentState.at.desc(), AgentState.id.desc())
            .limit(1)
        )
        inside = (
            select(AgentState)
            .where(mine, AgentState.at >= start, AgentState.at < end)
            .order_by(AgentState.at, AgentState.id)
        )
        async with AsyncSession(self._engine) as session:
            rows = [*(await session.scalars(last_before)).all()]
            rows += (await session.scalars(inside)).all()
        return [agent_state_record(r) for r in rows]

    async def answered(self, agent_id: str, start: datetime, end: datetime) -> list[QueueLegRecord]:
        """Queue calls the agent answered in [start, end), oldest first."""
        stmt = (
            select(QueueLeg.__table__)
            .where(
                QueueLeg.agent == agent_id,
                QueueLeg.answered_at >= require_utc_aware(start, "start"),
                QueueLeg.answered_at < require_utc_aware(end, "end"),
            )
            .order_by(QueueLeg.answered_at, QueueLeg.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_record(r) for r in rows]
