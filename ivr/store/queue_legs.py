"""Queue stays in the case store: written from AMI's queue events, read by the report.

Each write is idempotent: a join makes its row once (a unique key from the caller's
uniqueid, the queue and the join time); the later events update the caller's latest
stay in that queue, and an answer is never overwritten by a late "left".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, and_, func, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from ivr.domain.vocabulary import QueueLegOutcome, TicketReason
from ivr.domain.wait_estimate import Handled
from ivr.store.core import StoreCore
from ivr.store.models import Call, Ticket, require_utc_aware
from ivr.store.queue_legs_models import QueueLeg

_INSERT = {
    name: dialect.insert(QueueLeg).on_conflict_do_nothing(index_elements=["idempotency_key"])
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}


@dataclass(frozen=True)
class QueueLegRecord:
    uniqueid: str
    queue: str
    language: str | None
    joined_at: datetime
    answered_at: datetime | None
    agent: str | None
    left_at: datetime | None
    ended_at: datetime | None
    hold_s: float | None
    talk_s: float | None
    outcome: str
    capped: bool


_COLUMNS = tuple(QueueLegRecord.__dataclass_fields__)
_TABLE = QueueLeg.__table__


def _record(row: RowMapping) -> QueueLegRecord:
    return QueueLegRecord(**{name: row[name] for name in _COLUMNS})


class QueueLegs:
    """The queue_legs table over the case store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, store: StoreCore) -> QueueLegs:
        """The queue stays in `store`'s database, over its engine."""
        return cls(store.engine)

    async def joined(
        self, *, uniqueid: str, queue: str, language: str | None, at: datetime
    ) -> None:
        at = require_utc_aware(at, "at")
        key = f"{uniqueid}:{queue}:{at.isoformat()}"
        async with self._engine.begin() as conn:
            await conn.execute(
                _INSERT[conn.dialect.name],
                {
                    "idempotency_key": key[:160],
                    "uniqueid": uniqueid[:64],
                    "queue": queue[:64],
                    "language": language[:16] if language else None,
                    "joined_at": at,
                    "outcome": QueueLegOutcome.WAITING,
                },
            )

    def _latest(self, uniqueid: str, queue: str) -> ScalarSelect[int]:
        return (
            select(func.max(QueueLeg.id))
            .where(QueueLeg.uniqueid == uniqueid, QueueLeg.queue == queue)
            .scalar_subquery()
        )

    async def _update(
        self, uniqueid: str, queue: str, *where: ColumnElement[bool], **values: object
    ) -> bool:
        stmt = (
            update(QueueLeg)
            .where(QueueLeg.id == self._latest(uniqueid, queue), *where)
            .values(**values)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def answered(
        self, *, uniqueid: str, queue: str, agent: str, hold_s: float | None, at: datetime
    ) -> bool:
        return await self._update(
            uniqueid,
            queue,
            answered_at=require_utc_aware(at, "at"),
            agent=agent[:64],
            hold_s=hold_s,
            outcome=QueueLegOutcome.ANSWERED,
        )

    async def completed(
        self, *, uniqueid: str, queue: str, talk_s: float | None, transferred: bool, at: datetime
    ) -> bool:
        values: dict[str, object] = {"ended_at": require_utc_aware(at, "at"), "talk_s": talk_s}
        if transferred:
            values["outcome"] = QueueLegOutcome.TRANSFERRED
        return await self._update(uniqueid, queue, **values)

    async def abandoned(
        self, *, uniqueid: str, queue: str, hold_s: float | None, at: datetime
    ) -> bool:
        at = require_utc_aware(at, "at")
        # app_queue reports a timeout as an abandonment too; the engine, which ended the
        # round, marks those "left" (`taken_out`), and its mark stands.
        return await self._update(
            uniqueid,
            queue,
            QueueLeg.answered_at.is_(None),
            QueueLeg.outcome == QueueLegOutcome.WAITING,
            left_at=at,
            hold_s=hold_s,
            outcome=QueueLegOutcome.ABANDONED,
        )

    async def left(self, *, uniqueid: str, queue: str, at: datetime) -> bool:
        """The caller left the queue (any way): the time, not the outcome."""
        at = require_utc_aware(at, "at")
        return await self._update(uniqueid, queue, QueueLeg.left_at.is_(None), left_at=at)

    async def taken_out(self, *, uniqueid: str, queue: str, at: datetime) -> bool:
        """The engine ended an unanswered round to ask the caller: "left", not abandoned."""
        at = require_utc_aware(at, "at")
        await self._update(uniqueid, queue, QueueLeg.left_at.is_(None), left_at=at)
        return await self._update(
            uniqueid, queue, QueueLeg.answered_at.is_(None), outcome=QueueLegOutcome.LEFT
        )

    async def capped(self, *, uniqueid: str, queue: str) -> bool:
        return await self._update(uniqueid, queue, capped=True)

    async def legs_of(self, uniqueid: str) -> list[QueueLegRecord]:
        stmt = select(_TABLE).where(QueueLeg.uniqueid == uniqueid).order_by(QueueLeg.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_record(row._mapping) for row in rows]

    async def between(self, start: datetime, end: datetime) -> list[QueueLegRecord]:
        """Stays that began in [start, end): what a month's report counts."""
        start, end = require_utc_aware(start, "start"), require_utc_aware(end, "end")
        stmt = (
            select(_TABLE)
            .where(and_(QueueLeg.joined_at >= start, QueueLeg.joined_at < end))
            .order_by(QueueLeg.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_record(row._mapping) for row in rows]

    async def handled_since(self, queue: str, since: datetime) -> list[Handled]:
        """The queue's answered stays whose conversation ended after `since`: the
        talk times a waiting caller's estimate is drawn from."""
        since = require_utc_aware(since, "since")
        stmt = select(QueueLeg.ended_at, QueueLeg.talk_s).where(
            QueueLeg.queue == queue,
            QueueLeg.answered_at.is_not(None),
            QueueLeg.ended_at > since,
            QueueLeg.talk_s.is_not(None),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [Handled(row[0], float(row[1])) for row in rows]

    async def callbacks_between(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(caller uniqueid, ticket status) of waiting callers' callback tickets made in
        [start, end)."""
        start, end = require_utc_aware(start, "start"), require_utc_aware(end, "end")
        stmt = (
            select(Call.uniqueid, Ticket.status)
            .join(Call, Call.id == Ticket.call_id)
            .where(
                Ticket.reason == TicketReason.QUEUE_CALLBACK,
                Ticket.created_at >= start,
                Ticket.created_at < end,
            )
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(str(r[0]), str(r[1])) for r in rows]
