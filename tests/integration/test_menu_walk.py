"""Every menu option of both shipped profiles ends where its table says, on real calls.

Calls are driven by what the engine does (see `driven.py`): each key is sent when the
engine listens for it, and a call is hung up as soon as its destination shows in its
timeline, so the whole walk costs about as long as its longest single path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.config import StackConfig
from ivr.routing.menus import (
    Destination,
    ToAnnouncement,
    ToCaseCheck,
    ToEmergency,
    ToExtension,
    ToLanguage,
    ToMenu,
    ToQueue,
    ToRecord,
    ToUnit,
)
from ivr.routing.view import RoutingView
from ivr.store import CallRecord, CaseStore
from tests.integration.calls import StartEngine, events
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, On, key
from tests.menu_paths import Option, every_option, next_menu

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
    assert recorded, [e.kind for e in record.events]
    assert recorded[0]["path"]
    ticket_events = events(record, "ticket")
    assert ticket_events, [e.kind for e in record.events]
    ticket = await store.get_ticket_by_number(str(ticket_events[0]["number"]))
    assert ticket is not None
    assert ticket.reason == "voicemail"
    assert ticket.caller_number == "0912345678"
    assert ticket.message_path == recorded[0]["path"]
    assert record.outcome == "ticket"


Seen = Callable[[CallRecord, list[str]], bool]


def _ends(view: RoutingView, dest: Destination) -> tuple[list[On], Seen]:  # noqa: PLR0911
    """What the caller does after the option, and the fact that shows it arrived."""

    def kind(name: str, **want: object) -> Seen:
        return lambda r, _c: any(
            all(e.get(k) == v for k, v in want.items()) for e in events(r, name)
        )

    match dest:
        case ToQueue(queue=queue):
            return [], kind("queue_enter", queue=queue)
        case ToUnit(unit=unit):
            return [], kind("transfer", unit=unit)
        case ToExtension(extension=number):
            return [], kind("transfer", unit=view.extensions[number].unit_id)
        case ToEmergency():
            # The advice is given and the caller keys nothing: its end is the advice.
            return [], kind("emergency_advice")
        case ToAnnouncement(prompt=prompt):
            return [], kind("played", prompt=prompt)
        case ToRecord(reason=reason):
            return [key("callback-number-confirm", "1")], kind("ticket", reason=reason)
        case ToCaseCheck():
            # The engine asks for the case number: that is the case check reached.
            asking = key("case-check-number", "")
            return [], lambda _r, commands: any(asking.matches(c) for c in commands)
        case ToMenu() | ToLanguage():
            prompt = view.menus.menus[next_menu(dest) or ""].prompt
            listening = key(prompt, "")
            return [], lambda _r, commands: any(listening.matches(c) for c in commands)
    raise AssertionError(f"no expected end for {dest}")


async def _walk(driver: Driver, view: RoutingView, option: Option) -> str | None:
    """Walk one option on a real call; a description of what went wrong, or None."""
    after, seen = _ends(view, option.destination)
    script = [key(view.menus.menus[menu].prompt, k) for menu, k in option.path] + after
    uid = await driver.place(script)
    try:
        record = await driver.until(uid, lambda r: seen(r, driver.commands(uid)))
    finally:
        # Stop as soon as the destination shows: the rest of the call proves nothing.
        await driver.hang_up(uid)
    if driver.fallback_reasons(uid):
        return f"{option.name}: took the dialplan fallback {driver.fallback_reasons(uid)}"
    ended = await driver.ended(uid)
    menu, k = option.path[-1]
    chosen = [m for m in events(ended, "menu") if (m["menu"], m["entry"]) == (menu, k)]
    want = {"go": option.destination.model_dump(mode="json"), "reason": "option"}
    if not chosen or chosen[-1]["decision"] != want:
        return f"{option.name}: decided {chosen}, tables say {want}"
    if not seen(record, driver.commands(uid)):
        timeline = [(e.kind, dict(e.data)) for e in ended.events]
        return f"{option.name}: never reached {option.destination}; timeline {timeline}"
    return None


@pytest.mark.parametrize("profile_name", ["taipei", "kinmen"])
async def test_every_menu_option_ends_where_the_tables_say(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    request: pytest.FixtureRequest,
    profile_name: str,
) -> None:
    """All options of the profile at once, one real call each, checked against its tables."""
    profile: ProfileCopy = request.getfixturevalue(f"{profile_name}_profile")
    engine = await start_engine(clock=lambda: OPEN, profile=profile.directory)
    view = engine.routing.view()
    options = every_option(view.menus)
    # Every menu of the table is reached, so a menu added later is walked too.
    assert {menu for o in options for menu, _ in o.path} == set(view.menus.menus)
    async with Driver(stack, store) as driver:
        problems = await asyncio.gather(*(_walk(driver, view, o) for o in options))
    assert [p for p in problems if p] == []
