"""What every step of a call shares: the engine's services and the call's own state.

A step is a function of one `Call`. It asks Asterisk to play, listen and connect
through the call's AGI session, and writes every step into the call's timeline
(`Call.event`); the decisions come from `ivr.domain`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.agi.keys import Keyed, KeyReader
from ivr.adapters.calls import CallTracker
from ivr.adapters.conversation import ConversationControl
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.adapters.fastagi.server import AGISession
from ivr.domain.calendar import Calendar, ServiceHours, with_days_off
from ivr.domain.clock import Clock
from ivr.domain.menu import Listen
from ivr.domain.workdays import closure_days
from ivr.prompts import prompt_path
from ivr.routing.view import RoutingView
from ivr.store import ClosureRecord
from ivr.store.ports import EngineStore
from ivr.store.queue_legs import QueueLegs
from ivr.store.queued_callbacks import QueuedCallbacks

log = structlog.get_logger()

DTMF_KEYS = "0123456789*#"
# One key, with this long to press it after the prompts (emergency, confirmations).
ONE_KEY_S = 5.0
# Generous bounds on commands that last as long as a conversation does.
CONVERSATION_LIMIT_S = 4 * 3600.0

Closures = Callable[[date], Awaitable[Mapping[date, ClosureRecord]]]


@dataclass(frozen=True)
class Services:
    """What the engine lends every call: the store, the call tracker, the clock, files."""

    tracker: CallTracker
    clock: Clock
    sounds_dir: Path
    spool_dir: Path
    store: EngineStore
    # Days the city declared closed (typhoon days), read when a due time is computed,
    # so `ivr calendar close` reaches the running engine at once. None: no closures.
    closures: Closures | None = None
    # The queue stays, where a round the engine ended is noted as "left" (issue 18).
    queue_legs: QueueLegs | None = None
    # Who answered a queue or a transfer, and prompts to one leg: the call cap's hands
    # (ivr/flow/call_cap.py). None: no cap is kept.
    conversations: ConversationControl | None = None
    # Where a waiting caller's place is kept for a callback. None: a ticket instead.
    queued_callbacks: QueuedCallbacks | None = None

    async def _with_closures(self, cal: Calendar, now: datetime) -> Calendar:
        if self.closures is None:
            return cal
        today = now.astimezone(cal.tz).date()
        return with_days_off(cal, closure_days((await self.closures(today)).values()))

    async def working(self, view: RoutingView, now: datetime) -> Calendar:
        """The offices' working time at `now`, with today's and later closures."""
        return await self._with_closures(view.office, now)

    async def service_hours(self, view: RoutingView, now: datetime) -> ServiceHours:
        hours = view.service_hours
        if view.service_follows_office and isinstance(hours, Calendar):
            return await self._with_closures(hours, now)
        return hours


@dataclass
class Call:
    """One call as its steps see it; a call keeps the routing view it started with."""

    services: Services
    session: AGISession
    call_id: int
    uniqueid: str
    caller: str | None
    language: str
    view: RoutingView
    steps: list[str] = field(default_factory=list)
    keys: KeyReader = field(default_factory=KeyReader)
    # Set once the outcome is final (a committed ticket): a later hangup keeps it.
    settled: bool = False
    # Set when a conversation reached the call cap (ivr/flow/call_cap.py).
    capped: bool = False

    @property
    def store(self) -> EngineStore:
        return self.services.store

    @property
    def tracker(self) -> CallTracker:
        return self.services.tracker

    def now(self) -> datetime:
        return self.services.clock()

    def event(self, kind: str, **data: Any) -> None:
        self.tracker.event(self.call_id, kind, self.now(), data)

    def prompt(self, name: str) -> str:
        return str(prompt_path(self.services.sounds_dir, self.language, name))

    async def read(self, prompts: Sequence[str], listen: Listen) -> Keyed:
        """Play `prompts` (by name) with barge-in, then collect one whole entry."""
        return await self.keys.read(self.session, [self.prompt(p) for p in prompts], listen)

    async def play(self, prompt: str, step: str, *, interruptible: bool = False) -> str | None:
        """Play a prompt; with `interruptible`, return the key that cut it short."""
        self.steps.append(step)
        escape = DTMF_KEYS if interruptible else ""
        reply = await self.session.stream_file(self.prompt(prompt), escape)
        if reply.result == "-1":
            if self.session.hung_up or reply.endpos:
                # Streaming stopped part-way: the caller hung up (Asterisk may send its
                # HANGUP line only later, and still accepts SET VARIABLE on a dead channel).
                raise AGIHangup(f"caller hung up during {prompt}")
            # Nothing played: a missing prompt, not a hangup. Keep going — a caller is
            # never stuck because a sound file is absent.
            log.warning("prompt_missing", prompt=prompt, language=self.language)
        key = chr(reply.result_int) if reply.result_int and reply.result_int > 0 else None
        self.event(
            "played",
            prompt=prompt,
            language=self.language,
            endpos=reply.endpos,
            **({"key": key} if key else {}),
        )
        return key

    async def play_all(self, prompts: Sequence[str], step: str) -> None:
        for prompt in prompts:
            await self.play(prompt, step)

    async def finish(self, outcome: str) -> None:
        """The engine is done: the dialplan hangs up, the call keeps `outcome`."""
        await self.session.set_variable(dv.NEXT, dv.NEXT_HANGUP)
        await self.tracker.outcome(self.uniqueid, outcome)
        self.event("route", next=dv.NEXT_HANGUP, outcome=outcome)

    async def to_agents(self, **why: Any) -> None:
        """Hand the caller to the dialplan's agents' queue, which every agent serves."""
        await self.session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
        self.event("route", next=dv.NEXT_QUEUE, **why)
