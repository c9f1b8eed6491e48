"""Opening a callback ticket, and telling the caller only what is true.

The policy (reason, due time, what is said) is `ivr.domain.ticket_policy`; this module
commits the ticket, keeps it in the outage spool when the store cannot, and reads the
number out only once it is committed.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog

from ivr.adapters.durable import DurableStore
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.domain import ticket_policy as policy
from ivr.domain.transfer import GiveUp, RecordForWorkingDay, TransferSpec
from ivr.domain.vocabulary import CallOutcome, TransferResult
from ivr.flow.call import Call
from ivr.flow.callback import callback_number_of
from ivr.flow.message import record_message
from ivr.store import StoreUnavailable, TicketRecord

log = structlog.get_logger()

RECORD_MESSAGE = "transfer-record-message"


@dataclass(frozen=True)
class NewTicket:
    transfer_id: int | None
    caller_number: str
    agency_id: str
    unit_id: str | None
    reason: str
    created_at: datetime
    due_at: datetime
    message_path: str | None = None
    # The language the callback is owed in (a queue's callback): None elsewhere.
    language: str | None = None


def for_transfer(
    spec: TransferSpec,
    transfer_id: int,
    number: str,
    terms: policy.TicketTerms,
    now: datetime,
    message: str | None = None,
) -> NewTicket:
    """A ticket for the unit a transfer was for."""
    return NewTicket(
        transfer_id=transfer_id,
        caller_number=number,
        agency_id=spec.agency_id,
        unit_id=spec.unit_id,
        reason=terms.reason,
        created_at=now,
        due_at=terms.due_at,
        message_path=message,
    )


async def terms(call: Call, cause: policy.TicketCause, now: datetime) -> policy.TicketTerms:
    """The policy's terms for `cause` at `now`, on the working calendar with its closures."""
    office = await call.services.working(call.view, now)
    return policy.ticket_terms(cause, call.view.sla, office, now)


async def open_ticket(call: Call, new: NewTicket) -> TicketRecord | None:
    """Commit a ticket; None (and a person takes over) when the store cannot."""
    try:
        ticket = await call.store.create_ticket(call_id=call.call_id, **asdict(new))
    except StoreUnavailable:
        await _defer_ticket(call, new)
        await _ticket_unavailable(call)
        return None
    call.event("ticket", number=ticket.number, reason=new.reason, due_at=new.due_at.isoformat())
    return ticket


async def _defer_ticket(call: Call, new: NewTicket) -> None:
    """Keep the ticket (and its message) for when the store returns; never read out.

    The key is made here, before the write, so a replay repeated after a crash
    still makes one ticket.
    """
    store = call.store
    if not isinstance(store, DurableStore):
        return
    key = uuid.uuid4().hex
    try:
        await store.defer_ticket(key=key, call_id=call.call_id, **asdict(new))
    except OSError:
        # The spool's disk failed too: the caller still goes to a person, who hears
        # the matter; the message stays on the call's timeline.
        log.exception("ticket_defer_failed", call_id=call.call_id)
        return
    # On the call's timeline, for the agent who takes it: the message and the
    # ticket that will be made for it.
    call.event("ticket_deferred", key=key, reason=new.reason, message=new.message_path)


async def announce_ticket(call: Call, ticket: TicketRecord) -> None:
    # open_ticket has committed: only now may the caller hear the number.
    await call.tracker.outcome(call.uniqueid, CallOutcome.TICKET)
    call.settled = True
    await call.play(policy.REGISTERED, "ticket")
    await call.play_all(policy.read_out(ticket.number), "digits")
    # "Within 4 hours" only when that is true; else the day and time it is due.
    zone = call.view.office.tz
    await call.play_all(policy.promise(ticket.due_at, call.now(), call.language, zone), "ticket")
    await call.finish(CallOutcome.TICKET)


async def _ticket_unavailable(call: Call) -> None:
    """The store cannot commit a ticket: no number may be read out, so a person takes over."""
    call.event("ticket_unavailable")
    await call.play(policy.UNAVAILABLE, "ticket")
    await call.tracker.outcome(call.uniqueid, CallOutcome.QUEUED)
    await call.to_agents(reason="ticket_unavailable")


async def transfer_ticket(
    call: Call, spec: TransferSpec, transfer_id: int, cause: GiveUp | RecordForWorkingDay
) -> None:
    """Nobody answered (or nobody was rung, off hours): number, message, ticket.

    The transfer's result says "ticket" only once a ticket is committed: with the
    store down it is "failed" (a person takes over), and "caller_left" if the
    caller hung up before a ticket existed.
    """
    ticket: TicketRecord | None = None
    result = TransferResult.FAILED
    try:
        await call.play(policy.transfer_intro(cause), "ticket")
        number = await callback_number_of(call)
        await call.play(RECORD_MESSAGE, "ticket")
        message = await record_message(call, policy.TRANSFER_MESSAGE_S)
        now = call.now()
        agreed = await terms(call, cause, now)
        ticket = await open_ticket(
            call, for_transfer(spec, transfer_id, number, agreed, now, message)
        )
        if ticket is not None:
            result = TransferResult.TICKET
            await announce_ticket(call, ticket)
    except AGIHangup:
        if ticket is None:
            result = TransferResult.CALLER_LEFT
        raise
    finally:
        await call.store.finish_transfer(transfer_id, at=call.now(), result=result)
