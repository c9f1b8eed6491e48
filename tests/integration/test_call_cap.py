"""The call cap on the real Asterisk (Taipei: 10 minutes, DOMAIN 3a), here 30 s.

A caller reaches a SIPp agent through the Mandarin queue; the agent never hangs up.
Twelve seconds before the limit both legs hear the tone and the warning (each through
its own ARI snoop channel; the engine notes each playback's end); at the limit both
hear the direct line, the engine ends the agent's leg (the agent's phone gets a BYE
it did not ask for), and the call ends or the caller is put through to the direct line.
The queue stay is marked capped, and `ivr report queues` counts it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.cli.queues import month_rows
from ivr.config import StackConfig
from ivr.store import CallRecord, CaseStore
from ivr.store.queue_legs import QueueLegs
from tests.harness import free_port
from tests.integration.calls import StartEngine, events, feature_code, register_agent
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas, uas_scenario

pytestmark = pytest.mark.asterisk

AGENT = ("7002", "a02")
LIMIT_S = 30
WARNING_BEFORE_S = 12
TO_QUEUE = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]


@dataclass
class Phone:
    uas: subprocess.Popen[str]
    messages: Path

    def invites(self) -> list[str]:
        if not self.messages.exists():
            return []
        log = self.messages.read_text(encoding="utf-8", errors="replace")
        return [m for m in log.split("\n\n") if "INVITE sip:" in m]

    async def exited(self) -> int:
        """The phone's scenario ends once it got (and answered) the BYE."""
        return await asyncio.to_thread(self.uas.wait, 120)


def _capped_profile(source: ProfileCopy, target: Path, at_limit: str) -> Path:
    shutil.copytree(source.directory, target)
    profile = target / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    cap = (
        f"call_cap:\n  limit_s: {LIMIT_S}\n  warning_before_s: {WARNING_BEFORE_S}\n"
        f'  at_limit: {at_limit}\n  direct_line: {{number: "0227208889", via: t-pstn}}\n'
    )
    text, replaced = re.subn(r"call_cap:\n(  .*\n)+", cap, text)
    assert replaced == 1
    profile.write_text(text, encoding="utf-8")
    return target


def _phone(workdir: Path, port: int, scenario: str | None = None) -> Phone:
    uas = start_uas(
        scenario or uas_scenario(200, answer_hold_ms=0),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=workdir,
    )
    return Phone(uas, workdir / f"uas-{port}-messages.log")


async def _capped_call(stack: StackConfig, store: CaseStore) -> CallRecord:
    async with Driver(stack, store) as driver:
        uid = await driver.place(TO_QUEUE)
        return await driver.ended(uid, timeout_s=240)


async def _capped_leg(store: CaseStore, uniqueid: str) -> bool:
    """The stay's capped mark (written when the cap ended it; AMI's events may lag)."""
    legs = QueueLegs.of(store)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        found = await legs.legs_of(uniqueid)
        if (found and found[-1].capped) or loop.time() > deadline:
            return bool(found) and found[-1].capped
        await asyncio.sleep(0.2)


def _heard_on_both_legs(record: CallRecord) -> None:
    [warning] = events(record, "cap_warning")
    assert (warning["caller"], warning["agent"]) == ("done", "done"), warning
    [reached] = events(record, "cap_reached")
    assert (reached["caller"], reached["agent"]) == ("done", "done"), reached
    assert reached["agent_leg_ended"] is True
    # The warning came before the limit, the end not before it.
    assert int(str(warning["after_s"])) >= LIMIT_S - WARNING_BEFORE_S
    assert int(str(reached["after_s"])) >= LIMIT_S


async def test_queue_call_is_warned_on_both_legs_and_ended_at_the_cap(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    await start_engine(profile=_capped_profile(taipei_profile, tmp_path / "taipei", "end"))
    port = free_port()
    await register_agent(stack, AGENT[0], port)
    phone = _phone(tmp_path, port)
    await feature_code(stack, AGENT[0], "*45")
    try:
        record = await _capped_call(stack, store)
        # The agent's phone was sent a BYE: the engine ended that leg, not the agent.
        assert await phone.exited() == 0
    finally:
        await feature_code(stack, AGENT[0], "*46")
        if phone.uas.poll() is None:
            phone.uas.kill()
            phone.uas.wait()
    _heard_on_both_legs(record)
    assert events(record, "cap_reached")[0]["queue"] == "general"
    [leave] = events(record, "queue_leave")
    assert (leave["queue"], leave["agent"]) == ("general", AGENT[1])
    kinds = [e.kind for e in record.events]
    # The caller was told the direct line and goodbye: no survey after a capped call.
    assert "survey" not in kinds, kinds
    assert "cap_transfer" not in kinds, kinds
    assert record.outcome == "queued"
    assert await _capped_leg(store, record.uniqueid)
    [leg] = await QueueLegs.of(store).legs_of(record.uniqueid)
    month = f"{leg.joined_at.astimezone(ZoneInfo('Asia/Taipei')):%Y-%m}"
    rows = {(r.queue, r.language): r for r in await month_rows(stack, month)}
    assert rows["general", "zh-TW"].capped >= 1
    assert rows["general", "zh-TW"].answered >= rows["general", "zh-TW"].capped


async def test_capped_call_is_put_through_to_the_direct_line(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """at_limit: transfer: after both legs are told, the caller is dialled through to
    the switchboard (a SIPp on the carrier trunk), which answers."""
    profile = _capped_profile(taipei_profile, tmp_path / "taipei", "transfer")
    await start_engine(profile=profile)
    # The switchboard answers, then hangs up after 2 s (the caller's business done).
    switchboard = _phone(
        tmp_path,
        taipei_profile.trunk_ports["t-pstn"],
        answer_then_hang_up_scenario("0227208889", talk_ms=2000),
    )
    port = free_port()
    await register_agent(stack, AGENT[0], port)
    phone = _phone(tmp_path, port)
    await feature_code(stack, AGENT[0], "*45")
    try:
        record = await _capped_call(stack, store)
        assert await phone.exited() == 0
        assert await switchboard.exited() == 0
    finally:
        await feature_code(stack, AGENT[0], "*46")
        for p in (phone, switchboard):
            if p.uas.poll() is None:
                p.uas.kill()
                p.uas.wait()
    _heard_on_both_legs(record)
    assert events(record, "cap_transfer") == [{"number": "0227208889", "dialstatus": "ANSWER"}]
    [invite] = switchboard.invites()
    assert "INVITE sip:0227208889@" in invite
    assert record.outcome == "transferred"
    assert await _capped_leg(store, record.uniqueid)


async def test_transfer_to_a_unit_is_capped_too(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """A caller keys a unit's dial code; the unit's line answers and never hangs up:
    Dial's conversation gets the same warning and end as a queue's."""
    await start_engine(profile=_capped_profile(taipei_profile, tmp_path / "taipei", "end"))
    unit = _phone(tmp_path, taipei_profile.trunk_ports["t-unit"])
    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place([key("taipei-language-menu", "6900")])
            record = await driver.ended(uid, timeout_s=240)
        assert await unit.exited() == 0
    finally:
        if unit.uas.poll() is None:
            unit.uas.kill()
            unit.uas.wait()
    _heard_on_both_legs(record)
    assert [a["dialstatus"] for a in events(record, "dial_attempt")] == ["ANSWER"]
    [reached] = events(record, "cap_reached")
    assert reached["transfer_id"] == events(record, "transfer")[0]["transfer_id"]
    assert record.outcome == "transferred"
