"""A citizen's path through the IVR on a real Asterisk, driven by real DTMF.

Callers are Local channels whose caller half sends DTMF (SendDTMF), and one SIPp
caller that sends RFC 2833 over the PJSIP trunk. Digits are timed from the real
prompt lengths: a digit sent during a prompt that does not listen would be lost.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.config import StackConfig
from ivr.domain.calendar import next_working_day_end
from ivr.store import CallRecord, CaseStore
from tests.harness import EngineProcess, free_port
from tests.integration.calls import StartEngine, events, greeting_s
from tests.integration.conftest import BLOCKED_NUMBER, ProfileCopy
from tests.integration.driven import Driver, key, until_queued
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    answer_then_hang_up_scenario,
    caller_scenario,
    run_caller,
    start_uas,
)

pytestmark = pytest.mark.asterisk

TAIPEI = ZoneInfo("Asia/Taipei")
DISASTER_PROMPT = "kinmen-disaster-notice"
LANGUAGE_MENU = "taipei-language-menu"


@pytest.mark.parametrize(
    ("entry", "queue"),
    [("1", "general"), ("2", "dispatch"), ("3", "petition"), ("0", "general")],
    ids=["consultation", "dispatch", "petition", "agent"],
)
async def test_mandarin_main_menu_key_reaches_its_queue(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine, entry: str, queue: str
) -> None:
    """Mandarin (9) then a main-menu key puts the caller in that key's queue."""
    await start_engine()
    script = [key(LANGUAGE_MENU, "9"), key("taipei-main-menu", entry)]
    record = await until_queued(stack, store, script)
    assert events(record, "language") == [{"language": "zh-TW"}]
    menus = events(record, "menu")
    assert [(m["menu"], m["entry"]) for m in menus] == [("language", "9"), ("main", entry)]
    assert events(record, "queue_enter")[0] == {"queue": queue, "language": "zh-TW"}
    assert record.outcome == "queued"


async def test_english_caller_reaches_the_english_queue(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """English (0) switches the prompts to English and routes to English-speaking agents."""
    await start_engine()
    script = [key(LANGUAGE_MENU, "0"), key("taipei-main-menu-en", "1")]
    record = await until_queued(stack, store, script)
    assert events(record, "language") == [{"language": "en"}]
    played = events(record, "played")
    assert any(p["prompt"] == "taipei-main-menu-en" or p["language"] == "en" for p in played) or (
        events(record, "menu")[1]["menu"] == "main-en"
    )
    assert events(record, "queue_enter")[0] == {"queue": "english", "language": "en"}


async def test_emergency_advice_without_a_key_still_reaches_an_agent(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """Key 4 gives the 110/119 advice; a caller who presses nothing then meets an agent."""
    await start_engine()
    script = [key(LANGUAGE_MENU, "9"), key("taipei-main-menu", "4")]
    record = await until_queued(stack, store, script)
    assert events(record, "emergency_advice") == [{"key": None}]
    assert events(record, "queue_enter")[0]["queue"] == "general"


async def test_keyed_extension_rings_the_unit_on_the_agency_pbx(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """ "1999 轉 6100": the keyed code rings the unit's number over the agency trunk."""
    await start_engine()
    uas = start_uas(
        answer_then_hang_up_scenario("61001", talk_ms=1000),
        port=taipei_profile.trunk_ports["agency-pbx"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )

    try:
        async with Driver(stack, store) as driver:
            # No '#': the entry ends after the inter-digit pause (6100 begins 61001).
            uid = await driver.place([key(LANGUAGE_MENU, "6100")])
            # The unit answers, talks a second and hangs up; the engine ends the call.
            record = await driver.ended(uid)
    finally:
        uas.wait(timeout=40) if uas.poll() is None else None
        if uas.poll() is None:
            uas.kill()
    menu = events(record, "menu")[0]
    assert menu["entry"] == "6100"
    assert menu["decision"] == {
        "go": {"type": "extension", "extension": "6100"},
        "reason": "extension",
    }
    assert events(record, "transfer")[0]["unit"] == "water-service"
    attempts = [(a["number"], a["role"], a["dialstatus"]) for a in events(record, "dial_attempt")]
    assert attempts == [("61001", "primary", "ANSWER")]
    log = (tmp_path / f"uas-{taipei_profile.trunk_ports['agency-pbx']}-messages.log").read_text()
    assert "INVITE sip:61001@" in log
    assert record.outcome == "transferred"


async def test_three_invalid_keys_reach_an_agent(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """Three keys with no option behind them end in the agents' queue, never a hangup."""
    await start_engine()
    # Each 7 is keyed when the main menu listens again, after the retry notice.
    script = [key(LANGUAGE_MENU, "9"), *[key("taipei-main-menu", "7")] * 3]
    record = await until_queued(stack, store, script)
    main = [m for m in events(record, "menu") if m["menu"] == "main"]
    assert [m["entry"] for m in main] == ["7", "7", "7"]
    assert [m["decision"] for m in main][:2] == [{"retry": "invalid"}, {"retry": "invalid"}]
    assert main[2]["decision"]["reason"] == "exhausted"  # type: ignore[index]
    assert events(record, "queue_enter")[0]["queue"] == "general"


async def test_three_timeouts_reach_an_agent(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """A caller who presses nothing at the main menu is put through to an agent."""
    await start_engine()
    record = await until_queued(stack, store, [key(LANGUAGE_MENU, "9")])
    main = [m for m in events(record, "menu") if m["menu"] == "main"]
    assert [m["timed_out"] for m in main] == [True, True, True]
    assert main[2]["decision"]["reason"] == "exhausted"  # type: ignore[index]
    assert events(record, "queue_enter")[0]["queue"] == "general"


async def test_blocked_caller_hears_the_suspension_notice_and_is_logged(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """A number on the block list hears the notice; the attempt is in the store."""
    await start_engine()
    async with Driver(stack, store) as driver:
        # The engine hangs up after the notice.
        record = await driver.ended(await driver.place([], caller=BLOCKED_NUMBER))
    blocked = events(record, "blocked")
    assert blocked
    assert blocked[0]["pattern"] == BLOCKED_NUMBER
    assert [p["prompt"] for p in events(record, "played")][-1] == "service-suspended"
    assert record.outcome == "blocked"
    assert not events(record, "menu")


async def test_kinmen_off_hours_takes_a_message_and_commits_a_ticket_first(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    kinmen_profile: ProfileCopy,
) -> None:
    """At 21:00 Kinmen is closed: the caller records a matter and hears a ticket number."""
    closed_at = datetime(2026, 11, 23, 21, 0, tzinfo=TAIPEI)
    engine = await start_engine(clock=lambda: closed_at, profile=kinmen_profile.directory)

    def told(record: CallRecord) -> bool:
        return any(
            e.kind == "played" and e.data.get("prompt") == "ticket-registered"
            for e in record.events
        )

    # The caller says nothing: silence confirms the caller id and ends the recording.
    # They stay on until they have heard the ticket's number, however long a loaded
    # machine takes to get there (a fixed hold once ran out first).
    async with Driver(stack, store) as driver:
        uid = await driver.place([])
        await driver.until(uid, told, timeout_s=180)
        await driver.hang_up(uid)
        record = await driver.ended(uid)
    state = events(record, "service_state")[0]
    assert state["open"] is False
    assert state["reason"] == "closed_weekly"
    assert events(record, "callback_confirm")[0]["number"] == "0912345678"
    ticket_event = events(record, "ticket")[0]
    ticket = await store.get_ticket_by_number(str(ticket_event["number"]))
    assert ticket is not None
    assert ticket.reason == "off_hours"
    assert ticket.caller_number == "0912345678"
    expected_due = next_working_day_end(engine.routing.view().office, closed_at)
    assert ticket.due_at == expected_due
    # Committed before the caller was told: the ticket event precedes the announcement.
    kinds = [(e.kind, e.data.get("prompt")) for e in record.events]
    assert kinds.index(("ticket", None)) < kinds.index(("played", "ticket-registered"))
    assert record.outcome == "ticket"


async def test_kinmen_disaster_mode_serves_around_the_clock(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    kinmen_profile: ProfileCopy,
) -> None:
    """`ivr mode disaster on` opens the closed line with the disaster announcement."""
    closed_at = datetime(2026, 11, 23, 21, 0, tzinfo=TAIPEI)
    await store.set_mode("disaster", active=True, at=closed_at, by="test", note="typhoon")
    try:
        await start_engine(clock=lambda: closed_at, profile=kinmen_profile.directory)
        async with Driver(stack, store) as driver:
            uid = await driver.place([])
            await driver.until(
                uid, lambda r: DISASTER_PROMPT in [p["prompt"] for p in events(r, "played")]
            )
            await driver.hang_up(uid)
            record = await driver.ended(uid)
    finally:
        await store.set_mode("disaster", active=False, at=closed_at, by="test")
    state = events(record, "service_state")[0]
    assert state == {"open": True, "reason": "disaster", "next_open": None}
    assert record.mode == "disaster"
    played = [p["prompt"] for p in events(record, "played")]
    assert played[:2] == ["kinmen-greeting", DISASTER_PROMPT]


async def test_sip_caller_rfc2833_digits_drive_the_menu(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """A SIPp caller on the PJSIP trunk keys 9 in RFC 2833 and reaches the Mandarin menu.

    One digit per call: the capture files Debian ships carry the same RTP timestamps,
    and Asterisk drops a second event with an equal timestamp as a duplicate.
    """
    await start_engine()
    caller = "0922" + uuid.uuid4().hex[:6].translate(str.maketrans("abcdef", "123456"))
    scenario = caller_scenario(
        caller, "9", pre_ms=int(greeting_s(stack) * 1000), gap_ms=1000, hold_ms=3000
    )
    result = await _run_sipp(stack, scenario)
    assert result.ok, result.output
    calls = [c for c in await store.list_calls(limit=20) if c.caller_number == caller]
    assert len(calls) == 1
    record = await store.get_call(calls[0].id)
    assert record is not None
    assert record.channel.startswith("PJSIP/carrier-")
    menus = events(record, "menu")
    assert (menus[0]["menu"], menus[0]["entry"]) == ("language", "9")
    assert events(record, "language") == [{"language": "zh-TW"}]


async def _run_sipp(stack: StackConfig, scenario: str) -> object:
    import asyncio

    return await asyncio.to_thread(
        run_caller,
        stack.ports.sip,
        "1999",
        scenario,
        local_port=free_port(),
        media_port=sipp_media_port(),
    )


def test_routing_check_passes_both_shipped_profiles() -> None:
    """`ivr routing check` accepts the Taipei and Kinmen profiles as shipped."""
    for profile in ("taipei", "kinmen"):
        proc = subprocess.run(
            [sys.executable, "-m", "ivr", "routing", "check", f"routing/{profile}"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().endswith(": ok")


async def test_bad_table_is_refused_by_name_and_the_old_table_keeps_serving(
    stack: StackConfig, store: CaseStore, engine: EngineProcess
) -> None:
    """A reload naming a missing queue is refused with file and field; calls keep working."""
    menus = Path(stack.routing_profile) / "menus.yaml"
    original = menus.read_text(encoding="utf-8")
    broken = original.replace("{type: queue, queue: dispatch}", "{type: queue, queue: nowhere}", 1)
    assert broken != original
    menus.write_text(broken, encoding="utf-8")
    try:
        refused = _ivr(stack, "routing", "reload")
        assert refused.returncode == 1
        assert "menus.yaml" in refused.stderr
        assert 'menus.main.options["2"]' in refused.stderr
        assert "nowhere" in refused.stderr
        # The running table still sends key 2 to the dispatch queue.
        record = await until_queued(
            stack, store, [key(LANGUAGE_MENU, "9"), key("taipei-main-menu", "2")]
        )
        assert events(record, "queue_enter")[0]["queue"] == "dispatch"
    finally:
        menus.write_text(original, encoding="utf-8")
    accepted = _ivr(stack, "routing", "reload")
    assert accepted.returncode == 0, accepted.stderr
    assert "version 2" in accepted.stdout


def _ivr(stack: StackConfig, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr", "--state-dir", str(stack.state_dir), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
