"""Counting what one caller number used, for the per-caller limits."""

from __future__ import annotations

import asyncio
import wave
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ivr.domain.limits import Usage
from ivr.store.models import Call, Ticket, require_utc_aware

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore


async def caller_usage(
    store: CaseStore, caller: str, callback: str, *, hour_ago: datetime, day_start: datetime
) -> Usage:
    """Calls from `caller` since `hour_ago`; tickets for `callback` since `day_start`."""
    hour_ago = require_utc_aware(hour_ago, "hour_ago")
    day_start = require_utc_aware(day_start, "day_start")
    calls = select(func.count()).where(Call.caller_number == caller, Call.started_at >= hour_ago)
    tickets = select(func.count()).where(
        Ticket.caller_number == callback, Ticket.created_at >= day_start
    )
    messages = select(Ticket.message_path).where(
        Ticket.caller_number == callback,
        Ticket.created_at >= day_start,
        Ticket.message_path.is_not(None),
    )
    async with store._session() as session:
        n_calls = (await session.execute(calls)).scalar_one()
        n_tickets = (await session.execute(tickets)).scalar_one()
        paths = [p for p in (await session.execute(messages)).scalars() if p]
    # Reading WAV headers touches the disk: off the event loop that serves calls.
    recorded = await asyncio.to_thread(lambda: sum(wav_seconds(p) for p in paths))
    return Usage(
        calls_last_hour=int(n_calls), tickets_today=int(n_tickets), recorded_s_today=recorded
    )


def wav_seconds(path: str) -> float:
    """How long a recorded message lasts; 0 for a file gone or not a WAV."""
    try:
        with wave.open(path) as w:
            frames: int = w.getnframes()
            rate: int = w.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0
    return frames / float(rate or 1)
