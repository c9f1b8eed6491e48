"""Case store: calls and their event timelines, on SQLite or PostgreSQL.

All SQL lives here and nothing else does: no clock, no business rules. Every
timestamp comes from the caller and must be timezone-aware.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, event, func, insert, literal, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import selectinload
from sqlalchemy.pool import ConnectionPoolEntry

from ivr.store.models import Call, CallEvent, UTCDateTime, require_utc_aware

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# The name is fixed by the store's published API, so N818's Error suffix does not apply.
class StoreUnavailable(Exception):
    """The database cannot be reached or has gone away; the call may carry on without it."""


@dataclass(frozen=True)
class CallEventRecord:
    seq: int
    at: datetime
    kind: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class CallRecord:
    id: int
    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str | None
    caller_name: str | None
    dnid: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    outcome: str | None
    mode: str | None
    events: tuple[CallEventRecord, ...]


def _event_record(row: CallEvent) -> CallEventRecord:
    return CallEventRecord(
        seq=row.seq, at=row.at, kind=row.kind, data=MappingProxyType(dict(row.data))
    )


def _call_record(row: Call, *, with_events: bool) -> CallRecord:
    return CallRecord(
        id=row.id,
        uniqueid=row.uniqueid,
        linkedid=row.linkedid,
        channel=row.channel,
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        dnid=row.dnid,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        hangup_cause=row.hangup_cause,
        hangup_cause_text=row.hangup_cause_text,
        outcome=row.outcome,
        mode=row.mode,
        events=tuple(_event_record(e) for e in row.events) if with_events else (),
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the web UI read while a call writes; busy_timeout makes concurrent
        # writers queue instead of failing with "database is locked"; SQLite leaves
        # foreign keys (and so ON DELETE CASCADE) off unless asked, per connection.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _json_dumps(value: Any) -> str:
    # Keep Chinese text readable in the database rather than as \u escapes.
    return json.dumps(value, ensure_ascii=False)


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    """Turn "cannot talk to the database" into StoreUnavailable; let data errors through."""
    try:
        yield
    except IntegrityError:
        raise
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailable(f"case store unavailable: {type(exc.orig).__name__}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable("case store connection lost") from exc
        raise
    except (OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"case store unreachable: {exc}") from exc


class CaseStore:
    """Async repository for calls and their timelines."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, connect_timeout: float = 5.0) -> CaseStore:
        """Create the engine; does not connect (use `ping` to check reachability)."""
        kwargs: dict[str, Any] = {"json_serializer": _json_dumps}
        if url.startswith("sqlite"):
            engine = create_async_engine(url, **kwargs)
            event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        else:
            # pre_ping: after a PostgreSQL restart, pooled connections are dead; check
            # them out fresh instead of failing the next call's first write.
            if url.startswith("postgresql+asyncpg"):
                kwargs["connect_args"] = {"timeout": connect_timeout}
            engine = create_async_engine(url, pool_pre_ping=True, **kwargs)
        return cls(engine)

    async def migrate(self) -> None:
        """Upgrade the schema to the newest migration; a no-op when already there."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))

        def upgrade(connection: Connection) -> None:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        with _unavailable_on_connection_errors():
            async with self._engine.begin() as conn:
                await conn.run_sync(upgrade)

    async def close(self) -> None:
        self._closed = True
        await self._engine.dispose()

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a trivial query."""
        self._check_open()
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"case store unavailable: {type(exc).__name__}") from exc

    async def start_call(
        self,
        *,
        uniqueid: str,
        linkedid: str,
        channel: str,
        caller_number: str | None,
        caller_name: str | None,
        dnid: str | None,
        started_at: datetime,
        mode: str | None = None,
    ) -> int:
        """Record a new call and return its id; for a known uniqueid, return the existing id."""
        started_at = require_utc_aware(started_at, "started_at")
        existing = await self._call_id(uniqueid)
        if existing is not None:
            return existing
        try:
            async with self._session() as session, session.begin():
                call = Call(
                    uniqueid=uniqueid,
                    linkedid=linkedid,
                    channel=channel,
                    caller_number=caller_number,
                    caller_name=caller_name,
                    dnid=dnid,
                    started_at=started_at,
                    mode=mode,
                )
                session.add(call)
                await session.flush()
                return call.id
        except IntegrityError:
            # Lost a race with another start for the same channel: theirs stands.
            existing = await self._call_id(uniqueid)
            if existing is None:
                raise
            return existing

    async def mark_answered(self, uniqueid: str, at: datetime) -> None:
        """Set answered_at once; later calls, and unknown uniqueids, change nothing."""
        at = require_utc_aware(at, "at")
        stmt = (
            update(Call)
            .where(Call.uniqueid == uniqueid, Call.answered_at.is_(None))
            .values(answered_at=at)
            .returning(Call.id)
        )
        async with self._session() as session, session.begin():
            updated = (await session.execute(stmt)).scalar_one_or_none()
        if updated is None:
            log.debug("case_store.mark_answered.ignored", uniqueid=uniqueid)

    async def add_event(
        self,
        call_id: int,
        *,
        at: datetime,
        kind: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Append an event to the call's timeline and return its seq (1, 2, ...).

        Raises LookupError if there is no call with that id.
        """
        at = require_utc_aware(at, "at")
        payload = dict(data or {})
        try:
            return await self._insert_event(call_id, at=at, kind=kind, data=payload)
        except IntegrityError:
            # Only a concurrent append can take our (call_id, seq); it has committed by
            # now, so a second attempt sees its seq.
            log.info("case_store.add_event.seq_conflict_retry", call_id=call_id)
        return await self._insert_event(call_id, at=at, kind=kind, data=payload)

    async def _insert_event(
        self, call_id: int, *, at: datetime, kind: str, data: dict[str, Any]
    ) -> int:
        async with self._session() as session, session.begin():
            # On PostgreSQL the row lock queues concurrent appends to one call, so each
            # sees the previous one's seq. NO KEY UPDATE does not block the foreign-key
            # checks of inserts. SQLite takes its write lock when the INSERT starts
            # (before it reads MAX), which serialises appends the same way.
            lock = select(Call.id).where(Call.id == call_id).with_for_update(key_share=True)
            if (await session.execute(lock)).scalar_one_or_none() is None:
                raise LookupError(f"no call with id {call_id}")
            stmt = (
                insert(CallEvent)
                .from_select(
                    ["call_id", "seq", "at", "kind", "data"],
                    select(
                        literal(call_id),
                        func.coalesce(func.max(CallEvent.seq), 0) + 1,
                        literal(at, UTCDateTime()),
                        literal(kind),
                        literal(data, JSON()),
                    ).where(CallEvent.call_id == call_id),
                )
                .returning(CallEvent.seq)
            )
            return (await session.execute(stmt)).scalar_one()

    async def end_call(
        self,
        uniqueid: str,
        *,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        outcome: str | None = None,
    ) -> bool:
        """Close the call; False if unknown or already ended (the first end stands).

        An outcome of None keeps any outcome set earlier with `set_outcome`.
        """
        ended_at = require_utc_aware(ended_at, "ended_at")
        values: dict[str, Any] = {
            "ended_at": ended_at,
            "hangup_cause": cause,
            "hangup_cause_text": cause_text,
        }
        if outcome is not None:
            values["outcome"] = outcome
        # One conditional UPDATE, so two racing ends cannot both win.
        stmt = (
            update(Call)
            .where(Call.uniqueid == uniqueid, Call.ended_at.is_(None))
            .values(**values)
            .returning(Call.id)
        )
        async with self._session() as session, session.begin():
            return (await session.execute(stmt)).scalar_one_or_none() is not None

    async def set_outcome(self, uniqueid: str, outcome: str) -> None:
        """Set (or replace) the call's outcome; unknown uniqueids change nothing."""
        stmt = (
            update(Call).where(Call.uniqueid == uniqueid).values(outcome=outcome).returning(Call.id)
        )
        async with self._session() as session, session.begin():
            updated = (await session.execute(stmt)).scalar_one_or_none()
        if updated is None:
            log.debug("case_store.set_outcome.ignored", uniqueid=uniqueid)

    async def get_call(self, call_id: int) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.id == call_id))

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.uniqueid == uniqueid))

    async def list_calls(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[CallRecord]:
        """Newest first, without events; page on with `before_id` = the last id seen."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        stmt = select(Call).order_by(Call.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(Call.id < before_id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_call_record(r, with_events=False) for r in rows]

    async def open_calls(self) -> list[CallRecord]:
        """Calls not yet ended, oldest first, without events."""
        stmt = select(Call).where(Call.ended_at.is_(None)).order_by(Call.id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [_call_record(r, with_events=False) for r in rows]

    async def _get_one(self, stmt: Any) -> CallRecord | None:
        async with self._session() as session:
            row = (await session.scalars(stmt.options(selectinload(Call.events)))).one_or_none()
        return None if row is None else _call_record(row, with_events=True)

    async def _call_id(self, uniqueid: str) -> int | None:
        async with self._session() as session:
            found: int | None = await session.scalar(
                select(Call.id).where(Call.uniqueid == uniqueid)
            )
        return found

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("case store is closed")

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        self._check_open()
        with _unavailable_on_connection_errors():
            async with self._sessions() as session:
                yield session
