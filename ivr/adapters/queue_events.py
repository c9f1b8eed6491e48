"""AMI's queue events into the store's queue stays: waiting told apart from talking.

QueueCallerJoin opens a stay; AgentConnect says who answered and after how long;
AgentComplete ends the conversation (and says whether the agent transferred);
QueueCallerAbandon marks a caller who hung up while waiting; QueueCallerLeave
closes a stay the engine ended to ask the caller. Events come from app_queue itself,
so the dialplan's fallback queue is counted too, with or without the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr.domain.clock import Clock
from ivr.store.queue_legs import QueueLegs

log = structlog.get_logger()

QUEUE_EVENTS = (
    "QueueCallerJoin",
    "AgentConnect",
    "AgentComplete",
    "QueueCallerAbandon",
    "QueueCallerLeave",
)
# The channel variable the queue step sets; manager.conf's channelvars puts it on
# every event of the caller's channel.
LANGUAGE_VAR = "HOTLINE_QUEUE_LANGUAGE"
_PREFIX = "hotline-"


def table_queue(name: str) -> str:
    """`hotline-general` → `general`; the dialplan's `hotline-agents` stays `agents`."""
    return name[len(_PREFIX) :] if name.startswith(_PREFIX) else name


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _language(event: Mapping[str, str]) -> str | None:
    for key in ("ChanVariable", f"ChanVariable({LANGUAGE_VAR})"):
        value = event.get(key, "")
        if value.startswith(f"{LANGUAGE_VAR}="):
            return value.split("=", 1)[1] or None
    return None


@dataclass(frozen=True)
class QueueEventRecorder:
    legs: QueueLegs
    clock: Clock
    # AMI handlers run as concurrent tasks; a stay's events are written in the order
    # they came (a join before its answer), so one at a time. asyncio's lock serves
    # waiters in the order they asked, which is the order the tasks were started.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def on_event(self, event: Mapping[str, str]) -> None:
        async with self._lock:
            await self._record(event)

    async def _record(self, event: Mapping[str, str]) -> None:
        name = event.get("Event", "")
        uniqueid = event.get("Uniqueid", "")
        queue = table_queue(event.get("Queue", ""))
        # A queued callback's virtual entry (ARI channel id `qcb-…`) holds a caller's
        # place: that caller's stay is already counted, and the callback has its own
        # rows (queued_callbacks).
        if not uniqueid or not queue or uniqueid.startswith("qcb-"):
            return
        at = self.clock()
        try:
            if name == "QueueCallerJoin":
                await self.legs.joined(
                    uniqueid=uniqueid, queue=queue, language=_language(event), at=at
                )
            elif name == "AgentConnect":
                await self.legs.answered(
                    uniqueid=uniqueid,
                    queue=queue,
                    agent=event.get("MemberName", "") or event.get("Interface", ""),
                    hold_s=_seconds(event.get("HoldTime")),
                    at=at,
                )
            elif name == "AgentComplete":
                await self.legs.completed(
                    uniqueid=uniqueid,
                    queue=queue,
                    talk_s=_seconds(event.get("TalkTime")),
                    transferred=event.get("Reason") == "transfer",
                    at=at,
                )
            elif name == "QueueCallerAbandon":
                await self.legs.abandoned(
                    uniqueid=uniqueid, queue=queue, hold_s=_seconds(event.get("HoldTime")), at=at
                )
            elif name == "QueueCallerLeave":
                await self.legs.left(uniqueid=uniqueid, queue=queue, at=at)
        except (SQLAlchemyError, OSError):
            # A store outage loses these figures, never a call: the caller's channel
            # does not wait on this handler.
            log.warning("queue_event_not_stored", event_name=name, uniqueid=uniqueid)
