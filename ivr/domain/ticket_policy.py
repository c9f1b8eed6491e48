"""When the call flow opens a callback ticket, why, when it is due, and what is said. Pure.

Four things lead to a ticket, each named by the domain type that already describes it:
- the liaison window answered a transfer (`Answered` with the liaison's role): the
  window registered the matter, and its callback clock runs from now even though a
  person served the caller (T4(2)1); nothing more is said, the caller is with them;
- nobody answered a transfer (`GiveUp`): the reason says why ("busy" or "no_answer"),
  and the callback is due within the profile's SLA in working time;
- the offices are empty (`RecordForWorkingDay`, K4(4)): due when the next working day
  ends, as the transfer plan computed;
- the caller left a message at a `record` destination (`LeftMessage`): the table's
  reason, due when the next working day ends.

A person's answer from anyone but the liaison window opens nothing
(`answer_opens_ticket`). The caller hears
the ticket's number only once it is committed, then when the callback comes (see
`ivr.domain.callback_promise`: "within 4 hours" only when that is true).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import assert_never

from ivr.domain.calendar import Calendar, SlaPolicy, callback_due, next_working_day_end
from ivr.domain.callback_promise import callback_promise
from ivr.domain.transfer import Answered, GiveUp, RecordForWorkingDay
from ivr.domain.vocabulary import AttemptRole, TicketReason, TransferResult

# Said once the ticket is committed, before its number is read out.
REGISTERED = "ticket-registered"
# Said when the store cannot commit a ticket: a person takes over, no number is read.
UNAVAILABLE = "ticket-unavailable"
# Said before the caller is asked for a number and a message, by why nobody answered.
NOBODY_ANSWERED = "transfer-nobody-answered"
OFFICE_CLOSED = "transfer-office-closed"
# The longest message a caller leaves after a transfer nobody took.
TRANSFER_MESSAGE_S = 60


@dataclass(frozen=True)
class LeftMessage:
    """The caller chose to leave a message (a `record` destination)."""

    reason: TicketReason


TicketCause = Answered | GiveUp | RecordForWorkingDay | LeftMessage


@dataclass(frozen=True)
class TicketTerms:
    reason: TicketReason
    due_at: datetime


def answered_result(step: Answered) -> TransferResult:
    """How a transfer a person answered ends in the transfer record."""
    if step.role == AttemptRole.LIAISON:
        return TransferResult.LIAISON_ANSWERED
    return TransferResult.ANSWERED


def answer_opens_ticket(step: Answered) -> bool:
    """The liaison window answered: it registered the matter, so a ticket is opened."""
    return step.role == AttemptRole.LIAISON


def ticket_terms(
    cause: TicketCause, sla: SlaPolicy, office: Calendar, now: datetime
) -> TicketTerms:
    """The reason and due time of the ticket `cause` opens at `now`.

    `office` is the offices' working calendar with the days the city declared closed.
    A person's answer opens a ticket only from the liaison window (`answer_opens_ticket`);
    asked for another, this raises ValueError.
    """
    match cause:
        case Answered(role=role):
            if role != AttemptRole.LIAISON:
                raise ValueError(f"an answer by the {role} line opens no ticket")
            return TicketTerms(TicketReason.LIAISON_REGISTERED, callback_due(sla, office, now))
        case GiveUp(reason=reason):
            return TicketTerms(reason, callback_due(sla, office, now))
        case RecordForWorkingDay(due=due):
            return TicketTerms(TicketReason.OFF_HOURS, due)
        case LeftMessage(reason=reason):
            return TicketTerms(reason, next_working_day_end(office, now))
        case _:
            assert_never(cause)


def transfer_intro(cause: GiveUp | RecordForWorkingDay) -> str:
    """What a caller whose transfer reached nobody hears before leaving a message."""
    return NOBODY_ANSWERED if isinstance(cause, GiveUp) else OFFICE_CLOSED


def read_out(number: str) -> tuple[str, ...]:
    """A committed ticket's number, digit by digit (said after `REGISTERED`)."""
    return tuple(f"digit-{d}" for d in number if d.isdigit())


def promise(due_at: datetime, now: datetime, language: str, zone: tzinfo) -> tuple[str, ...]:
    """Said last: when the callback comes, reckoned at `now` (after the number is read)."""
    return tuple(callback_promise(due_at, now, language, zone))
