"""The queue stays a month's per-agent report needs (ivr.domain.agent_report)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.store.core import StoreCore
from ivr.store.models import require_utc_aware
from ivr.store.queue_legs import QueueLegRecord, _record
from ivr.store.queue_legs_models import QueueLeg

_TABLE = QueueLeg.__table__


class AgentWork:
    """Read-only view of the answered queue stays over the case store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, store: StoreCore) -> AgentWork:
        return cls(store.engine)

    async def answered_between(
        self, start: datetime, end: datetime, *, agent: str | None = None
    ) -> list[QueueLegRecord]:
        """Answered stays (an agent named) that began in [start, end), as the queue
        report counts a month; only `agent`'s when given."""
        start, end = require_utc_aware(start, "start"), require_utc_aware(end, "end")
        where = [
            QueueLeg.joined_at >= start,
            QueueLeg.joined_at < end,
            QueueLeg.answered_at.is_not(None),
            QueueLeg.agent.is_not(None),
        ]
        if agent is not None:
            where.append(QueueLeg.agent == agent)
        stmt = select(_TABLE).where(and_(*where)).order_by(QueueLeg.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_record(row._mapping) for row in rows]
