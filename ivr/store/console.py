"""Reads the web console needs that the case store's repository has no method for.

Kept apart from ivr/store/repo.py (which is being split by area): they take an open
CaseStore and use its sessions, as ivr/store/audit.py does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ivr.domain.vocabulary import TicketStatus
from ivr.store.models import Call, Ticket, require_utc_aware
from ivr.store.repo import CallRecord, CaseStore, TicketRecord
from ivr.store.views import call_record as _call_record

__all__ = ["TicketRecord", "calls_of_number", "open_tickets", "open_tickets_of_number"]


async def calls_of_number(
    store: CaseStore, number: str, *, since: datetime, limit: int = 20
) -> tuple[int, list[CallRecord]]:
    """How many calls came from `number` since `since`, and the newest `limit` of them."""
    since = require_utc_aware(since, "since")
    where = (Call.caller_number == number, Call.started_at >= since)
    async with store._session() as session:
        count = (await session.execute(select(func.count()).where(*where))).scalar_one()
        rows = (
            await session.scalars(
                select(Call).where(*where).order_by(Call.started_at.desc()).limit(limit)
            )
        ).all()
    return int(count), [_call_record(r, with_events=False) for r in rows]


async def open_tickets_of_number(store: CaseStore, number: str) -> list[TicketRecord]:
    """The caller's tickets not yet closed, soonest due first."""
    stmt = (
        select(Ticket)
        .where(Ticket.caller_number == number, Ticket.status != TicketStatus.CLOSED)
        .order_by(Ticket.due_at, Ticket.id)
        .limit(50)
    )
    async with store._session() as session:
        return await store._load_tickets(session, stmt)


async def open_tickets(store: CaseStore, *, limit: int = 500) -> list[TicketRecord]:
    """Every ticket not closed, soonest due first: the wallboard's deadlines."""
    stmt = (
        select(Ticket)
        .where(Ticket.status != TicketStatus.CLOSED)
        .order_by(Ticket.due_at, Ticket.id)
        .limit(limit)
    )
    async with store._session() as session:
        return await store._load_tickets(session, stmt)
