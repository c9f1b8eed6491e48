"""What a caller with a ticket is told about its callback, on real calls.

The engine runs in the test's event loop with a pinned clock (`start_engine(clock=…)`),
so a call "happens" on a Friday night or a Monday evening. What the caller heard is
read back from the store: every prompt the engine played is a `played` event.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.config import StackConfig
from ivr.domain.calendar import callback_due, next_working_day_end
from ivr.store import CallRecord, CaseStore
from tests.integration.calls import StartEngine, events
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import start_uas, uas_scenario

pytestmark = pytest.mark.asterisk

TAIPEI = ZoneInfo("Asia/Taipei")
CALLER = "0912345678"


def _played(record: CallRecord) -> list[str]:
    return [str(e["prompt"]) for e in events(record, "played")]


def _after_number(record: CallRecord, number: str) -> list[str]:
    """The prompts played after the ticket number was read out: the promise."""
    played = _played(record)
    start = played.index("ticket-registered") + 1 + len(number)
    assert played[start - len(number) : start] == [f"digit-{d}" for d in number]
    return played[start:]


async def _ticket_call(stack: StackConfig, store: CaseStore, menu: str, code: str) -> CallRecord:
    """The caller keys a unit's code at `menu`, then says nothing: silence confirms the
    caller id and ends the message. They stay on until the engine hangs up after the
    promise, however long a loaded machine takes to get there."""
    async with Driver(stack, store) as driver:
        uid = await driver.place([key(menu, code)], caller=CALLER)
        return await driver.ended(uid, timeout_s=180)


async def test_a_ticket_due_days_later_names_its_day_and_time_not_4_hours(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """Friday 22:00 in Taipei, every line busy: the ticket is due Monday 12:30, and the
    caller hears "by Monday, 12:30", never "within 4 hours"."""
    friday = datetime(2026, 11, 20, 22, 0, tzinfo=TAIPEI)
    engine = await start_engine(clock=lambda: friday)
    busy: subprocess.Popen[str] = start_uas(
        uas_scenario(486),
        port=taipei_profile.trunk_ports["t-busy"],
        media_port=sipp_media_port(),
        calls=5,
        workdir=tmp_path,
    )
    try:
        record = await _ticket_call(stack, store, "taipei-language-menu", "6901")
    finally:
        if busy.poll() is None:
            busy.kill()
        busy.wait(timeout=10)
    assert [a["dialstatus"] for a in events(record, "dial_attempt")] == ["BUSY"] * 5
    ticket = await store.get_ticket_by_number(str(events(record, "ticket")[0]["number"]))
    assert ticket is not None
    view = engine.routing.view()
    assert ticket.due_at == callback_due(view.sla, view.office, friday)
    assert ticket.due_at.astimezone(TAIPEI) == datetime(2026, 11, 23, 12, 30, tzinfo=TAIPEI)
    assert "ticket-callback-4h" not in _played(record)
    assert _after_number(record, ticket.number) == [
        "ticket-callback-by",
        "day-monday",
        "time-noon",
        "hour-12",
        "minute-30",
        "ticket-callback-by-end",
    ]
    assert record.outcome == "ticket"


async def test_a_kinmen_transfer_in_the_evening_rings_nobody_and_records_for_the_next_day(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    kinmen_profile: ProfileCopy,
) -> None:
    """K4(4): Monday 19:00 the line answers but the offices are empty. Keying the road
    maintenance section (2201) dials nobody; the matter is recorded, due Tuesday 17:30."""
    evening = datetime(2026, 11, 23, 19, 0, tzinfo=TAIPEI)
    engine = await start_engine(clock=lambda: evening, profile=kinmen_profile.directory)
    record = await _ticket_call(stack, store, "kinmen-main-menu", "2201")
    transfers = events(record, "transfer")
    assert [t["unit"] for t in transfers] == ["km-road-maintenance"]
    # Nobody was dialled: no attempt in the timeline, none in the store.
    assert not events(record, "dial_attempt")
    transfer = await store.transfer_with_attempts(int(str(transfers[0]["transfer_id"])))
    assert transfer.attempts == ()
    assert transfer.result == "ticket"
    assert "connecting" not in _played(record)
    assert "transfer-office-closed" in _played(record)
    ticket = await store.get_ticket_by_number(str(events(record, "ticket")[0]["number"]))
    assert ticket is not None
    assert ticket.reason == "off_hours"
    assert (ticket.agency_id, ticket.unit_id) == ("km-public-works", "km-road-maintenance")
    assert ticket.caller_number == CALLER
    view = engine.routing.view()
    assert ticket.due_at == next_working_day_end(view.office, evening)
    assert ticket.due_at.astimezone(TAIPEI) == datetime(2026, 11, 24, 17, 30, tzinfo=TAIPEI)
    assert _after_number(record, ticket.number) == [
        "ticket-callback-by",
        "day-tomorrow",
        "time-pm",
        "hour-5",
        "minute-30",
        "ticket-callback-by-end",
    ]
    assert record.outcome == "ticket"
