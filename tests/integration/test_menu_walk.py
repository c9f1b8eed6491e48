"""Every menu option of both shipped profiles ends where its table says, on real calls.

Calls are driven by what the engine does (see `driven.py`): each key is sent when the
engine listens for it, and a call is hung up as soon as its destination shows in its
timeline, so the whole walk costs about as long as its longest single path.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.integration.calls import StartEngine, events
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key

pytestmark = pytest.mark.asterisk

TAIPEI = ZoneInfo("Asia/Taipei")
# A working Monday morning: both lines are open.
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)


async def test_taiwanese_caller_leaves_a_message_and_gets_a_voicemail_ticket(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
) -> None:
    """Taipei, key 5 (Taiwanese) then 2: the message becomes a `voicemail` ticket."""
    await start_engine(clock=lambda: OPEN, profile=taipei_profile.directory)
    async with Driver(stack, store) as driver:
        uid = await driver.place(
            [
                key("taipei-language-menu", "5"),
                key("taipei-taiwanese-notice", "2"),
                key("callback-number-confirm", "1"),
            ]
        )
        record = await driver.ended(uid, timeout_s=120)
    assert [(m["menu"], m["entry"]) for m in events(record, "menu")] == [
        ("language", "5"),
        ("taiwanese", "2"),
    ]
    recorded = events(record, "recorded")
    assert recorded and recorded[0]["path"], recorded
    ticket_events = events(record, "ticket")
    assert ticket_events, [e.kind for e in record.events]
    ticket = await store.get_ticket_by_number(str(ticket_events[0]["number"]))
    assert ticket is not None
    assert ticket.reason == "voicemail"
    assert ticket.caller_number == "0912345678"
    assert ticket.message_path == recorded[0]["path"]
    assert record.outcome == "ticket"
