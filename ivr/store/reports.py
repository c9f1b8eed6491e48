"""The case store's management report: transfer and ticket figures per unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, select

from ivr.store.core import StoreCore
from ivr.store.models import DialAttempt, Ticket, TicketEvent, Transfer, require_utc_aware
from ivr.store.views import UnitStats

# The report counts busy and no-answer only on the unit's own lines: a busy liaison
# window says nothing about the unit, and the liaison fallback has its own figure.
_UNIT_LINE_ROLES = ("primary", "adjacent")


class ReportsArea(StoreCore):
    async def transfer_stats(self, start: datetime, end: datetime) -> list[UnitStats]:
        """Monthly management figures per (agency, unit) for [start, end).

        See UnitStats for what counts when. callback_seconds lists, ascending, the time
        from creation to the first "called_back" of each ticket that got that far.
        """
        start = require_utc_aware(start, "start")
        end = require_utc_aware(end, "end")
        if end <= start:
            raise ValueError(f"end must be after start, got {start} to {end}")

        unit_line = DialAttempt.role.in_(_UNIT_LINE_ROLES)
        transfers = (
            select(
                Transfer.agency_id,
                Transfer.unit_id,
                func.count(distinct(Transfer.id)),
                func.sum(case((and_(unit_line, DialAttempt.dialstatus == "BUSY"), 1), else_=0)),
                func.sum(case((and_(unit_line, DialAttempt.dialstatus == "NOANSWER"), 1), else_=0)),
                func.count(distinct(case((DialAttempt.role == "liaison", Transfer.id)))),
            )
            .outerjoin(DialAttempt, DialAttempt.transfer_id == Transfer.id)
            .where(Transfer.started_at >= start, Transfer.started_at < end)
            .group_by(Transfer.agency_id, Transfer.unit_id)
        )
        in_period = and_(Ticket.created_at >= start, Ticket.created_at < end)
        tickets = (
            select(
                Ticket.agency_id,
                Ticket.unit_id,
                func.count(Ticket.id),
                func.sum(case((Ticket.closed_at <= Ticket.due_at, 1), else_=0)),
                func.sum(case((Ticket.overdue.is_(True), 1), else_=0)),
            )
            .where(in_period)
            .group_by(Ticket.agency_id, Ticket.unit_id)
        )
        # The JSON path is rendered per dialect (json_extract / ->>), so this stays one
        # query on both backends.
        called_back = (
            select(
                Ticket.agency_id,
                Ticket.unit_id,
                Ticket.created_at,
                func.min(TicketEvent.at),
            )
            .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(
                in_period,
                TicketEvent.kind == "status",
                TicketEvent.data["to"].as_string() == "called_back",
            )
            .group_by(Ticket.id, Ticket.agency_id, Ticket.unit_id, Ticket.created_at)
        )
        async with self._session() as session:
            transfer_rows = (await session.execute(transfers)).all()
            ticket_rows = (await session.execute(tickets)).all()
            callback_rows = (await session.execute(called_back)).all()

        stats: dict[tuple[str, str | None], UnitStats] = {}

        def unit(agency_id: str, unit_id: str | None) -> UnitStats:
            return stats.setdefault((agency_id, unit_id), UnitStats(agency_id, unit_id))

        for agency_id, unit_id, count, busy, noanswer, liaison in transfer_rows:
            stats[agency_id, unit_id] = replace(
                unit(agency_id, unit_id),
                transfers=int(count),
                busy_attempts=int(busy),
                noanswer_attempts=int(noanswer),
                liaison_fallbacks=int(liaison),
            )
        for agency_id, unit_id, opened, in_time, overdue in ticket_rows:
            stats[agency_id, unit_id] = replace(
                unit(agency_id, unit_id),
                tickets_opened=int(opened),
                tickets_closed_in_time=int(in_time),
                tickets_overdue=int(overdue),
            )
        for agency_id, unit_id, created_at, first_called_back in callback_rows:
            unit(agency_id, unit_id).callback_seconds.append(
                (first_called_back - created_at).total_seconds()
            )
        for figures in stats.values():
            figures.callback_seconds.sort()
        return [
            stats[key] for key in sorted(stats, key=lambda k: (k[0], k[1] is not None, k[1] or ""))
        ]
