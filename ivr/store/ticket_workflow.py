"""The ticket workflow's writes as records, run by the group committer like every write.

Each runs in one transaction: it locks the ticket's row (PostgreSQL; SQLite's write
lock serialises the committer's transactions anyway), changes it under a guard, and
appends its event to the ticket's audit trail. A note is a row of its own, keyed by
its record: written twice, it is there once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from ivr.domain.vocabulary import TicketStatus
from ivr.errors import ExitStatus, HotlineError
from ivr.store.checks import check_lengths, require_one_of
from ivr.store.models import TICKET_STATUSES, Ticket, TicketEvent, TicketNote
from ivr.store.write_records import Write, _aware


class InvalidTransition(HotlineError, ValueError):
    """A ticket status change that the workflow does not allow."""

    code = "ticket.invalid_transition"
    exit_status = ExitStatus.REFUSED

    def __init__(self, ticket_id: int, current: str, requested: str) -> None:
        super().__init__(f"ticket {ticket_id}: cannot go from {current!r} to {requested!r}")
        self.ticket_id = ticket_id
        self.current = current
        self.requested = requested


# Status workflow of a callback ticket: which statuses each status may move to.
TICKET_TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        TicketStatus.OPEN: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
        TicketStatus.IN_PROGRESS: frozenset({TicketStatus.CALLED_BACK, TicketStatus.CLOSED}),
        TicketStatus.CALLED_BACK: frozenset({TicketStatus.CLOSED}),
        TicketStatus.CLOSED: frozenset(),
    }
)

_INSERT_EVENT = insert(TicketEvent)
_LOCK = (
    select(Ticket.status, Ticket.assignee)
    .where(Ticket.id == bindparam("ticket_id"))
    .with_for_update(key_share=True)
)
_INSERT_NOTE = {
    name: dialect.insert(TicketNote)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(TicketNote.id)
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}
_NOTE_BY_KEY = select(TicketNote.id).where(TicketNote.idempotency_key == bindparam("key"))


def ticket_event(ticket_id: int, at: datetime, kind: str, **data: Any) -> dict[str, Any]:
    """Values of a ticket_events row; datetimes in `data` become ISO strings for JSON."""
    payload = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    return {"ticket_id": ticket_id, "at": at, "kind": kind, "data": payload}


def _lock(conn: Connection, ticket_id: int) -> Row[Any]:
    """The ticket's status and assignee, row-locked until commit; LookupError if unknown."""
    row = conn.execute(_LOCK, {"ticket_id": ticket_id}).one_or_none()
    if row is None:
        raise LookupError(f"no ticket with id {ticket_id}")
    return row


@dataclass(frozen=True, kw_only=True)
class AssignTicket(Write[None]):
    tag: ClassVar[str] = "assign_ticket"
    key: str
    ticket_id: int
    assignee: str
    at: datetime
    by: str

    def __post_init__(self) -> None:
        _aware(self, "at")
        check_lengths(Ticket, {"assignee": self.assignee})

    def run(self, conn: Connection) -> None:
        current = _lock(conn, self.ticket_id)
        conn.execute(
            update(Ticket).where(Ticket.id == self.ticket_id).values(assignee=self.assignee)
        )
        event = ticket_event(
            self.ticket_id,
            self.at,
            "assigned",
            assignee=self.assignee,
            previous=current.assignee,
            by=self.by,
        )
        conn.execute(_INSERT_EVENT, event)


@dataclass(frozen=True, kw_only=True)
class AddTicketNote(Write[int]):
    """A note on a ticket; runs to its id. IntegrityError if the ticket does not exist."""

    tag: ClassVar[str] = "add_ticket_note"
    key: str
    ticket_id: int
    at: datetime
    author: str
    text: str

    def __post_init__(self) -> None:
        _aware(self, "at")
        check_lengths(TicketNote, {"author": self.author, "text": self.text})

    def run(self, conn: Connection) -> int:
        values = {
            "ticket_id": self.ticket_id,
            "at": self.at,
            "author": self.author,
            "text": self.text,
            "idempotency_key": self.key,
        }
        row = conn.execute(_INSERT_NOTE[conn.dialect.name], values).first()
        if row is None:
            found: int = conn.execute(_NOTE_BY_KEY, {"key": self.key}).scalar_one()
            return found
        event = ticket_event(self.ticket_id, self.at, "note", note_id=row.id, author=self.author)
        conn.execute(_INSERT_EVENT, event)
        return int(row.id)


@dataclass(frozen=True, kw_only=True)
class SetTicketStatus(Write[None]):
    """A move along the workflow; closing sets closed_at, a None outcome keeps the old."""

    tag: ClassVar[str] = "set_ticket_status"
    key: str
    ticket_id: int
    status: str
    at: datetime
    by: str
    outcome: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "at")
        require_one_of(self.status, TICKET_STATUSES, "status")
        check_lengths(Ticket, {"outcome": self.outcome})

    def run(self, conn: Connection) -> None:
        values: dict[str, Any] = {"status": self.status}
        if self.outcome is not None:
            values["outcome"] = self.outcome
        if self.status == "closed":
            values["closed_at"] = self.at
        current = _lock(conn, self.ticket_id).status
        if self.status not in TICKET_TRANSITIONS[current]:
            raise InvalidTransition(self.ticket_id, current, self.status)
        # The status guard: a change that slipped in since the read matches nothing.
        moved = conn.execute(
            update(Ticket)
            .where(Ticket.id == self.ticket_id, Ticket.status == current)
            .values(**values)
            .returning(Ticket.id)
        ).first()
        if moved is None:
            raise InvalidTransition(self.ticket_id, current, self.status)
        data = {"to": self.status, "by": self.by, "outcome": self.outcome, "from": current}
        conn.execute(_INSERT_EVENT, ticket_event(self.ticket_id, self.at, "status", **data))


@dataclass(frozen=True, kw_only=True)
class FlagOverdue(Write[list[int]]):
    """Flag every open ticket due by `now` not flagged yet; runs to their ids.

    One conditional UPDATE: of two schedulers at once, each ticket is flagged by one.
    """

    tag: ClassVar[str] = "flag_overdue"
    key: str
    now: datetime

    def __post_init__(self) -> None:
        _aware(self, "now")

    def run(self, conn: Connection) -> list[int]:
        stmt = (
            update(Ticket)
            .where(Ticket.overdue.is_(False), Ticket.status != "closed", Ticket.due_at <= self.now)
            .values(overdue=True, overdue_at=self.now)
            .returning(Ticket.id, Ticket.due_at)
        )
        flagged = conn.execute(stmt).all()
        if flagged:
            events = [ticket_event(i, self.now, "overdue", due_at=due) for i, due in flagged]
            conn.execute(_INSERT_EVENT, events)
        return [ticket_id for ticket_id, _ in flagged]


@dataclass(frozen=True, kw_only=True)
class MarkOverdueNotified(Write["bool | None"]):
    """The overdue mail went out; False if it had already (the first stands), None if
    there is no such ticket."""

    tag: ClassVar[str] = "mark_overdue_notified"
    key: str
    ticket_id: int
    at: datetime

    def __post_init__(self) -> None:
        _aware(self, "at")

    def run(self, conn: Connection) -> bool | None:
        stmt = (
            update(Ticket)
            .where(Ticket.id == self.ticket_id, Ticket.notified_overdue_at.is_(None))
            .values(notified_overdue_at=self.at)
            .returning(Ticket.id)
        )
        if conn.execute(stmt).first() is not None:
            event = ticket_event(self.ticket_id, self.at, "mail_sent", mail="overdue")
            conn.execute(_INSERT_EVENT, event)
            return True
        exists = conn.execute(select(Ticket.id).where(Ticket.id == self.ticket_id)).first()
        return None if exists is None else False
