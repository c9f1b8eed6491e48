"""Group commit: many callers' writes, one transaction.

Every call in progress writes its steps to the case store as they happen, about
fourteen small writes a call. Run one by one, each is a transaction of its own on an
async session: measured on the benchmark machine, about 4.5 ms of engine CPU per
write (ORM unit of work, statement compilation, a thread hop per statement to
aiosqlite and back), which capped the whole engine near 10 calls/s.

`GroupCommitter` takes writes as plain functions of a SQLAlchemy `Connection` (Core
statements compiled once), queues them, and runs whatever has queued up while the
previous transaction committed as one transaction. Each writer still waits for its
own commit, so "returned" still means "committed": nothing changes for the callers
except the cost.

Failure is per write, as before:
- A write that raises (an unknown call, a foreign key, a conflict) cannot take the
  others down with it: the batch is rolled back and every write in it is run again
  in a transaction of its own, so each gets its own result or error.
- A database outage fails every write of the batch with the same error; the caller
  (`DurableStore`) spools them as it would spool single writes.

Where the writes run (`Executor`): on SQLite with a file, in one thread of its own on
a synchronous pysqlite connection, so a batch crosses threads once instead of twice
per statement; otherwise (PostgreSQL, in-memory SQLite) on the async engine's
connection through `run_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.background import cancel
from ivr.stats import nearest_rank

log = structlog.get_logger()

T = TypeVar("T")
Op = Callable[[Connection], Any]
# Runs a function on a connection inside one transaction and commits it.
Executor = Callable[[Callable[[Connection], None]], Awaitable[None]]
# Tells an outage (every write fails alike, nothing to retry one by one) from a write's
# own error.
IsOutage = Callable[[BaseException], bool]

# A bound on one transaction: a flood of writes still commits in steady steps.
MAX_BATCH = 256
STATS_BATCHES = 2_000


@dataclass(eq=False)
class _Write:
    op: Op
    future: asyncio.Future[Any]
    queued_at: float
    result: Any = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """What the committer has done: for benchmarks and the engine's status."""

    batches: int = 0
    writes: int = 0
    retried_alone: int = 0
    largest: int = 0
    # Seconds from the oldest write's queueing to its batch's commit, newest batches.
    waits: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_BATCHES), repr=False)

    def summary(self) -> dict[str, object]:
        """Batch sizes and commit waits (p50, p99, max) in milliseconds."""

        def wait_ms(p: float) -> float | None:
            value = nearest_rank(self.waits, p)
            return None if value is None else round(value * 1000, 2)

        return {
            "batches": self.batches,
            "writes": self.writes,
            "retried_alone": self.retried_alone,
            "largest": self.largest,
            "mean_size": round(self.writes / self.batches, 2) if self.batches else None,
            "commit_wait_p50_ms": wait_ms(50),
            "commit_wait_p99_ms": wait_ms(99),
            "commit_wait_max_ms": wait_ms(100),
        }


class GroupCommitter:
    """Queues writes and commits those that arrive together in one transaction."""

    def __init__(self, execute: Executor, is_outage: IsOutage, *, max_batch: int = MAX_BATCH):
        self._execute = execute
        self._is_outage = is_outage
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Write] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.stats = BatchStats()

    async def run(self, op: Callable[[Connection], T]) -> T:
        """Run `op` in the next group commit; return its result once committed.

        If the awaiting task is cancelled, the write still runs: a step of a call
        that hung up meanwhile is still part of its record.
        """
        if self._closed:
            raise RuntimeError("group committer is closed")
        queue = self._ensure_started()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_Write(op, future, time.perf_counter()))
        # Cancelling the waiter cancels only the future: the queued write still runs,
        # and `_settle` leaves a cancelled future alone.
        return await future

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        self._closed = True
        if self._queue is not None:
            await self._queue.join()
        task, self._task = self._task, None
        await cancel(task)

    def _ensure_started(self) -> asyncio.Queue[_Write]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._loop(self._queue), name="store-commits")
        return self._queue

    async def _loop(self, queue: asyncio.Queue[_Write]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._commit(batch)
                self.stats.waits.append(time.perf_counter() - batch[0].queued_at)
            except Exception as exc:  # a bug here must not strand the waiting callers
                log.exception("case_store.group_commit.failed", writes=len(batch))
                for w in batch:
                    if w.error is None and w.result is None:
                        w.error = exc
            finally:
                for w in batch:
                    _settle(w)
                    queue.task_done()

    async def _commit(self, batch: list[_Write]) -> None:
        self.stats.batches += 1
        self.stats.writes += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        try:
            results = await self._apply(batch)
        except Exception as exc:
            if self._is_outage(exc) or len(batch) == 1:
                for w in batch:
                    w.error = exc
                return
            # One write's own error rolled back the rest: give each its own transaction.
            self.stats.retried_alone += len(batch)
            log.info("case_store.group_commit.retry_alone", writes=len(batch), error=repr(exc))
            for w in batch:
                try:
                    [w.result] = await self._apply([w])
                except Exception as alone_exc:
                    w.error = alone_exc
            return
        for w, result in zip(batch, results, strict=True):
            w.result = result

    async def _apply(self, writes: list[_Write]) -> list[Any]:
        """Run the writes in order in one transaction; their results once committed."""
        results: list[Any] = []

        def apply(conn: Connection) -> None:
            results[:] = [w.op(conn) for w in writes]

        await self._execute(apply)
        return results


def _settle(w: _Write) -> None:
    if w.future.done():
        return
    if w.error is not None:
        w.future.set_exception(w.error)
    else:
        w.future.set_result(w.result)


def async_engine_executor(engine: AsyncEngine) -> Executor:
    """Run a batch on the async engine's connection (PostgreSQL, in-memory SQLite)."""

    async def execute(fn: Callable[[Connection], None]) -> None:
        async with engine.begin() as conn:
            await conn.run_sync(fn)

    return execute


class ThreadExecutor:
    """Run batches on a synchronous engine in one thread of their own (SQLite files).

    The thread keeps one connection: checking one out of the pool per batch costs
    more than many of the writes it carries.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._conn: Connection | None = None
        self._pool_closed = False

    async def __call__(self, fn: Callable[[Connection], None]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._run, fn)

    def _run(self, fn: Callable[[Connection], None]) -> None:
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = self._engine.connect()
        conn = self._conn
        try:
            with conn.begin():
                fn(conn)
        except Exception:
            # After a failed batch start again from a fresh connection: the old one
            # may hold a broken state that another rollback would not clear.
            self._conn = None
            with contextlib.suppress(Exception):
                conn.close()
            raise

    def close(self) -> None:
        """Close the connection and the thread; closing twice is harmless."""
        if self._pool_closed:
            return
        self._pool_closed = True

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._pool.submit(shut).result()
        self._pool.shutdown(wait=True)
        self._engine.dispose()
