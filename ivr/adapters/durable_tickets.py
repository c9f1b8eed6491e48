"""Tickets and the outage spool: never spooled when the caller waits for a number, and
spooled under the caller's key when it could not be made (`defer_ticket`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ivr.store import CaseStore, StoreUnavailable, TicketRecord
from ivr.store.outage import unavailable_on_outage
from ivr.store.ticket_records import CreateTicket
from ivr.store.write_records import Spooled, Write, new_key


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
        language: str | None = None,
    ) -> TicketRecord:
        """As CaseStore.create_ticket, never spooled: StoreUnavailable when it cannot commit.

        A call or transfer still in the spool is replayed first: the ticket must name
        their real ids.
        """
        ids = (call_id, transfer_id)
        if any(self._unresolved(i) for i in ids):
            await self.replay()
            if any(self._unresolved(i) for i in ids):
                raise StoreUnavailable("the call's records are not in the case store yet")
        record = CreateTicket(
            key=new_key(),
            call_id=self._resolve(call_id),
            transfer_id=self._resolve(transfer_id),
            caller_number=caller_number,
            agency_id=agency_id,
            unit_id=unit_id,
            reason=reason,
            created_at=created_at,
            due_at=due_at,
            message_path=message_path,
            language=language,
        )
        with unavailable_on_outage():
            return await self._store.create_ticket_record(record)

    async def defer_ticket(
        self,
        *,
        key: str,
        call_id: int | None,
        transfer_id: int | None,
        caller_number: str,
        agency_id: str,
        unit_id: str | None,
        reason: str,
        created_at: datetime,
        due_at: datetime,
        message_path: str | None = None,
        language: str | None = None,
    ) -> None:
        """Spool a ticket `create_ticket` could not commit: made once, after the outage.

        Always spooled, never written here: the caller has been told there is no
        ticket, and the records it names may still be waiting. `key` makes it once.
        """
        record = CreateTicket(
            key=key,
            call_id=call_id,
            transfer_id=transfer_id,
            caller_number=caller_number,
            agency_id=agency_id,
            unit_id=unit_id,
            reason=reason,
            created_at=created_at,
            due_at=due_at,
            message_path=message_path,
            after_outage=True,
            language=language,
        )
        await self._spool(self._resolved(record))
