"""Click-to-callback never dials a foreign or premium number, on a real Asterisk.

A spoofed caller id (`00…` international, `0203…` premium) must not become a number an
officer's routine callback sends over the outbound trunk: the ticket stores "no usable
number", and `ivr tickets callback` checks again before it dials. A SIPp UAS on the
outbound trunk counts the INVITEs: there must be none.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.config import StackConfig
from ivr.domain.calendar import callback_due
from ivr.domain.screening import NO_USABLE_NUMBER
from ivr.store import CaseStore
from tests.harness import free_port
from tests.integration.calls import (
    StartEngine,
    events,
    register_agent,
)
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.integration.short_prompts import short_prompts
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas, uas_scenario

pytestmark = pytest.mark.asterisk


@pytest.fixture(autouse=True)
def _short_prompts(stack: StackConfig) -> Iterator[None]:
    """What the prompts say and how long they last is not what this file tests."""
    with short_prompts(stack):
        yield


TAIPEI = ZoneInfo("Asia/Taipei")
SPOOFED_INTERNATIONAL = "0020312345678"
PREMIUM = "0203123456"


def _invites(port: int, workdir: Path) -> list[str]:
    log = workdir / f"uas-{port}-messages.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if line.startswith("INVITE sip:")]


def _callback(stack: StackConfig, ticket: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ivr",
            *("--state-dir", str(stack.state_dir)),
            *("tickets", "callback", ticket, "--from", "7003"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def test_spoofed_caller_ids_are_never_dialled_back(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """An international caller id keys nothing: its ticket has no usable number, and
    neither it nor a premium number written straight to the store is ever dialled."""
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=TAIPEI)
    engine = await start_engine(clock=lambda: friday)
    (tmp_path / "busy").mkdir()
    busy = start_uas(
        uas_scenario(486),
        port=taipei_profile.trunk_ports["t-busy"],
        media_port=sipp_media_port(),
        calls=5,
        workdir=tmp_path / "busy",
    )
    # The caller keys nothing at the three prompts for a number and says nothing after
    # the beep (silence ends the message). They stay on until the engine hangs up,
    # however long a loaded machine takes to get there.
    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place(
                [key("taipei-language-menu", "6901")], caller=SPOOFED_INTERNATIONAL
            )
            record = await driver.ended(uid, timeout_s=240)
    finally:
        busy.kill()
        busy.wait(timeout=10)
    assert not events(record, "callback_confirm"), "a foreign number was read out to confirm"
    ticket_event = events(record, "ticket")[0]
    spoofed = await store.get_ticket_by_number(str(ticket_event["number"]))
    assert spoofed is not None
    assert spoofed.caller_number == NO_USABLE_NUMBER

    now = datetime.now(TAIPEI)
    view = engine.routing.view()
    premium = await store.create_ticket(
        call_id=record.id,
        transfer_id=None,
        caller_number=PREMIUM,
        agency_id="test-agency",
        unit_id="test-busy-twice",
        reason="no_answer",
        created_at=now,
        due_at=callback_due(view.sla, view.office, now),
    )

    officer_port = free_port()
    await register_agent(stack, "7003", officer_port)
    workdir = tmp_path / "callback"
    workdir.mkdir()
    officer = start_uas(
        uas_scenario(200), port=officer_port, media_port=sipp_media_port(), calls=2, workdir=workdir
    )
    pstn_port = taipei_profile.trunk_ports["t-pstn"]
    citizen = start_uas(
        answer_then_hang_up_scenario(PREMIUM, talk_ms=1500),
        port=pstn_port,
        media_port=sipp_media_port(),
        calls=2,
        workdir=workdir,
    )
    try:
        results = [
            await asyncio.to_thread(_callback, stack, ticket.number)
            for ticket in (spoofed, premium)
        ]
        # Both were listening all along: none of the counts below is a SIPp that never ran.
        assert officer.poll() is None
        assert citizen.poll() is None
    finally:
        for proc in (officer, citizen):
            proc.kill()
            proc.wait(timeout=10)
    for ticket, done in zip((spoofed, premium), results, strict=True):
        assert done.returncode == 1, done.stdout
        assert "Traceback" not in done.stderr
        assert done.stderr.strip() == (
            f"ivr: ticket {ticket.number} has no usable callback number; nothing was dialled"
        )
    assert _invites(pstn_port, workdir) == []
    assert _invites(officer_port, workdir) == []
    for ticket in (spoofed, premium):
        stored = await store.get_ticket(ticket.id)
        assert stored is not None
        assert [a for a in stored.attempts if a.role == "callback"] == []
