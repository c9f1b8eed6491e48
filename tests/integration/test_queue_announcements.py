"""Honest waiting on the real Asterisk: position and estimate, heard inside the queue.

The only Mandarin agent is busy with a first caller; a second caller waits in the
Mandarin queue. Asterisk tells them their position and plays the queue's estimate
sound while they keep their place; the estimate is there only when the store holds
enough answered stays from the last hour. What was played is read from Asterisk's
own log of played files (a log channel added for the test), never timed.

Each test runs the engine on a clock days ahead of the real one: the last hour it
draws its estimate from then holds exactly what the test put there, and nothing
other tests stored.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.adapters.wait_keeper import WaitKeeper
from ivr.asterisk import install, process
from ivr.asterisk.queue_sounds import announced
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.store import CaseStore
from ivr.store.queue_legs import QueueLegs
from tests.harness import free_port
from tests.integration.calls import StartEngine, events, feature_code, register_agent
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas

pytestmark = pytest.mark.asterisk

MANDARIN_AGENT = "7002"
TO_GENERAL = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
SEED = "seeded-stay-"


@dataclass
class PlayedLog:
    path: Path

    def lines(self) -> list[str]:
        if not self.path.exists():
            return []
        return self.path.read_text(encoding="utf-8", errors="replace").splitlines()

    async def until(self, needle: str, timeout_s: float = 90.0) -> list[str]:
        """The log's lines once one contains `needle` (or all of them after the timeout,
        for the assertion to show)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            lines = self.lines()
            if any(needle in line for line in lines) or loop.time() > deadline:
                return lines
            await asyncio.sleep(0.2)


@pytest.fixture
def played(stack: StackConfig) -> Iterator[PlayedLog]:
    """Asterisk writes every file it plays ("Playing '…'", verbose level 3) here."""
    name = f"played-{uuid.uuid4().hex[:8]}.log"
    runtime = install.ensure()
    process.rx(runtime, stack, f"logger add channel {name} verbose(3)")
    try:
        yield PlayedLog(stack.log_dir / name)
    finally:
        process.rx(runtime, stack, f"logger remove channel {name}")


def _days_ahead(days: int) -> Callable[[], datetime]:
    # Whole days: the same time of day and weekday, so service hours are as now.
    return lambda: system_clock() + timedelta(days=days)


@pytest.fixture
async def busy_agent(
    stack: StackConfig, taipei_profile: ProfileCopy, tmp_path: Path
) -> AsyncIterator[subprocess.Popen[str]]:
    """a02's phone (SIPp), registered; it answers one call and talks until hung up."""
    port = free_port()
    await register_agent(stack, MANDARIN_AGENT, port)
    uas = start_uas(
        answer_then_hang_up_scenario(MANDARIN_AGENT, talk_ms=300_000),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    try:
        yield uas
    finally:
        await feature_code(stack, MANDARIN_AGENT, "*46")
        if uas.poll() is None:
            uas.kill()
            uas.wait()


async def _seed_answered(store: CaseStore, now: datetime, talk_s: list[float]) -> None:
    """Answered stays of the Mandarin queue that ended ten minutes before `now`."""
    legs = QueueLegs.of(store)
    for n, talk in enumerate(talk_s):
        uid = f"{SEED}{uuid.uuid4().hex[:8]}-{n}"
        joined = now - timedelta(minutes=20)
        await legs.joined(uniqueid=uid, queue="general", language="zh-TW", at=joined)
        await legs.answered(
            uniqueid=uid, queue="general", agent="a02", hold_s=30, at=joined + timedelta(seconds=30)
        )
        await legs.completed(
            uniqueid=uid,
            queue="general",
            talk_s=talk,
            transferred=False,
            at=now - timedelta(minutes=10),
        )


async def _drop_seeded(store: CaseStore) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DELETE FROM queue_legs WHERE uniqueid LIKE :p"), {"p": f"{SEED}%"})


async def _second_caller_waits(
    stack: StackConfig, store: CaseStore, driver: Driver
) -> tuple[str, str]:
    """Call 1 is answered by the only agent; call 2 then waits in the queue."""
    first = await driver.place(TO_GENERAL, caller="0912000001")
    legs = QueueLegs.of(store)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while not any(leg.answered_at for leg in await legs.legs_of(first)):
        assert loop.time() < deadline, "the agent never answered the first call"
        await asyncio.sleep(0.2)
    second = await driver.place(TO_GENERAL, caller="0912000002")
    return first, second


def _played(lines: list[str], name: str) -> list[str]:
    return [
        line for line in lines if "Playing '" in line and f"/queue-wait/general/{name}." in line
    ]


async def test_a_waiting_caller_hears_position_and_estimate_without_leaving_the_queue(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    busy_agent: subprocess.Popen[str],
    played: PlayedLog,
) -> None:
    """Five answered stays of 100 s in the last hour, one agent, next in line: the
    caller hears "you are next", then "no more than about 2 minutes" (100 s rounded
    up), both inside the one Queue() they never left. A third caller hears that they
    are caller number 2, the number in our Mandarin digit prompt."""
    clock = _days_ahead(7)
    await _seed_answered(store, clock(), [100.0] * 5)
    try:
        engine = await start_engine(clock=clock, profile=taipei_profile.directory)
        await feature_code(stack, MANDARIN_AGENT, "*45")
        async with Driver(stack, store) as driver:
            first, second = await _second_caller_waits(stack, store, driver)
            await played.until("/queue-wait/general/estimate.")
            # A third caller is second in line: the number is said in Mandarin.
            third = await driver.place(TO_GENERAL, caller="0912000003")
            lines = await played.until("/queue-wait/general/position-after.")
            record = await driver.until(
                second, lambda r: any(e.kind == "queue_estimate" for e in r.events)
            )
            later = await driver.until(
                third, lambda r: any(e.kind == "queue_estimate" for e in r.events)
            )
            queue_commands = [c for c in driver.commands(second) if c.startswith("EXEC Queue")]
            # The minute's refresh, from AMI's QueueStatus: two waiting, so a caller
            # joining now is third, three conversations in turn, 300 s, 5 minutes.
            view = engine.routing.view()
            keeper = WaitKeeper(
                engine.ami, QueueLegs.of(store), clock, stack.sounds_dir, lambda: view
            )
            refreshed = await keeper.refresh(view.queues["general"], view.default_language)
            linked = announced(stack.sounds_dir, "general")
            for uid in (third, second, first):
                await driver.hang_up(uid)
            await driver.ended(second)
            await driver.ended(third)
    finally:
        await _drop_seeded(store)
    assert events(record, "queue_estimate") == [
        {
            "queue": "general",
            "position": 1,
            "agents": 1,
            "answered": 5,
            "prompt": "queue-wait-about-2",
        }
    ]
    # Second in line, the same agent: two conversations in turn, 200 s, about 4 minutes.
    assert events(later, "queue_estimate") == [
        {
            "queue": "general",
            "position": 2,
            "agents": 1,
            "answered": 5,
            "prompt": "queue-wait-about-4",
        }
    ]
    assert refreshed is not None
    assert (refreshed.seconds, refreshed.minutes) == (300, 5)
    assert linked == "queue-wait-about-5"
    assert _played(lines, "next"), lines[-20:]
    assert _played(lines, "estimate"), lines[-20:]
    # The position first, then the estimate; and the caller was in one Queue() all along.
    first_next = lines.index(_played(lines, "next")[0])
    assert first_next < lines.index(_played(lines, "estimate")[0])
    assert len(queue_commands) == 1, queue_commands
    # "You are caller number", 2 in our own Mandarin digit prompt, "in line".
    before = lines.index(_played(lines, "position-before")[0])
    digit = next(n for n, line in enumerate(lines) if f"{stack.sounds_dir}/zh-TW/digit-2." in line)
    after = lines.index(_played(lines, "position-after")[0])
    assert before < digit < after, lines[before : after + 1]
    assert not [line for line in lines if "digits/" in line], "Asterisk's English digits"
    # Nothing of Asterisk's own English hold-time or thank-you was played.
    assert not [line for line in lines if "queue-holdtime" in line or "queue-thankyou" in line]


async def test_with_too_little_data_the_caller_hears_the_position_and_no_estimate(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    busy_agent: subprocess.Popen[str],
    played: PlayedLog,
) -> None:
    """Four answered stays in the last hour are too few: the position is told, the
    periodic announcement finds no estimate sound, and nothing is said of the wait."""
    clock = _days_ahead(14)
    await _seed_answered(store, clock(), [100.0] * 4)
    try:
        await start_engine(clock=clock, profile=taipei_profile.directory)
        await feature_code(stack, MANDARIN_AGENT, "*45")
        async with Driver(stack, store) as driver:
            first, second = await _second_caller_waits(stack, store, driver)
            # app_queue logs this line whether or not the file exists.
            lines = await played.until("Playing periodic announcement")
            record = await driver.until(
                second, lambda r: any(e.kind == "queue_estimate" for e in r.events)
            )
            await driver.hang_up(second)
            await driver.hang_up(first)
            await driver.ended(second)
    finally:
        await _drop_seeded(store)
    assert events(record, "queue_estimate") == [
        {"queue": "general", "position": 1, "agents": 1, "answered": 4, "prompt": None}
    ]
    assert any("Playing periodic announcement" in line for line in lines), lines[-20:]
    assert _played(lines, "next"), lines[-20:]
    assert _played(lines, "estimate") == []
    assert announced(stack.sounds_dir, "general") is None
