"""The engine's writes through the outage spool: each makes its record, then writes it.

`DurableStore` (`ivr.adapters.durable`) gets these methods from `EngineWrites`: the same
signatures as `CaseStore`'s, each building one typed record with a fresh idempotency
key and handing it to `_write` (now, or spooled) with the store's method for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.store import CaseStore, StoreUnavailable, TicketRecord
from ivr.store.outage import unavailable_on_outage
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
    new_key,
)


@dataclass(frozen=True)
class Spooled:
    """What a write answers when it was spooled: its provisional id, if it makes one."""

    pid: int | None


class EngineWrites:
    """The write methods of `DurableStore`; the spool's side is in that class."""

    _store: CaseStore
    _call_pids: dict[str, int]
    _real: dict[int, int]

    async def _write(self, record: Write[Any], write: Callable[[Any], Awaitable[Any]]) -> Any:
        raise NotImplementedError

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

    # -- writes: the same signatures as CaseStore ------------------------------------

    async def start_call(
        self,
        *,
        uniqueid: str,
        linkedid: str,
        channel: str,
        caller_number: str | None,
        caller_name: str | None,
        dnid: str | None,
        started_at: datetime,
        mode: str | None = None,
        answered_at: datetime | None = None,
    ) -> int:
        pid = self._call_pids.get(uniqueid)
        if pid is not None:
            # Spooled before: the same id, as CaseStore gives for a known uniqueid.
            return self._real.get(pid, pid)
        record = StartCall(
            uniqueid=uniqueid,
            linkedid=linkedid,
            channel=channel,
            caller_number=caller_number,
            caller_name=caller_name,
            dnid=dnid,
            started_at=started_at,
            mode=mode,
            answered_at=answered_at,
        )
        result = await self._write(record, self._store.apply)
        if isinstance(result, Spooled):
            assert result.pid is not None
            self._call_pids[uniqueid] = result.pid
            return result.pid
        call_id: int = result
        return call_id

    async def mark_answered(self, uniqueid: str, at: datetime) -> None:
        await self._write(MarkAnswered(key=new_key(), uniqueid=uniqueid, at=at), self._store.apply)

    async def add_event(
        self,
        call_id: int,
        *,
        at: datetime,
        kind: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """The event's seq; 0 when spooled (replay assigns it)."""
        record = AddEvent(key=new_key(), call_id=call_id, at=at, kind=kind, data=dict(data or {}))
        result = await self._write(record, self._store.add_event_record)
        return 0 if isinstance(result, Spooled) else result

    async def end_call(
        self,
        uniqueid: str,
        *,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        outcome: str | None = None,
    ) -> bool:
        """As CaseStore.end_call; True when spooled (the first end still stands at replay)."""
        record = EndCall(
            key=new_key(),
            uniqueid=uniqueid,
            ended_at=ended_at,
            cause=cause,
            cause_text=cause_text,
            outcome=outcome,
        )
        result = await self._write(record, self._store.apply)
        return True if isinstance(result, Spooled) else result

    async def set_outcome(self, uniqueid: str, outcome: str) -> None:
        await self._write(
            SetOutcome(key=new_key(), uniqueid=uniqueid, outcome=outcome), self._store.apply
        )

    async def start_transfer(
        self,
        call_id: int,
        *,
        initiated_by: str,
        agency_id: str,
        unit_id: str,
        at: datetime,
    ) -> int:
        record = StartTransfer(
            key=new_key(),
            call_id=call_id,
            initiated_by=initiated_by,
            agency_id=agency_id,
            unit_id=unit_id,
            at=at,
        )
        return _id(await self._write(record, self._store.start_transfer_record))

    async def start_attempt(
        self,
        *,
        transfer_id: int | None = None,
        ticket_id: int | None = None,
        target: str,
        role: str,
        attempt: int,
        at: datetime,
    ) -> int:
        record = StartAttempt(
            key=new_key(),
            transfer_id=transfer_id,
            ticket_id=ticket_id,
            target=target,
            role=role,
            attempt=attempt,
            at=at,
        )
        return _id(await self._write(record, self._store.start_attempt_record))

    async def finish_attempt(
        self,
        attempt_id: int,
        *,
        at: datetime,
        dialstatus: str | None,
        hangup_cause: int | None,
        ring_seconds: float | None,
    ) -> None:
        record = FinishAttempt(
            key=new_key(),
            attempt_id=attempt_id,
            at=at,
            dialstatus=dialstatus,
            hangup_cause=hangup_cause,
            ring_seconds=ring_seconds,
        )
        await self._write(record, self._store.finish_attempt_record)

    async def finish_transfer(
        self,
        transfer_id: int,
        *,
        at: datetime,
        result: str,
        answered_by: str | None = None,
    ) -> bool:
        """As CaseStore.finish_transfer; True when spooled."""
        record = FinishTransfer(
            key=new_key(), transfer_id=transfer_id, at=at, result=result, answered_by=answered_by
        )
        done = await self._write(record, self._store.finish_transfer_record)
        return True if isinstance(done, Spooled) else done

    async def record_rating(
        self,
        call_id: int,
        rating: int,
        *,
        agent_id: str | None,
        queue: str | None,
        at: datetime,
    ) -> bool:
        """As CaseStore.record_rating; True when spooled."""
        record = RecordRating(
            key=new_key(), call_id=call_id, rating=rating, agent_id=agent_id, queue=queue, at=at
        )
        done = await self._write(record, self._store.record_rating_record)
        return True if isinstance(done, Spooled) else done

    async def record_agent_state(
        self,
        agent_id: str,
        state: str,
        *,
        at: datetime,
        queues: Sequence[str],
        reason: str | None = None,
        call_uniqueid: str | None = None,
    ) -> None:
        if isinstance(queues, str):
            raise TypeError(f"queues must be a list of queue ids, got the string {queues!r}")
        record = RecordAgentState(
            key=new_key(),
            agent_id=agent_id,
            state=state,
            at=at,
            queues=tuple(queues),
            reason=reason,
            call_uniqueid=call_uniqueid,
        )
        await self._write(record, self._store.apply)

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
        )
        await self._spool(self._resolved(record))


def _id(result: int | Spooled) -> int:
    if isinstance(result, Spooled):
        assert result.pid is not None
        return result.pid
    return result
