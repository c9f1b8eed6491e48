"""Calls keep their records through a database outage: spooled, replayed, each once.

Real databases throughout: a private PostgreSQL that the tests stop and start, a
SQLite file another connection holds locked, and (last) a real Asterisk whose engine
loses its PostgreSQL in the middle of the day.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from structlog.testing import capture_logs

from ivr import app
from ivr.adapters.ami import AmiClient
from ivr.adapters.durable import SPOOL_FILE, DurableStore
from ivr.adapters.reconcile import CDR_DIR, CDR_FILE, OFFSET_FILE
from ivr.app import RECONCILE_ENV
from ivr.config import StackConfig
from ivr.store import CallRecord, CaseStore, StoreUnavailable, default_sqlite_url
from ivr.store_cli import show_call
from ivr.testcall import place_call
from tests.harness import asterisk_stack, wait_until
from tests.integration.calls import greeting_s
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, On, key
from tests.pgserver import PostgresServer
from tests.ports import sipp_media_port

REPO = Path(__file__).resolve().parents[2]
TAIPEI = ZoneInfo("Asia/Taipei")
EVENT_KINDS = ["agi_start", "menu", "transfer", "dial_attempt", "dial_attempt"]
EVENT_KINDS += ["played", "played", "hangup"]
# The uniqueid's field in a Master.csv row (cdr_csv with loguniqueid).
CDR_UNIQUEID = 16
# Short, so a locked SQLite refuses a write at once instead of after the usual 5 s.
SQLITE_BUSY_MS = 100


class TickingClock:
    """Each reading a millisecond later: every record has its own timestamp."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@dataclass
class Leg:
    """What the engine holds of a call in progress (ids may be provisional)."""

    uniqueid: str
    call_id: int
    transfer_id: int
    attempt_id: int


async def begin_call(d: DurableStore, clock: TickingClock, uniqueid: str) -> Leg:
    """The engine's writes up to the first ring of a transfer."""
    call_id = await d.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"Local/1999@hotline-inbound-{uniqueid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=clock(),
        mode="normal",
        answered_at=clock(),
    )
    await d.add_event(call_id, at=clock(), kind="agi_start", data={"script": "hotline"})
    await d.add_event(call_id, at=clock(), kind="menu", data={"menu": "main", "entry": "6900"})
    transfer_id = await d.start_transfer(
        call_id, initiated_by="ivr", agency_id="test-agency", unit_id="test-unit", at=clock()
    )
    await d.add_event(call_id, at=clock(), kind="transfer", data={"transfer_id": transfer_id})
    attempt_id = await d.start_attempt(
        transfer_id=transfer_id, target="PJSIP/69001@t-unit", role="primary", attempt=1, at=clock()
    )
    return Leg(uniqueid, call_id, transfer_id, attempt_id)


async def finish_call(
    d: DurableStore, clock: TickingClock, leg: Leg, *, twins: bool = True
) -> None:
    """The rest of the call: busy, a second ring answered, a rating, the hangup."""
    await d.finish_attempt(
        leg.attempt_id, at=clock(), dialstatus="BUSY", hangup_cause=17, ring_seconds=0.5
    )
    await d.add_event(leg.call_id, at=clock(), kind="dial_attempt", data={"dialstatus": "BUSY"})
    second = await d.start_attempt(
        transfer_id=leg.transfer_id,
        target="PJSIP/69001@t-unit",
        role="primary",
        attempt=2,
        at=clock(),
    )
    await d.finish_attempt(
        second, at=clock(), dialstatus="ANSWER", hangup_cause=16, ring_seconds=2.0
    )
    await d.add_event(leg.call_id, at=clock(), kind="dial_attempt", data={"dialstatus": "ANSWER"})
    await d.finish_transfer(leg.transfer_id, at=clock(), result="answered", answered_by="69001")
    # Two rows alike to the microsecond (a digit read twice): both must arrive, once each.
    same = clock()
    for _ in range(2):
        at = same if twins else clock()
        await d.add_event(leg.call_id, at=at, kind="played", data={"prompt": "digit-1"})
    await d.record_rating(leg.call_id, 5, agent_id="a01", queue="general", at=clock())
    await d.set_outcome(leg.uniqueid, "transferred")
    await d.add_event(leg.call_id, at=clock(), kind="hangup", data={"cause": 16})
    await d.end_call(leg.uniqueid, ended_at=clock(), cause=16, cause_text="Normal Clearing")
    await d.record_agent_state(f"agent-{leg.uniqueid}", "paused", at=clock(), queues=["general"])


async def assert_recorded_once(store: CaseStore, uniqueids: list[str]) -> None:
    """Each call, its events, transfer, attempts, rating and agent state: there, and once."""
    calls = await store.list_calls(limit=1000)
    assert sorted(c.uniqueid for c in calls) == sorted(uniqueids)
    stats = await store.transfer_stats(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert sum(s.transfers for s in stats) == len(uniqueids)
    for uniqueid in uniqueids:
        call = await store.get_call_by_uniqueid(uniqueid)
        assert call is not None
        assert [e.kind for e in call.events] == EVENT_KINDS, uniqueid
        assert [e.seq for e in call.events] == list(range(1, len(EVENT_KINDS) + 1))
        assert call.answered_at is not None
        assert call.ended_at is not None
        assert call.hangup_cause == 16
        assert call.outcome == "transferred"
        # The event names the transfer by its real id, even if it was spooled.
        transfer_id = call.events[2].data["transfer_id"]
        transfer = await store.transfer_with_attempts(transfer_id)
        assert transfer.call_id == call.id
        assert transfer.result == "answered"
        assert [(a.seq, a.attempt, a.dialstatus) for a in transfer.attempts] == [
            (1, 1, "BUSY"),
            (2, 2, "ANSWER"),
        ]
        rating = await store.rating_for_call(call.id)
        assert rating is not None
        assert rating.rating == 5
        states = await store.agent_states(f"agent-{uniqueid}")
        assert [s.state for s in states] == ["paused"]


def spool_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def drained(d: DurableStore, stall_s: float = 30.0) -> None:
    """Wait until replay has emptied the spool; fail only when it stops shrinking.

    How long a backlog takes depends on the machine's load; a replay that makes no
    progress for `stall_s` is stuck, whatever the load."""
    loop = asyncio.get_running_loop()
    lowest, progressed = d.pending, loop.time()
    while d.pending:
        if d.pending < lowest:
            lowest, progressed = d.pending, loop.time()
        elif loop.time() - progressed > stall_s:
            raise AssertionError(f"replay stopped with {d.pending} records waiting")
        await asyncio.sleep(0.05)


def spool_is_empty(path: Path) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") == ""


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    """A PostgreSQL of this module's own: its tests stop and start it."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_url(pg: PostgresServer) -> str:
    """A fresh database on the module's server, which is running."""
    pg.start()
    return pg.create_database(f"outage_{uuid.uuid4().hex[:12]}")


async def open_pg(url: str) -> CaseStore:
    store = await CaseStore.open(url)
    await store.migrate()
    return store


async def record_across_outage(
    d: DurableStore, clock: TickingClock, stop: Callable[[], None]
) -> Leg:
    """Call A begins before the outage and ends in it; B is whole in it; C begins in it."""
    leg_a = await begin_call(d, clock, "A")
    await asyncio.to_thread(stop)
    await finish_call(d, clock, leg_a)
    leg_b = await begin_call(d, clock, "B")
    await finish_call(d, clock, leg_b)
    return await begin_call(d, clock, "C")


@pytest.mark.postgres
async def test_postgres_stopped_during_calls_loses_and_duplicates_nothing(
    pg: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL stops mid-call: writes spool without error, then reach it once each."""
    store = await open_pg(pg_url)
    d = await DurableStore.open(store, tmp_path / SPOOL_FILE)
    clock = TickingClock()
    with capture_logs() as logs:
        leg_c = await record_across_outage(d, clock, pg.stop)

        lines = spool_lines(d.spool_path)
        assert lines
        assert all(line["t"] == "op" for line in lines)
        assert len(lines) == d.pending
        # The spool holds the call begun in the outage, under a provisional id.
        start_c = next(line for line in lines if line["op"] == "start_call")
        assert start_c["args"]["uniqueid"] == "B"
        assert start_c["pid"] < 0
        assert datetime.fromisoformat(start_c["args"]["started_at"]).utcoffset() == timedelta(0)
        assert leg_c.call_id < 0
        assert await d.current_mode(clock()) == "normal"
        assert await d.get_call_by_uniqueid("A") is None
        with pytest.raises(StoreUnavailable):
            await d.replay()

        await asyncio.to_thread(pg.start)
        replayed = await d.replay()
        assert replayed == len(lines)
        # Call C is still in progress: the engine's provisional ids now reach its rows.
        await finish_call(d, clock, leg_c)

    assert [e["event"] for e in logs if e["event"] == "store_spooling"] == ["store_spooling"]
    [done] = [e for e in logs if e["event"] == "store_replayed"]
    assert done["count"] == len(lines)
    assert done["rejected"] == 0
    assert d.pending == 0
    assert spool_is_empty(d.spool_path)
    await assert_recorded_once(store, ["A", "B", "C"])
    await store.close()


@pytest.mark.postgres
async def test_postgres_restarting_under_concurrent_calls_loses_and_duplicates_nothing(
    pg: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL restarts twice while eight callers write and replay runs: each record once."""
    store = await open_pg(pg_url)
    d = await DurableStore.open(store, tmp_path / SPOOL_FILE, retry_s=0.05, max_retry_s=0.2)
    d.start()
    clock = TickingClock()
    made: list[str] = []
    running = True

    async def caller(n: int) -> None:
        i = 0
        while running:
            uniqueid = f"F{n}-{i}"
            leg = await begin_call(d, clock, uniqueid)
            await asyncio.sleep(0.01)
            # Twins would need a count taken before the write to be told apart; a
            # direct write cut off mid-statement has none (see the module doc).
            await finish_call(d, clock, leg, twins=False)
            made.append(uniqueid)
            i += 1

    callers = [asyncio.create_task(caller(n)) for n in range(8)]
    for _ in range(2):
        await asyncio.sleep(0.3)
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(pg.start)
    await asyncio.sleep(0.3)
    running = False
    await asyncio.gather(*callers)
    await drained(d)
    await d.stop()

    assert d.pending == 0
    assert spool_is_empty(d.spool_path)
    assert not d.rejected_path.exists()
    await assert_recorded_once(store, made)
    await store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("written", [1, 7, 20])
async def test_engine_stopped_part_way_through_replay_writes_each_record_once(
    pg: PostgresServer, pg_url: str, tmp_path: Path, written: int
) -> None:
    """Replay cut short after N records, then a new engine replays the rest: each once."""
    store = await open_pg(pg_url)
    first = await DurableStore.open(store, tmp_path / SPOOL_FILE)
    clock = TickingClock()
    leg_c = await record_across_outage(first, clock, pg.stop)
    # Call C's engine is gone: what it had written is all there is of C.
    await finish_call(first, clock, leg_c)
    await asyncio.to_thread(pg.start)
    assert await first.replay(limit=written) == written
    await store.close()
    # The engine died writing one more record: a torn last line, its write never returned.
    with (tmp_path / SPOOL_FILE).open("a", encoding="utf-8") as spool:
        spool.write('{"t": "op", "key": "torn", "op": "add_ev')

    again = await open_pg(pg_url)
    second = await DurableStore.open(again, tmp_path / SPOOL_FILE)
    assert second.pending > 0
    await second.replay()

    assert spool_is_empty(second.spool_path)
    await assert_recorded_once(again, ["A", "B", "C"])
    await again.close()


DIES_AFTER_COMMIT = """
import asyncio, os, signal, sys
from ivr.adapters import collector
collector.starting()  # as the `ivr` command starts
from pathlib import Path
from ivr.adapters.durable import DurableStore
from ivr.store import CaseStore

url, spool, key = sys.argv[1:4]

class DiesAfterCommit(DurableStore):
    async def _append(self, lines, then=None, **kwargs):
        # The database has committed the record; the engine dies before noting it.
        if lines[0]["t"] == "done" and lines[0]["key"] == key:
            os.kill(os.getpid(), signal.SIGKILL)
        await super()._append(lines, then, **kwargs)

async def main():
    durable = await DiesAfterCommit.open(await CaseStore.open(url), Path(spool))
    await durable.replay()

asyncio.run(main())
"""


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("op", "nth"),
    [
        ("start_transfer", 0),
        ("start_attempt", 0),
        ("add_event", 0),
        ("add_event", -1),  # the second of two identical events
        ("record_agent_state", 0),
        ("start_call", 0),
    ],
    ids=["transfer", "attempt", "event", "identical-event", "agent-state", "call"],
)
async def test_engine_killed_between_commit_and_spool_note_writes_each_record_once(
    pg: PostgresServer, pg_url: str, tmp_path: Path, op: str, nth: int
) -> None:
    """SIGKILL after the database committed a record, before the spool knew: still once."""
    store = await open_pg(pg_url)
    d = await DurableStore.open(store, tmp_path / SPOOL_FILE)
    clock = TickingClock()
    leg_c = await record_across_outage(d, clock, pg.stop)
    await finish_call(d, clock, leg_c)
    await store.close()
    await asyncio.to_thread(pg.start)
    ops = [line for line in spool_lines(d.spool_path) if line["op"] == op]
    if op == "add_event" and nth == -1:
        ops = [line for line in ops if line["args"]["data"] == {"prompt": "digit-1"}]
    victim = ops[nth]["key"]

    died = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        DIES_AFTER_COMMIT,
        pg_url,
        str(d.spool_path),
        victim,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(died.communicate(), 120)
    assert died.returncode == -signal.SIGKILL, stderr.decode()
    lines = spool_lines(d.spool_path)
    assert any(line["t"] == "op" and line["key"] == victim for line in lines)

    again = await open_pg(pg_url)
    recovered = await DurableStore.open(again, d.spool_path)
    with capture_logs() as logs:
        await recovered.replay()
    # The victim is written again: its key is taken, so it adds nothing.
    assert any(e["event"] == "store_write_already_in" for e in logs) or op == "start_call"
    assert spool_is_empty(d.spool_path)
    await assert_recorded_once(again, ["A", "B", "C"])
    await again.close()


@pytest.mark.postgres
async def test_ticket_is_never_spooled_and_waits_for_its_call_to_be_written(
    pg: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """No ticket while the database is away; after, it names the spooled call's real id."""
    store = await open_pg(pg_url)
    d = await DurableStore.open(store, tmp_path / SPOOL_FILE)
    clock = TickingClock()
    await asyncio.to_thread(pg.stop)
    leg = await begin_call(d, clock, "T")
    spooled = d.pending

    def ticket_args() -> dict[str, Any]:
        now = clock()
        return {
            "call_id": leg.call_id,
            "transfer_id": leg.transfer_id,
            "caller_number": "0912345678",
            "agency_id": "test-agency",
            "unit_id": "test-unit",
            "reason": "no_answer",
            "created_at": now,
            "due_at": now + timedelta(hours=4),
        }

    with pytest.raises(StoreUnavailable):
        await d.create_ticket(**ticket_args())
    assert d.pending == spooled
    assert all(line["op"] != "create_ticket" for line in spool_lines(d.spool_path))

    await asyncio.to_thread(pg.start)
    assert await store.list_tickets() == []
    ticket = await d.create_ticket(**ticket_args())
    call = await store.get_call_by_uniqueid("T")
    assert call is not None
    assert ticket.call_id == call.id
    assert ticket.transfer_id == call.events[2].data["transfer_id"]
    assert d.pending == 0
    await store.close()


# -- SQLite --------------------------------------------------------------------------


async def open_sqlite(path: Path) -> CaseStore:
    """A CaseStore on SQLite that gives up on a lock after SQLITE_BUSY_MS."""
    engine = create_async_engine(default_sqlite_url(path))

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    event.listen(engine.sync_engine, "connect", pragmas)
    store = CaseStore(engine)
    await store.migrate()
    return store


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[tuple[CaseStore, Path]]:
    path = tmp_path / "cases.db"
    store = await open_sqlite(path)
    yield store, path
    await store.close()


async def test_sqlite_locked_past_its_busy_timeout_loses_and_duplicates_nothing(
    sqlite_store: tuple[CaseStore, Path], tmp_path: Path
) -> None:
    """Another connection holds SQLite's write lock: writes spool, then land once each."""
    store, path = sqlite_store
    d = await DurableStore.open(store, tmp_path / SPOOL_FILE)
    clock = TickingClock()
    # The outage starts from a worker thread, like the PostgreSQL tests' stop().
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        leg_c = await record_across_outage(
            d, clock, lambda: holder.execute("BEGIN EXCLUSIVE").close()
        )
        assert d.pending > 0
        with pytest.raises(StoreUnavailable):
            await d.replay()
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    await d.replay()
    await finish_call(d, clock, leg_c)

    assert spool_is_empty(d.spool_path)
    await assert_recorded_once(store, ["A", "B", "C"])


async def test_ticket_during_a_sqlite_lock_raises_instead_of_spooling(
    sqlite_store: tuple[CaseStore, Path], tmp_path: Path
) -> None:
    """create_ticket never spools: the caller must not hear a number that is not committed."""
    store, path = sqlite_store
    d = await DurableStore.open(store, tmp_path / SPOOL_FILE)
    clock = TickingClock()
    leg = await begin_call(d, clock, "T")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        now = clock()
        with pytest.raises(StoreUnavailable):
            await d.create_ticket(
                call_id=leg.call_id,
                transfer_id=leg.transfer_id,
                caller_number="0912345678",
                agency_id="test-agency",
                unit_id="test-unit",
                reason="no_answer",
                created_at=now,
                due_at=now + timedelta(hours=4),
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert d.pending == 0
    assert spool_is_empty(d.spool_path)
    assert await store.list_tickets() == []


# -- a real Asterisk whose PostgreSQL goes away ----------------------------------------


@pytest.fixture(scope="module")
def pg_stack(
    tmp_path_factory: pytest.TempPathFactory, taipei_profile: ProfileCopy, pg: PostgresServer
) -> Iterator[tuple[StackConfig, PostgresServer]]:
    """Asterisk and the taipei profile, with the case store on the module's PostgreSQL."""
    pg.start()
    url = pg.create_database("hotline_stack")
    state = tmp_path_factory.mktemp("pg-stack")
    with asterisk_stack(state, database_url=url, profile=taipei_profile.directory) as cfg:
        yield cfg, pg


@dataclass
class DownStack:
    """A running engine whose PostgreSQL is stopped, and the queue joins AMI reports."""

    cfg: StackConfig
    pg: PostgresServer
    engine: app.Engine
    joined: list[Mapping[str, str]]
    # Set at each join, for a caller waiting to be queued.
    join_news: asyncio.Event
    before_replay: list[dict[str, Any]] = field(default_factory=list)

    def spool(self) -> list[dict[str, Any]]:
        return spool_lines(self.engine.durable.spool_path)

    async def call(self, *, dtmf: str, wait_s: float, hold_s: float) -> str:
        """Place a call through the dialplan; its uniqueid, once its end is spooled."""
        result = await place_call(
            self.cfg,
            "1999",
            dtmf=dtmf,
            caller="0912345678",
            wait_s=wait_s,
            hold_s=hold_s,
            call_uid=uuid.uuid4().hex,
        )
        # `reached` reads the store, which is down: the engine's own records say it.
        assert result["fallback"] is None, result["summary"]
        uniqueid: str = result["uniqueid"]
        await self._end_spooled(uniqueid)
        return uniqueid

    async def call_until_queued(self, script: list[On]) -> str:
        """A caller who keys `script` as each menu listens (tests/integration/driven.py),
        stays until the dialplan's queue takes the call, then hangs up; the call's
        uniqueid, once its end is spooled.

        Nothing is timed against prompt lengths: on a loaded machine a caller on a
        timetable hung up before the engine had said "ticket-unavailable". The store is
        down, so what the call did is read from the engine's spool and AMI, never from
        the store the driver would otherwise poll."""
        async with Driver(self.cfg, self.engine.store) as driver:
            uniqueid = await driver.place(script)
            async with asyncio.timeout(180):
                while not any(e.get("Uniqueid") == uniqueid for e in self.joined):
                    self.join_news.clear()
                    await self.join_news.wait()
            await driver.hang_up(uniqueid)
        await self._end_spooled(uniqueid)
        return uniqueid

    async def _end_spooled(self, uniqueid: str) -> None:
        def ended() -> bool:
            return any(
                line["op"] == "end_call" and line["args"]["uniqueid"] == uniqueid
                for line in self.spool()
            )

        # AMI's Hangup reaches the engine after the call: its end is spooled last.
        await asyncio.to_thread(wait_until, ended, 15.0, "the call's end in the spool")

    def spooled_events(self, uniqueid: str) -> list[dict[str, Any]]:
        lines = self.spool()
        [start] = [
            line
            for line in lines
            if line["op"] == "start_call" and line["args"]["uniqueid"] == uniqueid
        ]
        return [
            line["args"]
            for line in lines
            if line["op"] == "add_event" and line["args"]["call_id"] == start["pid"]
        ]

    async def recover(self, uniqueid: str, tickets: int = 0) -> CallRecord:
        """Start PostgreSQL, replay, and return the call as stored, checked to be there once.

        `tickets`: how many tickets the replay made (each made after the outage).
        """
        spooled = [e["kind"] for e in self.spooled_events(uniqueid)]
        self.before_replay = self.spool()
        await asyncio.to_thread(self.pg.start)
        await self.engine.durable.replay()
        assert spool_is_empty(self.engine.durable.spool_path)
        store = await CaseStore.open(self.cfg.database_url)
        try:
            calls = [c for c in await store.list_calls(limit=1000) if c.uniqueid == uniqueid]
            assert len(calls) == 1
            call = await store.get_call_by_uniqueid(uniqueid)
            assert call is not None
            assert [e.kind for e in call.events] == spooled
            assert [e.seq for e in call.events] == list(range(1, len(spooled) + 1))
            assert call.ended_at is not None
            # The module's tests share the database: count this call's tickets.
            made = await store.tickets_of_call(call.id)
            assert len(made) == tickets
            assert all(t.after_outage for t in made)
            return call
        finally:
            await store.close()

    async def reconciled(self, uniqueid: str) -> CallRecord:
        """The call as stored once reconciliation has read its CDR and judged it.

        The engine's reconciler runs once the spool is empty, alongside the test: what
        it decides about the call is final only after its pass over the call's CDR
        row, which it notes by saving its offset past that row."""
        cdr_path = self.cfg.log_dir / CDR_DIR / CDR_FILE
        offset_path = self.cfg.state_dir / OFFSET_FILE

        def judged() -> bool:
            try:
                saved = json.loads(offset_path.read_text(encoding="utf-8"))
                saved_inode, saved_offset = int(saved["inode"]), int(saved["offset"])
                with cdr_path.open("rb") as f:
                    inode, data = os.fstat(f.fileno()).st_ino, f.read()
            except (FileNotFoundError, ValueError, KeyError, TypeError):
                return False
            end, past = 0, None
            for line in data.splitlines(keepends=True):
                end += len(line)
                fields = next(csv.reader([line.decode("utf-8", "replace")]), [])
                if len(fields) > CDR_UNIQUEID and fields[CDR_UNIQUEID] == uniqueid:
                    past = end
            return past is not None and saved_inode == inode and saved_offset >= past

        await asyncio.to_thread(wait_until, judged, 60.0, "reconciliation past the call's CDR")
        store = await CaseStore.open(self.cfg.database_url)
        try:
            call = await store.get_call_by_uniqueid(uniqueid)
        finally:
            await store.close()
        assert call is not None
        return call

    async def replay_again(self) -> int:
        """Replay the spool as it was before recovery, as an engine killed after the
        database's commits but before its `done` lines would; records written."""
        path = self.engine.durable.spool_path.with_name("again.jsonl")
        path.write_text("".join(json.dumps(line) + "\n" for line in self.before_replay))
        store = await CaseStore.open(self.cfg.database_url)
        try:
            again = await DurableStore.open(store, path)
            written = await again.replay()
            assert again.pending == 0
            return written
        finally:
            await store.close()


StartDown = Callable[..., Awaitable[DownStack]]


@pytest.fixture
async def down_stack(
    pg_stack: tuple[StackConfig, PostgresServer], request: pytest.FixtureRequest
) -> AsyncIterator[StartDown]:
    """Start the engine (with a profile and clock of the test's), then stop its database."""
    cfg, pg = pg_stack
    started: list[tuple[app.Engine, AmiClient]] = []

    async def start(
        clock: Callable[[], datetime] | None = None, profile: Path | None = None
    ) -> DownStack:
        pg.start()
        run_cfg = replace(cfg, routing_profile=str(profile)) if profile else cfg
        engine = await (app.start(run_cfg, clock) if clock else app.start(run_cfg))
        joined: list[Mapping[str, str]] = []
        join_news = asyncio.Event()

        def on_join(event: Mapping[str, str]) -> None:
            joined.append(event)
            join_news.set()

        ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
        ami.on("QueueCallerJoin", on_join)
        await ami.start()
        started.append((engine, ami))
        await ami.wait_connected(10.0)
        await asyncio.to_thread(pg.stop)
        return DownStack(run_cfg, pg, engine, joined, join_news)

    yield start
    pg.start()
    for engine, ami in started:
        await ami.stop()
        await engine.stop()


@pytest.mark.asterisk
@pytest.mark.postgres
async def test_call_while_postgres_is_down_reaches_the_queue_and_is_recorded_once(
    down_stack: StartDown,
) -> None:
    """PostgreSQL down: the caller still reaches the queue; once it is back, the call is stored."""
    stack = await down_stack()
    uniqueid = await stack.call(dtmf="9#ww1#", wait_s=greeting_s(stack.cfg), hold_s=3)

    # Nobody is signed in to the queue: the caller is told so and asked before any
    # waiting (hanging up at that choice here), so app_queue sees no join; the queue
    # step is reached, which is what the outage must not prevent.
    assert stack.joined == []
    queued = [e["data"] for e in stack.spooled_events(uniqueid) if e["kind"] == "queue_enter"]
    assert queued == [{"queue": "general", "language": "zh-TW"}]

    call = await stack.recover(uniqueid)
    assert call.outcome == "queued"
    assert next(e for e in call.events if e.kind == "queue_enter").data["queue"] == "general"


@pytest.mark.asterisk
@pytest.mark.postgres
async def test_message_left_while_postgres_is_down_reaches_an_agent_and_a_ticket_after(
    down_stack: StartDown, kinmen_profile: ProfileCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ticket can be committed: the caller hears no number and is queued for an agent.

    When PostgreSQL returns, the call is stored with the message on it, and exactly one
    ticket is made for it, marked as made after the outage, carrying the message; a
    second replay of the same spool (an engine killed before noting its writes) makes
    no second one."""
    closed_at = datetime(2026, 11, 23, 21, 0, tzinfo=TAIPEI)
    # A reconciliation pass every second: one surely reads the call's CDR after replay.
    monkeypatch.setenv(RECONCILE_ENV, "1")
    stack = await down_stack(lambda: closed_at, kinmen_profile.directory)
    # As the Kinmen off-hours test: the caller says nothing, which confirms the caller
    # id and ends the message.
    uniqueid = await stack.call_until_queued([])

    spooled = stack.spooled_events(uniqueid)
    kinds = [e["kind"] for e in spooled]
    assert "recorded" in kinds
    assert "ticket" not in kinds
    assert "ticket_unavailable" in kinds
    played = [e["data"]["prompt"] for e in spooled if e["kind"] == "played"]
    assert "ticket-unavailable" in played
    assert "ticket-registered" not in played
    assert {"next": "queue", "reason": "ticket_unavailable"} in [
        e["data"] for e in spooled if e["kind"] == "route"
    ]
    # The dialplan's agents' queue took the caller.
    assert [e.get("Uniqueid") for e in stack.joined] == [uniqueid]
    assert "agents" in stack.joined[0].get("Queue", "")
    [message] = [e["data"]["path"] for e in spooled if e["kind"] == "recorded"]
    assert message is not None
    assert await asyncio.to_thread(Path(message).is_file)
    # The message is kept under the call's uniqueid, not the provisional id.
    assert Path(message).name.startswith("outage-")
    [deferred] = [e["data"] for e in spooled if e["kind"] == "ticket_deferred"]
    assert deferred["message"] == message
    assert sum(1 for line in stack.spool() if line.get("op") == "create_ticket") == 1

    call = await stack.recover(uniqueid, tickets=1)
    assert call.outcome == "queued"
    # The engine sent the caller to the agents' queue on purpose: reconciliation, which
    # reads the same CDR (it ends in hotline-queue), must not call that a fallback.
    judged = await stack.reconciled(uniqueid)
    assert judged.outcome == "queued"
    assert [e.kind for e in judged.events] == [e.kind for e in call.events]
    store = await CaseStore.open(stack.cfg.database_url)
    try:
        [ticket] = await store.tickets_of_call(call.id)
        assert (ticket.after_outage, ticket.message_path, ticket.reason) == (
            True,
            message,
            "off_hours",
        )
        assert ticket.caller_number == "0912345678"
        # What the agent who took the call sees on it.
        shown = await show_call(stack.cfg, call.id)
        assert shown is not None
        assert [(t["ticket_number"], t["after_outage"]) for t in shown["tickets"]] == [
            (ticket.number, True)
        ]
        assert [e["data"]["key"] for e in shown["events"] if e["kind"] == "ticket_deferred"] == [
            deferred["key"]
        ]

        every_ticket = len(await store.list_tickets(limit=1000))
        assert await stack.replay_again() > 0
        assert [t.id for t in await store.tickets_of_call(call.id)] == [ticket.id]
        assert len(await store.list_tickets(limit=1000)) == every_ticket
        assert len([c for c in await store.list_calls(limit=1000) if c.uniqueid == uniqueid]) == 1
    finally:
        await store.close()


@pytest.mark.asterisk
@pytest.mark.postgres
async def test_a_10000_character_caller_name_is_recorded_on_postgres(
    pg_stack: tuple[StackConfig, PostgresServer],
) -> None:
    """A SIP caller whose display name is 10,000 characters long is served by the engine,
    not the fallback, and PostgreSQL records the call with the name cut to fit."""
    from tests.harness import free_port
    from tests.sipp.scenarios import caller_scenario, run_caller

    cfg, pg = pg_stack
    pg.start()
    engine = await app.start(cfg)
    caller = "0933" + uuid.uuid4().hex[:6].translate(str.maketrans("abcdef", "123456"))
    name = "陳" * 2000 + "A" * 8000
    try:
        result = await asyncio.to_thread(
            run_caller,
            cfg.ports.sip,
            "1999",
            caller_scenario(
                caller, "", pre_ms=int(greeting_s(cfg) * 1000), gap_ms=0, hold_ms=1000, name=name
            ),
            local_port=free_port(),
            media_port=sipp_media_port(),
        )
        store = await CaseStore.open(cfg.database_url)
        try:

            async def ended() -> CallRecord | None:
                for c in await store.list_calls(limit=100):
                    if c.caller_number == caller and c.ended_at is not None:
                        return await store.get_call(c.id)
                return None

            record = await ended()
            deadline = asyncio.get_running_loop().time() + 30
            while record is None and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
                record = await ended()
        finally:
            await store.close()
    finally:
        await engine.stop()
    assert result.ok, result.output
    assert record is not None, "the call was never recorded as ended"
    assert record.outcome != "fallback"
    assert record.caller_name is not None
    # Asterisk itself keeps the start of a SIP display name; what reaches the store fits.
    assert record.caller_name.startswith("陳陳陳")
    assert len(record.caller_name) <= 128
    assert [e.kind for e in record.events][:2] == ["agi_start", "service_state"]


async def test_transfer_ending_without_a_ticket_in_an_outage_does_not_claim_one(
    down_stack: StartDown, taipei_profile: ProfileCopy, tmp_path: Path
) -> None:
    """Every line busy and PostgreSQL down: no ticket can be committed, so the caller
    goes to an agent and the transfer's result is `failed`, never `ticket`."""
    from tests.sipp.scenarios import start_uas, uas_scenario

    stack = await down_stack()
    cfg = stack.cfg
    busy = start_uas(
        uas_scenario(486),
        port=taipei_profile.trunk_ports["t-busy"],
        media_port=sipp_media_port(),
        calls=5,
        workdir=tmp_path,
    )
    # As the all-lines-busy ticket test: five busy lines, then the caller says nothing,
    # which confirms the number and ends the message.
    try:
        uniqueid = await stack.call_until_queued([key("taipei-language-menu", "6901")])
    finally:
        if busy.poll() is None:
            busy.kill()
        busy.wait(timeout=10)
    kinds = [e["kind"] for e in stack.spooled_events(uniqueid)]
    assert "ticket_unavailable" in kinds, kinds
    assert "ticket" not in kinds, kinds

    call = await stack.recover(uniqueid, tickets=1)
    [transfer_event] = [e for e in call.events if e.kind == "transfer"]
    store = await CaseStore.open(cfg.database_url)
    try:
        transfer = await store.transfer_with_attempts(int(transfer_event.data["transfer_id"]))
        [ticket] = await store.tickets_of_call(call.id)
    finally:
        await store.close()
    assert [a.dialstatus for a in transfer.attempts] == ["BUSY"] * 5
    # The caller was sent to an agent: the transfer did not end in a ticket they heard.
    assert transfer.result == "failed"
    assert call.outcome == "queued"
    # The callback is owed all the same: made once PostgreSQL was back, on this transfer.
    assert (ticket.transfer_id, ticket.reason, ticket.after_outage) == (
        transfer.id,
        "busy",
        True,
    )
