"""A callback ticket as a write record: made once for its key, with a fresh number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from sqlalchemy.engine import Connection

from ivr.store import writes
from ivr.store.checks import check_lengths, require_one_of
from ivr.store.models import TICKET_REASONS, Ticket
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
            },
        )

    def run(self, conn: Connection) -> int:
        return writes.create_ticket(
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
            },
            event_data={
                "reason": self.reason,
                "agency_id": self.agency_id,
                "unit_id": self.unit_id,
                "due_at": self.due_at.isoformat(),
                **({"after_outage": True} if self.after_outage else {}),
            },
        )
