"""Queued callbacks in the case store: the held place, its attempts and their ends.

Every write is idempotent. A request is one row per caller and queue (its key); an
attempt is one row per callback and attempt number, inserted before the origination
(a second insert of the same attempt finds it and answers False, so nobody
originates it twice); an attempt's end is written once (only while in flight); a
callback's state moves only forward (a settled callback is never reopened).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, and_, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.domain.vocabulary import CallbackAttemptOutcome as Outcome
from ivr.domain.vocabulary import QueuedCallbackState as State
from ivr.store.core import StoreCore
from ivr.store.models import require_utc_aware
from ivr.store.queued_callbacks_models import QueuedCallback, QueuedCallbackAttempt

_ON_CONFLICT = {
    "postgresql": pg,
    "sqlite": sqlite,
}
_OPEN = (State.WAITING, State.CALLING)


@dataclass(frozen=True)
class QueuedCallbackRecord:
    id: int
    uniqueid: str
    call_id: int | None
    queue: str
    language: str
    number: str
    requested_at: datetime
    waiting_since: datetime
    state: str
    attempts: int
    next_attempt_at: datetime | None
    settled_at: datetime | None
    ticket_number: str | None


@dataclass(frozen=True)
class AttemptRecord:
    callback_id: int
    attempt: int
    channel_id: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    status: str | None


_CB_COLUMNS = tuple(QueuedCallbackRecord.__dataclass_fields__)
_AT_COLUMNS = tuple(AttemptRecord.__dataclass_fields__)


def _callback(row: RowMapping) -> QueuedCallbackRecord:
    return QueuedCallbackRecord(**{name: row[name] for name in _CB_COLUMNS})


def _attempt(row: RowMapping) -> AttemptRecord:
    return AttemptRecord(**{name: row[name] for name in _AT_COLUMNS})


class QueuedCallbacks:
    """The queued_callbacks tables over the case store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, store: StoreCore) -> QueuedCallbacks:
        return cls(store.engine)

    async def request(
        self,
        *,
        uniqueid: str,
        call_id: int | None,
        queue: str,
        language: str,
        number: str,
        at: datetime,
        waiting_since: datetime,
    ) -> QueuedCallbackRecord:
        """Hold the caller's place; committed when this returns (the same one on a retry)."""
        at = require_utc_aware(at, "at")
        key = f"qcb:{uniqueid}:{queue}"[:64]
        async with self._engine.begin() as conn:
            dialect = _ON_CONFLICT[conn.dialect.name]
            await conn.execute(
                dialect.insert(QueuedCallback).on_conflict_do_nothing(
                    index_elements=["idempotency_key"]
                ),
                {
                    "idempotency_key": key,
                    "uniqueid": uniqueid[:64],
                    "call_id": call_id,
                    "queue": queue[:64],
                    "language": language[:16],
                    "number": number[:32],
                    "requested_at": at,
                    "waiting_since": require_utc_aware(waiting_since, "waiting_since"),
                    "state": State.WAITING,
                    "attempts": 0,
                    "next_attempt_at": at,
                },
            )
            row = (
                await conn.execute(
                    select(QueuedCallback.__table__).where(QueuedCallback.idempotency_key == key)
                )
            ).one()
        return _callback(row._mapping)

    async def get(self, callback_id: int) -> QueuedCallbackRecord | None:
        stmt = select(QueuedCallback.__table__).where(QueuedCallback.id == callback_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        return None if row is None else _callback(row._mapping)

    async def open_callbacks(self) -> list[QueuedCallbackRecord]:
        """Callbacks not yet completed or ticketed, oldest first."""
        stmt = (
            select(QueuedCallback.__table__)
            .where(QueuedCallback.state.in_(_OPEN))
            .order_by(QueuedCallback.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_callback(r._mapping) for r in rows]

    async def begin_attempt(
        self, callback_id: int, attempt: int, channel_id: str, at: datetime
    ) -> bool:
        """Record the attempt before it is originated. False: it was recorded before."""
        at = require_utc_aware(at, "at")
        async with self._engine.begin() as conn:
            dialect = _ON_CONFLICT[conn.dialect.name]
            made = await conn.execute(
                dialect.insert(QueuedCallbackAttempt).on_conflict_do_nothing(
                    index_elements=["callback_id", "attempt"]
                ),
                {
                    "callback_id": callback_id,
                    "attempt": attempt,
                    "channel_id": channel_id[:64],
                    "started_at": at,
                    "outcome": Outcome.IN_FLIGHT,
                },
            )
            if not made.rowcount:
                return False
            await conn.execute(
                update(QueuedCallback)
                .where(QueuedCallback.id == callback_id, QueuedCallback.state.in_(_OPEN))
                .values(state=State.CALLING, attempts=attempt, next_attempt_at=None)
            )
        return True

    async def end_attempt(
        self, callback_id: int, attempt: int, outcome: Outcome, status: str | None, at: datetime
    ) -> bool:
        """The attempt's end, once: False if it was already written."""
        stmt = (
            update(QueuedCallbackAttempt)
            .where(
                QueuedCallbackAttempt.callback_id == callback_id,
                QueuedCallbackAttempt.attempt == attempt,
                QueuedCallbackAttempt.outcome == Outcome.IN_FLIGHT,
            )
            .values(
                outcome=outcome,
                status=(status or None) and status[:32],
                ended_at=require_utc_aware(at, "at"),
            )
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def retry_at(self, callback_id: int, at: datetime) -> None:
        stmt = (
            update(QueuedCallback)
            .where(QueuedCallback.id == callback_id, QueuedCallback.state.in_(_OPEN))
            .values(state=State.WAITING, next_attempt_at=require_utc_aware(at, "at"))
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def settle(
        self, callback_id: int, state: State, at: datetime, ticket_number: str | None = None
    ) -> None:
        if state in _OPEN:
            raise ValueError(f"{state} is not a settled state")
        stmt = (
            update(QueuedCallback)
            .where(QueuedCallback.id == callback_id, QueuedCallback.state.in_(_OPEN))
            .values(
                state=state,
                settled_at=require_utc_aware(at, "at"),
                ticket_number=ticket_number,
                next_attempt_at=None,
            )
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def attempts_of(self, callback_id: int) -> list[AttemptRecord]:
        stmt = (
            select(QueuedCallbackAttempt.__table__)
            .where(QueuedCallbackAttempt.callback_id == callback_id)
            .order_by(QueuedCallbackAttempt.attempt)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_attempt(r._mapping) for r in rows]

    async def requested_between(self, start: datetime, end: datetime) -> list[tuple[str, bool]]:
        """(caller uniqueid, completed) of queued callbacks requested in [start, end)."""
        start, end = require_utc_aware(start, "start"), require_utc_aware(end, "end")
        stmt = select(QueuedCallback.uniqueid, QueuedCallback.state).where(
            and_(QueuedCallback.requested_at >= start, QueuedCallback.requested_at < end)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(str(r[0]), r[1] == State.COMPLETED) for r in rows]
