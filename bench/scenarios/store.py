"""Case-store write throughput through CaseStore, on SQLite and on PostgreSQL.

Each simulated call writes what a transferred call writes in the engine's shape:
start_call, mark_answered, `EVENTS_PER_CALL` timeline events, set_outcome and
end_call, with `CONCURRENCY` calls in flight (the engine serves many calls at once).
A write returns once committed (writes in flight together share a commit, as in the
engine). Both databases commit durably: SQLite as the engine configures it (WAL,
synchronous=FULL by default), PostgreSQL with fsync, synchronous_commit and
full_page_writes turned back on (tests/pgserver.py turns them off for speed).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.stack import QUIET
from ivr.store import CaseStore, default_sqlite_url
from tests.pgserver import PostgresServer

EVENTS_PER_CALL = 10
WRITES_PER_CALL = EVENTS_PER_CALL + 4
CONCURRENCY = 20


async def _one_call(store: CaseStore, i: int, run: str) -> None:
    now = datetime.now(UTC)
    uniqueid = f"bench-{run}-{i}"
    call_id = await store.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/carrier-{i:08x}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=now,
        mode="normal",
    )
    await store.mark_answered(uniqueid, now)
    for k in range(EVENTS_PER_CALL):
        await store.add_event(call_id, at=now, kind="bench", data={"k": k, "menu": "language"})
    await store.set_outcome(uniqueid, "transferred")
    await store.end_call(uniqueid, ended_at=now, cause=16, cause_text="Normal Clearing")


async def measure(url: str, *, calls: int, time_limit_s: float) -> dict[str, Any]:
    """Write `calls` calls, starting none after `time_limit_s`; writes/s of those done."""
    store = await CaseStore.open(url)
    await store.migrate()
    run = f"{time.time_ns():x}"
    gate = asyncio.Semaphore(CONCURRENCY)
    done = 0
    errors: dict[str, int] = {}

    async def worker(i: int) -> None:
        nonlocal done
        async with gate:
            if time.perf_counter() >= stop_at:
                return  # out of time: calls not started are not counted
            try:
                await _one_call(store, i, run)
                done += 1
            except Exception as exc:  # counted and reported, never hidden
                name = type(exc).__name__
                errors[name] = errors.get(name, 0) + 1

    started = time.perf_counter()
    # The process's CPU, the writer thread's included: what the engine pays per write.
    cpu_started = time.process_time()
    stop_at = started + time_limit_s
    tasks = [asyncio.create_task(worker(i)) for i in range(calls)]
    try:
        # Calls in flight at the limit finish; this bound is for a store that hangs.
        async with asyncio.timeout(time_limit_s + 60):
            await asyncio.gather(*tasks)
    except TimeoutError:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    await store.close()
    return {
        "calls_done": done,
        "calls_planned": calls,
        "errors": errors,
        "elapsed_s": round(elapsed, 2),
        "writes_per_s": round(done * WRITES_PER_CALL / elapsed, 1),
        "cpu_ms_per_write": round(cpu * 1000 / (done * WRITES_PER_CALL), 3) if done else None,
        "calls_per_s": round(done / elapsed, 1),
        "writes_per_call": WRITES_PER_CALL,
        "concurrency": CONCURRENCY,
    }


async def _durable(pg: PostgresServer) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres")
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = on")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def store_throughput(workdir: Path, *, calls: int, time_limit_s: float) -> dict[str, Any]:
    sqlite_path = workdir / "store-bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    out: dict[str, Any] = {"background_busy_pct": QUIET.wait()}
    out["sqlite"] = asyncio.run(
        measure(default_sqlite_url(sqlite_path), calls=calls, time_limit_s=time_limit_s)
    )
    try:
        with PostgresServer() as pg:
            asyncio.run(_durable(pg))
            out["postgresql_background_busy_pct"] = QUIET.wait()
            out["postgresql"] = asyncio.run(measure(pg.url, calls=calls, time_limit_s=time_limit_s))
    except (RuntimeError, OSError) as exc:
        out["postgresql"] = {"error": f"not measured: {exc}"}
    return out
