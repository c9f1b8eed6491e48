"""`AGI(agi://…/hotline)`: a citizen's whole IVR journey, from greeting to hand-over.

Decisions come from the pure core (screening, service state, menu decisions); this
module only asks Asterisk to play, listen and connect, and writes every step into
the call's timeline. Whatever goes wrong here, the dialplan's fallback still queues
the caller for an agent.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.agi.keys import KeyReader
from ivr.adapters.agi.limits import LIMIT_QUEUE, over_caller_limit
from ivr.adapters.agi.waiting import WAITING_PROMPTS, wait_in_queue
from ivr.adapters.calls import CallTracker
from ivr.adapters.durable import DurableStore
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.adapters.fastagi.server import AGISession
from ivr.domain.calendar import (
    Calendar,
    ServiceHours,
    callback_due,
    compute_service_state,
    next_working_day_end,
    with_days_off,
)
from ivr.domain.callback_promise import PROMISE_PROMPTS, callback_promise
from ivr.domain.clock import Clock
from ivr.domain.menu import INTERDIGIT_S, Go, Listen, Retry, decide, listen, start
from ivr.domain.screening import (
    blocked_by,
    callback_number,
    is_taiwan_callback_number,
    normalise_number,
)
from ivr.domain.tickets import HOTLINE_AGENCY
from ivr.domain.transfer import (
    Answered,
    CallerLeft,
    Dial,
    RecordForWorkingDay,
    TransferSpec,
    next_step,
    plan_transfer,
)
from ivr.domain.vocabulary import (
    AttemptRole,
    CallOutcome,
    DialStatus,
    TicketReason,
    TransferInitiator,
    TransferResult,
)
from ivr.domain.workdays import closure_days
from ivr.prompts import prompt_path
from ivr.routing.menus import (
    Destination,
    Menu,
    ToAnnouncement,
    ToEmergency,
    ToExtension,
    ToLanguage,
    ToMenu,
    ToQueue,
    ToRecord,
    ToUnit,
)
from ivr.routing.view import RoutingView, dialstring
from ivr.store import CaseStore, ClosureRecord, StoreUnavailable, TicketRecord

log = structlog.get_logger()

HOTLINE_SCRIPT_NAME = "hotline"
TRANSFER_SCRIPT_NAME = "transfer"

# Call outcomes as the case store records them (the vocabulary's words).
OUTCOME_QUEUED = CallOutcome.QUEUED
OUTCOME_ABANDONED = CallOutcome.ABANDONED
OUTCOME_BLOCKED = CallOutcome.BLOCKED
OUTCOME_TRANSFERRED = CallOutcome.TRANSFERRED
OUTCOME_ANNOUNCED = CallOutcome.ANNOUNCED
OUTCOME_TICKET = CallOutcome.TICKET
OUTCOME_SURVEYED = CallOutcome.SURVEYED

# Prompts the engine itself plays (tables name the rest); `ivr routing check` needs
# them in every enabled language.
ENGINE_PROMPTS = (
    "silence",
    "service-suspended",
    "caller-limit-reached",
    "connecting",
    "transfer-unknown-unit",
    "survey-question",
    "survey-thanks",
    "callback-number-is",
    "callback-number-confirm",
    "callback-number-enter",
    "callback-number-invalid",
    "ticket-registered",
    "ticket-unavailable",
    "transfer-nobody-answered",
    "transfer-office-closed",
    "transfer-record-message",
    "goodbye",
    *(f"digit-{d}" for d in "0123456789"),
    *PROMISE_PROMPTS,
    *WAITING_PROMPTS,
)

DTMF_KEYS = "0123456789*#"
SURVEY_TRIES = 2
CONFIRM_TRIES = 3
# One key, with this long to press it after the prompts (emergency, confirmations).
ONE_KEY_S = 5.0
# Generous bounds on commands that last as long as a conversation does.
CONVERSATION_LIMIT_S = 4 * 3600.0


@dataclass(frozen=True)
class NewTicket:
    transfer_id: int | None
    caller_number: str
    agency_id: str
    unit_id: str | None
    reason: str
    created_at: datetime
    due_at: datetime
    message_path: str | None = None
    # The language the callback is owed in (a queue's callback): None elsewhere.
    language: str | None = None


@dataclass
class _Call:
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


@dataclass(frozen=True)
class HotlineScript:
    tracker: CallTracker
    clock: Clock
    sounds_dir: Path
    spool_dir: Path
    routing: Callable[[], RoutingView]
    current_mode: Callable[[datetime], Awaitable[str]]
    store: CaseStore | DurableStore
    # Days the city declared closed (typhoon days), read when a due time is computed,
    # so `ivr calendar close` reaches the running engine at once. None: no closures.
    closures: Callable[[date], Awaitable[Mapping[date, ClosureRecord]]] | None = None

    async def _with_closures(self, cal: Calendar, now: datetime) -> Calendar:
        if self.closures is None:
            return cal
        today = now.astimezone(cal.tz).date()
        return with_days_off(cal, closure_days((await self.closures(today)).values()))

    async def _working(self, view: RoutingView, now: datetime) -> Calendar:
        """The offices' working time at `now`, with today's and later closures."""
        return await self._with_closures(view.office, now)

    async def _service_hours(self, view: RoutingView, now: datetime) -> ServiceHours:
        hours = view.service_hours
        if view.service_follows_office and isinstance(hours, Calendar):
            return await self._with_closures(hours, now)
        return hours

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
        call = _Call(session, call_id, req.uniqueid, caller, view.default_language, view)
        await session.set_variable(dv.CALL_ID, str(call_id))
        self._event(call, "agi_start", script=req.script, profile=view.profile, mode=mode)
        try:
            await self._journey(call, mode == "disaster")
        except AGIHangup:
            after = call.steps[-1] if call.steps else None
            # An AGI that ends in the queue was ended by a hangup or by an agent's
            # transfer (a redirect), which this session cannot tell apart: the AMI
            # hangup and the transfer's own steps say which, so claim neither here.
            if after != "queue":
                self._event(call, "caller_left", after=after)
            if after != "queue" and not call.settled:
                await self.tracker.outcome(call.uniqueid, OUTCOME_ABANDONED)
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
        call = _Call(session, call_id, req.uniqueid, _known(req.callerid), language, view)
        spec = view.extensions.get(code) or view.units.get(code)
        self._event(call, "transfer_request", code=code, by=initiated_by, known=spec is not None)
        try:
            if spec is None:
                await self._play(call, "transfer-unknown-unit", "transfer")
                await session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
                return
            await self._transfer(call, spec, initiated_by)
        except AGIHangup:
            self._event(call, "caller_left", after=call.steps[-1] if call.steps else None)
            raise

    async def _journey(self, call: _Call, disaster: bool) -> None:
        view = call.view
        now = self.clock()
        rule = blocked_by(view.blocklist, call.caller, now, tz=view.office.tz)
        if rule is not None:
            await self._play(call, view.greeting, "greeting")
            self._event(call, "blocked", pattern=rule.pattern, reason=rule.reason)
            await self._play(call, "service-suspended", "blocked")
            await self._finish(call, OUTCOME_BLOCKED)
            return
        if await self._over_limit(call, now):
            return
        hours = await self._service_hours(view, now)
        state = compute_service_state(hours, now, disaster=disaster)
        self._event(
            call,
            "service_state",
            open=state.open,
            reason=state.reason,
            next_open=state.next_open.isoformat() if state.next_open else None,
        )
        # When the menu follows at once, the greeting opens its first read: a caller
        # who knows the menu may key during it (barge-in), and a key pressed as it ends
        # is not lost between two commands. A notice that must be heard plays whole.
        greeting: tuple[str, ...] = (view.greeting,)
        if (state.disaster and view.disaster_prompt) or not state.open:
            await self._play(call, view.greeting, "greeting")
            greeting = ()
        if state.disaster and view.disaster_prompt:
            await self._play(call, view.disaster_prompt, "disaster")
        if not state.open:
            if view.closed is None:
                # A table without a closed destination is refused by the loader; if
                # it happens anyway, a person is the safe answer.
                await self._finish(call, CallOutcome.CLOSED_UNHANDLED)
                return
            await self._destination(call, view.closed, fallback=None)
            return
        destination, menu = await self._menus(call, greeting)
        await self._destination(call, destination, fallback=menu.on_exhausted)

    async def _over_limit(self, call: _Call, now: datetime) -> bool:
        """Past a per-caller limit: a notice, then an agent (who can tell abuse from need)."""
        which = await over_caller_limit(self.store, call.view, call.caller, now)
        if which is None:
            return False
        self._event(call, "caller_limit", limit=which)
        log.warning("caller_limit", limit=which, caller=call.caller)
        # The greeting carries the recording notice, owed before an agent answers.
        await self._play(call, call.view.greeting, "greeting")
        await self._play(call, "caller-limit-reached", "limit")
        queue = LIMIT_QUEUE if LIMIT_QUEUE in call.view.queue_max_wait_s else None
        if queue is None:
            await call.session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
        else:
            await self._queue(call, queue)
        return True

    # ------------------------------------------------------------------ menus

    async def _menus(self, call: _Call, lead: tuple[str, ...]) -> tuple[Destination, Menu]:
        """Each menu is one read: `lead` (greeting, retry notice) and the menu's prompt,
        then the caller's whole entry; see ivr.adapters.agi.keys."""
        view = call.view
        state = start(view.menus)
        keyable = view.extensions.keys()
        while True:
            menu = view.menus.menus[state.menu]
            prompts = (*lead, menu.prompt)
            call.steps.append("greeting" if view.greeting in lead else f"menu:{state.menu}")
            keyed = await call.keys.read(
                call.session, [self._prompt(call, p) for p in prompts], listen(menu, keyable)
            )
            entry = keyed.entry
            decision = decide(menu, state, entry, keyable)
            self._event(
                call,
                "menu",
                menu=state.menu,
                entry=entry,
                timed_out=keyed.timed_out,
                tries=state.tries,
                decision=_describe(decision),
                prompts=list(prompts),
            )
            if isinstance(decision, Retry):
                lead = (decision.prompt,)
                state = decision.state
                continue
            lead = ()
            dest = decision.destination
            if isinstance(dest, ToMenu):
                state = start(view.menus, dest.menu)
            elif isinstance(dest, ToLanguage):
                call.language = dest.language
                await call.session.set_variable("CHANNEL(language)", dest.language)
                self._event(call, "language", language=dest.language)
                state = start(view.menus, dest.then)
            else:
                return dest, menu

    # ------------------------------------------------------------ destinations

    async def _destination(
        self, call: _Call, dest: Destination, fallback: Destination | None
    ) -> None:
        match dest:
            case ToQueue(queue=queue):
                await self._queue(call, queue)
            case ToExtension(extension=number):
                await self._transfer(call, call.view.extensions[number])
            case ToUnit(unit=unit_id):
                await self._transfer(call, call.view.units[unit_id])
            case ToEmergency():
                await self._emergency(call, dest, fallback)
            case ToAnnouncement(prompt=prompt):
                await self._play(call, prompt, "announcement")
                await self._finish(call, OUTCOME_ANNOUNCED)
            case ToRecord():
                await self._record(call, dest)
            case ToMenu() | ToLanguage():
                raise AssertionError("menus are resolved before destinations")

    async def _queue(self, call: _Call, queue: str) -> None:
        # Waiting, the choice and the callback: ivr.adapters.agi.waiting (issue 18).
        await wait_in_queue(self, call, queue, NewTicket)

    async def _transfer(
        self, call: _Call, spec: TransferSpec, initiated_by: str = TransferInitiator.IVR
    ) -> None:
        """Ring the unit's lines, then its liaison window; nobody → a callback ticket."""
        session = call.session
        transfer_id = await self.store.start_transfer(
            call.call_id,
            initiated_by=initiated_by,
            agency_id=spec.agency_id,
            unit_id=spec.unit_id,
            at=self.clock(),
        )
        self._event(
            call,
            "transfer",
            unit=spec.unit_id,
            agency=spec.agency_id,
            transfer_id=transfer_id,
            initiated_by=initiated_by,
        )
        now = self.clock()
        # The working calendar with today's declared closures: a typhoon day is off-hours.
        plan = plan_transfer(
            await self._working(call.view, now), now, call.view.off_hours_transfers
        )
        if isinstance(plan, RecordForWorkingDay):
            # K4(4): the offices are empty; ring nobody, record for the next working day.
            self._event(call, "transfer_off_hours", due_at=plan.due.isoformat())
            await self._transfer_ticket(call, spec, transfer_id, "off_hours", plan.due)
            return
        await self._play(call, "connecting", "transfer")
        results: list[str] = []
        while True:
            step = next_step(spec, results)
            if not isinstance(step, Dial):
                break
            if step.pause_s:
                # Ringback between attempts: the caller hears the line is still trying.
                await session.exec_("Playtones", "ring")
                await session.exec_("Wait", f"{step.pause_s:g}")
                await session.exec_("StopPlaytones", "")
            target = dialstring(step.line)
            attempt_id = await self.store.start_attempt(
                transfer_id=transfer_id,
                target=target,
                role=step.role,
                attempt=step.attempt,
                at=self.clock(),
            )
            # g: the caller comes back here when the unit hangs up, to close the record.
            await session.command(
                "EXEC",
                "Dial",
                f"{target},{step.ring_timeout_s},g",
                timeout=step.ring_timeout_s + CONVERSATION_LIMIT_S,
            )
            dial = await session.get_variables(
                "DIALSTATUS", "HANGUPCAUSE", "DIALEDTIME", "ANSWEREDTIME"
            )
            status = dial["DIALSTATUS"] or "UNKNOWN"
            cause = _int(dial["HANGUPCAUSE"])
            dialed = _float(dial["DIALEDTIME"])
            answered = _float(dial["ANSWEREDTIME"])
            ring = dialed - answered if dialed is not None and answered is not None else dialed
            await self.store.finish_attempt(
                attempt_id,
                at=self.clock(),
                dialstatus=status,
                hangup_cause=cause,
                ring_seconds=ring,
            )
            self._event(
                call,
                "dial_attempt",
                number=step.line.number,
                role=step.role,
                attempt=step.attempt,
                dialstatus=status,
            )
            results.append(status)
        if isinstance(step, Answered):
            await self._answered(call, spec, transfer_id, step)
            return
        if isinstance(step, CallerLeft):
            await self.store.finish_transfer(
                transfer_id, at=self.clock(), result=TransferResult.CALLER_LEFT
            )
            # Dialling on would ring the next lines for a caller who is gone.
            raise AGIHangup("caller hung up while the unit's line rang")
        await self._transfer_ticket(call, spec, transfer_id, step.reason)

    async def _answered(
        self, call: _Call, spec: TransferSpec, transfer_id: int, step: Answered
    ) -> None:
        liaison = step.role == AttemptRole.LIAISON
        await self.store.finish_transfer(
            transfer_id,
            at=self.clock(),
            result=TransferResult.LIAISON_ANSWERED if liaison else TransferResult.ANSWERED,
            answered_by=step.line.number,
        )
        if liaison:
            # The liaison window registered the matter: its 4-hour callback clock runs
            # from now (T4(2)1) even though the caller was served by a person.
            now = self.clock()
            ticket = await self._open_ticket(
                call,
                NewTicket(
                    transfer_id=transfer_id,
                    # Unchecked, a spoofed premium or foreign caller id would be dialled
                    # by the officer's routine callback.
                    caller_number=callback_number(call.caller),
                    agency_id=spec.agency_id,
                    unit_id=spec.unit_id,
                    reason=TicketReason.LIAISON_REGISTERED,
                    created_at=now,
                    due_at=callback_due(call.view.sla, await self._working(call.view, now), now),
                ),
            )
            if ticket is None:
                return
        await self._finish(call, OUTCOME_TRANSFERRED)

    async def _transfer_ticket(
        self,
        call: _Call,
        spec: TransferSpec,
        transfer_id: int,
        reason: str,
        off_hours_due: datetime | None = None,
    ) -> None:
        """Nobody answered (or nobody was rung, off hours): number, message, ticket.

        The transfer's result says "ticket" only once a ticket is committed: with the
        store down it is "failed" (a person takes over), and "caller_left" if the
        caller hung up before a ticket existed.
        """
        ticket: TicketRecord | None = None
        result = TransferResult.FAILED
        try:
            intro = (
                "transfer-nobody-answered" if off_hours_due is None else "transfer-office-closed"
            )
            await self._play(call, intro, "ticket")
            number = await self._callback_number(call)
            await self._play(call, "transfer-record-message", "ticket")
            message = await self._record_message(call, 60)
            now = self.clock()
            ticket = await self._open_ticket(
                call,
                NewTicket(
                    transfer_id=transfer_id,
                    caller_number=number,
                    agency_id=spec.agency_id,
                    unit_id=spec.unit_id,
                    reason=reason,
                    created_at=now,
                    due_at=off_hours_due
                    or callback_due(call.view.sla, await self._working(call.view, now), now),
                    message_path=message,
                ),
            )
            if ticket is not None:
                result = TransferResult.TICKET
                await self._announce_ticket(call, ticket)
        except AGIHangup:
            if ticket is None:
                result = TransferResult.CALLER_LEFT
            raise
        finally:
            await self.store.finish_transfer(transfer_id, at=self.clock(), result=result)

    async def _open_ticket(self, call: _Call, new: NewTicket) -> TicketRecord | None:
        """Commit a ticket; None (and a person takes over) when the store cannot."""
        try:
            ticket = await self.store.create_ticket(call_id=call.call_id, **asdict(new))
        except StoreUnavailable:
            await self._defer_ticket(call, new)
            await self._ticket_unavailable(call)
            return None
        self._event(
            call,
            "ticket",
            number=ticket.number,
            reason=new.reason,
            due_at=new.due_at.isoformat(),
        )
        return ticket

    async def _defer_ticket(self, call: _Call, new: NewTicket) -> None:
        """Keep the ticket (and its message) for when the store returns; never read out.

        The key is made here, before the write, so a replay repeated after a crash
        still makes one ticket.
        """
        if not isinstance(self.store, DurableStore):
            return
        key = uuid.uuid4().hex
        try:
            await self.store.defer_ticket(key=key, call_id=call.call_id, **asdict(new))
        except OSError:
            # The spool's disk failed too: the caller still goes to a person, who hears
            # the matter; the message stays on the call's timeline.
            log.exception("ticket_defer_failed", call_id=call.call_id)
            return
        # On the call's timeline, for the agent who takes it: the message and the
        # ticket that will be made for it.
        self._event(call, "ticket_deferred", key=key, reason=new.reason, message=new.message_path)

    async def _announce_ticket(self, call: _Call, ticket: TicketRecord) -> None:
        # _open_ticket has committed: only now may the caller hear the number.
        await self.tracker.outcome(call.uniqueid, OUTCOME_TICKET)
        call.settled = True
        await self._play(call, "ticket-registered", "ticket")
        await self._say_digits(call, ticket.number)
        # "Within 4 hours" only when that is true; else the day and time it is due.
        zone = call.view.office.tz
        for prompt in callback_promise(ticket.due_at, self.clock(), call.language, zone):
            await self._play(call, prompt, "ticket")
        await self._finish(call, OUTCOME_TICKET)

    async def _ticket_unavailable(self, call: _Call) -> None:
        """The store cannot commit a ticket: no number may be read out, so a person takes over."""
        self._event(call, "ticket_unavailable")
        await self._play(call, "ticket-unavailable", "ticket")
        await self.tracker.outcome(call.uniqueid, OUTCOME_QUEUED)
        await call.session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
        self._event(call, "route", next=dv.NEXT_QUEUE, reason="ticket_unavailable")

    async def _record_message(self, call: _Call, max_seconds: int) -> str | None:
        # A provisional id (negative, store down) is no name for a file that outlives it.
        prefix = call.call_id if call.call_id > 0 else "outage"
        path = self.spool_dir / f"{prefix}-{call.uniqueid.replace('/', '_')}"
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        # RECORD FILE: file format escape-digits timeout(ms) offset BEEP s=silence
        reply = await call.session.command(
            "RECORD",
            "FILE",
            str(path),
            "wav",
            "#",
            str(max_seconds * 1000),
            "0",
            "BEEP",
            "s=5",
            timeout=max_seconds + 30.0,
        )
        recorded = await asyncio.to_thread(os.path.exists, f"{path}.wav")
        message = f"{path}.wav" if recorded else None
        self._event(call, "recorded", result=reply.result, path=message)
        return message

    async def _emergency(
        self, call: _Call, dest: ToEmergency, fallback: Destination | None
    ) -> None:
        digit: str | None = None
        if dest.connect_key:
            # One command plays the advice and waits for the key: none is lost between.
            call.steps.append("emergency")
            keyed = await call.keys.read(
                call.session, [self._prompt(call, dest.prompt)], Listen(ONE_KEY_S, INTERDIGIT_S, 1)
            )
            digit = keyed.entry or None
        else:
            await self._play(call, dest.prompt, "emergency")
        self._event(call, "emergency_advice", key=digit)
        if digit is not None and digit == dest.connect_key and dest.number:
            dialstring = (
                f"PJSIP/{dest.number}@{dest.trunk}" if dest.trunk else f"PJSIP/{dest.number}"
            )
            await call.session.command(
                "EXEC", "Dial", f"{dialstring},60,g", timeout=60 + CONVERSATION_LIMIT_S
            )
            status = await call.session.get_variable("DIALSTATUS")
            self._event(call, "emergency_dial", number=dest.number, dialstatus=status)
            if status == DialStatus.ANSWER:
                await self._finish(call, OUTCOME_TRANSFERRED)
                return
            if status == DialStatus.CANCEL or call.session.hung_up:
                # The caller hung up while the emergency line rang: nobody to queue.
                call.steps.append("emergency_dial")
                raise AGIHangup("caller hung up while the emergency line rang")
        if fallback is not None:
            await self._destination(call, fallback, fallback=None)
        else:
            await self._finish(call, OUTCOME_ANNOUNCED)

    async def _record(self, call: _Call, dest: ToRecord) -> None:
        number = await self._callback_number(call)
        await self._play(call, dest.prompt, "record")
        message = await self._record_message(call, dest.max_seconds)
        now = self.clock()
        ticket = await self._open_ticket(
            call,
            NewTicket(
                transfer_id=None,
                caller_number=number,
                agency_id=HOTLINE_AGENCY,
                unit_id=None,
                reason=dest.reason,
                created_at=now,
                due_at=next_working_day_end(await self._working(call.view, now), now),
                message_path=message,
            ),
        )
        if ticket is not None:
            await self._announce_ticket(call, ticket)

    async def _callback_number(self, call: _Call) -> str:
        """The caller id if the caller confirms it, else a keyed Taiwan number."""
        session = call.session
        candidate = normalise_number(call.caller or "")
        for _ in range(CONFIRM_TRIES):
            if candidate and is_taiwan_callback_number(candidate):
                # The number and the question are one read: a key pressed while the
                # number is read out, or as the question ends, is the caller's answer.
                call.steps.append("callback")
                readout = [
                    "callback-number-is",
                    *(f"digit-{d}" for d in candidate if d.isdigit()),
                    "callback-number-confirm",
                ]
                answer = await call.keys.read(
                    session,
                    [self._prompt(call, p) for p in readout],
                    Listen(ONE_KEY_S, INTERDIGIT_S, 1),
                )
                key = answer.digits
                self._event(call, "callback_confirm", number=candidate, key=key)
                if key in {"1", ""}:
                    # Silence keeps the number we read out: the caller heard it.
                    return candidate
            keyed, _ = await session.get_data(self._prompt(call, "callback-number-enter"), 8000, 12)
            self._event(call, "callback_keyed", valid=is_taiwan_callback_number(keyed))
            if is_taiwan_callback_number(keyed):
                candidate = normalise_number(keyed)
                continue
            await self._play(call, "callback-number-invalid", "callback")
            candidate = normalise_number(call.caller or "")
        # The caller id was refused or never confirmed: only a Taiwan number is kept.
        return callback_number(candidate)

    async def _survey(self, call: _Call, agent: str, queue: str) -> None:
        for _ in range(SURVEY_TRIES):
            key, _timed_out = await call.session.get_data(
                self._prompt(call, "survey-question"), 6000, 1
            )
            if key in {"1", "2", "3", "4", "5"}:
                saved = await self.store.record_rating(
                    call.call_id, int(key), agent_id=agent, queue=queue, at=self.clock()
                )
                self._event(call, "survey", rating=int(key), agent=agent, queue=queue, saved=saved)
                await self._play(call, "survey-thanks", "survey")
                await self._finish(call, OUTCOME_SURVEYED)
                return
            self._event(call, "survey_invalid", key=key)
        await self._finish(call, OUTCOME_QUEUED)

    # ---------------------------------------------------------------- helpers

    async def _finish(self, call: _Call, outcome: str) -> None:
        await call.session.set_variable(dv.NEXT, dv.NEXT_HANGUP)
        await self.tracker.outcome(call.uniqueid, outcome)
        self._event(call, "route", next=dv.NEXT_HANGUP, outcome=outcome)

    async def _play(
        self, call: _Call, prompt: str, step: str, *, interruptible: bool = False
    ) -> str | None:
        """Play a prompt; with `interruptible`, return the key that cut it short."""
        call.steps.append(step)
        escape = DTMF_KEYS if interruptible else ""
        reply = await call.session.stream_file(self._prompt(call, prompt), escape)
        if reply.result == "-1":
            if call.session.hung_up or reply.endpos:
                # Streaming stopped part-way: the caller hung up (Asterisk may send its
                # HANGUP line only later, and still accepts SET VARIABLE on a dead channel).
                raise AGIHangup(f"caller hung up during {prompt}")
            # Nothing played: a missing prompt, not a hangup. Keep going — a caller is
            # never stuck because a sound file is absent.
            log.warning("prompt_missing", prompt=prompt, language=call.language)
        key = chr(reply.result_int) if reply.result_int and reply.result_int > 0 else None
        self._event(
            call,
            "played",
            prompt=prompt,
            language=call.language,
            endpos=reply.endpos,
            **({"key": key} if key else {}),
        )
        return key

    async def _say_digits(self, call: _Call, digits: str) -> None:
        for d in digits:
            if d.isdigit():
                await self._play(call, f"digit-{d}", "digits")

    def _prompt(self, call: _Call, name: str) -> str:
        return str(prompt_path(self.sounds_dir, call.language, name))

    def _event(self, call: _Call, kind: str, **data: Any) -> None:
        self.tracker.event(call.call_id, kind, self.clock(), data)


def _describe(decision: Go | Retry) -> dict[str, Any]:
    if isinstance(decision, Retry):
        return {"retry": decision.cause}
    return {"go": decision.destination.model_dump(), "reason": decision.reason.value}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _known(value: str) -> str | None:
    # Asterisk sends "unknown" when a caller id field is absent.
    return None if value in {"", "unknown"} else value
