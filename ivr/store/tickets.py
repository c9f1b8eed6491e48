"""The case store's callback tickets: numbering, workflow, notes and audit trail."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.checks import require_limit, require_one_of
from ivr.store.core import StoreCore
from ivr.store.models import TICKET_STATUSES, Ticket, TicketEvent
from ivr.store.ticket_records import (
    CreateTicket,
)
from ivr.store.ticket_workflow import (
    AddTicketNote,
    AssignTicket,
    FlagOverdue,
    MarkOverdueNotified,
    SetTicketStatus,
)
from ivr.store.views import TICKET_LOADS, TicketEventRecord, TicketRecord, ticket_record
from ivr.store.write_records import new_key


class TicketsArea(StoreCore):
    async def create_ticket(
        self,
        *,
        call_id: int | None,
        transfer_id: int | None,
        caller_number: str,
        agency_id: str,
        unit_id: str | None,
        reason: str,
        created_at: datetime,
        due_at: datetime,
        message_path: str | None = None,
        idempotency_key: str | None = None,
        after_outage: bool = False,
        language: str | None = None,
    ) -> TicketRecord:
        """Open a callback ticket with a fresh number; committed when this returns.

        The number (see `ivr.store.ticket_records`) is drawn in the same transaction as
        the insert, so it is never handed out twice, even by concurrent creations.
        A write with a key already used returns that ticket, unchanged (without a key,
        a fresh one is made). Raises LookupError if call_id or transfer_id names nothing.
        """
        record = CreateTicket(
            key=idempotency_key or new_key(),
            call_id=call_id,
            transfer_id=transfer_id,
            caller_number=caller_number,
            agency_id=agency_id,
            unit_id=unit_id,
            reason=reason,
            created_at=created_at,
            due_at=due_at,
            message_path=message_path,
            after_outage=after_outage,
            language=language,
        )
        return await self.create_ticket_record(record)

    async def create_ticket_record(self, record: CreateTicket) -> TicketRecord:
        """Write the ticket record; the ticket, made now or by an earlier write of it."""
        try:
            ticket_id = await self.apply(record)
        except IntegrityError:
            # A concurrent write of the same key won; it has committed by now.
            ticket_id = await self.apply(record)
        # Committed: the read that follows can only find it.
        found = await self.get_ticket(ticket_id)
        assert found is not None, ticket_id
        return found

    async def get_ticket(self, ticket_id: int) -> TicketRecord | None:
        async with self._session() as session:
            found = await self._load_tickets(session, select(Ticket).where(Ticket.id == ticket_id))
        return found[0] if found else None

    async def tickets_of_call(self, call_id: int) -> list[TicketRecord]:
        """The tickets made from a call, oldest first."""
        async with self._session() as session:
            return await self._load_tickets(
                session, select(Ticket).where(Ticket.call_id == call_id).order_by(Ticket.id)
            )

    async def get_ticket_by_number(self, number: str) -> TicketRecord | None:
        async with self._session() as session:
            found = await self._load_tickets(session, select(Ticket).where(Ticket.number == number))
        return found[0] if found else None

    async def list_tickets(
        self,
        *,
        status: str | None = None,
        unit_id: str | None = None,
        agency_id: str | None = None,
        overdue: bool | None = None,
        limit: int = 100,
    ) -> list[TicketRecord]:
        """Tickets matching every filter given, soonest due first.

        Due order, not newest first: with a limit, a work list must not push the
        oldest promises to callers off its end.
        """
        require_limit(limit)
        stmt = select(Ticket).order_by(Ticket.due_at, Ticket.id).limit(limit)
        if status is not None:
            require_one_of(status, TICKET_STATUSES, "status")
            stmt = stmt.where(Ticket.status == status)
        if unit_id is not None:
            stmt = stmt.where(Ticket.unit_id == unit_id)
        if agency_id is not None:
            stmt = stmt.where(Ticket.agency_id == agency_id)
        if overdue is not None:
            stmt = stmt.where(Ticket.overdue.is_(overdue))
        async with self._session() as session:
            return await self._load_tickets(session, stmt)

    async def assign_ticket(self, ticket_id: int, assignee: str, *, at: datetime, by: str) -> None:
        """Give the ticket to `assignee` (a case officer); LookupError if unknown."""
        record = AssignTicket(key=new_key(), ticket_id=ticket_id, assignee=assignee, at=at, by=by)
        await self.apply(record)

    async def add_ticket_note(self, ticket_id: int, *, at: datetime, author: str, text: str) -> int:
        """Append a note to the ticket and return its id; LookupError if unknown."""
        record = AddTicketNote(key=new_key(), ticket_id=ticket_id, at=at, author=author, text=text)
        try:
            return await self.apply(record)
        except IntegrityError as exc:
            raise LookupError(f"no ticket with id {ticket_id}") from exc

    async def set_ticket_status(
        self,
        ticket_id: int,
        status: str,
        *,
        at: datetime,
        by: str,
        outcome: str | None = None,
    ) -> None:
        """Move the ticket along its workflow (TICKET_TRANSITIONS).

        Closing sets closed_at; an outcome of None keeps any earlier outcome. Raises
        InvalidTransition for a move the workflow does not allow, LookupError if unknown.
        """
        record = SetTicketStatus(
            key=new_key(), ticket_id=ticket_id, status=status, at=at, by=by, outcome=outcome
        )
        await self.apply(record)

    async def flag_overdue(self, now: datetime) -> list[TicketRecord]:
        """Flag every open ticket due by `now` not flagged yet, and return those.

        One conditional UPDATE: of two schedulers running at once, each ticket is
        flagged (and returned) by exactly one.
        """
        ids = await self.apply(FlagOverdue(key=new_key(), now=now))
        if not ids:
            return []
        stmt = select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.due_at, Ticket.id)
        async with self._session() as session:
            return await self._load_tickets(session, stmt)

    async def mark_overdue_notified(self, ticket_id: int, at: datetime) -> bool:
        """Note that the overdue mail went out; False if it already had (the first stands).

        Raises LookupError if there is no such ticket.
        """
        done = await self.apply(MarkOverdueNotified(key=new_key(), ticket_id=ticket_id, at=at))
        if done is None:
            raise LookupError(f"no ticket with id {ticket_id}")
        return done

    async def overdue_tickets(self) -> list[TicketRecord]:
        """Tickets flagged overdue and not closed, soonest due first: the daily digest."""
        stmt = (
            select(Ticket)
            .where(Ticket.overdue.is_(True), Ticket.status != "closed")
            .order_by(Ticket.due_at, Ticket.id)
        )
        async with self._session() as session:
            return await self._load_tickets(session, stmt)

    async def ticket_events(self, ticket_id: int) -> list[TicketEventRecord]:
        """The ticket's audit trail in the order the changes were made."""
        stmt = (
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            TicketEventRecord(id=r.id, at=r.at, kind=r.kind, data=MappingProxyType(dict(r.data)))
            for r in rows
        ]

    async def _load_tickets(
        self, session: AsyncSession, stmt: Select[tuple[Ticket]]
    ) -> list[TicketRecord]:
        # populate_existing: a ticket this session just wrote is in its identity map
        # without its (lazy="raise") relationships; reload it whole.
        stmt = stmt.options(*TICKET_LOADS).execution_options(populate_existing=True)
        rows = (await session.scalars(stmt)).all()
        return [ticket_record(r) for r in rows]
