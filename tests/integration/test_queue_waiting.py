"""Waiting callers on the real Asterisk: a language choice is a promise (DOMAIN 3a).

The 2023 Taipei complaint: callers who chose Taiwanese were handed to Mandarin-only
agents whenever the Taiwanese agents were busy. Here a Taiwanese caller with no
Taiwanese agent signed in and a Mandarin agent free must not reach that agent
unless they press the key that accepts it.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from ivr.asterisk import install, process
from ivr.cli.queues import month_rows
from ivr.config import StackConfig
from ivr.store import CallRecord, CaseStore
from ivr.store.queue_legs import QueueLegRecord, QueueLegs
from tests.harness import free_port
from tests.integration.calls import StartEngine, events, feature_code, register_agent
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, On, call_through, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas

pytestmark = pytest.mark.asterisk

# a02 speaks Mandarin and English, not Taiwanese: the agent of the 2023 complaint.
MANDARIN_AGENT = ("7002", "a02")
TAIWANESE = [key("taipei-language-menu", "5"), key("taipei-taiwanese-notice", "1")]
MANDARIN = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
# Nobody to take the call: a callback (key 2), to the number the caller called from.
TAKE_CALLBACK = [key("queue-no-agents", "2"), key("callback-number-confirm", "1")]


@dataclass
class Agent:
    extension: str
    uas: subprocess.Popen[str]
    messages: Path

    def invites(self) -> list[str]:
        if not self.messages.exists():
            return []
        log = self.messages.read_text(encoding="utf-8", errors="replace")
        return [m for m in log.split("\n\n") if "INVITE sip:" in m]


@pytest.fixture
async def mandarin_agent(
    stack: StackConfig, start_engine: StartEngine, taipei_profile: ProfileCopy, tmp_path: Path
) -> AsyncIterator[Agent]:
    """The engine, and a SIPp phone for a02, registered and logged in (*45 needs the
    engine); it answers one call for 2 s."""
    await start_engine(profile=taipei_profile.directory)
    extension, _ = MANDARIN_AGENT
    port = free_port()
    await register_agent(stack, extension, port)
    uas = start_uas(
        answer_then_hang_up_scenario(extension, talk_ms=2000),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    await feature_code(stack, extension, "*45")
    try:
        yield Agent(extension, uas, tmp_path / f"uas-{port}-messages.log")
    finally:
        await feature_code(stack, extension, "*46")
        if uas.poll() is None:
            uas.kill()
            uas.wait()


async def _ticket_language(store: CaseStore, record: CallRecord) -> str | None:
    """The language the call's (first) ticket owes its callback in."""
    number = str(events(record, "ticket")[0]["number"])
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT language FROM tickets WHERE number = :n"), {"n": number}
            )
        ).one()
    return row[0]  # type: ignore[no-any-return]


async def _legs_when(
    store: CaseStore, uniqueid: str, done: Callable[[list[QueueLegRecord]], bool]
) -> list[QueueLegRecord]:
    """The call's queue stays once AMI's events have made them so (or after 30 s)."""
    legs = QueueLegs.of(store)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        found = await legs.legs_of(uniqueid)
        if done(found) or loop.time() > deadline:
            return found
        await asyncio.sleep(0.2)


def _members(stack: StackConfig, queue: str) -> str:
    return process.rx(install.ensure(), stack, f"queue show {queue}")


def _kinds(record: CallRecord) -> list[str]:
    return [e.kind for e in record.events]


async def test_taiwanese_caller_gets_a_taiwanese_callback_not_the_free_mandarin_agent(
    stack: StackConfig, store: CaseStore, mandarin_agent: Agent
) -> None:
    """No Taiwanese agent, a Mandarin agent free: told, offered 1/2/3; key 2 is a
    callback ticket in Taiwanese, and the Mandarin agent's phone never rang."""
    assert "PJSIP/7002" in _members(stack, "hotline-general")
    assert "PJSIP/7002" in _members(stack, "hotline-agents")
    record = await call_through(stack, store, [*TAIWANESE, *TAKE_CALLBACK])
    offers = events(record, "queue_offer")
    assert offers == [
        {"queue": "taiwanese", "reason": "no_agents", "keys": "123", "choice": "2"}
    ], _kinds(record)
    assert events(record, "queue_enter") == [{"queue": "taiwanese", "language": "nan"}]
    # Never queued anywhere: not for Mandarin agents, not for the dialplan's all-agents queue.
    assert events(record, "queue_leave") == []
    assert "language_waived" not in _kinds(record)
    ticket = events(record, "ticket")[0]
    assert ticket["reason"] == "queue_callback"
    assert await _ticket_language(store, record) == "nan"
    assert record.outcome == "ticket"
    assert mandarin_agent.invites() == []
    assert mandarin_agent.uas.poll() is None  # still waiting for its one call


async def test_taiwanese_caller_reaches_the_mandarin_agent_only_by_pressing_3(
    stack: StackConfig, store: CaseStore, mandarin_agent: Agent
) -> None:
    """Key 3 accepts a Mandarin agent: the agent's phone shows `[台語] 0912○○○678`."""
    async with Driver(stack, store) as driver:
        uid = await driver.place([*TAIWANESE, key("queue-no-agents", "3")])
        record = await driver.until(
            uid, lambda r: any(e.kind == "queue_leave" for e in r.events), timeout_s=120
        )
        await driver.hang_up(uid)
        record = await driver.ended(uid, timeout_s=60)
    assert events(record, "language_waived") == [
        {"language": "nan", "queue": "general", "agent_language": "zh-TW"}
    ]
    kinds = _kinds(record)
    # The waiver comes before any queue: the caller pressed 3 first.
    assert kinds.index("language_waived") < kinds.index("queue_leave")
    leave = events(record, "queue_leave")[0]
    assert (leave["queue"], leave["agent"]) == ("general", MANDARIN_AGENT[1])
    invites = mandarin_agent.invites()
    assert len(invites) == 1
    assert "[台語] 0912○○○678" in invites[0]
    # The store tells waiting from talking: who answered, after how long, for how long.
    [leg] = await _legs_when(store, uid, lambda legs: bool(legs) and legs[0].ended_at is not None)
    assert (leg.queue, leg.language, leg.agent, leg.outcome) == (
        "general",
        "nan",
        "a02",
        "answered",
    ), leg
    assert leg.answered_at is not None
    assert leg.ended_at is not None
    assert leg.joined_at <= leg.answered_at <= leg.ended_at
    assert leg.hold_s is not None
    assert leg.talk_s is not None
    assert leg.talk_s >= 1
    # ...and `ivr report queues` counts it in the month, by queue and language.
    month = f"{leg.joined_at.astimezone(ZoneInfo('Asia/Taipei')):%Y-%m}"
    rows = {(r.queue, r.language): r for r in await month_rows(stack, month)}
    row = rows["general", "nan"]
    assert (row.offered, row.answered, row.abandoned) == (1, 1, 0)
    assert row.wait_median_s == leg.hold_s


async def test_empty_queue_is_told_at_entry_and_offered_a_callback_at_once(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
) -> None:
    """Nobody signed in to the Mandarin queue: the caller hears so before any waiting,
    and no key 3 (there is no other language to accept)."""
    await start_engine(profile=taipei_profile.directory)
    record = await call_through(stack, store, [*MANDARIN, *TAKE_CALLBACK])
    assert events(record, "queue_offer") == [
        {"queue": "general", "reason": "no_agents", "keys": "12", "choice": "2"}
    ], _kinds(record)
    assert events(record, "queue_leave") == []
    assert await _ticket_language(store, record) == "zh-TW"


async def test_the_longest_wait_ends_in_a_callback_not_another_round(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """A queue whose longest wait is 30 s: the caller who keeps waiting (key 1) is
    offered a callback when it is over, and the call never loops back into the queue."""
    profile = tmp_path / "taipei"
    shutil.copytree(taipei_profile.directory, profile)
    agents = profile / "agents.yaml"
    agents.write_text(
        agents.read_text(encoding="utf-8").replace(
            "skills: [zh-TW], strategy: rrmemory, announce_position: true, max_wait_s: 600}",
            "skills: [zh-TW], strategy: rrmemory, announce_position: true, max_wait_s: 30, "
            "offer_after_s: 20}",
        ),
        encoding="utf-8",
    )
    await start_engine(profile=profile)
    wait_twice = [key("queue-no-agents", "1"), key("queue-no-agents", "1")]
    record = await call_through(
        stack, store, [*MANDARIN, *wait_twice, key("callback-number-confirm", "1")], timeout_s=180
    )
    assert [o["choice"] for o in events(record, "queue_offer")] == ["1", "1"], _kinds(record)
    leaves = events(record, "queue_leave")
    assert [(e["queue"], e["status"]) for e in leaves] == [("general", "TIMEOUT")] * len(leaves)
    assert len(leaves) == 2
    assert events(record, "queue_max_wait")
    assert events(record, "ticket")[0]["reason"] == "queue_callback"
    assert record.outcome == "ticket"
    # Taken out to be asked is not abandoning: both stays "left", none answered.
    legs = await _legs_when(
        store, record.uniqueid, lambda ls: len(ls) == 2 and ls[1].outcome != "waiting"
    )
    assert [(leg.queue, leg.outcome, leg.language) for leg in legs] == [
        ("general", "left", "zh-TW")
    ] * 2


async def test_hanging_up_while_waiting_is_an_abandoned_stay(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
) -> None:
    """Key 1 (keep waiting), then the caller hangs up in the queue: abandoned, not left."""
    await start_engine(profile=taipei_profile.directory)
    hang_up_in_queue = On("EXEC Queue", "hotline-general", None)
    record = await call_through(
        stack, store, [*MANDARIN, key("queue-no-agents", "1"), hang_up_in_queue]
    )
    assert events(record, "queue_offer")[0]["choice"] == "1"
    [leg] = await _legs_when(
        store, record.uniqueid, lambda ls: bool(ls) and ls[0].outcome != "waiting"
    )
    assert (leg.queue, leg.outcome, leg.agent, leg.answered_at) == (
        "general",
        "abandoned",
        None,
        None,
    )
    assert leg.left_at is not None


async def test_pause_with_a_reason_digit_is_shown_and_stored(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """*472: a06's pause for a meal shows in Asterisk's queues and in the store."""
    await start_engine()
    await feature_code(stack, "7006", "*45")
    try:
        await feature_code(stack, "7006", "*472")
        shown = _members(stack, "hotline-dispatch")
        assert "paused:meal" in shown.replace(" ", "").lower(), shown
        [latest] = await store.agent_states("a06", limit=1)
        assert (latest.state, latest.reason) == ("paused", "meal")
        # An unknown digit changes nothing.
        await feature_code(stack, "7006", "*479")
        [still] = await store.agent_states("a06", limit=1)
        assert still == latest
    finally:
        await feature_code(stack, "7006", "*46")
