"""A case spawns a callback ticket: an officer's "call the citizen back" on a case.

The ticket is an ordinary callback ticket (reason `case_callback`, due by the profile's
callback SLA on the office calendar), owed to the case's caller, for the case's agency
and unit, in the caller's language. The case and the ticket are linked both ways by one
`case_links` row (role `callback`): `ivr cases show` lists the ticket, `ivr tickets
show` the case. The case's history records the request with the ticket's number.

Three writes, each idempotent, in an order that a rerun completes: the ticket (keyed),
the link (skipped when present), the history row (keyed). With `key`, a request cut
short and run again makes one ticket; without, each request is a new callback.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from ivr.cases_context import CaseContext, CaseError, allowed_move, find
from ivr.domain.calendar import SlaPolicy, callback_due
from ivr.domain.masking import MASK
from ivr.domain.vocabulary import CaseAction, TicketReason
from ivr.store.cases import CaseChanged, CaseRecord

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore
    from ivr.store.views import TicketRecord


def callback_key(case: CaseRecord, at: datetime, key: str | None) -> str:
    """The ticket's idempotency key: the case and the request's key (or its time)."""
    what = key if key is not None else at.isoformat()
    digest = hashlib.sha256(f"{case.profile}|{case.id}|{what}".encode()).hexdigest()[:40]
    return f"case-callback:{digest}"


async def spawn_callback(
    ctx: CaseContext,
    store: CaseStore,
    ref: str,
    *,
    at: datetime,
    who: str,
    note: str | None = None,
    key: str | None = None,
) -> tuple[CaseRecord, TicketRecord, bool]:
    """Open a callback ticket for case `ref`; (the case after, the ticket, made now)."""
    case = await find(ctx, ref)
    number = case.caller_number or ""
    if not number.strip() or MASK in number:
        raise CaseError(f"case {case.number} has no caller number to call back")
    move = allowed_move(ctx, case, CaseAction.CALLBACK, at)
    sla = ctx.tables.hours.sla
    cal = ctx.calendar_for(case.agency_id)
    due = callback_due(SlaPolicy(float(sla.callback_hours), sla.basis), cal, at)
    ticket_key = callback_key(case, at, key)
    try:
        ticket = await store.create_ticket(
            call_id=None,
            transfer_id=None,
            caller_number=number,
            agency_id=case.agency_id,
            unit_id=case.unit_id,
            reason=TicketReason.CASE_CALLBACK,
            created_at=at,
            due_at=due,
            idempotency_key=ticket_key,
            language=case.language,
        )
    except (ValueError, LookupError) as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
    made = await ctx.book.link(case.id, at=at, ticket_id=ticket.id, role="callback")
    try:
        after, _ = await ctx.book.apply(
            case,
            CaseAction.CALLBACK,
            move,
            at=at,
            who=who,
            text=note,
            data={"ticket": ticket.number},
            key=f"{ticket_key}:event",
        )
    except CaseChanged as exc:
        raise CaseError(f"{exc}; run it again with the same --key") from exc
    except ValueError as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
    return after, ticket, made
