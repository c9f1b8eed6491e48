"""The case store's transfers and their dial attempts."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ivr.store.core import StoreCore
from ivr.store.models import Transfer
from ivr.store.views import TransferRecord, transfer_record
from ivr.store.write_records import (
    FinishAttempt,
    FinishTransfer,
    StartAttempt,
    StartTransfer,
    new_key,
)
from ivr.store.writes import Finish

log = structlog.get_logger(__name__)


class TransfersArea(StoreCore):
    async def start_transfer(
        self,
        call_id: int,
        *,
        initiated_by: str,
        agency_id: str,
        unit_id: str,
        at: datetime,
    ) -> int:
        """Open a transfer of the call to a unit and return its id."""
        record = StartTransfer(
            key=new_key(),
            call_id=call_id,
            initiated_by=initiated_by,
            agency_id=agency_id,
            unit_id=unit_id,
            at=at,
        )
        return await self.start_transfer_record(record)

    async def start_transfer_record(self, record: StartTransfer) -> int:
        """Write the transfer record; its id. LookupError if its call does not exist."""
        try:
            return await self.apply(record)
        except IntegrityError as exc:
            raise LookupError(f"no call with id {record.call_id}") from exc

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
        """Record a Dial() starting, for a transfer or a ticket's callback; return its id.

        The attempt gets the next `seq` of its transfer or ticket (1, 2, ...). Raises
        ValueError unless exactly one of transfer_id and ticket_id is given, LookupError
        if that transfer or ticket does not exist.
        """
        record = StartAttempt(
            key=new_key(),
            transfer_id=transfer_id,
            ticket_id=ticket_id,
            target=target,
            role=role,
            attempt=attempt,
            at=at,
        )
        return await self.start_attempt_record(record)

    async def start_attempt_record(self, record: StartAttempt) -> int:
        """Write the attempt record; its id. LookupError if its parent does not exist."""
        started = await self.apply(record)
        if started is None:
            if record.transfer_id is not None:
                raise LookupError(f"no transfers row with id {record.transfer_id}")
            raise LookupError(f"no tickets row with id {record.ticket_id}")
        return started

    async def finish_attempt(
        self,
        attempt_id: int,
        *,
        at: datetime,
        dialstatus: str | None,
        hangup_cause: int | None,
        ring_seconds: float | None,
    ) -> None:
        """Record how a Dial() ended. The first finish stands; LookupError if unknown."""
        record = FinishAttempt(
            key=new_key(),
            attempt_id=attempt_id,
            at=at,
            dialstatus=dialstatus,
            hangup_cause=hangup_cause,
            ring_seconds=ring_seconds,
        )
        await self.finish_attempt_record(record)

    async def finish_attempt_record(self, record: FinishAttempt) -> None:
        finished = await self.apply(record)
        if finished is Finish.MISSING:
            raise LookupError(f"no dial attempt with id {record.attempt_id}")
        if finished is Finish.ALREADY:
            log.debug("case_store.finish_attempt.already_finished", attempt_id=record.attempt_id)

    async def finish_transfer(
        self,
        transfer_id: int,
        *,
        at: datetime,
        result: str,
        answered_by: str | None = None,
    ) -> bool:
        """Close the transfer with its result; False if it was already closed (first wins).

        Raises LookupError if there is no such transfer.
        """
        record = FinishTransfer(
            key=new_key(), transfer_id=transfer_id, at=at, result=result, answered_by=answered_by
        )
        return await self.finish_transfer_record(record)

    async def finish_transfer_record(self, record: FinishTransfer) -> bool:
        finished = await self.apply(record)
        if finished is Finish.MISSING:
            raise LookupError(f"no transfer with id {record.transfer_id}")
        return finished is Finish.DONE

    async def transfer_with_attempts(self, transfer_id: int) -> TransferRecord:
        """The transfer and its dial attempts by seq; LookupError if unknown."""
        stmt = (
            select(Transfer)
            .where(Transfer.id == transfer_id)
            .options(selectinload(Transfer.attempts))
        )
        async with self._session() as session:
            row = await session.scalar(stmt)
            if row is None:
                raise LookupError(f"no transfer with id {transfer_id}")
            return transfer_record(row)
