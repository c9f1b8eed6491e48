"""The working calendar on real calls: typhoon closures and Kinmen's holiday hours.

The engine runs in the test's loop with a fixed clock; `ivr calendar close` and `open`
run as the operator would run them, in their own process, against the same stack,
while the engine keeps running: no reload, no restart.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.config import StackConfig
from ivr.store import CallRecord, CaseStore
from tests.integration.calls import StartEngine, call, events, secs
from tests.integration.conftest import ProfileCopy
from tests.integration.short_prompts import short_prompts

pytestmark = pytest.mark.asterisk


@pytest.fixture(autouse=True)
def _short_prompts(stack: StackConfig) -> Iterator[None]:
    """What the prompts say and how long they last is not what this file tests."""
    with short_prompts(stack):
        yield


TAIPEI = ZoneInfo("Asia/Taipei")
REPO = Path(__file__).resolve().parents[2]


def ivr_calendar(stack: StackConfig, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "ivr", "--state-dir", str(stack.state_dir), "calendar", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


async def off_hours_message(stack: StackConfig, store: CaseStore) -> CallRecord:
    """A call to closed Kinmen: confirm the caller id, record, '#': a ticket."""
    caller_digits = sum(secs(stack, f"digit-{d}") for d in "0912345678")
    until_record = (
        secs(stack, "kinmen-greeting")
        + secs(stack, "callback-number-is")
        + caller_digits
        + secs(stack, "callback-number-confirm")
        + 5
        + secs(stack, "kinmen-closed-record")
        + 3
    )
    return await call(stack, store, dtmf="#", wait_s=until_record + 2, hold_s=25)


async def due_of(store: CaseStore, record: CallRecord) -> datetime:
    ticket_events = events(record, "ticket")
    assert ticket_events, [e.kind for e in record.events]
    ticket = await store.get_ticket_by_number(str(ticket_events[0]["number"]))
    assert ticket is not None
    return ticket.due_at.astimezone(TAIPEI)


async def test_a_typhoon_closure_moves_due_times_on_the_running_engine(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    kinmen_profile: ProfileCopy,
) -> None:
    """Closing Tuesday moves a Monday-night ticket to Wednesday; opening it moves it back."""
    monday_night = datetime(2026, 12, 7, 21, 0, tzinfo=TAIPEI)
    await start_engine(clock=lambda: monday_night, profile=kinmen_profile.directory)
    try:
        said = ivr_calendar(stack, "close", "2026-12-08", "--reason", "typhoon", "--by", "chief")
        assert "2026-12-08 closed all day (typhoon)" in said
        closed = await off_hours_message(stack, store)
        assert await due_of(store, closed) == datetime(2026, 12, 9, 17, 30, tzinfo=TAIPEI)
    finally:
        ivr_calendar(stack, "open", "2026-12-08", "--by", "chief")
    opened = await off_hours_message(stack, store)
    assert await due_of(store, opened) == datetime(2026, 12, 8, 17, 30, tzinfo=TAIPEI)
    history = await store.closure_history()
    assert [(h.day.isoformat(), h.closed, h.changed_by) for h in history][-2:] == [
        ("2026-12-08", True, "chief"),
        ("2026-12-08", False, "chief"),
    ]


async def test_kinmen_answers_on_a_national_holiday(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    kinmen_profile: ProfileCopy,
) -> None:
    """K10(1): at 10:00 on 國慶日補假 the line is open and offers its menu, not a message."""
    holiday_morning = datetime(2026, 10, 9, 10, 0, tzinfo=TAIPEI)
    await start_engine(clock=lambda: holiday_morning, profile=kinmen_profile.directory)
    record = await call(stack, store, dtmf="", wait_s=1, hold_s=secs(stack, "kinmen-greeting") + 4)
    state = events(record, "service_state")[0]
    assert (state["open"], state["reason"]) == (True, "in_hours")
    played = [p["prompt"] for p in events(record, "played")]
    assert "kinmen-closed-record" not in played
