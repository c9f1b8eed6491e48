"""The case store's calls and their timelines."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ivr.store.checks import require_limit
from ivr.store.core import StoreCore
from ivr.store.models import Call
from ivr.store.views import CallRecord, call_record

log = structlog.get_logger(__name__)


class CallsArea(StoreCore):
    async def get_call(self, call_id: int) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.id == call_id))

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.uniqueid == uniqueid))

    async def list_calls(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[CallRecord]:
        """Newest first, without events; page on with `before_id` = the last id seen."""
        require_limit(limit)
        stmt = select(Call).order_by(Call.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(Call.id < before_id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [call_record(r, with_events=False) for r in rows]

    async def open_calls(self) -> list[CallRecord]:
        """Calls not yet ended, oldest first, without events."""
        stmt = select(Call).where(Call.ended_at.is_(None)).order_by(Call.id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [call_record(r, with_events=False) for r in rows]

    async def _get_one(self, stmt: Any) -> CallRecord | None:
        async with self._session() as session:
            row = (await session.scalars(stmt.options(selectinload(Call.events)))).one_or_none()
        return None if row is None else call_record(row, with_events=True)
