"""Each call's record says what happened to the caller, on real calls (defect 9).

Callers are driven by the engine's own AGI commands (see `driven.py`): they key,
or hang up, at the exact step each test is about.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ivr.config import StackConfig
from ivr.domain.vocabulary import CallOutcome, FallbackReason
from ivr.store import CaseStore
from tests.harness import EngineProcess, free_port
from tests.integration.calls import StartEngine, events, feature_code, register_agent
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, On, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    answer_then_hang_up_scenario,
    answer_then_key_scenario,
    start_uas,
    uas_scenario,
)

pytestmark = pytest.mark.asterisk

MANDARIN = key("taipei-language-menu", "9")


def _stop(*procs: subprocess.Popen[str]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def test_engine_killed_mid_call_gives_the_fallback_an_engine_reason(
    stack: StackConfig, store: CaseStore, engine: EngineProcess
) -> None:
    """SIGKILL while the menu listens: the fallback says the engine was lost."""
    listening = key("taipei-language-menu", "")
    async with Driver(stack, store) as driver:
        uid = await driver.place([])
        await driver.command_started(uid, listening)
        engine.kill()
        reasons = await driver.fallback(uid)
        await driver.hang_up(uid)
    assert reasons == [FallbackReason.ENGINE_LOST]


async def test_caller_who_hangs_up_while_119_rings_is_not_queued(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """Key 4 then 1 connects to 119; hanging up while it rings ends the call there."""
    await start_engine()
    ringing = start_uas(
        uas_scenario(180),
        port=taipei_profile.trunk_ports["t-pstn"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place(
                [
                    MANDARIN,
                    key("taipei-main-menu", "4"),
                    key("emergency-advice-connect", "1"),
                    # The caller gives up while 119 rings.
                    On("EXEC Dial", "119", None),
                ]
            )
            record = await driver.ended(uid, timeout_s=120)
            commands = driver.commands(uid)
    finally:
        _stop(ringing)
    assert [e["dialstatus"] for e in events(record, "emergency_dial")] == ["CANCEL"]
    assert not events(record, "queue_enter")
    assert not [c for c in commands if c.startswith("EXEC Queue")]
    assert record.outcome == CallOutcome.ABANDONED


async def test_caller_who_hangs_up_while_the_ticket_number_is_read_keeps_the_ticket(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """The ticket was committed before its number was read: the outcome is the ticket."""
    await start_engine()
    async with Driver(stack, store) as driver:
        uid = await driver.place(
            [
                key("taipei-language-menu", "5"),
                key("taipei-taiwanese-notice", "2"),
                key("callback-number-confirm", "1"),
                On("STREAM FILE", "/ticket-registered ", ""),
                # Gone during the first digit of the ticket's number.
                On("STREAM FILE", "/digit-", None),
            ]
        )
        record = await driver.ended(uid, timeout_s=120)
    assert driver.unused(uid) == []
    tickets = events(record, "ticket")
    assert len(tickets) == 1
    assert await store.get_ticket_by_number(str(tickets[0]["number"])) is not None
    assert record.outcome == CallOutcome.TICKET


async def test_agent_transfer_is_recorded_as_a_transfer_that_ended_normally(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """Agent keys 8 6900: unit busy twice, deputy answers and hangs up. No `caller_left`;
    the call ends with normal clearing, not the busy unit's cause."""
    await start_engine()
    agent_port = free_port()
    await register_agent(stack, "7004", agent_port)
    agent = start_uas(
        answer_then_key_scenario("7004", "86900"),
        port=agent_port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    unit = start_uas(
        uas_scenario(486),
        port=taipei_profile.trunk_ports["t-unit"],
        media_port=sipp_media_port(),
        calls=2,
        workdir=tmp_path,
    )
    deputy = start_uas(
        answer_then_hang_up_scenario("69101", 1000),
        port=taipei_profile.trunk_ports["t-dep1"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    await feature_code(stack, "7004", "*45")
    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place([MANDARIN, key("taipei-main-menu", "1")])
            record = await driver.ended(uid, timeout_s=120)
    finally:
        await feature_code(stack, "7004", "*46")
        _stop(agent, unit, deputy)
    assert events(record, "transfer_request") == [{"code": "6900", "by": "agent", "known": True}]
    attempts = [(a["number"], a["dialstatus"]) for a in events(record, "dial_attempt")]
    assert attempts == [("69001", "BUSY"), ("69001", "BUSY"), ("69101", "ANSWER")]
    assert events(record, "caller_left") == []
    assert record.outcome == CallOutcome.TRANSFERRED
    assert (record.hangup_cause, record.hangup_cause_text) == (16, "Normal Clearing")


async def test_agent_transfer_ending_in_a_ticket_ends_with_normal_clearing(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """Agent keys 8 6901: every line busy, the caller leaves a message and gets a ticket.
    The engine ends the call: its cause is normal clearing, not the last busy line's."""
    await start_engine()
    agent_port = free_port()
    await register_agent(stack, "7004", agent_port)
    agent = start_uas(
        answer_then_key_scenario("7004", "86901"),
        port=agent_port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    busy = start_uas(
        uas_scenario(486),
        port=taipei_profile.trunk_ports["t-busy"],
        media_port=sipp_media_port(),
        calls=5,
        workdir=tmp_path,
    )
    await feature_code(stack, "7004", "*45")
    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place(
                [MANDARIN, key("taipei-main-menu", "1"), key("callback-number-confirm", "1")]
            )
            record = await driver.ended(uid, timeout_s=150)
    finally:
        await feature_code(stack, "7004", "*46")
        _stop(agent, busy)
    assert events(record, "transfer_request") == [{"code": "6901", "by": "agent", "known": True}]
    assert [a["dialstatus"] for a in events(record, "dial_attempt")] == ["BUSY"] * 5
    assert len(events(record, "ticket")) == 1
    assert events(record, "caller_left") == []
    assert record.outcome == CallOutcome.TICKET
    assert (record.hangup_cause, record.hangup_cause_text) == (16, "Normal Clearing")
