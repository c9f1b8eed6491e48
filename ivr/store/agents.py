"""The case store's service modes, closed days, agent states and survey ratings."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ivr.store import writes
from ivr.store.admin_records import SetClosure, SetMode
from ivr.store.checks import require_limit
from ivr.store.core import StoreCore
from ivr.store.models import (
    AgentState,
    CalendarClosure,
    ServiceMode,
    SurveyRating,
    require_utc_aware,
)
from ivr.store.views import (
    AgentStateRecord,
    ClosureRecord,
    ModeChange,
    SurveyRecord,
    agent_state_record,
    closure,
    mode_change,
)
from ivr.store.write_records import new_key


class AgentsArea(StoreCore):
    # -- service modes -------------------------------------------------------------

    async def set_mode(
        self, mode: str, *, active: bool, at: datetime, by: str, note: str | None = None
    ) -> None:
        """Record that `by` switched `mode` on or off at `at`; earlier rows stay as history."""
        await self.apply(SetMode(key=new_key(), mode=mode, active=active, at=at, by=by, note=note))

    async def current_mode(self, at: datetime) -> str:
        """The mode in force at `at`: "disaster" if its latest switch by then was on."""
        at = require_utc_aware(at, "at")
        # Every call asks this once: it runs with the writes (see `ivr.store.batch`).
        active = await self._write(partial(writes.disaster_active, at=at))
        return "disaster" if active else "normal"

    async def mode_history(self, limit: int = 20) -> list[ModeChange]:
        """Mode switches, newest first."""
        require_limit(limit)
        stmt = (
            select(ServiceMode)
            .order_by(ServiceMode.changed_at.desc(), ServiceMode.id.desc())
            .limit(limit)
        )
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [mode_change(r) for r in rows]

    # -- calendar closures (typhoon days) --------------------------------------------

    async def set_closure(
        self,
        day: date,
        *,
        closed: bool,
        at: datetime,
        by: str,
        reason: str | None = None,
        closes_at: time | None = None,
        note: str | None = None,
    ) -> None:
        """Record that `by` closed `day` (from `closes_at`, or all day) or opened it again."""
        record = SetClosure(
            key=new_key(),
            day=day,
            closed=closed,
            at=at,
            by=by,
            reason=reason,
            closes_at=closes_at,
            note=note,
        )
        await self.apply(record)

    async def closure_history(
        self, since: date | None = None, limit: int = 1000
    ) -> list[ClosureRecord]:
        """Closures and openings of days from `since` on, oldest change first."""
        require_limit(limit)
        stmt = select(CalendarClosure)
        if since is not None:
            stmt = stmt.where(CalendarClosure.day >= since)
        stmt = stmt.order_by(CalendarClosure.changed_at, CalendarClosure.id).limit(limit)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [closure(r) for r in rows]

    async def closures(self, since: date) -> dict[date, ClosureRecord]:
        """The days from `since` on that are closed now: each day's newest row, if closed."""
        latest: dict[date, ClosureRecord] = {}
        for record in await self.closure_history(since, limit=100_000):
            latest[record.day] = record
        return {day: r for day, r in latest.items() if r.closed}

    # -- agents --------------------------------------------------------------------

    async def agent_states(self, agent_id: str, limit: int = 50) -> list[AgentStateRecord]:
        """One agent's state changes, newest first."""
        require_limit(limit)
        stmt = (
            select(AgentState)
            .where(AgentState.agent_id == agent_id)
            .order_by(AgentState.at.desc(), AgentState.id.desc())
            .limit(limit)
        )
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [agent_state_record(r) for r in rows]

    async def latest_agent_states(self) -> dict[str, AgentStateRecord]:
        """Each agent's newest state change, by agent id."""
        ranked = select(
            AgentState,
            func.row_number()
            .over(
                partition_by=AgentState.agent_id,
                order_by=(AgentState.at.desc(), AgentState.id.desc()),
            )
            .label("rank"),
        ).subquery()
        latest = aliased(AgentState, ranked)
        stmt = select(latest).where(ranked.c.rank == 1)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return {r.agent_id: agent_state_record(r) for r in rows}

    # -- satisfaction survey -------------------------------------------------------

    async def rating_for_call(self, call_id: int) -> SurveyRecord | None:
        stmt = select(SurveyRating).where(SurveyRating.call_id == call_id)
        async with self._session() as session:
            row = await session.scalar(stmt)
        if row is None:
            return None
        return SurveyRecord(
            id=row.id,
            call_id=row.call_id,
            rating=row.rating,
            agent_id=row.agent_id,
            queue=row.queue,
            at=row.at,
        )
