"""Transfers, dial attempts, callback tickets and the monthly report, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ivr.store import CaseStore, InvalidTransition, TicketRecord, UnitStats

T0 = datetime(2025, 3, 14, 1, 30, tzinfo=UTC)  # 09:30 in Taipei
NAIVE = datetime(2025, 3, 14, 1, 30)  # noqa: DTZ001 - rejecting it is the point
FOUR_HOURS = timedelta(hours=4)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def new_call(store: CaseStore, uniqueid: str) -> int:
    return await store.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/trunk-{uniqueid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=T0,
    )


async def new_ticket(store: CaseStore, **overrides: Any) -> TicketRecord:
    fields: dict[str, Any] = {
        "call_id": None,
        "transfer_id": None,
        "caller_number": "0912345678",
        "agency_id": "dot",
        "unit_id": "parking",
        "reason": "busy",
        "created_at": T0,
        "due_at": T0 + FOUR_HOURS,
    }
    fields.update(overrides)
    return await store.create_ticket(**fields)


async def dial(
    store: CaseStore,
    transfer_id: int,
    target: str,
    role: str,
    attempt: int,
    dialstatus: str,
    start: datetime,
) -> int:
    """One finished dial attempt of a transfer, ringing 10 s."""
    attempt_id = await store.start_attempt(
        transfer_id=transfer_id, target=target, role=role, attempt=attempt, at=start
    )
    await store.finish_attempt(
        attempt_id,
        at=start + timedelta(seconds=10),
        dialstatus=dialstatus,
        hangup_cause=17 if dialstatus == "BUSY" else 16,
        ring_seconds=10.0,
    )
    return attempt_id


async def test_transfer_with_attempts_in_seq_order(store: CaseStore) -> None:
    """A transfer reads back with its attempts numbered 1, 2, 3 in the order started."""
    call_id = await new_call(store, "u-xfer")
    transfer_id = await store.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=at(0)
    )
    await dial(store, transfer_id, "PJSIP/2101", "primary", 1, "BUSY", at(1))
    await dial(store, transfer_id, "PJSIP/2101", "primary", 2, "BUSY", at(2))
    liaison = await store.start_attempt(
        transfer_id=transfer_id, target="PJSIP/2100@agency-pbx", role="liaison", attempt=1, at=at(3)
    )
    await store.finish_attempt(
        liaison, at=at(3.5), dialstatus="ANSWER", hangup_cause=16, ring_seconds=4.5
    )
    assert await store.finish_transfer(
        transfer_id, at=at(4), result="liaison_answered", answered_by="2100"
    )

    transfer = await store.transfer_with_attempts(transfer_id)
    assert (transfer.call_id, transfer.initiated_by, transfer.agency_id, transfer.unit_id) == (
        call_id,
        "ivr",
        "dot",
        "parking",
    )
    assert (transfer.started_at, transfer.ended_at) == (at(0), at(4))
    assert (transfer.result, transfer.answered_by) == ("liaison_answered", "2100")
    assert [(a.seq, a.target, a.role, a.attempt, a.dialstatus) for a in transfer.attempts] == [
        (1, "PJSIP/2101", "primary", 1, "BUSY"),
        (2, "PJSIP/2101", "primary", 2, "BUSY"),
        (3, "PJSIP/2100@agency-pbx", "liaison", 1, "ANSWER"),
    ]
    last = transfer.attempts[-1]
    assert (last.id, last.started_at, last.ended_at, last.hangup_cause, last.ring_seconds) == (
        liaison,
        at(3),
        at(3.5),
        16,
        4.5,
    )
    assert all(a.transfer_id == transfer_id and a.ticket_id is None for a in transfer.attempts)


async def test_attempt_seqs_count_per_transfer(store: CaseStore) -> None:
    """Each transfer numbers its own attempts from 1."""
    call_id = await new_call(store, "u-two")
    first = await store.start_transfer(
        call_id, initiated_by="agent", agency_id="dot", unit_id="parking", at=at(0)
    )
    second = await store.start_transfer(
        call_id, initiated_by="agent", agency_id="dep", unit_id="noise", at=at(5)
    )
    await dial(store, first, "PJSIP/2101", "primary", 1, "NOANSWER", at(1))
    await dial(store, second, "PJSIP/3101", "primary", 1, "ANSWER", at(6))
    await dial(store, first, "PJSIP/2102", "adjacent", 1, "ANSWER", at(7))
    assert [a.seq for a in (await store.transfer_with_attempts(first)).attempts] == [1, 2]
    assert [a.seq for a in (await store.transfer_with_attempts(second)).attempts] == [1]


async def test_concurrent_attempts_get_distinct_seqs(store: CaseStore) -> None:
    """Attempts started from many tasks at once get seqs 1..n without gaps or repeats."""
    call_id = await new_call(store, "u-fan")
    transfer_id = await store.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=at(0)
    )
    ids = await asyncio.gather(
        *(
            store.start_attempt(
                transfer_id=transfer_id,
                target=f"PJSIP/21{n:02d}",
                role="adjacent",
                attempt=1,
                at=at(1),
            )
            for n in range(12)
        )
    )
    attempts = (await store.transfer_with_attempts(transfer_id)).attempts
    assert [a.seq for a in attempts] == list(range(1, 13))
    assert sorted(a.id for a in attempts) == sorted(ids)


async def test_first_finish_stands(store: CaseStore) -> None:
    """A second finish of an attempt or a transfer changes nothing; finish_transfer says so."""
    call_id = await new_call(store, "u-fin")
    transfer_id = await store.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=at(0)
    )
    attempt_id = await dial(store, transfer_id, "PJSIP/2101", "primary", 1, "BUSY", at(1))
    await store.finish_attempt(
        attempt_id, at=at(9), dialstatus="CANCEL", hangup_cause=0, ring_seconds=None
    )
    assert await store.finish_transfer(transfer_id, at=at(2), result="ticket")
    assert not await store.finish_transfer(transfer_id, at=at(3), result="caller_left")
    transfer = await store.transfer_with_attempts(transfer_id)
    assert (transfer.ended_at, transfer.result) == (at(2), "ticket")
    assert (transfer.attempts[0].dialstatus, transfer.attempts[0].ring_seconds) == ("BUSY", 10.0)


async def test_transfer_api_rejects_bad_input(store: CaseStore) -> None:
    """Unknown parents raise LookupError; wrong parents, roles and values raise ValueError."""
    call_id = await new_call(store, "u-bad")
    with pytest.raises(LookupError):
        await store.start_transfer(999, initiated_by="ivr", agency_id="a", unit_id="u", at=T0)
    with pytest.raises(ValueError, match="initiated_by"):
        await store.start_transfer(call_id, initiated_by="bot", agency_id="a", unit_id="u", at=T0)
    transfer_id = await store.start_transfer(
        call_id, initiated_by="admin", agency_id="a", unit_id="u", at=T0
    )
    ticket = await new_ticket(store)
    with pytest.raises(ValueError, match="exactly one"):
        await store.start_attempt(target="PJSIP/1", role="primary", attempt=1, at=T0)
    with pytest.raises(ValueError, match="exactly one"):
        await store.start_attempt(
            transfer_id=transfer_id,
            ticket_id=ticket.id,
            target="PJSIP/1",
            role="primary",
            attempt=1,
            at=T0,
        )
    with pytest.raises(LookupError):
        await store.start_attempt(
            transfer_id=999, target="PJSIP/1", role="primary", attempt=1, at=T0
        )
    with pytest.raises(LookupError):
        await store.start_attempt(
            ticket_id=999, target="PJSIP/1", role="callback", attempt=1, at=T0
        )
    with pytest.raises(ValueError, match="role"):
        await store.start_attempt(
            transfer_id=transfer_id, target="PJSIP/1", role="boss", attempt=1, at=T0
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.start_attempt(
            transfer_id=transfer_id, target="PJSIP/1", role="primary", attempt=1, at=NAIVE
        )
    attempt_id = await store.start_attempt(
        transfer_id=transfer_id, target="PJSIP/1", role="primary", attempt=1, at=T0
    )
    with pytest.raises(ValueError, match="dialstatus"):
        await store.finish_attempt(
            attempt_id, at=T0, dialstatus="RINGING", hangup_cause=None, ring_seconds=None
        )
    with pytest.raises(LookupError):
        await store.finish_attempt(999, at=T0, dialstatus="BUSY", hangup_cause=17, ring_seconds=1)
    with pytest.raises(ValueError, match="result"):
        await store.finish_transfer(transfer_id, at=T0, result="done")
    with pytest.raises(LookupError):
        await store.finish_transfer(999, at=T0, result="failed")
    with pytest.raises(LookupError):
        await store.transfer_with_attempts(999)
    assert [a.id for a in (await store.transfer_with_attempts(transfer_id)).attempts] == [
        attempt_id
    ]


async def test_ticket_round_trip(store: CaseStore, db_url: str) -> None:
    """A created ticket is committed on return and reads back whole, by id and by number."""
    call_id = await new_call(store, "u-ticket")
    transfer_id = await store.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=at(0)
    )
    await dial(store, transfer_id, "PJSIP/2101", "primary", 1, "BUSY", at(1))
    ticket = await new_ticket(
        store,
        call_id=call_id,
        transfer_id=transfer_id,
        created_at=at(3),
        due_at=at(3) + FOUR_HOURS,
        message_path="/var/spool/hotline/msg-1.wav",
    )

    assert ticket.number == "25030001"
    assert (ticket.call_id, ticket.transfer_id, ticket.caller_number) == (
        call_id,
        transfer_id,
        "0912345678",
    )
    assert (ticket.agency_id, ticket.unit_id, ticket.reason, ticket.status) == (
        "dot",
        "parking",
        "busy",
        "open",
    )
    assert (ticket.created_at, ticket.due_at) == (at(3), at(3) + FOUR_HOURS)
    assert ticket.message_path == "/var/spool/hotline/msg-1.wav"
    assert (ticket.overdue, ticket.overdue_at, ticket.notified_overdue_at) == (False, None, None)
    assert (ticket.assignee, ticket.outcome, ticket.closed_at, ticket.notes) == (
        None,
        None,
        None,
        (),
    )
    assert [(a.transfer_id, a.seq, a.dialstatus) for a in ticket.attempts] == [
        (transfer_id, 1, "BUSY")
    ]
    assert await store.get_ticket(ticket.id) == ticket
    assert await store.get_ticket_by_number("25030001") == ticket
    assert await store.get_ticket(999) is None
    assert await store.get_ticket_by_number("00000000") is None

    # Committed: a separate store, with its own connections, sees it.
    other = await CaseStore.open(db_url)
    try:
        assert await other.get_ticket_by_number(ticket.number) == ticket
    finally:
        await other.close()


async def test_ticket_attempts_include_transfer_then_callbacks(store: CaseStore) -> None:
    """A ticket shows its transfer's attempts, then its own callback attempts, each by seq."""
    call_id = await new_call(store, "u-cb")
    transfer_id = await store.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=at(0)
    )
    await dial(store, transfer_id, "PJSIP/2101", "primary", 1, "NOANSWER", at(1))
    await dial(store, transfer_id, "PJSIP/2101", "primary", 2, "NOANSWER", at(2))
    ticket = await new_ticket(store, call_id=call_id, transfer_id=transfer_id, created_at=at(3))
    for n in (1, 2):
        callback = await store.start_attempt(
            ticket_id=ticket.id,
            target="PJSIP/0912345678@trunk",
            role="callback",
            attempt=n,
            at=at(60 * n),
        )
        await store.finish_attempt(
            callback, at=at(60 * n + 1), dialstatus="NOANSWER", hangup_cause=19, ring_seconds=30.0
        )
    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert [(a.transfer_id, a.ticket_id, a.seq, a.role, a.attempt) for a in reread.attempts] == [
        (transfer_id, None, 1, "primary", 1),
        (transfer_id, None, 2, "primary", 2),
        (None, ticket.id, 1, "callback", 1),
        (None, ticket.id, 2, "callback", 2),
    ]


async def test_create_ticket_rejects_bad_input(store: CaseStore) -> None:
    """Unknown calls or transfers raise LookupError; bad reasons and naive times ValueError."""
    with pytest.raises(LookupError):
        await new_ticket(store, call_id=999)
    with pytest.raises(LookupError):
        await new_ticket(store, transfer_id=999)
    with pytest.raises(ValueError, match="reason"):
        await new_ticket(store, reason="bored")
    with pytest.raises(ValueError, match="timezone-aware"):
        await new_ticket(store, due_at=NAIVE)
    with pytest.raises(ValueError, match="32"):
        await new_ticket(store, caller_number="0" * 33)
    assert await store.list_tickets() == []
    # Failed creations draw no number: the first real ticket is still 0001.
    assert (await new_ticket(store)).number == "25030001"


async def test_concurrent_ticket_numbers_are_distinct(store: CaseStore) -> None:
    """Twenty tickets created at once get twenty distinct numbers, 0001 to 0020."""
    tickets = await asyncio.gather(
        *(new_ticket(store, caller_number=f"09123456{n:02d}") for n in range(20))
    )
    numbers = [t.number for t in tickets]
    assert len(set(numbers)) == 20
    assert sorted(numbers) == [f"2503{n:04d}" for n in range(1, 21)]
    for ticket in tickets:
        stored = await store.get_ticket_by_number(ticket.number)
        assert stored is not None
        assert stored.caller_number == ticket.caller_number


async def test_ticket_numbers_follow_the_taipei_month(store: CaseStore) -> None:
    """The YYMM prefix is the Taipei month, and each month counts from 0001 again."""
    march = await new_ticket(store, created_at=utc(2025, 3, 31, 15, 59))  # 23:59 Taipei
    april = await new_ticket(store, created_at=utc(2025, 3, 31, 16, 0))  # 00:00 Taipei
    march_again = await new_ticket(store, created_at=utc(2025, 3, 1, 0, 0))
    december = await new_ticket(store, created_at=utc(2025, 12, 31, 23, 0))  # 2026-01-01
    assert [t.number for t in (march, april, march_again, december)] == [
        "25030001",
        "25040001",
        "25030002",
        "26010001",
    ]


@pytest.mark.parametrize(
    "path",
    [
        ["in_progress", "called_back", "closed"],
        ["closed"],
        ["in_progress", "closed"],
    ],
)
async def test_legal_status_transitions(store: CaseStore, path: list[str]) -> None:
    """Every move of the workflow is accepted; closing stamps closed_at and the outcome."""
    ticket = await new_ticket(store)
    for minutes, status in enumerate(path, start=1):
        outcome = "已回電說明" if status == "closed" else None
        await store.set_ticket_status(
            ticket.id, status, at=at(minutes), by="officer-1", outcome=outcome
        )
    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert (reread.status, reread.closed_at, reread.outcome) == (
        "closed",
        at(len(path)),
        "已回電說明",
    )


async def test_outcome_is_kept_when_a_later_change_gives_none(store: CaseStore) -> None:
    """An outcome given on called_back survives a close that gives none."""
    ticket = await new_ticket(store)
    await store.set_ticket_status(ticket.id, "in_progress", at=at(1), by="o")
    await store.set_ticket_status(ticket.id, "called_back", at=at(2), by="o", outcome="已說明")
    await store.set_ticket_status(ticket.id, "closed", at=at(3), by="o")
    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert (reread.outcome, reread.closed_at) == ("已說明", at(3))


@pytest.mark.parametrize(
    ("before", "move"),
    [
        ([], "called_back"),
        ([], "open"),
        (["in_progress"], "open"),
        (["in_progress"], "in_progress"),
        (["in_progress", "called_back"], "in_progress"),
        (["closed"], "open"),
        (["closed"], "in_progress"),
        (["closed"], "closed"),
    ],
)
async def test_illegal_status_transitions_raise(
    store: CaseStore, before: list[str], move: str
) -> None:
    """Moves outside the workflow raise InvalidTransition and change nothing."""
    ticket = await new_ticket(store)
    for minutes, status in enumerate(before, start=1):
        await store.set_ticket_status(ticket.id, status, at=at(minutes), by="o")
    events_before = await store.ticket_events(ticket.id)
    expected_status = before[-1] if before else "open"

    with pytest.raises(InvalidTransition) as raised:
        await store.set_ticket_status(ticket.id, move, at=at(99), by="o", outcome="x")
    assert (raised.value.current, raised.value.requested) == (expected_status, move)

    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert (reread.status, reread.outcome) == (expected_status, None)
    assert await store.ticket_events(ticket.id) == events_before


async def test_set_ticket_status_rejects_unknowns(store: CaseStore) -> None:
    """An unknown status is a ValueError, an unknown ticket a LookupError."""
    ticket = await new_ticket(store)
    with pytest.raises(ValueError, match="status"):
        await store.set_ticket_status(ticket.id, "done", at=T0, by="o")
    with pytest.raises(LookupError):
        await store.set_ticket_status(999, "closed", at=T0, by="o")


async def test_flag_overdue_flags_once_and_never_closed(store: CaseStore) -> None:
    """Due, unclosed tickets are flagged once; closed and not-yet-due ones are left alone."""
    due_now = await new_ticket(store, due_at=at(240))
    due_earlier = await new_ticket(store, due_at=at(100))
    in_progress = await new_ticket(store, due_at=at(200))
    await store.set_ticket_status(in_progress.id, "in_progress", at=at(10), by="o")
    closed = await new_ticket(store, due_at=at(100))
    await store.set_ticket_status(closed.id, "closed", at=at(300), by="o")
    not_due = await new_ticket(store, due_at=at(241))

    flagged = await store.flag_overdue(at(240))
    assert [t.id for t in flagged] == [due_earlier.id, in_progress.id, due_now.id]
    assert all(t.overdue and t.overdue_at == at(240) for t in flagged)
    assert await store.flag_overdue(at(240)) == []
    assert await store.flag_overdue(at(241.5)) == [await store.get_ticket(not_due.id)]
    assert await store.flag_overdue(at(10_000)) == []

    never = await store.get_ticket(closed.id)
    assert never is not None
    assert (never.overdue, never.overdue_at) == (False, None)


async def test_concurrent_flag_overdue_flags_each_ticket_once(store: CaseStore) -> None:
    """Schedulers racing over the same due tickets flag each of them exactly once."""
    tickets = [await new_ticket(store, due_at=at(n)) for n in range(10)]
    results = await asyncio.gather(*(store.flag_overdue(at(60)) for _ in range(4)))
    flagged_ids = [t.id for batch in results for t in batch]
    assert sorted(flagged_ids) == sorted(t.id for t in tickets)
    for ticket in tickets:
        kinds = [e.kind for e in await store.ticket_events(ticket.id)]
        assert kinds.count("overdue") == 1


async def test_overdue_tickets_lists_flagged_unclosed(store: CaseStore) -> None:
    """overdue_tickets shows flagged tickets until they close; the flag itself stays."""
    late = await new_ticket(store, due_at=at(10))
    later = await new_ticket(store, due_at=at(20), unit_id="noise")
    await new_ticket(store, due_at=at(500))
    assert await store.overdue_tickets() == []
    await store.flag_overdue(at(30))
    assert [t.id for t in await store.overdue_tickets()] == [late.id, later.id]

    await store.set_ticket_status(late.id, "closed", at=at(40), by="o", outcome="done")
    assert [t.id for t in await store.overdue_tickets()] == [later.id]
    assert [t.id for t in await store.list_tickets(overdue=True)] == [late.id, later.id]


async def test_mark_overdue_notified_only_once(store: CaseStore) -> None:
    """The overdue mail is recorded once: the second mark returns False and keeps the first."""
    ticket = await new_ticket(store, due_at=at(10))
    await store.flag_overdue(at(20))
    assert await store.mark_overdue_notified(ticket.id, at(21))
    assert not await store.mark_overdue_notified(ticket.id, at(22))
    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert reread.notified_overdue_at == at(21)
    with pytest.raises(LookupError):
        await store.mark_overdue_notified(999, at(21))


async def test_notes_and_audit_trail(store: CaseStore) -> None:
    """Every change to a ticket leaves an event, in order; notes read back on the ticket."""
    ticket = await new_ticket(store, due_at=at(240))
    await store.assign_ticket(ticket.id, "officer-1", at=at(1), by="liaison-dot")
    first_note = await store.add_ticket_note(
        ticket.id, at=at(2), author="liaison-dot", text="市民反映停車格被占用"
    )
    await store.assign_ticket(ticket.id, "officer-2", at=at(3), by="liaison-dot")
    await store.set_ticket_status(ticket.id, "in_progress", at=at(4), by="officer-2")
    callback = await store.start_attempt(
        ticket_id=ticket.id, target="PJSIP/0912345678@trunk", role="callback", attempt=1, at=at(5)
    )
    await store.flag_overdue(at(240))
    await store.mark_overdue_notified(ticket.id, at(241))
    await store.set_ticket_status(ticket.id, "called_back", at=at(250), by="officer-2")
    second_note = await store.add_ticket_note(
        ticket.id, at=at(251), author="officer-2", text="已回電並說明處理方式"
    )
    await store.set_ticket_status(ticket.id, "closed", at=at(252), by="officer-2", outcome="已說明")

    events = await store.ticket_events(ticket.id)
    assert [(e.kind, e.at) for e in events] == [
        ("created", T0),
        ("assigned", at(1)),
        ("note", at(2)),
        ("assigned", at(3)),
        ("status", at(4)),
        ("callback_attempt", at(5)),
        ("overdue", at(240)),
        ("mail_sent", at(241)),
        ("status", at(250)),
        ("note", at(251)),
        ("status", at(252)),
    ]
    data = [dict(e.data) for e in events]
    assert data[0] == {
        "number": ticket.number,
        "reason": "busy",
        "agency_id": "dot",
        "unit_id": "parking",
        "due_at": at(240).isoformat(),
    }
    assert data[1] == {"assignee": "officer-1", "previous": None, "by": "liaison-dot"}
    assert data[2] == {"note_id": first_note, "author": "liaison-dot"}
    assert data[3] == {"assignee": "officer-2", "previous": "officer-1", "by": "liaison-dot"}
    assert data[4] == {"from": "open", "to": "in_progress", "by": "officer-2", "outcome": None}
    assert data[5] == {
        "attempt_id": callback,
        "seq": 1,
        "target": "PJSIP/0912345678@trunk",
        "attempt": 1,
    }
    assert data[6] == {"due_at": at(240).isoformat()}
    assert data[7] == {"mail": "overdue"}
    assert data[10] == {
        "from": "called_back",
        "to": "closed",
        "by": "officer-2",
        "outcome": "已說明",
    }

    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert reread.assignee == "officer-2"
    assert [(n.id, n.at, n.author, n.text) for n in reread.notes] == [
        (first_note, at(2), "liaison-dot", "市民反映停車格被占用"),
        (second_note, at(251), "officer-2", "已回電並說明處理方式"),
    ]
    assert await store.ticket_events(999) == []


async def test_note_api_rejects_bad_input(store: CaseStore) -> None:
    """Notes on unknown tickets raise LookupError; over-long text is refused on both backends."""
    ticket = await new_ticket(store)
    with pytest.raises(LookupError):
        await store.add_ticket_note(999, at=T0, author="o", text="hi")
    with pytest.raises(ValueError, match="2000"):
        await store.add_ticket_note(ticket.id, at=T0, author="o", text="長" * 2001)
    await store.add_ticket_note(ticket.id, at=T0, author="o", text="長" * 2000)
    with pytest.raises(LookupError):
        await store.assign_ticket(999, "officer-1", at=T0, by="o")
    reread = await store.get_ticket(ticket.id)
    assert reread is not None
    assert [len(n.text) for n in reread.notes] == [2000]


async def test_list_tickets_filters_and_order(store: CaseStore) -> None:
    """list_tickets applies every filter given and lists the soonest due first."""
    a = await new_ticket(store, agency_id="dot", unit_id="parking", due_at=at(300))
    b = await new_ticket(store, agency_id="dot", unit_id="signals", due_at=at(100))
    c = await new_ticket(store, agency_id="dep", unit_id="noise", due_at=at(200))
    d = await new_ticket(store, agency_id="dep", unit_id=None, reason="off_hours", due_at=at(50))
    await store.set_ticket_status(c.id, "in_progress", at=at(1), by="o")
    await store.flag_overdue(at(150))  # flags d and b

    def ids(tickets: list[TicketRecord]) -> list[int]:
        return [t.id for t in tickets]

    assert ids(await store.list_tickets()) == [d.id, b.id, c.id, a.id]
    assert ids(await store.list_tickets(agency_id="dot")) == [b.id, a.id]
    assert ids(await store.list_tickets(unit_id="noise")) == [c.id]
    assert ids(await store.list_tickets(status="open")) == [d.id, b.id, a.id]
    assert ids(await store.list_tickets(status="in_progress")) == [c.id]
    assert ids(await store.list_tickets(overdue=True)) == [d.id, b.id]
    assert ids(await store.list_tickets(overdue=False)) == [c.id, a.id]
    assert ids(await store.list_tickets(agency_id="dot", overdue=True)) == [b.id]
    assert ids(await store.list_tickets(limit=2)) == [d.id, b.id]
    assert await store.list_tickets(status="closed") == []
    with pytest.raises(ValueError, match="status"):
        await store.list_tickets(status="done")
    with pytest.raises(ValueError, match="limit"):
        await store.list_tickets(limit=0)


async def test_transfer_stats_by_hand(store: CaseStore) -> None:
    """March's figures per unit match a small fixture counted by hand."""
    call_id = await new_call(store, "u-stats")

    async def transfer(agency: str, unit: str, start: datetime, *dials: tuple[str, str]) -> int:
        transfer_id = await store.start_transfer(
            call_id, initiated_by="ivr", agency_id=agency, unit_id=unit, at=start
        )
        tries: dict[str, int] = {}
        for n, (role, status) in enumerate(dials):
            tries[role] = tries.get(role, 0) + 1
            target = "PJSIP/2100@agency-pbx" if role == "liaison" else "PJSIP/2101"
            when = start + timedelta(seconds=20 * n)
            await dial(store, transfer_id, target, role, tries[role], status, when)
        return transfer_id

    async def move(ticket: TicketRecord, *steps: tuple[str, datetime]) -> None:
        for status, when in steps:
            await store.set_ticket_status(ticket.id, status, at=when, by="officer")

    # dot/parking: three transfers in March, one just before it.
    t1 = await transfer(
        "dot",
        "parking",
        utc(2025, 3, 1),
        ("primary", "BUSY"),
        ("primary", "BUSY"),
        ("liaison", "ANSWER"),
    )
    await transfer(
        "dot", "parking", utc(2025, 3, 4), ("primary", "NOANSWER"), ("adjacent", "ANSWER")
    )
    await transfer("dot", "parking", utc(2025, 3, 5), ("primary", "ANSWER"))
    await transfer("dot", "parking", utc(2025, 2, 28, 23, 59, 59), ("primary", "BUSY"))
    # dot/signals: unit lines busy; the liaison needs two tries (counted as one fallback,
    # and its NOANSWER is not the unit's).
    t4 = await transfer(
        "dot",
        "signals",
        utc(2025, 3, 10),
        ("primary", "BUSY"),
        ("adjacent", "BUSY"),
        ("liaison", "NOANSWER"),
        ("liaison", "ANSWER"),
    )
    # water/leaks: the caller hung up before any dial.
    await transfer("water", "leaks", utc(2025, 3, 20))

    def created(day: int, hour: int = 1) -> dict[str, datetime]:
        start = utc(2025, 3, day, hour)
        return {"created_at": start, "due_at": start + FOUR_HOURS}

    k1 = await new_ticket(store, transfer_id=t1, **created(3))
    await move(
        k1,
        ("in_progress", utc(2025, 3, 3, 1, 30)),
        ("called_back", utc(2025, 3, 3, 2)),  # 3600 s
        ("closed", utc(2025, 3, 3, 3)),  # in time
    )
    k2 = await new_ticket(store, **created(5))
    await move(k2, ("in_progress", utc(2025, 3, 5, 3)))
    k3 = await new_ticket(store, **created(6))
    await move(k3, ("closed", utc(2025, 3, 6, 2)))  # in time, never called back
    k4 = await new_ticket(store, transfer_id=t4, unit_id="signals", **created(10))
    before = await new_ticket(
        store, created_at=utc(2025, 2, 27, 1), due_at=utc(2025, 2, 27, 1) + FOUR_HOURS
    )
    await move(before, ("closed", utc(2025, 2, 27, 2)))
    await new_ticket(store, created_at=utc(2025, 4, 1), due_at=utc(2025, 4, 1, 4))

    assert {t.id for t in await store.flag_overdue(utc(2025, 3, 12))} == {k2.id, k4.id}
    await move(
        k2,
        ("called_back", utc(2025, 3, 12, 1)),  # 7 days = 604800 s after creation
        ("closed", utc(2025, 3, 12, 2)),  # late
    )
    k5 = await new_ticket(
        store,
        agency_id="dep",
        unit_id=None,
        reason="off_hours",
        created_at=utc(2025, 3, 15, 12),
        due_at=utc(2025, 3, 17, 9),
    )
    await move(
        k5,
        ("in_progress", utc(2025, 3, 16)),
        ("called_back", utc(2025, 3, 16, 0, 30)),  # 12.5 h = 45000 s
    )

    stats = await store.transfer_stats(utc(2025, 3, 1), utc(2025, 4, 1))
    assert stats == [
        UnitStats(
            agency_id="dep",
            unit_id=None,
            tickets_opened=1,
            callback_seconds=[45000.0],
        ),
        UnitStats(
            agency_id="dot",
            unit_id="parking",
            transfers=3,
            busy_attempts=2,
            noanswer_attempts=1,
            liaison_fallbacks=1,
            tickets_opened=3,
            tickets_closed_in_time=2,
            tickets_overdue=1,
            callback_seconds=[3600.0, 604800.0],
        ),
        UnitStats(
            agency_id="dot",
            unit_id="signals",
            transfers=1,
            busy_attempts=2,
            liaison_fallbacks=1,
            tickets_opened=1,
            tickets_overdue=1,
        ),
        UnitStats(agency_id="water", unit_id="leaks", transfers=1),
    ]
    assert await store.transfer_stats(utc(2025, 5, 1), utc(2025, 6, 1)) == []
    with pytest.raises(ValueError, match="after"):
        await store.transfer_stats(utc(2025, 4, 1), utc(2025, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.transfer_stats(NAIVE, utc(2025, 4, 1))
