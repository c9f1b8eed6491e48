"""De-identifying the case store (P12): closed tickets and old calls, masked with ○.

Each ticket or call is masked in one transaction and stamped `deidentified_at`, so a
job stopped half-way resumes where it stopped and masks nothing twice. Masking is
idempotent anyway (`ivr.domain.masking`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select, update
from sqlalchemy.engine import Connection

from ivr.domain.masking import deidentify_deep, mask_numbers_in, mask_text
from ivr.store.models import (
    Call,
    CallEvent,
    DialAttempt,
    Ticket,
    TicketEvent,
    TicketNote,
    require_utc_aware,
)

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

# Rows masked per transaction: a large backlog never holds the write lock for long.
BATCH = 200


@dataclass
class Deidentified:
    """What one run masked, and what the file side must follow up on."""

    tickets: list[str] = field(default_factory=list)
    calls: int = 0
    uniqueids: set[str] = field(default_factory=set)
    message_paths: list[str] = field(default_factory=list)


def _mask_call(conn: Connection, call_id: int, now: datetime) -> str | None:
    row = conn.execute(
        select(Call.uniqueid, Call.caller_number, Call.caller_name).where(Call.id == call_id)
    ).one_or_none()
    if row is None:
        return None
    conn.execute(
        update(Call)
        .where(Call.id == call_id)
        .values(
            caller_number=mask_text(row.caller_number) or None,
            caller_name=mask_text(row.caller_name) or None,
            deidentified_at=now,
        )
    )
    for event_id, data in conn.execute(
        select(CallEvent.id, CallEvent.data).where(CallEvent.call_id == call_id)
    ).all():
        masked = deidentify_deep(data)
        if masked != data:
            conn.execute(update(CallEvent).where(CallEvent.id == event_id).values(data=masked))
    return str(row.uniqueid)


def _mask_ticket(conn: Connection, ticket_id: int, now: datetime, out: Deidentified) -> None:
    ticket = conn.execute(select(Ticket).where(Ticket.id == ticket_id)).one()
    if ticket.message_path:
        out.message_paths.append(ticket.message_path)
    conn.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(
            caller_number=mask_text(ticket.caller_number),
            outcome=mask_text(ticket.outcome) or None,
            message_path=None,
            deidentified_at=now,
        )
    )
    for note_id, text in conn.execute(
        select(TicketNote.id, TicketNote.text).where(TicketNote.ticket_id == ticket_id)
    ).all():
        conn.execute(
            update(TicketNote).where(TicketNote.id == note_id).values(text=mask_text(text))
        )
    for event_id, data in conn.execute(
        select(TicketEvent.id, TicketEvent.data).where(TicketEvent.ticket_id == ticket_id)
    ).all():
        masked = deidentify_deep(data)
        if masked != data:
            conn.execute(update(TicketEvent).where(TicketEvent.id == event_id).values(data=masked))
    # A callback's dial string is the citizen's number; an agency line is not personal.
    for attempt_id, target in conn.execute(
        select(DialAttempt.id, DialAttempt.target).where(DialAttempt.ticket_id == ticket_id)
    ).all():
        conn.execute(
            update(DialAttempt)
            .where(DialAttempt.id == attempt_id)
            .values(target=mask_numbers_in(target))
        )
    out.tickets.append(ticket.number)
    if ticket.call_id is not None:
        uniqueid = _mask_call(conn, ticket.call_id, now)
        if uniqueid is not None:
            out.uniqueids.add(uniqueid)
            out.calls += 1


def _tickets_due(conn: Connection, before: datetime) -> list[int]:
    stmt = (
        select(Ticket.id)
        .where(
            Ticket.status == "closed",
            Ticket.closed_at <= before,
            Ticket.deidentified_at.is_(None),
        )
        .order_by(Ticket.id)
        .limit(BATCH)
    )
    return list(conn.execute(stmt).scalars())


def _calls_due(conn: Connection, before: datetime) -> list[int]:
    # A call whose ticket is still being worked keeps its data: the officer needs it.
    live_ticket = exists().where(Ticket.call_id == Call.id, Ticket.deidentified_at.is_(None))
    stmt = (
        select(Call.id)
        .where(Call.ended_at <= before, Call.deidentified_at.is_(None), ~live_ticket)
        .order_by(Call.id)
        .limit(BATCH)
    )
    return list(conn.execute(stmt).scalars())


def _tickets_batch(conn: Connection, before: datetime, now: datetime, out: Deidentified) -> int:
    ids = _tickets_due(conn, before)
    for ticket_id in ids:
        _mask_ticket(conn, ticket_id, now, out)
    return len(ids)


def _calls_batch(conn: Connection, before: datetime, now: datetime, out: Deidentified) -> int:
    ids = _calls_due(conn, before)
    for call_id in ids:
        uniqueid = _mask_call(conn, call_id, now)
        if uniqueid is not None:
            out.uniqueids.add(uniqueid)
            out.calls += 1
    return len(ids)


async def deidentify(
    store: CaseStore, *, now: datetime, ticket_days: int, call_days: int
) -> Deidentified:
    """Mask every ticket closed `ticket_days` ago and every call ended `call_days` ago."""
    now = require_utc_aware(now, "now")
    out = Deidentified()
    ticket_before = now - timedelta(days=ticket_days)
    call_before = now - timedelta(days=call_days)

    async def drain(batch: Any, before: datetime) -> None:
        while await store._write(lambda conn: batch(conn, before, now, out)) == BATCH:
            pass

    await drain(_tickets_batch, ticket_before)
    await drain(_calls_batch, call_before)
    return out
