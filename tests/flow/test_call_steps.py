"""The steps around the menus on a scripted Asterisk: screening, service hours, disaster
mode, queues and the survey, emergency connections, hangups, and the destination table."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import get_args

import pytest

from ivr import dialplan_vars as dv
from ivr.asterisk.generate import queue_name
from ivr.domain.calendar import next_working_day_end
from ivr.domain.menu import Menu, MenuTable
from ivr.flow.destinations import handler_for
from ivr.routing.menus import Destination, ToAnnouncement, ToQueue, ToUnit
from ivr.routing.privacy import CallerLimits
from ivr.routing.tables import BlockEntry
from tests.flow.conftest import CALLER, FlowEngine
from tests.flow.scripted import dial, hang_up, key, keyed, queue
from tests.flow.test_transfers_and_tickets import NIGHT

TAIPEI_MAIN = [key("taipei-language-menu", "9")]
MAIN_MENU = "taipei-main-menu"


def test_every_destination_type_has_a_handler() -> None:
    """The table answers for each member of the tables' destination union.

    mypy proves the same (`assert_never`); this fails at run time too when a type is
    added to the union without an arm.
    """
    union = get_args(get_args(Destination)[0])
    assert len(union) >= 8
    for kind in union:
        assert callable(handler_for(kind.model_construct()))


async def test_a_blocked_caller_hears_the_notice_and_nothing_else(engine: FlowEngine) -> None:
    block = BlockEntry.model_validate(
        {
            "pattern": CALLER,
            "reason": "repeated abuse after warnings",
            "added_by": "supervisor",
            "added_at": "2026-11-01",
        }
    )
    engine.view = dataclasses.replace(engine.view, blocklist=(block,))
    done = await engine.call(TAIPEI_MAIN[:0])
    assert done.played == [engine.view.greeting, "service-suspended"]
    assert done.events("blocked") == [
        {"pattern": CALLER, "reason": "repeated abuse after warnings"}
    ]
    assert not done.asterisk.sent("EXEC Read")
    assert done.record.outcome == "blocked"
    assert done.next == dv.NEXT_HANGUP


async def test_a_caller_past_the_hourly_limit_goes_to_an_agent(engine: FlowEngine) -> None:
    """The second call in an hour, past a limit of one: a notice, then the general queue."""
    engine.view = dataclasses.replace(engine.view, limits=CallerLimits(calls_per_hour=1))
    first = await engine.call([*TAIPEI_MAIN, key(MAIN_MENU, "3")])
    assert not first.events("caller_limit")
    done = await engine.call()
    assert done.events("caller_limit") == [{"limit": "calls_per_hour"}]
    # Then the general queue, which asks the caller (nobody is signed in here).
    assert done.played[:3] == [engine.view.greeting, "caller-limit-reached", "queue-no-agents"]
    assert [e["queue"] for e in done.events("queue_enter")] == ["general"]
    # No menu: the caller is never read a menu past the limit.
    assert "taipei-language-menu" not in done.played
    assert not done.events("menu")


async def test_in_disaster_mode_the_notice_plays_whole_before_the_menu(engine: FlowEngine) -> None:
    await engine.store.set_mode(
        "disaster", active=True, at=engine.now - timedelta(hours=1), by="supervisor"
    )
    done = await engine.call([*TAIPEI_MAIN, key(MAIN_MENU, "1")])
    streamed = [c.prompts[0] for c in done.asterisk.sent("STREAM FILE")][:2]
    assert streamed == [engine.view.greeting, "taipei-disaster-notice"]
    first_read = done.asterisk.sent("EXEC Read")[0]
    assert first_read.prompts == ("taipei-language-menu",)
    assert done.events("agi_start")[0]["mode"] == "disaster"


async def test_kinmen_at_night_records_the_matter_for_the_next_working_day(
    engine: FlowEngine,
) -> None:
    engine.use("kinmen")
    engine.now = NIGHT
    done = await engine.call([key("callback-number-confirm", "1")])
    assert done.events("service_state")[0]["open"] is False
    assert not done.events("menu")
    assert done.played[:2] == [engine.view.greeting, "callback-number-is"]
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    assert ticket.reason == "off_hours"
    assert ticket.due_at == next_working_day_end(engine.view.office, NIGHT)
    assert done.record.outcome == "ticket"


async def test_a_caller_who_hangs_up_at_the_menu_is_abandoned(engine: FlowEngine) -> None:
    done = await engine.call([hang_up("EXEC Read")])
    assert done.hangup is not None
    assert done.events("caller_left") == [{"after": "greeting"}]
    assert done.record.outcome == "abandoned"


async def test_an_agent_served_caller_rates_the_call(engine: FlowEngine) -> None:
    """T8: the agent hung up first; the caller keys 5 and hears thanks."""
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "2"),
            queue(queue_name("dispatch"), agent="agent-07"),
            keyed("survey-question", "5"),
        ]
    )
    assert done.events("queue_leave") == [
        {"queue": "dispatch", "status": None, "agent": "agent-07"}
    ]
    rating = await engine.store.rating_for_call(done.record.id)
    assert rating is not None
    assert (rating.rating, rating.agent_id, rating.queue) == (5, "agent-07", "dispatch")
    assert done.played[-1] == "survey-thanks"
    assert done.record.outcome == "surveyed"
    assert done.next == dv.NEXT_HANGUP


async def test_a_survey_without_a_rating_keeps_the_call_queued(engine: FlowEngine) -> None:
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "1"),
            queue(queue_name("general"), agent="agent-07"),
            keyed("survey-question", "9"),
        ]
    )
    assert done.events("survey_invalid") == [{"key": "9"}, {"key": ""}]
    assert await engine.store.rating_for_call(done.record.id) is None
    assert done.record.outcome == "queued"


async def test_a_full_queue_asks_the_caller_instead_of_moving_them(engine: FlowEngine) -> None:
    """A round the queue ends (FULL) is followed by the choice, never a silent move."""
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "3"),
            queue(queue_name("petition"), status="FULL"),
            key("queue-key-callback", "2"),
        ],
        variables={f"QUEUE_MEMBER({queue_name('petition')},logged)": "1"},
    )
    assert len(done.asterisk.sent("EXEC Queue")) == 1
    [offer] = done.events("queue_offer")
    assert (offer["reason"], offer["choice"]) == ("long_wait", "2")
    # An agent is signed in: the caller's place is kept for a callback.
    assert [e["queue"] for e in done.events("queue_callback_kept")] == ["petition"]
    assert done.next == dv.NEXT_HANGUP


@pytest.mark.parametrize(
    ("status", "outcome", "queued"),
    [("ANSWER", "transferred", False), ("NOANSWER", "surveyed", True)],
)
async def test_key_1_after_the_emergency_advice_dials_119(
    engine: FlowEngine, status: str, outcome: str, queued: bool
) -> None:
    """Answered, the caller is connected; unanswered, the menu's fallback (a person)."""
    agent = [queue(queue_name("general"), agent="agent-07"), keyed("survey-question", "4")]
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "4"),
            key("emergency-advice-connect", "1"),
            dial("119", status),
            *(agent if queued else []),
        ],
        variables={f"QUEUE_MEMBER({queue_name('general')},logged)": "1"},
    )
    [dialled] = done.asterisk.sent("EXEC Dial")
    assert dialled.words[2] == "PJSIP/119@emergency-pstn,60,g"
    assert done.events("emergency_dial") == [{"number": "119", "dialstatus": status}]
    assert [e["queue"] for e in done.events("queue_enter")] == (["general"] if queued else [])
    assert done.record.outcome == outcome
    assert done.next == dv.NEXT_HANGUP


async def test_a_caller_who_hangs_up_while_119_rings_is_not_queued(engine: FlowEngine) -> None:
    done = await engine.call(
        [
            *TAIPEI_MAIN,
            key(MAIN_MENU, "4"),
            key("emergency-advice-connect", "1"),
            dial("119", "CANCEL"),
        ]
    )
    assert done.hangup is not None
    assert not done.events("queue_enter")
    assert done.events("caller_left") == [{"after": "emergency_dial"}]
    assert done.record.outcome == "abandoned"


async def test_announcement_and_unit_destinations_of_a_table(engine: FlowEngine) -> None:
    """Types no shipped menu uses yet: an announcement hangs up, a unit is transferred."""
    engine.use("kinmen")
    menu = Menu(
        prompt="kinmen-main-menu",
        options={
            "1": ToAnnouncement(type="announcement", prompt="kinmen-disaster-notice"),
            "2": ToUnit(type="unit", unit="km-streetlights"),
        },
        on_exhausted=ToQueue(type="queue", queue="general"),
    )
    engine.view = dataclasses.replace(engine.view, menus=MenuTable("main", {"main": menu}))
    announced = await engine.call([key("kinmen-main-menu", "1")])
    assert announced.played[-1] == "kinmen-disaster-notice"
    assert announced.record.outcome == "announced"
    assert announced.next == dv.NEXT_HANGUP
    transferred = await engine.call([key("kinmen-main-menu", "2"), dial("2211", "ANSWER")])
    assert [e["unit"] for e in transferred.events("transfer")] == ["km-streetlights"]
    assert transferred.record.outcome == "transferred"
