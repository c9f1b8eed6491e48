"""A `record` destination: the caller's number and message become a callback ticket."""

from __future__ import annotations

from ivr.domain.ticket_policy import LeftMessage
from ivr.domain.tickets import HOTLINE_AGENCY
from ivr.flow.call import Call
from ivr.flow.callback import callback_number_of
from ivr.flow.message import record_message
from ivr.flow.tickets import NewTicket, announce_ticket, open_ticket, terms
from ivr.routing.menus import ToRecord


async def record(call: Call, dest: ToRecord) -> None:
    number = await callback_number_of(call)
    await call.play(dest.prompt, "record")
    message = await record_message(call, dest.max_seconds)
    now = call.now()
    agreed = await terms(call, LeftMessage(dest.reason), now)
    ticket = await open_ticket(
        call,
        NewTicket(
            # The IVR opened it by itself: the call centre's, not an agency's.
            transfer_id=None,
            caller_number=number,
            agency_id=HOTLINE_AGENCY,
            unit_id=None,
            reason=agreed.reason,
            created_at=now,
            due_at=agreed.due_at,
            message_path=message,
        ),
    )
    if ticket is not None:
        await announce_ticket(call, ticket)
