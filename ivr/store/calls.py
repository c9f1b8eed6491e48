"""The case store's calls and their timelines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ivr.store.checks import require_limit
from ivr.store.core import StoreCore
from ivr.store.models import Call
from ivr.store.views import CallRecord, call_record
from ivr.store.write_records import (
    AddEvent,
    EndCall,
    MarkAnswered,
    SetOutcome,
    StartCall,
    new_key,
)

log = structlog.get_logger(__name__)


class CallsArea(StoreCore):
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
        """Record a new call and return its id; for a known uniqueid, return the existing id.

        `answered_at` does what a `mark_answered` right after would, in the same write.
        """
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
        return await self.apply(record)

    async def mark_answered(self, uniqueid: str, at: datetime) -> None:
        """Set answered_at once; later calls, and unknown uniqueids, change nothing."""
        if not await self.apply(MarkAnswered(key=new_key(), uniqueid=uniqueid, at=at)):
            log.debug("case_store.mark_answered.ignored", uniqueid=uniqueid)

    async def add_event(
        self,
        call_id: int,
        *,
        at: datetime,
        kind: str,
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Append an event to the call's timeline and return its seq (1, 2, ...).

        Raises LookupError if there is no call with that id.
        """
        record = AddEvent(key=new_key(), call_id=call_id, at=at, kind=kind, data=dict(data or {}))
        return await self.add_event_record(record)

    async def add_event_record(self, record: AddEvent) -> int:
        """Write the event record; its seq. LookupError if there is no such call."""
        try:
            seq = await self.apply(record)
        except IntegrityError:
            # Only a concurrent append can take our (call_id, seq); it has committed by
            # now, so a second attempt sees its seq.
            log.info("case_store.add_event.seq_conflict_retry", call_id=record.call_id)
            seq = await self.apply(record)
        if seq is None:
            raise LookupError(f"no call with id {record.call_id}")
        return seq

    async def end_call(
        self,
        uniqueid: str,
        *,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        outcome: str | None = None,
    ) -> bool:
        """Close the call; False if unknown or already ended (the first end stands).

        An outcome of None keeps any outcome set earlier with `set_outcome`.
        """
        # One conditional UPDATE, so two racing ends cannot both win.
        record = EndCall(
            key=new_key(),
            uniqueid=uniqueid,
            ended_at=ended_at,
            cause=cause,
            cause_text=cause_text,
            outcome=outcome,
        )
        return await self.apply(record)

    async def set_outcome(self, uniqueid: str, outcome: str) -> None:
        """Set (or replace) the call's outcome; unknown uniqueids change nothing."""
        if not await self.apply(SetOutcome(key=new_key(), uniqueid=uniqueid, outcome=outcome)):
            log.debug("case_store.set_outcome.ignored", uniqueid=uniqueid)

    async def get_call(self, call_id: int) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.id == call_id))

    async def get_call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        return await self._get_one(select(Call).where(Call.uniqueid == uniqueid))

    async def list_calls(
        self, *, limit: int = 50, before_id: int | None = None
    ) -> list[CallRecord]:
        """Newest first, without events; page on with `before_id` = the last id seen."""
        require_limit(limit)
        stmt = select(Call).order_by(Call.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(Call.id < before_id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [call_record(r, with_events=False) for r in rows]

    async def open_calls(self) -> list[CallRecord]:
        """Calls not yet ended, oldest first, without events."""
        stmt = select(Call).where(Call.ended_at.is_(None)).order_by(Call.id)
        async with self._session() as session:
            rows = (await session.scalars(stmt)).all()
        return [call_record(r, with_events=False) for r in rows]

    async def _get_one(self, stmt: Any) -> CallRecord | None:
        async with self._session() as session:
            row = (await session.scalars(stmt.options(selectinload(Call.events)))).one_or_none()
        return None if row is None else call_record(row, with_events=True)
