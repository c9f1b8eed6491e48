"""What every area of the case store shares: the engine, the one way to write, reads.

Writes are typed records (`ivr.store.write_records`) run by the group committer
(`ivr.store.batch`) as Core statements; reads use async ORM sessions. No clock, no
business rules: every timestamp comes from the caller and must be timezone-aware.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

import structlog
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from ivr.store.batch import BatchStats, GroupCommitter, ThreadExecutor, async_engine_executor
from ivr.store.outage import StoreUnavailable, as_unavailable, unavailable_on_outage
from ivr.store.write_records import Spooled, Write

T = TypeVar("T")
log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision. A store already there needs no Alembic, which costs
# every engine start and every CLI command 0.15 s to import and read its scripts.
# tests/store/test_case_store.py checks this is Alembic's own head, so a new migration
# that leaves it behind fails there.
SCHEMA_HEAD = "0016_cases_month_index"


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


def _writer_thread(engine: AsyncEngine) -> ThreadExecutor | None:
    """A synchronous writer for a SQLite file; None where writes use the async engine.

    An in-memory database exists once per connection, so only the async engine's
    connection can write to the one the rest of the store reads.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    sync = create_engine(url.set(drivername="sqlite+pysqlite"), json_serializer=_json_dumps)
    event.listen(sync, "connect", _sqlite_on_connect)
    return ThreadExecutor(sync)


class StoreCore:
    """The engine, the group committer and the sessions every area uses."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._closed = False
        self._writer_thread = _writer_thread(engine)
        executor = self._writer_thread or async_engine_executor(engine)
        self._writes = GroupCommitter(executor, lambda exc: as_unavailable(exc) is not None)

    @property
    def engine(self) -> AsyncEngine:
        """The async engine, for an area whose store code keeps its own statements
        (the queue stays, `ivr.store.queue_legs`)."""
        return self._engine

    @property
    def commit_stats(self) -> BatchStats:
        """How the engine's writes were grouped into transactions."""
        return self._writes.stats

    @classmethod
    async def open(cls, url: str, *, connect_timeout: float = 5.0) -> Self:
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
        with unavailable_on_outage():
            async with self._engine.connect() as conn:
                if await conn.run_sync(_revisions) == [SCHEMA_HEAD]:
                    return
        # Imported only now: most stores are at the head already (see SCHEMA_HEAD).
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))

        def upgrade(connection: Connection) -> None:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        sqlite = self._engine.url.get_backend_name() == "sqlite"
        with unavailable_on_outage():
            async with self._engine.connect() as conn:
                if sqlite:
                    # Batch mode rebuilds a table by copy, drop and rename; with foreign
                    # keys on, the drop would cascade to the rows that reference it (a
                    # transfer's attempts, a ticket's notes and events). The pragma only
                    # takes effect outside a transaction, so it is set before and after.
                    await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                    await conn.commit()
                try:
                    async with conn.begin():
                        await conn.run_sync(upgrade)
                finally:
                    if sqlite:
                        await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                        await conn.commit()

    async def close(self) -> None:
        self._closed = True
        await self._writes.close()
        if self._writer_thread is not None:
            await asyncio.to_thread(self._writer_thread.close)
        await self._engine.dispose()

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a trivial query."""
        self._check_open()
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"case store unavailable: {type(exc).__name__}") from exc

    async def apply(self, record: Write[T]) -> T:
        """Write the record in the next group commit; what it ran to, once committed.

        A record written before (its key is taken) adds nothing and runs to the same.
        Raises StoreUnavailable in an outage, the record's own error otherwise.
        """
        return await self._write(record.run)

    async def _submit(self, record: Write[T]) -> T | Spooled:
        """`apply`, for the engine's writes (`ivr.store.engine_writes`).

        An IntegrityError means a concurrent write took a unique value (an event's
        seq) and has committed, so a second run sees it; refused again, it is a foreign
        key: the row the record names does not exist (LookupError).
        """
        try:
            return await self.apply(record)
        except IntegrityError:
            log.info("case_store.write.conflict_retry", write=record.tag)
        try:
            return await self.apply(record)
        except IntegrityError as exc:
            missing = record.missing()
            if missing is None:
                raise
            raise LookupError(missing) from exc

    async def _write(self, op: Callable[[Connection], T]) -> T:
        """Run a write in the next group commit (see `ivr.store.batch`)."""
        self._check_open()
        try:
            return await self._writes.run(op)
        except Exception as exc:
            unavailable = as_unavailable(exc)
            if unavailable is not None and unavailable is not exc:
                raise unavailable from exc
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("case store is closed")

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        self._check_open()
        with unavailable_on_outage():
            async with self._sessions() as session:
                yield session


def _revisions(connection: Connection) -> list[str]:
    """The revisions the store says it is at (none for an empty store)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
