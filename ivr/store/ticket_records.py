"""A callback ticket as a write record: made once for its key, with a fresh number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from ivr.store import writes
from ivr.store.checks import check_lengths, require_one_of
from ivr.store.models import TICKET_REASONS, Call, Ticket, TicketNumberCounter, Transfer
from ivr.store.write_records import Write, _aware

# Ticket numbers are read to the caller digit by digit, so they are digits only:
# YYMM of the creation time in Taipei, then that month's sequence, zero-padded to four
# digits ("25030042"). Taiwan has kept UTC+8 without daylight saving since 1979, so a
# fixed offset gives the month the caller would name. A month's 10,000th ticket gets five
# sequence digits ("250310000"): still unique, since the prefix is fixed-width, only
# longer. The counter is keyed by the prefix itself, so a later century would continue
# the count instead of repeating numbers.
TICKET_NUMBER_TZ = timezone(timedelta(hours=8), "Asia/Taipei")
TICKET_NUMBER_MIN_SEQ_DIGITS = 4


_NEXT_TICKET_SEQ = {
    name: dialect.insert(TicketNumberCounter)
    .values(prefix=bindparam("prefix"), last_seq=1)
    .on_conflict_do_update(
        index_elements=["prefix"], set_={"last_seq": TicketNumberCounter.last_seq + 1}
    )
    .returning(TicketNumberCounter.last_seq)
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}
_INSERT_TICKET = insert(Ticket).returning(Ticket.id)
_TICKET_BY_KEY = select(Ticket.id).where(Ticket.idempotency_key == bindparam("key"))


def _create_ticket(
    conn: Connection,
    *,
    prefix: str,
    seq_digits: int,
    values: dict[str, Any],
    event_data: dict[str, Any],
) -> int:
    """Draw the next number under `prefix` and insert the ticket with its "created"
    event, all in the caller's transaction; the new ticket's id.

    Raises LookupError if `call_id` or `transfer_id` names nothing. A ticket whose
    `idempotency_key` is already in the table is not made again: its id is returned.
    """
    key = values.get("idempotency_key")
    if key is not None:
        found = conn.execute(_TICKET_BY_KEY, {"key": key}).scalar()
        if found is not None:
            return int(found)
    for model, key in ((Call, "call_id"), (Transfer, "transfer_id")):
        row_id = values[key]
        if row_id is not None and not writes.row_exists(conn, model, row_id):
            raise LookupError(f"no {model.__tablename__} row with id {row_id}")
    seq = conn.execute(_NEXT_TICKET_SEQ[conn.dialect.name], {"prefix": prefix}).scalar_one()
    number = f"{prefix}{seq:0{seq_digits}d}"
    ticket_id: int = conn.execute(_INSERT_TICKET, {**values, "number": number}).scalar_one()
    conn.execute(
        writes.INSERT_TICKET_EVENT,
        {
            "ticket_id": ticket_id,
            "at": values["created_at"],
            "kind": "created",
            "data": {"number": number, **event_data},
        },
    )
    return ticket_id


@dataclass(frozen=True, kw_only=True)
class CreateTicket(Write[int]):
    """A ticket to open; runs to its id, the same for every write of one key.

    Raises LookupError (when run) if call_id or transfer_id names nothing.
    """

    tag: ClassVar[str] = "create_ticket"
    id_fields: ClassVar[tuple[str, ...]] = ("call_id", "transfer_id")
    key: str
    call_id: int | None
    transfer_id: int | None
    caller_number: str
    agency_id: str
    unit_id: str | None
    reason: str
    created_at: datetime
    due_at: datetime
    message_path: str | None = None
    # Made when the store returned from an outage, from the spool: nobody heard its number.
    after_outage: bool = False
    # The language the callback is owed in (a queue's callback): None elsewhere.
    language: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "created_at", "due_at")
        require_one_of(self.reason, TICKET_REASONS, "reason")
        check_lengths(
            Ticket,
            {
                "caller_number": self.caller_number,
                "agency_id": self.agency_id,
                "unit_id": self.unit_id,
                "message_path": self.message_path,
                "idempotency_key": self.key,
                "language": self.language,
            },
        )

    def run(self, conn: Connection) -> int:
        return _create_ticket(
            conn,
            prefix=self.created_at.astimezone(TICKET_NUMBER_TZ).strftime("%y%m"),
            seq_digits=TICKET_NUMBER_MIN_SEQ_DIGITS,
            values={
                "call_id": self.call_id,
                "transfer_id": self.transfer_id,
                "caller_number": self.caller_number,
                "agency_id": self.agency_id,
                "unit_id": self.unit_id,
                "reason": self.reason,
                "status": "open",
                "overdue": False,
                "created_at": self.created_at,
                "due_at": self.due_at,
                "message_path": self.message_path,
                "idempotency_key": self.key,
                "after_outage": self.after_outage,
                "language": self.language,
            },
            event_data={
                "reason": self.reason,
                "agency_id": self.agency_id,
                "unit_id": self.unit_id,
                "due_at": self.due_at.isoformat(),
                **({"after_outage": True} if self.after_outage else {}),
            },
        )
