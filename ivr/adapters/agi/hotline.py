"""`AGI(agi://…/hotline)` and `AGI(agi://…/transfer,CODE,BY)`: where a call enters the flow.

The call itself is `ivr.flow`: one module per step or destination, decisions from
the pure core. This module starts the call's record, builds the `Call` the steps
share, and notes how the call ended when the caller hangs up. Whatever goes wrong
here, the dialplan's fallback still queues the caller for an agent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.calls import CallTracker
from ivr.adapters.conversation import ConversationControl
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.adapters.fastagi.server import AGISession
from ivr.domain.clock import Clock
from ivr.domain.vocabulary import CallOutcome, ServiceMode, TransferInitiator
from ivr.flow.call import Call, Services
from ivr.flow.journey import journey
from ivr.flow.transfer import transfer
from ivr.routing.view import RoutingView
from ivr.store import ClosureRecord
from ivr.store.ports import EngineStore
from ivr.store.queue_legs import QueueLegs
from ivr.store.queued_callbacks import QueuedCallbacks

log = structlog.get_logger()

HOTLINE_SCRIPT_NAME = "hotline"
TRANSFER_SCRIPT_NAME = "transfer"
UNKNOWN_UNIT = "transfer-unknown-unit"


@dataclass(frozen=True)
class HotlineScript:
    tracker: CallTracker
    clock: Clock
    sounds_dir: Path
    spool_dir: Path
    routing: Callable[[], RoutingView]
    current_mode: Callable[[datetime], Awaitable[str]]
    store: EngineStore
    # Days the city declared closed (typhoon days), read when a due time is computed,
    # so `ivr calendar close` reaches the running engine at once. None: no closures.
    closures: Callable[[date], Awaitable[Mapping[date, ClosureRecord]]] | None = None
    # Where a queue round the engine ended is noted as "left" (issue 18). None: not noted.
    queue_legs: QueueLegs | None = None
    # The call cap's hands on a bridged conversation. None: no cap is kept.
    conversations: ConversationControl | None = None
    # Where a waiting caller's place is kept for a callback. None: a ticket instead.
    queued_callbacks: QueuedCallbacks | None = None

    def _services(self) -> Services:
        return Services(
            tracker=self.tracker,
            clock=self.clock,
            sounds_dir=self.sounds_dir,
            spool_dir=self.spool_dir,
            store=self.store,
            closures=self.closures,
            queue_legs=self.queue_legs,
            conversations=self.conversations,
            queued_callbacks=self.queued_callbacks,
        )

    async def __call__(self, session: AGISession) -> None:
        req = session.request
        # One table for the whole call: a reload mid-call never changes its menus.
        view = self.routing()
        now = self.clock()
        mode = await self.current_mode(now)
        linkedid = await session.get_variable("CHANNEL(linkedid)") or req.uniqueid
        structlog.contextvars.bind_contextvars(linkedid=linkedid)
        caller = _known(req.callerid)
        call_id = await self.tracker.started(
            uniqueid=req.uniqueid,
            linkedid=linkedid,
            channel=req.channel,
            caller_number=caller,
            caller_name=_known(req.calleridname),
            dnid=_known(req.dnid) or req.extension,
            at=now,
            mode=mode,
        )
        structlog.contextvars.bind_contextvars(call_id=call_id)
        call = Call(
            self._services(), session, call_id, req.uniqueid, caller, view.default_language, view
        )
        await session.set_variable(dv.CALL_ID, str(call_id))
        call.event("agi_start", script=req.script, profile=view.profile, mode=mode)
        try:
            await journey(call, mode == ServiceMode.DISASTER)
        except AGIHangup:
            after = call.steps[-1] if call.steps else None
            # An AGI that ends in the queue was ended by a hangup or by an agent's
            # transfer (a redirect), which this session cannot tell apart: the AMI
            # hangup and the transfer's own steps say which, so claim neither here.
            if after != "queue":
                call.event("caller_left", after=after)
            if after != "queue" and not call.settled:
                await self.tracker.outcome(call.uniqueid, CallOutcome.ABANDONED)
            raise

    async def transfer_entry(self, session: AGISession) -> None:
        """`AGI(…/transfer,CODE,BY)`: an agent (feature 8) or an admin sent the caller here."""
        req = session.request
        code = req.args[0] if req.args else ""
        initiated_by = req.args[1] if len(req.args) > 1 and req.args[1] else TransferInitiator.ADMIN
        view = self.routing()
        record = await self.store.get_call_by_uniqueid(req.uniqueid)
        if record is None:
            linkedid = await session.get_variable("CHANNEL(linkedid)") or req.uniqueid
            call_id = await self.tracker.started(
                uniqueid=req.uniqueid,
                linkedid=linkedid,
                channel=req.channel,
                caller_number=_known(req.callerid),
                caller_name=_known(req.calleridname),
                dnid=None,
                at=self.clock(),
            )
        else:
            call_id = record.id
        structlog.contextvars.bind_contextvars(call_id=call_id)
        language = await session.get_variable("CHANNEL(language)") or view.default_language
        if language not in view.languages:
            language = view.default_language
        call = Call(
            self._services(), session, call_id, req.uniqueid, _known(req.callerid), language, view
        )
        spec = view.extensions.get(code) or view.units.get(code)
        call.event("transfer_request", code=code, by=initiated_by, known=spec is not None)
        try:
            if spec is None:
                await call.play(UNKNOWN_UNIT, "transfer")
                await session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
                return
            await transfer(call, spec, initiated_by)
        except AGIHangup:
            call.event("caller_left", after=call.steps[-1] if call.steps else None)
            raise


def _known(value: str) -> str | None:
    # Asterisk sends "unknown" when a caller id field is absent.
    return None if value in {"", "unknown"} else value
