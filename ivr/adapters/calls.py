"""Keeps the case store's call records in step with channels, from AGI and AMI.

A call starts when the hotline script first sees it and ends on AMI's Hangup event.
A Hangup can overtake the store write that starts the call (a caller who hangs up
at once), so the end waits for the start of the same uniqueid.

A call's steps (events) are posted, not awaited: the write is queued at once and the
caller's next prompt does not wait for its commit (the group commit usually takes
it with the call's next awaited write). Posted events keep their order; the hangup
event and the call's end are written only after them, and `flush` waits for all of
them before the engine stops. An engine killed outright loses at most the steps of
the last few milliseconds, not the call: its start was awaited, and reconciliation
ends it from the CDR.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog

from ivr.domain.clock import Clock
from ivr.domain.vocabulary import CallOutcome
from ivr.store.ports import EngineStore

log = structlog.get_logger()

# The outcome of a call the dialplan fallback took (the same word reconciliation uses).
OUTCOME_FALLBACK = CallOutcome.FALLBACK


class CallTracker:
    def __init__(self, store: EngineStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._starting: dict[str, asyncio.Task[int]] = {}
        self._open: set[str] = set()
        # Posted event writes not yet committed, by call id, in the order posted.
        self._posted: dict[int, list[asyncio.Task[None]]] = {}

    async def load_open(self) -> None:
        """Calls left open by an earlier engine run still get their hangup recorded."""
        self._open = {c.uniqueid for c in await self._store.open_calls()}

    async def started(
        self,
        *,
        uniqueid: str,
        linkedid: str,
        channel: str,
        caller_number: str | None,
        caller_name: str | None,
        dnid: str | None,
        at: datetime,
        mode: str | None = None,
    ) -> int:
        task = asyncio.create_task(
            self._store.start_call(
                uniqueid=uniqueid,
                linkedid=linkedid,
                channel=channel,
                caller_number=caller_number,
                caller_name=caller_name,
                dnid=dnid,
                started_at=at,
                mode=mode,
                # The channel was answered in the dialplan before it reached the engine.
                answered_at=at,
            )
        )
        self._starting[uniqueid] = task
        call_id = await task
        self._open.add(uniqueid)
        return call_id

    def event(
        self, call_id: int, kind: str, at: datetime, data: Mapping[str, Any] | None = None
    ) -> None:
        """Post one step of the call: queued now, committed without the caller waiting."""
        task = asyncio.create_task(self._write_event(call_id, kind, at, dict(data or {})))
        self._posted.setdefault(call_id, []).append(task)
        task.add_done_callback(lambda t: self._forget(call_id, t))

    async def settled(self, call_id: int) -> None:
        """Wait until the call's posted events are written (or failed and logged)."""
        pending = list(self._posted.get(call_id, ()))
        if pending:
            await asyncio.wait(pending)

    async def flush(self) -> None:
        """Wait for every posted event: before the store closes."""
        pending = [t for tasks in self._posted.values() for t in tasks]
        if pending:
            await asyncio.wait(pending)

    async def _write_event(
        self, call_id: int, kind: str, at: datetime, data: dict[str, Any]
    ) -> None:
        try:
            await self._store.add_event(call_id, at=at, kind=kind, data=data)
        except Exception:
            # DurableStore spools an outage; what reaches here is refused for good.
            log.exception("call_event_not_recorded", call_id=call_id, kind=kind)

    def _forget(self, call_id: int, task: asyncio.Task[None]) -> None:
        tasks = self._posted.get(call_id)
        if tasks is None:
            return
        tasks.remove(task)
        if not tasks:
            del self._posted[call_id]

    async def outcome(self, uniqueid: str, outcome: str) -> None:
        await self._store.set_outcome(uniqueid, outcome)

    async def on_fallback(self, event: Mapping[str, str]) -> None:
        """AMI HotlineFallback: the dialplan's safety net took a call this engine had.

        The call's outcome says so, and its timeline gets the dialplan's reason.
        Calls the engine never had are added from the CDRs by reconciliation.
        """
        if event.get("UserEvent") != "HotlineFallback":
            return
        uniqueid = event.get("Uniqueid", "")
        task = self._starting.get(uniqueid)
        if task is None:
            return
        try:
            call_id = await task
            self.event(call_id, "fallback", self._clock(), {"reason": event.get("Reason", "")})
            await self._store.set_outcome(uniqueid, OUTCOME_FALLBACK)
        except Exception:
            log.exception("call_fallback_not_recorded", uniqueid=uniqueid)

    async def on_hangup(self, event: Mapping[str, str]) -> None:
        """AMI Hangup: close the call record once, with Asterisk's cause."""
        uniqueid = event.get("Uniqueid", "")
        task = self._starting.pop(uniqueid, None)
        if task is None and uniqueid not in self._open:
            return
        at = self._clock()
        try:
            if task is not None:
                call_id = await task
            else:
                record = await self._store.get_call_by_uniqueid(uniqueid)
                if record is None:
                    return
                call_id = record.id
            cause = _int_or_none(event.get("Cause"))
            text = event.get("Cause-txt") or None
            # The hangup is the timeline's last event, and the end follows the steps.
            await self.settled(call_id)
            await self._store.add_event(
                call_id, at=at, kind="hangup", data={"cause": cause, "cause_text": text}
            )
            await self._store.end_call(uniqueid, ended_at=at, cause=cause, cause_text=text)
        except Exception:
            log.exception("call_end_not_recorded", uniqueid=uniqueid)
        finally:
            self._open.discard(uniqueid)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
