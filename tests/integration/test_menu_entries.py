"""Whole entries and keys that are never lost, on a real Asterisk with real DTMF.

A caller's entry at a menu is judged whole: an unknown extension is one invalid try
(its digits never become menu keys), and extensions of any length in the directory
can be keyed. Keys are heard while the engine is busy between two commands: the
listening is one Asterisk command, so a slow engine (a loaded machine) loses nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ivr.adapters.fastagi.server import AGISession
from ivr.config import StackConfig
from ivr.domain.menu import INTERDIGIT_S
from ivr.store import CaseStore
from tests.integration.calls import StartEngine, call, events, greeting_s, secs
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas

pytestmark = pytest.mark.asterisk

TAIPEI = ZoneInfo("Asia/Taipei")
LANGUAGE_MENU = "taipei-language-menu"


async def test_unknown_four_digit_extension_is_one_invalid_try_and_reaches_no_queue(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """ "7001" at the main menu matches nothing: one invalid try, and its 0s and 1 are
    not taken as the main menu's keys (0 and 1 would queue the caller)."""
    await start_engine()
    # The caller hangs up once the entry is judged, while the retry notice plays.
    async with Driver(stack, store) as driver:
        uid = await driver.place([key(LANGUAGE_MENU, "9"), key("taipei-main-menu", "7001")])
        await driver.until(uid, lambda r: len(events(r, "menu")) >= 2)
        await driver.hang_up(uid)
        record = await driver.ended(uid)
    main = [(m["menu"], m["entry"], m["tries"], m["decision"]) for m in events(record, "menu")]
    assert main == [
        ("language", "9", 0, {"go": _lang_zh(), "reason": "option"}),
        ("main", "7001", 0, {"retry": "invalid"}),
    ]
    assert events(record, "queue_enter") == []
    assert record.outcome == "abandoned"


def _lang_zh() -> dict[str, Any]:
    return {"type": "language", "language": "zh-TW", "then": "main"}


async def test_five_digit_extension_on_the_agency_pbx_rings_that_line(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """ "61002", a line on the water department's PBX, is one entry although its first
    four digits are the unit's dial code 6100: that very line rings first."""
    await start_engine()
    port = taipei_profile.trunk_ports["agency-pbx"]
    uas = start_uas(
        answer_then_hang_up_scenario("61002", talk_ms=1000),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )

    try:
        async with Driver(stack, store) as driver:
            uid = await driver.place([key(LANGUAGE_MENU, "61002")])
            # The unit answers, talks a second and hangs up; the engine ends the call.
            record = await driver.ended(uid)
    finally:
        uas.wait(timeout=40) if uas.poll() is None else None
        if uas.poll() is None:
            uas.kill()
    menu = events(record, "menu")[0]
    assert (menu["entry"], menu["decision"]) == (
        "61002",
        {"go": {"type": "extension", "extension": "61002"}, "reason": "extension"},
    )
    attempts = [(a["number"], a["role"], a["dialstatus"]) for a in events(record, "dial_attempt")]
    assert attempts == [("61002", "primary", "ANSWER")]
    assert "INVITE sip:61002@" in (tmp_path / f"uas-{port}-messages.log").read_text()
    assert record.outcome == "transferred"


# How long the engine stalls after the command that plays the greeting returns.
STALL_S = 3.0


@pytest.fixture
def engine_stalls_after_the_greeting(
    monkeypatch: pytest.MonkeyPatch, stack: StackConfig
) -> list[str]:
    """The in-process engine takes STALL_S to send its next command after the greeting
    has been played, as a loaded engine may. Yields the commands that stalled."""
    command = AGISession.command
    stalled: list[str] = []

    async def slow(self: AGISession, *parts: str, timeout: float | None = None) -> Any:
        reply = await command(self, *parts, timeout=timeout)
        if any("/greeting" in part for part in parts):
            stalled.append(" ".join(parts[:2]))
            await asyncio.sleep(STALL_S)
        return reply

    monkeypatch.setattr(AGISession, "command", slow)
    return stalled


async def test_key_pressed_just_after_the_greeting_is_heard_while_the_engine_stalls(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    engine_stalls_after_the_greeting: list[str],
) -> None:
    """A caller keys 9 0.6 s after the greeting ends while the engine is slow to send
    its next command: the key still chooses Mandarin. (Played with its own command,
    the greeting returned, and Asterisk dropped the key before the next command.)"""
    await start_engine()
    record = await call(
        stack,
        store,
        dtmf="9",
        wait_s=greeting_s(stack),
        hold_s=INTERDIGIT_S + STALL_S + 3.0,
    )
    assert engine_stalls_after_the_greeting, "no command played the greeting"
    menus = [(m["menu"], m["entry"], m["timed_out"]) for m in events(record, "menu")]
    assert menus[:1] == [("language", "9", False)], "the key was lost"
    assert events(record, "language") == [{"language": "zh-TW"}]


async def test_key_pressed_while_the_callback_number_is_read_out_is_the_answer(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    kinmen_profile: ProfileCopy,
) -> None:
    """Kinmen off hours: the caller keys 2 ("not my number") while the caller id is
    still being read out. The number and the question are one read, so the key is the
    answer. (Read out digit by digit with a command each, the key was dropped.)"""
    closed_at = datetime(2026, 11, 23, 21, 0, tzinfo=TAIPEI)
    await start_engine(clock=lambda: closed_at, profile=kinmen_profile.directory)
    number = "0912345678"
    halfway = (
        secs(stack, "kinmen-greeting")
        + secs(stack, "callback-number-is")
        + sum(secs(stack, f"digit-{d}") for d in number[:5])
    )
    record = await call(stack, store, dtmf="2", wait_s=halfway, hold_s=3.0, caller=number)
    assert events(record, "callback_confirm") == [{"number": number, "key": "2"}]
