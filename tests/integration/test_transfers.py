"""Transfers that never lose a caller, on a real Asterisk with SIPp agency lines.

Each test line sits behind its own SIP trunk, so a SIPp UAS on that trunk's port is
exactly one agency phone: it answers, rings forever, or replies 486 Busy Here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.domain.calendar import callback_due
from ivr.store import CaseStore, audit
from ivr.testcall import place_call
from tests.harness import EngineProcess, free_port
from tests.integration.calls import (
    StartEngine,
    call,
    events,
    feature_code,
    greeting_s,
    register_agent,
    secs,
)
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    answer_then_hang_up_scenario,
    answer_then_key_scenario,
    start_uas,
    uas_scenario,
)

pytestmark = pytest.mark.asterisk

TAIPEI = ZoneInfo("Asia/Taipei")


def _uas(
    profile: ProfileCopy, trunk: str, reply: int, calls: int, workdir: Path
) -> subprocess.Popen[str]:
    return start_uas(
        uas_scenario(reply),
        port=profile.trunk_ports[trunk],
        media_port=sipp_media_port(),
        calls=calls,
        workdir=workdir,
    )


def _invites(profile: ProfileCopy, trunk: str, workdir: Path) -> list[str]:
    log = workdir / f"uas-{profile.trunk_ports[trunk]}-messages.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if line.startswith("INVITE sip:")]


def _stop(*procs: subprocess.Popen[str]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def test_busy_unit_is_dialled_twice_then_the_second_deputy_answers(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """486 twice (exactly two INVITEs), deputy one silent, deputy two answers."""
    await start_engine()
    unit = _uas(taipei_profile, "t-unit", 486, 2, tmp_path)
    deputy1 = _uas(taipei_profile, "t-dep1", 180, 1, tmp_path)
    deputy2 = _uas(taipei_profile, "t-dep2", 200, 1, tmp_path)
    try:
        record = await call(
            stack,
            store,
            dtmf="6900#",
            wait_s=greeting_s(stack),
            hold_s=secs(stack, "connecting") + 1 + 5 + 6,
        )
    finally:
        _stop(unit, deputy1, deputy2)
    assert len(_invites(taipei_profile, "t-unit", tmp_path)) == 2
    attempts = [
        (a["number"], a["role"], a["attempt"], a["dialstatus"])
        for a in events(record, "dial_attempt")
    ]
    assert attempts == [
        ("69001", "primary", 1, "BUSY"),
        ("69001", "primary", 2, "BUSY"),
        ("69101", "liaison", 1, "NOANSWER"),
        ("69102", "liaison", 1, "ANSWER"),
    ]
    transfer_id = int(events(record, "transfer")[0]["transfer_id"])  # type: ignore[arg-type]
    transfer = await store.transfer_with_attempts(transfer_id)
    assert transfer.result == "liaison_answered"
    assert transfer.answered_by == "69102"
    assert [a.dialstatus for a in transfer.attempts] == ["BUSY", "BUSY", "NOANSWER", "ANSWER"]
    assert [a.target for a in transfer.attempts][:1] == ["PJSIP/69001@t-unit"]
    assert all(a.ended_at is not None for a in transfer.attempts)
    # The liaison registered the matter: its 4-hour callback clock is a ticket too.
    ticket = events(record, "ticket")[0]
    assert ticket["reason"] == "liaison_registered"


async def test_caller_hanging_up_while_the_unit_rings_stops_the_transfer(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """A caller who leaves while the primary rings: no more lines dialled, no ticket."""
    await start_engine()
    ringing = _uas(taipei_profile, "t-ring", 180, 1, tmp_path)
    try:
        record = await call(
            stack,
            store,
            dtmf="6902#",
            wait_s=greeting_s(stack),
            hold_s=secs(stack, "connecting") + 3,
        )
    finally:
        _stop(ringing)
    assert len(_invites(taipei_profile, "t-ring", tmp_path)) == 1
    attempts = [(a["number"], a["role"], a["dialstatus"]) for a in events(record, "dial_attempt")]
    assert attempts == [("69002", "primary", "CANCEL")]
    transfer_id = int(events(record, "transfer")[0]["transfer_id"])  # type: ignore[arg-type]
    transfer = await store.transfer_with_attempts(transfer_id)
    assert transfer.result == "caller_left"
    assert transfer.ended_at is not None
    assert not events(record, "ticket")
    assert [e.kind for e in record.events][-2:] == ["caller_left", "hangup"]
    assert record.outcome == "abandoned"


async def test_all_lines_busy_opens_a_ticket_committed_before_it_is_announced(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """Everyone busy: a busy ticket due in 4 working hours (Fri 16:30 → Mon 11:30)."""
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=TAIPEI)
    engine = await start_engine(clock=lambda: friday)
    busy = _uas(taipei_profile, "t-busy", 486, 5, tmp_path)

    # The caller keys the unit's code and then says nothing: silence confirms the caller
    # id and ends the message. The engine hangs up once the ticket's number and due time
    # are said, however long five busy attempts take on a loaded machine.
    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place([key("taipei-language-menu", "6901")])
            record = await driver.ended(uid, timeout_s=180)
    finally:
        _stop(busy)
    assert len(_invites(taipei_profile, "t-busy", tmp_path)) == 5
    statuses = [a["dialstatus"] for a in events(record, "dial_attempt")]
    assert statuses == ["BUSY"] * 5
    ticket_event = events(record, "ticket")[0]
    ticket = await store.get_ticket_by_number(str(ticket_event["number"]))
    assert ticket is not None
    assert ticket.reason == "busy"
    assert (ticket.agency_id, ticket.unit_id) == ("test-busy-agency", "test-all-busy")
    assert ticket.caller_number == "0912345678"
    assert ticket.status == "open"
    view = engine.routing.view()
    assert ticket.due_at == callback_due(view.sla, view.office, friday)
    assert ticket.due_at.astimezone(TAIPEI) == datetime(2026, 11, 23, 11, 30, tzinfo=TAIPEI)
    assert len(ticket.attempts) == 5
    kinds = [(e.kind, e.data.get("prompt")) for e in record.events]
    assert kinds.index(("ticket", None)) < kinds.index(("played", "ticket-registered"))
    # Due Monday 11:30: the caller hears "by Monday, a.m. 11:30" (Mandarin's order), not
    # "within 4 hours".
    said = [e.data.get("prompt") for e in record.events if e.kind == "played"]
    after = iter(said[said.index("ticket-registered") :])
    due = ("ticket-callback-by", "day-monday", "time-am", "hour-11", "minute-30")
    assert all(p in after for p in (*due, "ticket-callback-by-end")), repr(said)
    assert record.outcome == "ticket"


async def test_engine_killed_during_a_transfer_leaves_the_caller_on_the_fallback(
    stack: StackConfig,
    store: CaseStore,
    engine: EngineProcess,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """SIGKILL while a unit rings: the caller reaches the fallback queue; attempts are kept."""
    ringing = _uas(taipei_profile, "t-ring", 180, 1, tmp_path)
    call_uid = uuid.uuid4().hex
    uniqueid = f"{call_uid}-hotline"
    fallback: dict[str, str] = {}
    joined = asyncio.Event()

    def on_event(event: Mapping[str, str]) -> None:
        if event.get("Uniqueid") != uniqueid:
            return
        if event.get("UserEvent") == "HotlineFallback":
            fallback["reason"] = event.get("Reason", "")
        if event.get("Event") == "QueueCallerJoin":
            fallback["queue"] = event.get("Queue", "")
            joined.set()

    ami = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    ami.on("UserEvent", on_event)
    ami.on("QueueCallerJoin", on_event)
    await ami.start()
    await ami.wait_connected(10)

    async def kill_when_ringing() -> None:
        while True:
            record = await store.get_call_by_uniqueid(uniqueid)
            started = [e for e in record.events if e.kind == "transfer"] if record else []
            if started:
                transfer_id = int(started[0].data["transfer_id"])
                if (await store.transfer_with_attempts(transfer_id)).attempts:
                    # The unit is ringing: its attempt row is committed.
                    engine.kill()
                    return
            await asyncio.sleep(0.1)

    killer = asyncio.create_task(kill_when_ringing())
    try:
        await place_call(
            stack,
            "1999",
            dtmf="6902#",
            caller="0912333444",
            wait_s=greeting_s(stack),
            hold_s=secs(stack, "connecting") + 8 + 6,
            call_uid=call_uid,
        )
        await asyncio.wait_for(joined.wait(), 5)
    finally:
        killer.cancel()
        await ami.stop()
        _stop(ringing)
    assert fallback["queue"] == "hotline-agents"
    assert fallback["reason"]
    record = await store.get_call_by_uniqueid(uniqueid)
    assert record is not None
    transfer_id = int(next(e.data for e in record.events if e.kind == "transfer")["transfer_id"])
    transfer = await store.transfer_with_attempts(transfer_id)
    assert [a.target for a in transfer.attempts] == ["PJSIP/69002@t-ring"]


async def test_agent_keys_8_and_a_unit_code_to_transfer_the_caller(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """A SIP agent keys 8 6902 mid-call: the caller goes through the transfer engine."""
    await start_engine()
    agent_port = free_port()
    await register_agent(stack, "7004", agent_port)
    agent = start_uas(
        answer_then_key_scenario("7004", "86902"),
        port=agent_port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    unit = _uas(taipei_profile, "t-ring", 200, 1, tmp_path)
    await feature_code(stack, "7004", "*45")
    try:
        record = await call(
            stack,
            store,
            dtmf="9#ww1#",
            wait_s=greeting_s(stack),
            hold_s=1.5 + 1.5 + 5 * 0.5 + 4 + secs(stack, "connecting") + 6,
        )
    finally:
        await feature_code(stack, "7004", "*46")
        _stop(agent, unit)
    request = events(record, "transfer_request")
    assert request == [{"code": "6902", "by": "agent", "known": True}]
    transfer = events(record, "transfer")[-1]
    assert transfer["initiated_by"] == "agent"
    assert transfer["unit"] == "test-ringing"
    attempts = [(a["number"], a["dialstatus"]) for a in events(record, "dial_attempt")]
    assert attempts == [("69002", "ANSWER")]
    assert _invites(taipei_profile, "t-ring", tmp_path)


async def test_admin_transfer_moves_a_queued_caller_to_a_unit(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """`ivr transfer CHANNEL UNIT` takes a caller out of the queue into the engine."""
    await start_engine()
    unit = _uas(taipei_profile, "t-ring", 200, 1, tmp_path)
    call_uid = uuid.uuid4().hex
    uniqueid = f"{call_uid}-hotline"

    async def admin_when_queued() -> subprocess.CompletedProcess[str]:
        while True:
            record = await store.get_call_by_uniqueid(uniqueid)
            if record and any(e.kind == "queue_enter" for e in record.events):
                return await asyncio.to_thread(
                    subprocess.run,
                    [
                        sys.executable,
                        "-m",
                        "ivr",
                        "--state-dir",
                        str(stack.state_dir),
                        "transfer",
                        record.channel,
                        "test-ringing",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=60,
                )
            await asyncio.sleep(0.2)

    admin = asyncio.create_task(admin_when_queued())
    try:
        await place_call(
            stack,
            "1999",
            dtmf="9#ww1#",
            caller="0912555666",
            wait_s=greeting_s(stack),
            # The caller holds long enough for the admin's `ivr transfer` to start and
            # act even on a loaded machine (a Python start of several seconds), then
            # hangs up on the unit: the test asserts the move, not the call's length.
            hold_s=4 + secs(stack, "connecting") + 30,
            call_uid=call_uid,
        )
        done = await asyncio.wait_for(admin, 30)
    finally:
        admin.cancel()
        _stop(unit)
    assert done.returncode == 0, done.stderr
    record = await store.get_call_by_uniqueid(uniqueid)
    assert record is not None
    assert events(record, "transfer_request") == [{"code": "69002", "by": "admin", "known": True}]
    assert [a["dialstatus"] for a in events(record, "dial_attempt")] == ["ANSWER"]


async def test_click_to_callback_bridges_the_officer_and_the_citizen(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """`ivr tickets callback` rings the officer, then the citizen, and logs the attempt."""
    engine = await start_engine()
    record = await call(stack, store, dtmf="", wait_s=0.5, hold_s=1.0)
    now = datetime.now(TAIPEI)
    ticket = await store.create_ticket(
        call_id=record.id,
        transfer_id=None,
        caller_number="0912777888",
        agency_id="test-agency",
        unit_id="test-busy-twice",
        reason="no_answer",
        created_at=now,
        due_at=callback_due(engine.routing.view().sla, engine.routing.view().office, now),
    )
    officer_port = free_port()
    await register_agent(stack, "7003", officer_port)
    officer = start_uas(
        uas_scenario(200),
        port=officer_port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    citizen = start_uas(
        answer_then_hang_up_scenario("0912777888", talk_ms=1500),
        port=taipei_profile.trunk_ports["t-pstn"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "ivr",
                "--state-dir",
                str(stack.state_dir),
                "tickets",
                "callback",
                ticket.number,
                "--from",
                "7003",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        _stop(officer, citizen)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ANSWER" in done.stdout
    stored = await store.get_ticket(ticket.id)
    assert stored is not None
    callbacks = [a for a in stored.attempts if a.role == "callback"]
    assert [(a.target, a.dialstatus, a.attempt) for a in callbacks] == [
        ("PJSIP/0912777888@t-pstn", "ANSWER", 1)
    ]
    assert _invites(taipei_profile, "t-pstn", tmp_path)[0].startswith("INVITE sip:0912777888@")
    [audited] = await audit.entries(store, subject=f"ticket:{ticket.number}")
    assert (audited.action, audited.detail) == ("callback", "from extension 7003")
