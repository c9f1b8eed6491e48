"""What the outage spool holds: the record types it may keep, and one spooled entry.

A record type the engine writes during a call is listed in `SPOOLED_TYPES`; the spool
tags each line with the type's `tag` and reads it back with the matching adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from ivr.store.ticket_records import CreateTicket
from ivr.store.write_records import (
    AddEvent,
    EndCall,
    FinishAttempt,
    FinishTransfer,
    MarkAnswered,
    RecordAgentState,
    RecordRating,
    SetOutcome,
    StartAttempt,
    StartCall,
    StartTransfer,
    Write,
)

SPOOLED_TYPES: tuple[type[Write[Any]], ...] = (
    StartCall,
    MarkAnswered,
    AddEvent,
    EndCall,
    SetOutcome,
    RecordAgentState,
    RecordRating,
    StartTransfer,
    StartAttempt,
    FinishAttempt,
    FinishTransfer,
    CreateTicket,
)
# The type tag in the spool -> how to read a record of that type back.
ADAPTERS: Mapping[str, TypeAdapter[Any]] = {t.tag: TypeAdapter(t) for t in SPOOLED_TYPES}
# Writes that return an id the engine goes on using.
ID_RECORDS = (StartCall, StartTransfer, StartAttempt)
# Names of ids inside an event's data that may be provisional.
DATA_IDS = ("call_id", "transfer_id", "attempt_id")


@dataclass
class SpoolEntry:
    """A spooled record, and the provisional id it was given."""

    record: Write[Any]
    pid: int | None

    def line(self) -> dict[str, Any]:
        args = ADAPTERS[self.record.tag].dump_python(self.record, mode="json")
        key = self.record.idempotency_key
        return {"t": "op", "key": key, "op": self.record.tag, "args": args, "pid": self.pid}


def is_provisional(value: object) -> bool:
    """A provisional id: negative, given while the record waited in the spool."""
    return isinstance(value, int) and not isinstance(value, bool) and value < 0
