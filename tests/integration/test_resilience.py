"""Callers are never left in silence: a hung engine, a crashed Asterisk, an engine
killed again and again, and a database down at start, under the supervisor.

Each test runs `ivr supervise` as an operator would (the engine a child of it, the
watchdog probing it, Asterisk restarted when it dies) on this module's own stack, and
injects the fault with real signals while real calls are up. Every wait is for a fact;
deadlines only keep a broken run from hanging. Recovery times are printed by
bench/recovery.py, never asserted here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ivr.adapters.ami import AmiClient
from ivr.adapters.reconcile import ASTERISK_LOST
from ivr.asterisk import process
from ivr.config import StackConfig
from ivr.engine_file import ENGINE_FILE
from ivr.store import CaseStore
from ivr.supervisor import SUPERVISOR_FILE
from ivr.testcall import place_call
from tests.harness import asterisk_stack, wait_until
from tests.integration.calls import greeting_s
from tests.integration.conftest import ProfileCopy
from tests.integration.test_failures import FallbackWatch, ivr_status, poll
from tests.pgserver import PostgresServer

pytestmark = pytest.mark.asterisk

WAIT_S = 60.0
# The tests' reconciliation pass interval (the engine's default is a minute).
RECONCILE_S = "2"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, taipei_profile: ProfileCopy
) -> Iterator[StackConfig]:
    """Asterisk of this module's own: these tests kill it."""
    with asterisk_stack(
        tmp_path_factory.mktemp("resilience-stack"), profile=taipei_profile.directory
    ) as cfg:
        yield cfg


class Supervised:
    """`ivr supervise` as a child process, and what its state file says."""

    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.cfg.run_dir / SUPERVISOR_FILE).unlink(missing_ok=True)
        log = (self.cfg.log_dir / "supervisor-test.log").open("ab")
        self.proc = subprocess.Popen(
            # No test here opens the console; the engine-kill test restarts one that has it.
            [
                *(sys.executable, "-m", "ivr", "--state-dir", str(self.cfg.state_dir)),
                *("supervise", "--no-console"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "HOTLINE_RECONCILE_S": RECONCILE_S},
        )
        log.close()

    def state(self) -> dict[str, Any]:
        try:
            data = json.loads((self.cfg.run_dir / SUPERVISOR_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def engine_up(self, other_than: int | None = None) -> int | None:
        """The engine's pid once it is up (and is not `other_than`)."""
        assert self.proc is not None
        assert self.proc.poll() is None, "the supervisor exited"
        state = self.state()
        pid = state.get("engine_pid")
        if state.get("engine_state") != "up" or not isinstance(pid, int) or pid == other_than:
            return None
        return pid

    async def wait_engine(self, other_than: int | None = None) -> int:
        found: list[int] = []

        async def up() -> bool:
            pid = self.engine_up(other_than)
            if pid is not None:
                found.append(pid)
            return pid is not None

        await poll(up, WAIT_S, lambda: f"the engine up under the supervisor: {self.state()}")
        return found[-1]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
async def supervised(stack: StackConfig) -> AsyncIterator[Supervised]:
    sup = Supervised(stack)
    sup.start()
    await sup.wait_engine()
    yield sup
    sup.stop()


@dataclass
class Calls:
    """Callers that stay on the line until the test hangs them up."""

    cfg: StackConfig
    uids: list[str]
    tasks: list[asyncio.Task[dict[str, Any]]]

    @property
    def uniqueids(self) -> list[str]:
        return [f"{u}-hotline" for u in self.uids]


def place(cfg: StackConfig, n: int, prefix: str, *, wait_s: float = 0.5) -> Calls:
    uids = [uuid.uuid4().hex for _ in range(n)]
    tasks = [
        asyncio.create_task(
            place_call(
                cfg,
                "1999",
                dtmf="",
                caller=f"{prefix}{i:04d}",
                wait_s=wait_s,
                hold_s=300,
                call_uid=uid,
            )
        )
        for i, uid in enumerate(uids)
    ]
    return Calls(cfg, uids, tasks)


async def in_store(
    store: CaseStore, uniqueids: list[str], kind: str
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        for u in uniqueids:
            record = await store.get_call_by_uniqueid(u)
            if record is None or kind not in [e.kind for e in record.events]:
                return False
        return True

    return check


async def hang_up(ami: AmiClient, watch: FallbackWatch, calls: list[Calls]) -> None:
    """Each caller hangs up its own (`;1`) half of the Local channel."""
    for group in calls:
        for u in group.uniqueids:
            channel = re.sub(r";2$", ";1", watch.channels[u])
            with contextlib.suppress(Exception):
                await ami.action({"Action": "Hangup", "Channel": channel})
        await asyncio.wait_for(asyncio.gather(*group.tasks, return_exceptions=True), WAIT_S)


async def assert_stored_once_as_fallback(
    store: CaseStore, uniqueids: list[str], timeout: float = 120.0
) -> dict[str, Any]:
    """Each call in the store exactly once, ended, with the outcome `fallback`."""
    seen: dict[str, Any] = {}

    async def complete() -> bool:
        for u in uniqueids:
            record = await store.get_call_by_uniqueid(u)
            seen[u] = None if record is None else (record.ended_at, record.outcome)
        return all(v is not None and v[0] is not None and v[1] == "fallback" for v in seen.values())

    await poll(complete, timeout, lambda: f"every call stored, ended, as fallback: {seen}")
    rows = Counter(c.uniqueid for c in await store.list_calls(limit=2000) if c.uniqueid in seen)
    assert rows == dict.fromkeys(uniqueids, 1), rows
    return seen


# --- a hung engine -----------------------------------------------------------------


async def test_hung_engine_is_killed_and_every_caller_reaches_the_fallback(
    stack: StackConfig, store: CaseStore, ami: AmiClient, supervised: Supervised
) -> None:
    """SIGSTOP the engine with 4 callers at the language menu, then place a new call:
    the watchdog kills it, all 5 reach the fallback, and the store is right after."""
    watch = FallbackWatch()
    ami.on("UserEvent", watch.on_event)
    ami.on("QueueCallerJoin", watch.on_event)
    engine_pid = await supervised.wait_engine()
    at_menu = place(stack, 4, "09610")
    await poll(
        await in_store(store, at_menu.uniqueids, "service_state"),
        WAIT_S,
        lambda: "the callers at the language menu",
    )
    os.kill(engine_pid, signal.SIGSTOP)
    try:
        new = place(stack, 1, "09620")
        everyone = at_menu.uniqueids + new.uniqueids

        async def all_fell_back() -> bool:
            return all(u in watch.reached for u in everyone)

        await poll(all_fell_back, WAIT_S, lambda: f"fallback reached by {sorted(watch.reached)}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(engine_pid, signal.SIGCONT)
    new_pid = await supervised.wait_engine(other_than=engine_pid)
    state = supervised.state()
    print(
        f"hung engine: {state.get('hung_kills')} killed, {state.get('redirected')} redirected, "
        f"fallback reasons {sorted(set(watch.reached.values()))}"
    )
    assert state["hung_kills"] >= 1, state
    assert state["last_engine_restart"]["reason"].startswith("hung"), state
    assert new_pid != engine_pid
    with pytest.raises(ProcessLookupError):
        os.kill(engine_pid, 0)
    status = await ivr_status(stack)
    assert status["supervisor"]["ok"], status["supervisor"]
    assert "hung engine" in status["supervisor"]["detail"], status["supervisor"]

    await hang_up(ami, watch, [at_menu, new])
    await assert_stored_once_as_fallback(store, everyone)
    for u in at_menu.uniqueids:
        record = await store.get_call_by_uniqueid(u)
        assert record is not None
        # What the engine saw before it hung stays; its end is the caller's.
        assert [e.kind for e in record.events][:1] == ["agi_start"], record.events
        assert "timeout" not in [e.kind for e in record.events], record.events
        assert record.ended_at is not None
        assert record.ended_at >= record.started_at


# --- the engine killed again and again ---------------------------------------------


async def test_engine_killed_5_times_with_calls_up_leaves_every_call_stored_once(
    stack: StackConfig, store: CaseStore, ami: AmiClient, supervised: Supervised
) -> None:
    """Five SIGKILLs in a row, each with a caller at the menu: the supervisor restarts
    the engine each time, and with no restart by hand the store catches up: each call
    once, ended, with the outcome `fallback`."""
    watch = FallbackWatch()
    ami.on("UserEvent", watch.on_event)
    ami.on("QueueCallerJoin", watch.on_event)
    groups: list[Calls] = []
    pid = await supervised.wait_engine()
    for round_ in range(5):
        calls = place(stack, 1, f"0963{round_}")
        groups.append(calls)
        await poll(
            await in_store(store, calls.uniqueids, "service_state"),
            WAIT_S,
            lambda: "the caller at the menu",
        )
        os.kill(pid, signal.SIGKILL)
        pid = await supervised.wait_engine(other_than=pid)
    # The restarted engine was started as the supervisor was told: without a console.
    record = json.loads((stack.run_dir / ENGINE_FILE).read_text(encoding="utf-8"))
    assert (record["pid"], record["console"]) == (pid, None)
    everyone = [u for g in groups for u in g.uniqueids]

    async def all_fell_back() -> bool:
        return all(u in watch.reached for u in everyone)

    await poll(all_fell_back, WAIT_S, lambda: f"fallback reached by {sorted(watch.reached)}")
    state = supervised.state()
    assert state["engine_restarts"] >= 5, state
    await hang_up(ami, watch, groups)
    await assert_stored_once_as_fallback(store, everyone)


# --- Asterisk killed ---------------------------------------------------------------


async def test_asterisk_killed_is_restarted_answers_and_open_calls_close_at_the_crash(
    stack: StackConfig, store: CaseStore, supervised: Supervised
) -> None:
    """SIGKILL Asterisk with a caller at the menu: the supervisor starts it again, 1999
    answers, and the call that was up is closed at the time the engine lost Asterisk."""
    up = place(stack, 1, "09640")
    await poll(
        await in_store(store, up.uniqueids, "service_state"), WAIT_S, lambda: "the caller in"
    )
    old = process.read_pid(stack)
    assert old is not None
    os.kill(old, signal.SIGKILL)
    # The caller's half died with Asterisk: nothing is left to hang up.
    for task in up.tasks:
        task.cancel()
    await asyncio.gather(*up.tasks, return_exceptions=True)

    def restarted() -> bool:
        # The supervisor counts the restart once the new Asterisk has fully booted.
        pid = process.read_pid(stack)
        booted = supervised.state().get("asterisk_restarts", 0) >= 1
        return booted and pid is not None and pid != old

    await asyncio.to_thread(wait_until, restarted, WAIT_S, "Asterisk restarted")
    await supervised.wait_engine()
    result = await place_call(
        stack,
        "1999",
        dtmf="",
        caller="0964100000",
        wait_s=0.5,
        hold_s=1.0,
        call_uid=uuid.uuid4().hex,
    )
    assert result["reached"], result["summary"]
    state = supervised.state()
    assert state["asterisk_restarts"] >= 1, state

    [uniqueid] = up.uniqueids
    record = None

    async def closed() -> bool:
        nonlocal record
        record = await store.get_call_by_uniqueid(uniqueid)
        # Reconciliation ends the call, then notes why in a second write: wait for both.
        return (
            record is not None
            and record.ended_at is not None
            and any(e.kind == "reconciled" for e in record.events)
        )

    await poll(closed, WAIT_S, lambda: f"the call up at the crash closed: {record}")
    assert record is not None
    assert record.ended_at is not None
    assert record.hangup_cause_text == ASTERISK_LOST, record
    [event] = [e for e in record.events if e.kind == "reconciled"]
    assert event.data["source"] == "asterisk-lost"
    assert record.ended_at.isoformat() == event.data["lost_at"]
    # Closed when the engine lost Asterisk, not when reconciliation found it.
    assert record.ended_at < event.at


# --- the database down at start ----------------------------------------------------


@pytest.fixture(scope="module")
def pg_down_stack(
    tmp_path_factory: pytest.TempPathFactory, taipei_profile: ProfileCopy
) -> Iterator[tuple[StackConfig, PostgresServer]]:
    """A second stack whose case store is a PostgreSQL that the test stops."""
    with PostgresServer() as pg:
        url = pg.create_database("hotline_down_at_start")
        state_dir = tmp_path_factory.mktemp("pg-down-stack")
        with asterisk_stack(state_dir, database_url=url, profile=taipei_profile.directory) as cfg:
            yield cfg, pg


@pytest.mark.postgres
async def test_engine_started_with_postgres_down_answers_and_stores_calls_once_it_is_back(
    pg_down_stack: tuple[StackConfig, PostgresServer],
) -> None:
    """PostgreSQL is down when the supervisor starts the engine: 1999 is answered by
    the engine (not the fallback) and its calls are in the store once PostgreSQL is back."""
    cfg, pg = pg_down_stack
    await asyncio.to_thread(pg.stop)
    sup = Supervised(cfg)
    sup.start()
    try:
        await sup.wait_engine()
        uids = [uuid.uuid4().hex for _ in range(2)]
        results = await asyncio.gather(
            *(
                place_call(
                    cfg,
                    "1999",
                    dtmf="",
                    caller=f"096500{i:04d}",
                    wait_s=0.5,
                    hold_s=greeting_s(cfg) + 1.0,
                    call_uid=uid,
                )
                for i, uid in enumerate(uids)
            )
        )
        # Answered by the engine, not the fallback (the store, down, cannot say more).
        assert all(r["fallback"] is None for r in results), [r["summary"] for r in results]
        await asyncio.to_thread(pg.start)
        store = await CaseStore.open(cfg.database_url)
        try:
            seen: dict[str, Any] = {}

            async def stored() -> bool:
                for uid in uids:
                    record = await store.get_call_by_uniqueid(f"{uid}-hotline")
                    seen[uid] = None if record is None else record.ended_at
                return all(v is not None for v in seen.values())

            await poll(stored, WAIT_S, lambda: f"the calls stored: {seen}")
            for uid in uids:
                record = await store.get_call_by_uniqueid(f"{uid}-hotline")
                assert record is not None
                kinds = [e.kind for e in record.events]
                assert kinds[0] == "agi_start", kinds
                assert kinds[-1] == "hangup", kinds
                assert record.outcome == "abandoned", record.outcome
            rows = Counter(c.uniqueid for c in await store.list_calls(limit=100))
            assert all(n == 1 for n in rows.values()), rows
        finally:
            await store.close()
        assert sup.state()["engine_restarts"] == 0, sup.state()
    finally:
        sup.stop()
