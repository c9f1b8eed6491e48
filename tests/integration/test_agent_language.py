"""Agents on a real softphone hear their own language, and a queue's wrap-up time
holds the next call back (issue 18, item 8).

a02 speaks Mandarin and English; here agents.yaml gives a02 `language: en`, and the
general queue a whisper and a wrap-up time. baresip is a02's phone.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from ivr.adapters.ami import AmiClient
from ivr.asterisk import apply, install, process
from ivr.config import StackConfig
from ivr.routing.loader import load_profile
from ivr.store import CaseStore
from ivr.store.queue_legs import QueueLegs
from tests.harness import OBSERVER_USER
from tests.integration.calls import StartEngine
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.integration.softphone import Softphone

pytestmark = pytest.mark.asterisk

EXTENSION = "7002"
MANDARIN_GENERAL = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
# Longer than the position announcement a caller hears on joining (about 8 s), so
# without a wrap-up the waiting caller would ring the agent sooner than this.
WRAPUP_S = 20


class Observed:
    """What Asterisk reports on AMI: AGI commands and HotlineWhisper events."""

    def __init__(self, stack: StackConfig) -> None:
        self.commands: list[tuple[str, str]] = []
        self.whispers: list[dict[str, str]] = []
        self.changed = asyncio.Event()
        self.ami = AmiClient(stack.host, stack.ports.ami, OBSERVER_USER, stack.ami_secret)
        self.ami.on("AGIExecStart", self._command)
        self.ami.on("UserEvent", self._user_event)

    def _command(self, event: Mapping[str, str]) -> None:
        self.commands.append((event.get("Channel", ""), event.get("Command", "")))
        self.changed.set()

    def _user_event(self, event: Mapping[str, str]) -> None:
        if event.get("UserEvent") == "HotlineWhisper":
            self.whispers.append(dict(event))
            self.changed.set()

    async def whisper(self, count: int) -> list[dict[str, str]]:
        async with asyncio.timeout(60):
            while len(self.whispers) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.whispers


@pytest.fixture
async def english_agent_profile(
    stack: StackConfig, taipei_profile: ProfileCopy, tmp_path: Path
) -> AsyncIterator[Path]:
    """The test profile with a02 in English and a whisper and wrap-up on `general`,
    applied to the running Asterisk (and the stack's own profile applied back after)."""
    profile = tmp_path / "taipei"
    shutil.copytree(taipei_profile.directory, profile)
    agents = profile / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    a02 = '{id: a02, name: 林志豪, extension: "7002",'
    general = "{id: general, name: 一般諮詢,"
    assert a02 in text
    assert general in text
    text = text.replace(a02, f"{a02} language: en,")
    # Any catalogue prompt will do: what matters is the language it is played in.
    text = text.replace(general, f"{general} whisper: whisper-taiwanese, wrapup_s: {WRAPUP_S},")
    agents.write_text(text, encoding="utf-8")
    report = await apply.apply(replace(stack, routing_profile=str(profile)))
    assert not report.errors, report.errors
    try:
        yield profile
    finally:
        restored = await apply.apply(stack)
        assert not restored.errors, restored.errors


async def _answered(store: CaseStore, uniqueid: str) -> None:
    legs = QueueLegs.of(store)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        found = await legs.legs_of(uniqueid)
        if found and found[0].answered_at is not None:
            return
        assert loop.time() < deadline, f"the stay of {uniqueid} was never answered: {found}"
        await asyncio.sleep(0.2)


async def _joined(store: CaseStore, uniqueid: str) -> None:
    legs = QueueLegs.of(store)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while not await legs.legs_of(uniqueid):
        assert loop.time() < deadline, f"{uniqueid} never joined a queue"
        await asyncio.sleep(0.2)


def _since_last_call_s(stack: StackConfig) -> int:
    """What Asterisk says: seconds since the agent's last call in the queue ended."""
    shown = process.rx(install.ensure(), stack, "queue show hotline-general")
    line = next(ln for ln in shown.splitlines() if f"PJSIP/{EXTENSION}" in ln)
    found = re.search(r"last was (\d+) secs ago", line)
    assert found is not None, line
    return int(found.group(1))


async def test_agent_hears_english_and_the_next_call_waits_for_the_wrap_up(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    english_agent_profile: Path,
    tmp_path: Path,
) -> None:
    await start_engine(profile=english_agent_profile)
    tables = load_profile(english_agent_profile)
    secret = next(a.secret for a in tables.agents.agents if a.extension == EXTENSION)
    assert secret is not None
    observed = Observed(stack)
    await observed.ami.start()
    await observed.ami.wait_connected(10.0)
    phone = Softphone(EXTENSION, tmp_path / "baresip")
    await phone.start(stack.ports.sip, secret)
    try:
        await phone.event("REGISTER_OK", timeout_s=30)
        mark = len(phone.events)
        await phone.command("dial", "*45")
        await phone.event("CALL_CLOSED", mark)
        # The login confirmation, on the agent's own phone, in English.
        login = [
            cmd
            for channel, cmd in observed.commands
            if channel.startswith(f"PJSIP/{EXTENSION}-") and "agent-login" in cmd
        ]
        assert login == [f'STREAM FILE {stack.sounds_dir}/en/agent-login ""'], login

        async with Driver(stack, store) as driver:
            mark = len(phone.events)
            first = await driver.place(MANDARIN_GENERAL)
            await phone.event("CALL_INCOMING", mark, timeout_s=120)
            await phone.command("accept")
            await phone.event("CALL_ESTABLISHED", mark)
            # The whisper played on the agent's channel, in English, and was found.
            [whisper] = await observed.whisper(1)
            assert (whisper["Prompt"], whisper["PlayedIn"], whisper["Status"]) == (
                "whisper-taiwanese",
                "en",
                "SUCCESS",
            ), whisper
            await _answered(store, first)
            # A second caller waits while the agent talks...
            second = await driver.place(MANDARIN_GENERAL, caller="0922333444")
            await _joined(store, second)
            mark = len(phone.events)
            await phone.command("hangup")
            await phone.event("CALL_CLOSED", mark)
            await driver.hang_up(first)
            # ...and is offered to the agent only once the wrap-up time has passed.
            await phone.event("CALL_INCOMING", mark, timeout_s=120)
            assert _since_last_call_s(stack) >= WRAPUP_S
            await phone.command("hangup")
            await driver.hang_up(second)
            await driver.ended(first)
            await driver.ended(second)
        mark = len(phone.events)
        await phone.command("dial", "*46")
        await phone.event("CALL_CLOSED", mark)
    finally:
        await phone.stop()
        await observed.ami.stop()
