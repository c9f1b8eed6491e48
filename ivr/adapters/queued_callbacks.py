"""Dialling queued callbacks: the agent first, then the citizen, never twice.

Each attempt is one ARI origination of `Local/qcb-<id>-<n>@hotline-qcb-queue/n`:
the `;2` half (the virtual entry) waits in the caller's queue at the caller's place
([hotline-qcb-queue]); when an agent with the language takes it, the bridge answers
it, which answers the `;1` half, which only then dials the citizen over the outbound
trunk ([hotline-qcb-citizen]) and bridges them. `/n`: the pair is never optimised
away, so the attempt's channel id lives exactly as long as the attempt.

Nothing is dialled twice:
- the attempt is recorded (ivr.store.queued_callbacks) before it is originated, with
  a channel id made from the callback and the attempt (ivr.domain.queued_callback);
- Asterisk refuses a second live channel with that id;
- the dialplan leaves the attempt's progress in AstDB (family `hotline-qcb`), so a
  restarted engine can tell "never reached Asterisk" (originate it, same id) from
  "alive" (watch it) from "ended while we were away" (its end, or LOST: a ticket).
The end of an attempt comes as a HotlineQueuedCallback UserEvent; if the event is
missed (AMI down) the attempt is looked at in Asterisk every CHECK_S.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.ami import AmiActionFailed, AmiClient, AmiEvent, AmiUnavailable
from ivr.adapters.ari import AriClient, AriError, AriNotFound
from ivr.asterisk.generate import queue_name
from ivr.domain import queued_callback as qcb
from ivr.domain.calendar import Calendar, next_working_day_end
from ivr.domain.clock import Clock
from ivr.domain.masking import mask_number
from ivr.domain.queueing import agent_display
from ivr.domain.tickets import HOTLINE_AGENCY
from ivr.domain.transfer import Line
from ivr.domain.vocabulary import CallbackAttemptOutcome as Outcome
from ivr.domain.vocabulary import QueuedCallbackState as State
from ivr.domain.vocabulary import TicketReason
from ivr.routing.tables import RoutingTables
from ivr.routing.view import dialstring
from ivr.store import TicketRecord
from ivr.store.queued_callbacks import QueuedCallbackRecord, QueuedCallbacks
from ivr.store.ticket_records import CreateTicket

log = structlog.get_logger()

DB_FAMILY = "hotline-qcb"
USER_EVENT = "HotlineQueuedCallback"
QUEUE_CONTEXT = "hotline-qcb-queue"
CITIZEN_CONTEXT = "hotline-qcb-citizen"
# How often due callbacks are looked for, and an attempt in flight is looked at in
# Asterisk when its end event has not come.
POLL_S = 1.0
CHECK_S = 2.0


class TicketStore(Protocol):
    """What the dialler needs of the case store: a ticket written as its record.

    The record, not `create_ticket`'s keywords: the dialler makes the key itself, and
    the store's one way to write a ticket needs no copy of its signature here.
    """

    async def create_ticket_record(self, record: CreateTicket) -> TicketRecord: ...


@dataclass(frozen=True)
class DiallerSettings:
    # How long the citizen's phone rings.
    ring_s: int = 30
    caller_id: str = "1999"


class CallbackDialler:
    def __init__(
        self,
        callbacks: QueuedCallbacks,
        tickets: TicketStore,
        ari: AriClient,
        ami: AmiClient,
        clock: Clock,
        *,
        trunk: Callable[[], str | None],
        office: Callable[[], Calendar],
        queue_names: Callable[[], dict[str, str]] | None = None,
        policy: Callable[[str], qcb.CallbackPolicy] | None = None,
        settings: DiallerSettings | None = None,
    ) -> None:
        self._callbacks = callbacks
        self._tickets = tickets
        self._ari = ari
        self._ami = ami
        self._clock = clock
        self._trunk = trunk
        self._office = office
        self._queue_names = queue_names or dict
        # The queue's tries, retry wait and hold, read from the tables at each use.
        self._policy = policy or (lambda _queue: qcb.CallbackPolicy())
        self.settings = settings or DiallerSettings()
        # Callbacks a task of this engine is driving: never two tasks for one.
        self._active: dict[int, asyncio.Task[None]] = {}
        # Ends heard from the dialplan, by channel id, and who waits for them.
        self._ends: dict[str, str] = {}
        self._woken: dict[str, asyncio.Event] = {}

    def listen(self) -> None:
        self._ami.on("UserEvent", self.on_user_event)

    async def on_user_event(self, event: AmiEvent) -> None:
        if event.get("UserEvent") != USER_EVENT:
            return
        key, status = event.get("Key", ""), event.get("Status", "")
        if not key.startswith("qcb-") or not status:
            return
        self._ends.setdefault(key, status)
        if (woken := self._woken.get(key)) is not None:
            woken.set()

    async def run(self) -> None:
        """Forever: start a driver for every open callback that has none.

        Cancelled (the engine stops), it stops its drivers: what they did is in the
        store and in AstDB, and the next start resumes from there.
        """
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    # A failed look at the store is retried on the next tick; the
                    # callbacks themselves are in the store and lose nothing.
                    log.exception("queued_callbacks_tick_failed")
                await asyncio.sleep(POLL_S)
        finally:
            await self.stop()

    async def tick(self) -> None:
        now = self._clock()
        for cb in await self._callbacks.open_callbacks():
            if cb.id in self._active:
                continue
            due = cb.state == State.CALLING or (
                cb.next_attempt_at is not None and cb.next_attempt_at <= now
            )
            if due:
                task = asyncio.create_task(self._drive(cb), name=f"qcb-{cb.id}")
                self._active[cb.id] = task
                task.add_done_callback(self._forget(cb.id))

    def _forget(self, callback_id: int) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self._active.pop(callback_id, None)

        return done

    async def stop(self) -> None:
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drive(self, cb: QueuedCallbackRecord) -> None:
        try:
            if cb.state == State.CALLING:
                await self._resume(cb)
            else:
                attempt = cb.attempts + 1
                cid = qcb.channel_id(cb.id, attempt)
                # Recorded before it is originated: a second engine, or this one after
                # a restart, finds it and never originates it as a new attempt.
                if not await self._callbacks.begin_attempt(cb.id, attempt, cid, self._clock()):
                    return
                await self._originate(cb, attempt)
                await self._follow(cb, attempt)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Left as it is in the store; the next tick resumes it from there.
            log.exception("queued_callback_failed", callback=cb.id)
            await asyncio.sleep(CHECK_S)

    async def _resume(self, cb: QueuedCallbackRecord) -> None:
        attempts = await self._callbacks.attempts_of(cb.id)
        if not attempts:
            await self._callbacks.retry_at(cb.id, self._clock())
            return
        last = attempts[-1]
        if last.outcome != Outcome.IN_FLIGHT:
            # Its end is stored, what follows it was not: do that now.
            await self._after(cb, last.attempt, Outcome(last.outcome))
            return
        cid = last.channel_id
        decision = qcb.resume(alive=await self._alive(cid), mark=await self._mark(cid))
        log.info("queued_callback_resumed", callback=cb.id, attempt=last.attempt, decision=decision)
        if isinstance(decision, qcb.Ended):
            await self._end(cb, last.attempt, decision.outcome, await self._mark(cid))
            return
        if isinstance(decision, qcb.Originate):
            await self._originate(cb, last.attempt)
        await self._follow(cb, last.attempt)

    async def _originate(self, cb: QueuedCallbackRecord, attempt: int) -> None:
        cid = qcb.channel_id(cb.id, attempt)
        trunk = self._trunk()
        if trunk is None:
            log.warning("queued_callback_no_trunk", callback=cb.id)
            await self._end(cb, attempt, Outcome.FAILED, "no-trunk")
            return
        queue = queue_name(cb.queue)
        hold_s = self._policy(cb.queue).hold_s
        position = await self._position(queue, cb)
        display = "回電" + agent_display(
            cb.language, self._queue_names().get(cb.queue, cb.queue), cb.number
        )
        try:
            await self._ari.originate(
                f"Local/{cid}@{QUEUE_CONTEXT}/n",
                context=CITIZEN_CONTEXT,
                extension=cid,
                priority=1,
                caller_id=f'"1999" <{self.settings.caller_id}>',
                timeout_s=hold_s + 60,
                variables={
                    dv.QCB_QUEUE: queue,
                    dv.QCB_POSITION: position,
                    dv.QCB_WAIT: hold_s,
                    dv.QCB_DISPLAY: display,
                    dv.QCB_DIAL: dialstring(Line(cb.number, trunk)),
                    dv.QCB_RING: self.settings.ring_s,
                },
                channel_id=cid,
                other_channel_id=qcb.queue_channel_id(cb.id, attempt),
            )
        except AriError as exc:
            # 409: a channel with this id is alive, so this attempt runs: follow it.
            if exc.status == 409:
                log.info("queued_callback_already_running", callback=cb.id, attempt=attempt)
                return
            raise
        log.info(
            "queued_callback_originated",
            callback=cb.id,
            attempt=attempt,
            queue=cb.queue,
            position=position,
            to=mask_number(cb.number),
        )

    async def _follow(self, cb: QueuedCallbackRecord, attempt: int) -> None:
        """Wait for the attempt's end and act on it."""
        cid = qcb.channel_id(cb.id, attempt)
        woken = self._woken.setdefault(cid, asyncio.Event())
        try:
            while cid not in self._ends:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CHECK_S):
                        await woken.wait()
                if cid in self._ends or await self._alive(cid):
                    continue
                # Gone without an event we heard: the dialplan's mark says how it ended.
                mark = await self._mark(cid)
                if cid in self._ends:
                    break
                await self._end(cb, attempt, qcb.outcome_of(mark), mark)
                return
            status = self._ends.pop(cid)
            await self._end(cb, attempt, qcb.outcome_of(status), status)
        finally:
            self._woken.pop(cid, None)

    async def _end(
        self, cb: QueuedCallbackRecord, attempt: int, outcome: Outcome, status: str | None
    ) -> None:
        await self._callbacks.end_attempt(cb.id, attempt, outcome, status, self._clock())
        log.info(
            "queued_callback_attempt_ended",
            callback=cb.id,
            attempt=attempt,
            outcome=outcome,
            status=status,
        )
        await self._after(cb, attempt, outcome)

    async def _after(self, cb: QueuedCallbackRecord, attempt: int, outcome: Outcome) -> None:
        now = self._clock()
        policy = self._policy(cb.queue)
        nxt = qcb.after_attempt(
            outcome,
            attempt,
            now=now,
            max_attempts=policy.max_attempts,
            retry_after_s=policy.retry_after_s,
        )
        if isinstance(nxt, qcb.Retry):
            await self._callbacks.retry_at(cb.id, nxt.at)
            return
        if nxt.state == State.COMPLETED:
            await self._callbacks.settle(cb.id, State.COMPLETED, now)
            return
        # Given up: the callback ticket in the caller's language, made once (its key).
        record = CreateTicket(
            key=f"qcb:{cb.id}:ticket",
            call_id=cb.call_id,
            transfer_id=None,
            caller_number=cb.number,
            agency_id=HOTLINE_AGENCY,
            unit_id=None,
            reason=TicketReason.QUEUE_CALLBACK,
            created_at=now,
            due_at=next_working_day_end(self._office(), now),
            language=cb.language,
        )
        ticket = await self._tickets.create_ticket_record(record)
        await self._callbacks.settle(cb.id, State.TICKETED, now, ticket_number=ticket.number)
        log.info("queued_callback_ticketed", callback=cb.id, ticket=ticket.number)

    async def _alive(self, cid: str) -> bool:
        try:
            await self._ari.get_channel(cid)
        except AriNotFound:
            return False
        return True

    async def _mark(self, cid: str) -> str | None:
        """What the dialplan left in AstDB for the attempt; None: nothing.

        AMI's DBGet, not ARI: ARI's /asterisk/variable reads global variables only and
        answers "" for DB(...), which made every finished attempt look never run.
        """
        return await self._ami.db_get(DB_FAMILY, cid)

    async def _position(self, queue: str, cb: QueuedCallbackRecord) -> int | str:
        """The caller's place: behind those who waited longer, ahead of later callers.

        "" (the end of the queue) when Asterisk cannot tell us who is waiting.
        """
        try:
            replies = await self._ami.action_list({"Action": "QueueStatus", "Queue": queue})
        except (AmiUnavailable, AmiActionFailed) as exc:
            log.warning("queued_callback_no_queue_status", queue=queue, error=str(exc))
            return ""
        waits = [float(r.get("Wait", "0") or 0) for r in replies if r.get("Event") == "QueueEntry"]
        waited = (self._clock() - cb.waiting_since).total_seconds()
        return qcb.queue_position(waits, waited)


def callback_policy(tables: RoutingTables, queue: str) -> qcb.CallbackPolicy:
    """The queue's callback settings; a queue since removed from the tables: defaults."""
    try:
        found = tables.agents.queue(queue)
    except KeyError:
        return qcb.CallbackPolicy()
    return qcb.CallbackPolicy(
        found.callback_attempts, found.callback_retry_s, found.callback_hold_s
    )
