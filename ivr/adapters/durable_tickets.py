"""Tickets and the outage spool: never spooled when the caller waits for a number, and
spooled under the caller's key when it could not be made (`defer_ticket`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from ivr.store import CaseStore, StoreUnavailable, TicketRecord
from ivr.store.outage import unavailable_on_outage
from ivr.store.ticket_records import CreateTicket
from ivr.store.write_records import Spooled, Write, new_key


class TicketFields(TypedDict):
    """What opening a ticket is given: a `CreateTicket` but for its key and whether it
    was made after an outage (so both ways of opening one build the same record)."""

    call_id: int | None
    transfer_id: int | None
    caller_number: str
    agency_id: str
    unit_id: str | None
    reason: str
    created_at: datetime
    due_at: datetime
    message_path: NotRequired[str | None]
    language: NotRequired[str | None]


class TicketsThroughOutage:
    """The ticket methods of `DurableStore`; the spool's side is in that class."""

    _store: CaseStore

    async def _spool(self, record: Write[Any], *, error: StoreUnavailable | None = None) -> Spooled:
        raise NotImplementedError

    async def replay(self, limit: int | None = None) -> int:
        raise NotImplementedError

    def _resolve(self, value: int | None) -> int | None:
        raise NotImplementedError

    def _unresolved(self, value: object) -> bool:
        raise NotImplementedError

    def _resolved(self, record: Write[Any]) -> Write[Any]:
        raise NotImplementedError

    async def create_ticket(self, **ticket: Unpack[TicketFields]) -> TicketRecord:
        """As CaseStore.create_ticket, never spooled: StoreUnavailable when it cannot commit.

        A call or transfer still in the spool is replayed first: the ticket must name
        their real ids.
        """
        ids = (ticket["call_id"], ticket["transfer_id"])
        if any(self._unresolved(i) for i in ids):
            await self.replay()
            if any(self._unresolved(i) for i in ids):
                raise StoreUnavailable("the call's records are not in the case store yet")
        ticket["call_id"] = self._resolve(ticket["call_id"])
        ticket["transfer_id"] = self._resolve(ticket["transfer_id"])
        record = CreateTicket(key=new_key(), **ticket)
        with unavailable_on_outage():
            return await self._store.create_ticket_record(record)

    async def defer_ticket(self, *, key: str, **ticket: Unpack[TicketFields]) -> None:
        """Spool a ticket `create_ticket` could not commit: made once, after the outage.

        Always spooled, never written here: the caller has been told there is no
        ticket, and the records it names may still be waiting. `key` makes it once.
        """
        record = CreateTicket(key=key, after_outage=True, **ticket)
        await self._spool(self._resolved(record))
