"""A real softphone as an agent (issue 18): baresip registers, logs in with *45, sees
the caller's language and masked number before answering, answers, and the store
tells the caller's wait from the conversation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.routing.loader import load_profile
from ivr.store import CaseStore
from ivr.store.queue_legs import QueueLegRecord, QueueLegs
from tests.integration.calls import StartEngine
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.integration.softphone import Softphone

pytestmark = pytest.mark.asterisk

EXTENSION = "7001"  # a01: Mandarin, Taiwanese, dispatch, petition
MANDARIN_GENERAL = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
# Long enough for Asterisk's whole-second talk time to be at least 1.
TALK_S = 1.5


@pytest.fixture
async def phone(
    stack: StackConfig, start_engine: StartEngine, taipei_profile: ProfileCopy, tmp_path: Path
) -> AsyncIterator[Softphone]:
    """The engine, and baresip registered as agent 7001 (not yet logged in)."""
    await start_engine(profile=taipei_profile.directory)
    tables = load_profile(taipei_profile.directory)
    secret = next(a.secret for a in tables.agents.agents if a.extension == EXTENSION)
    assert secret is not None
    softphone = Softphone(EXTENSION, tmp_path / "baresip")
    await softphone.start(stack.ports.sip, secret)
    try:
        await softphone.event("REGISTER_OK", timeout_s=30)
        yield softphone
    finally:
        await softphone.stop()


def _members(stack: StackConfig, queue: str) -> str:
    return process.rx(install.ensure(), stack, f"queue show {queue}")


async def _leg(store: CaseStore, uniqueid: str, done: bool) -> QueueLegRecord | None:
    legs = await QueueLegs.of(store).legs_of(uniqueid)
    if not legs:
        return None
    leg = legs[0]
    return leg if (leg.ended_at is not None if done else leg.answered_at is not None) else None


async def _leg_when(store: CaseStore, uniqueid: str, *, ended: bool) -> QueueLegRecord:
    """The call's queue stay once AMI's events have answered (or ended) it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        leg = await _leg(store, uniqueid, ended)
        if leg is not None:
            return leg
        if loop.time() > deadline:
            raise AssertionError(f"the queue stay of {uniqueid} was never stored so")
        await asyncio.sleep(0.2)


async def test_softphone_agent_logs_in_sees_the_language_answers_and_is_timed(
    stack: StackConfig, store: CaseStore, phone: Softphone
) -> None:
    # *45 from the phone itself: the endpoint's forced caller id names the agent.
    mark = len(phone.events)
    await phone.command("dial", "*45")
    await phone.event("CALL_ESTABLISHED", mark)
    # The engine plays the confirmation and hangs up: the login is done by then.
    await phone.event("CALL_CLOSED", mark)
    assert f"PJSIP/{EXTENSION}" in _members(stack, "hotline-general")
    history = await store.agent_states("a01", limit=1)
    assert [h.state for h in history] == ["logged_in"]

    async with Driver(stack, store) as driver:
        mark = len(phone.events)
        uid = await driver.place(MANDARIN_GENERAL)
        ringing = await phone.event("CALL_INCOMING", mark, timeout_s=120)
        # Before answering, the agent sees the language and the masked number.
        assert ringing.get("peerdisplayname") == "[國語] 0912○○○678", ringing
        await phone.command("accept")
        await phone.event("CALL_ESTABLISHED", mark)
        answered = await _leg_when(store, uid, ended=False)
        assert (answered.queue, answered.language, answered.agent) == ("general", "zh-TW", "a01")
        # A conversation of a measurable length, then the agent hangs up.
        await asyncio.sleep(TALK_S)
        await phone.command("hangup")
        await phone.event("CALL_CLOSED", mark)
        leg = await _leg_when(store, uid, ended=True)
        await driver.hang_up(uid)
        await driver.ended(uid)

    assert leg.outcome == "answered", leg
    assert leg.answered_at is not None
    assert leg.ended_at is not None
    assert leg.joined_at <= leg.answered_at <= leg.ended_at
    # The wait and the talk, told apart.
    assert leg.hold_s is not None
    assert leg.hold_s >= 0
    assert leg.talk_s is not None
    assert leg.talk_s >= 1

    mark = len(phone.events)
    await phone.command("dial", "*46")
    await phone.event("CALL_CLOSED", mark)
    assert f"PJSIP/{EXTENSION}" not in _members(stack, "hotline-general")
