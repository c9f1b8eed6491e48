"""The engine's writes, declared once for the store and for the outage spool.

Each method builds one typed record (`ivr.store.write_records`) with a fresh
idempotency key, submits it, and turns what it ran to into its answer
(`record.answer`). The one thing that differs is `_submit`: `CaseStore` writes the
record now; `ivr.adapters.durable.DurableStore` writes it now or spools it, and a
spooled record answers as the record says (a provisional id, True, 0 or nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ivr.store.write_records import (
    AddEvent,
    EndCall,
    FinishAttempt,
    FinishTransfer,
    MarkAnswered,
    RecordAgentState,
    RecordRating,
    SetOutcome,
    Spooled,
    StartAttempt,
    StartCall,
    StartTransfer,
    Write,
    new_key,
)

T = TypeVar("T")


class EngineWrites:
    """A call's writes (see the module doc); a class gets them by defining `_submit`."""

    if TYPE_CHECKING:

        async def _submit(self, record: Write[T]) -> T | Spooled: ...

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
        return record.answer(await self._submit(record))

    async def mark_answered(self, uniqueid: str, at: datetime) -> None:
        record = MarkAnswered(key=new_key(), uniqueid=uniqueid, at=at)
        record.answer(await self._submit(record))

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
        return record.answer(await self._submit(record))

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
        return record.answer(await self._submit(record))

    async def set_outcome(self, uniqueid: str, outcome: str) -> None:
        record = SetOutcome(key=new_key(), uniqueid=uniqueid, outcome=outcome)
        record.answer(await self._submit(record))

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
        return record.answer(await self._submit(record))

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
        return record.answer(await self._submit(record))

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
        record.answer(await self._submit(record))

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
        return record.answer(await self._submit(record))

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
        return record.answer(await self._submit(record))

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
        record.answer(await self._submit(record))
