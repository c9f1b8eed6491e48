"""Transfers and tickets on a scripted Asterisk: who is rung, what is kept, what is said."""

from __future__ import annotations

from datetime import datetime

from ivr import dialplan_vars as dv
from ivr.domain.calendar import callback_due, next_working_day_end
from ivr.domain.callback_promise import callback_promise
from ivr.domain.screening import callback_number
from tests.flow.conftest import CALLER, TAIPEI, FlowEngine
from tests.flow.scripted import dial, hang_up, key, keyed

LANGUAGE_MENU = "taipei-language-menu"
# Taipei's new-construction unit: primary 2301, adjacent 2302 and 2303, liaison 2101-2103.
PRIMARY = "2301"
# A Monday night: Kinmen's line and offices are closed.
NIGHT = datetime(2026, 11, 23, 21, 0, tzinfo=TAIPEI)


async def test_a_keyed_extension_that_answers_is_a_transfer(engine: FlowEngine) -> None:
    """Keying a unit's extension at the first menu rings it; its answer ends the IVR."""
    done = await engine.call([key(LANGUAGE_MENU, PRIMARY), dial(PRIMARY, "ANSWER")])
    assert done.events("menu")[0]["decision"] == {
        "go": {"type": "extension", "extension": PRIMARY},
        "reason": "extension",
    }
    [started] = done.events("transfer")
    transfer = await engine.store.transfer_with_attempts(int(str(started["transfer_id"])))
    assert (transfer.unit_id, transfer.result, transfer.answered_by) == (
        "new-construction",
        "answered",
        PRIMARY,
    )
    assert [a.dialstatus for a in transfer.attempts] == ["ANSWER"]
    assert "connecting" in done.played
    assert done.next == dv.NEXT_HANGUP
    assert done.record.outcome == "transferred"
    assert not done.events("ticket")


async def test_nobody_answering_gives_a_busy_ticket_and_a_true_promise(
    engine: FlowEngine,
) -> None:
    """Busy primary twice, then every other line silent: a "busy" ticket, read out once
    committed, with the callback time the SLA gives (4 working hours)."""
    done = await engine.call(
        [key(LANGUAGE_MENU, PRIMARY), dial(PRIMARY, "BUSY"), dial(PRIMARY, "BUSY")]
    )
    [started] = done.events("transfer")
    transfer = await engine.store.transfer_with_attempts(int(str(started["transfer_id"])))
    assert [(a.target, a.role, a.dialstatus) for a in transfer.attempts] == [
        ("PJSIP/2301", "primary", "BUSY"),
        ("PJSIP/2301", "primary", "BUSY"),
        ("PJSIP/2302", "adjacent", "NOANSWER"),
        ("PJSIP/2303", "adjacent", "NOANSWER"),
        ("PJSIP/2101", "liaison", "NOANSWER"),
        ("PJSIP/2102", "liaison", "NOANSWER"),
        ("PJSIP/2103", "liaison", "NOANSWER"),
    ]
    # Ringback between the two tries of the busy line.
    rings = [c.line for c in done.commands_between("EXEC Dial", "EXEC Dial")]
    assert rings == ["EXEC Playtones ring", "EXEC Wait 2", 'EXEC StopPlaytones ""']
    assert transfer.result == "ticket"
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    view = engine.view
    due = callback_due(view.sla, view.office, engine.now)
    assert (ticket.reason, ticket.due_at, ticket.caller_number) == ("busy", due, CALLER)
    assert ticket.message_path == done.events("recorded")[0]["path"]
    said = done.played[done.played.index("transfer-nobody-answered") :]
    digits = [f"digit-{d}" for d in ticket.number]
    promise = callback_promise(due, engine.now, "zh-TW", TAIPEI)
    assert said[-len(digits) - len(promise) - 1 :] == ["ticket-registered", *digits, *promise]
    # 10:00 on a Monday + 4 working hours, lunch excluded: 15:00 the same day.
    assert promise == [
        "ticket-callback-by",
        "day-today",
        "time-pm",
        "hour-3",
        "ticket-callback-by-end",
    ]
    assert done.record.outcome == "ticket"
    assert done.next == dv.NEXT_HANGUP


async def test_the_liaison_answering_registers_a_ticket_and_says_nothing(
    engine: FlowEngine,
) -> None:
    """The liaison window took the matter: its callback clock runs, the caller is served."""
    done = await engine.call([key(LANGUAGE_MENU, PRIMARY), dial("2101", "ANSWER")])
    [started] = done.events("transfer")
    transfer = await engine.store.transfer_with_attempts(int(str(started["transfer_id"])))
    assert (transfer.result, transfer.answered_by) == ("liaison_answered", "2101")
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    view = engine.view
    assert ticket.reason == "liaison_registered"
    assert ticket.due_at == callback_due(view.sla, view.office, engine.now)
    assert ticket.caller_number == callback_number(CALLER)
    assert "ticket-registered" not in done.played
    assert done.record.outcome == "transferred"


async def test_a_caller_who_hangs_up_while_a_line_rings_is_not_dialled_on(
    engine: FlowEngine,
) -> None:
    """CANCEL stops the sequence: no next line, the transfer and the call say the caller left."""
    done = await engine.call([key(LANGUAGE_MENU, PRIMARY), dial(PRIMARY, "CANCEL")])
    assert done.hangup is not None
    assert len(done.asterisk.sent("EXEC Dial")) == 1
    [started] = done.events("transfer")
    transfer = await engine.store.transfer_with_attempts(int(str(started["transfer_id"])))
    assert transfer.result == "caller_left"
    assert done.events("caller_left") == [{"after": "transfer"}]
    assert done.record.outcome == "abandoned"


async def test_an_agents_transfer_off_hours_in_kinmen_rings_nobody(engine: FlowEngine) -> None:
    """K4(4): at night a transfer records the matter, due when the next working day ends."""
    engine.use("kinmen")
    engine.now = NIGHT
    done = await engine.call(
        entry="transfer", args=("2201", "agent"), variables={"CHANNEL(language)": "zh-TW"}
    )
    assert done.events("transfer_request") == [{"code": "2201", "by": "agent", "known": True}]
    assert not done.asterisk.sent("EXEC Dial")
    assert done.played[0] == "transfer-office-closed"
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    assert ticket.reason == "off_hours"
    assert ticket.due_at == next_working_day_end(engine.view.office, NIGHT)
    [started] = done.events("transfer")
    assert started["initiated_by"] == "agent"
    transfer = await engine.store.transfer_with_attempts(int(str(started["transfer_id"])))
    assert transfer.result == "ticket"


async def test_an_unknown_transfer_code_goes_back_to_the_agents(engine: FlowEngine) -> None:
    done = await engine.call(entry="transfer", args=("9999", "agent"))
    assert done.events("transfer_request") == [{"code": "9999", "by": "agent", "known": False}]
    assert done.played == ["transfer-unknown-unit"]
    assert done.next == dv.NEXT_QUEUE
    assert not done.events("transfer")


async def test_a_refused_caller_id_is_replaced_by_a_keyed_number(engine: FlowEngine) -> None:
    """A foreign caller id is never offered for a callback; the keyed number is confirmed."""
    done = await engine.call(
        [
            key(LANGUAGE_MENU, "5"),
            key("taipei-taiwanese-notice", "2"),
            keyed("callback-number-enter", "0223456789"),
            key("callback-number-confirm", "1"),
        ],
        caller="+14155550100",
    )
    assert done.events("callback_keyed") == [{"valid": True}]
    assert done.events("callback_confirm") == [{"number": "0223456789", "key": "1"}]
    [opened] = done.events("ticket")
    ticket = await engine.store.get_ticket_by_number(str(opened["number"]))
    assert ticket is not None
    assert (ticket.caller_number, ticket.reason, ticket.agency_id) == (
        "0223456789",
        "voicemail",
        "hotline",
    )
    assert ticket.due_at == next_working_day_end(engine.view.office, engine.now)


async def test_a_caller_who_hangs_up_before_the_ticket_leaves_no_ticket(
    engine: FlowEngine,
) -> None:
    """Hanging up at the recording: nothing is committed, nothing is claimed."""
    done = await engine.call(
        [
            key(LANGUAGE_MENU, PRIMARY),
            hang_up("RECORD FILE"),
        ]
    )
    assert done.hangup is not None
    assert not done.events("ticket")
    [started] = done.events("transfer")
    transfer = await engine.store.transfer_with_attempts(int(str(started["transfer_id"])))
    assert transfer.result == "caller_left"
    assert done.record.outcome == "abandoned"
