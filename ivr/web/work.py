"""Officers' and liaison windows' work: their tickets, soonest due first, and actions on them.

Who sees which tickets:
- an officer: tickets of their unit, and tickets assigned to them;
- a liaison window: tickets of their agency;
- supervisors, admins and auditors: every open ticket (auditors only read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.domain.masking import shown_number
from ivr.domain.vocabulary import Role, TicketStatus
from ivr.errors import ExitStatus, HotlineError
from ivr.store import audit
from ivr.store import console as reads
from ivr.store.repo import InvalidTransition, TicketRecord
from ivr.store.users import User
from ivr.web.context import Console


class WorkError(HotlineError):
    """An action on a ticket was refused; `key` names the message, `status` the HTTP code."""

    code = "web.work_refused"
    exit_status = ExitStatus.REFUSED

    def __init__(self, key: str, status: int = 422) -> None:
        super().__init__(key)
        self.key = key
        self.status = status


@dataclass(frozen=True)
class WorkItem:
    number: str
    agency_id: str
    unit_id: str | None
    status: str
    reason: str
    due_at: datetime
    # Negative once overdue.
    seconds_left: int
    overdue: bool
    assignee: str | None
    caller: str
    notes: tuple[tuple[str, str], ...]


def may_see(user: User, ticket: TicketRecord) -> bool:
    if user.role in (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        return True
    if user.role is Role.OFFICER:
        return ticket.assignee == user.username or (
            user.unit_id is not None and ticket.unit_id == user.unit_id
        )
    if user.role is Role.LIAISON:
        return user.agency_id is not None and ticket.agency_id == user.agency_id
    return False


def _item(ticket: TicketRecord, now: datetime) -> WorkItem:
    left = int((ticket.due_at - now).total_seconds())
    return WorkItem(
        number=ticket.number,
        agency_id=ticket.agency_id,
        unit_id=ticket.unit_id,
        status=ticket.status,
        reason=ticket.reason,
        due_at=ticket.due_at,
        seconds_left=left,
        overdue=ticket.overdue or left < 0,
        assignee=ticket.assignee,
        caller=shown_number(ticket.caller_number, unmask=False),
        notes=tuple((n.author, n.text) for n in ticket.notes),
    )


async def my_work(ctx: Console, user: User) -> list[WorkItem]:
    """The user's open tickets, soonest due first; the view is audited (masked numbers)."""
    tickets = [t for t in await reads.open_tickets(ctx.store) if may_see(user, t)]
    now = ctx.clock()
    if tickets:
        await audit.record(
            ctx.store,
            at=now,
            who=user.username,
            action="view",
            subject=f"work:{user.username}",
            detail=f"{len(tickets)} tickets, numbers masked",
        )
    return [_item(t, now) for t in tickets]


async def _ticket_for(ctx: Console, user: User, number: str) -> TicketRecord:
    ticket = await ctx.store.get_ticket_by_number(number)
    # Another agency's ticket is as absent as a ticket that does not exist.
    if ticket is None or not may_see(user, ticket):
        raise WorkError("not_found", 404)
    return ticket


async def add_note(ctx: Console, user: User, number: str, text: str) -> None:
    text = text.strip()
    if not text:
        raise WorkError("note")
    ticket = await _ticket_for(ctx, user, number)
    await ctx.store.add_ticket_note(ticket.id, at=ctx.clock(), author=user.username, text=text)


async def assign(ctx: Console, user: User, number: str, assignee: str) -> None:
    assignee = assignee.strip()
    if not assignee:
        raise WorkError("assignee")
    ticket = await _ticket_for(ctx, user, number)
    await ctx.store.assign_ticket(ticket.id, assignee, at=ctx.clock(), by=user.username)


async def close(ctx: Console, user: User, number: str, outcome: str) -> None:
    outcome = outcome.strip()
    if not outcome:
        raise WorkError("outcome")
    ticket = await _ticket_for(ctx, user, number)
    try:
        await ctx.store.set_ticket_status(
            ticket.id, TicketStatus.CLOSED, at=ctx.clock(), by=user.username, outcome=outcome
        )
    except InvalidTransition as exc:
        raise WorkError("status", 409) from exc


async def callback(ctx: Console, user: User, number: str) -> str:
    """Click-to-callback as `ivr tickets callback` does: the user's own phone rings first."""
    ticket = await _ticket_for(ctx, user, number)
    if not user.extension or ctx.callback is None:
        raise WorkError("callback", 409)
    return await ctx.callback(ticket.number, user.extension)
