"""The case store's transfers and their dial attempts."""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ivr.store.core import StoreCore
from ivr.store.models import Transfer
from ivr.store.views import TransferRecord, transfer_record

log = structlog.get_logger(__name__)


class TransfersArea(StoreCore):
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
