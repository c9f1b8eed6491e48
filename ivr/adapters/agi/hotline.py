"""`AGI(agi://…/hotline)`: a citizen's whole IVR journey, from greeting to hand-over.

Decisions come from the pure core (screening, service state, menu decisions); this
module only asks Asterisk to play, listen and connect, and writes every step into
the call's timeline. Whatever goes wrong here, the dialplan's fallback still queues
the caller for an agent.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.calls import CallTracker
from ivr.adapters.durable import DurableStore
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.adapters.fastagi.server import AGISession
from ivr.asterisk.generate import queue_name
from ivr.domain.calendar import callback_due, compute_service_state, next_working_day_end
from ivr.domain.clock import Clock
from ivr.domain.menu import Go, Retry, decide, first_key, start
from ivr.domain.screening import blocked_by, is_taiwan_callback_number, normalise_number
from ivr.domain.tickets import HOTLINE_AGENCY
from ivr.domain.transfer import Answered, CallerLeft, Dial, TransferSpec, next_step
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
from ivr.store import CaseStore, StoreUnavailable, TicketRecord

log = structlog.get_logger()

HOTLINE_SCRIPT_NAME = "hotline"
TRANSFER_SCRIPT_NAME = "transfer"

# Call outcomes as the case store records them.
OUTCOME_QUEUED = "queued"
OUTCOME_ABANDONED = "abandoned"
OUTCOME_BLOCKED = "blocked"
OUTCOME_TRANSFERRED = "transferred"
OUTCOME_ANNOUNCED = "announced"
OUTCOME_TICKET = "ticket"
OUTCOME_SURVEYED = "surveyed"

# Prompts the engine itself plays (tables name the rest); `ivr routing check` needs
# them in every enabled language.
ENGINE_PROMPTS = (
    "silence",
    "service-suspended",
    "connecting",
    "transfer-unknown-unit",
    "survey-question",
    "survey-thanks",
    "callback-number-is",
    "callback-number-confirm",
    "callback-number-enter",
    "callback-number-invalid",
    "ticket-registered",
    "ticket-callback-next-day",
    "ticket-callback-4h",
    "ticket-unavailable",
    "transfer-nobody-answered",
    "transfer-record-message",
    "goodbye",
    *(f"digit-{d}" for d in "0123456789"),
)

INTERDIGIT_MS = 1500
DTMF_KEYS = "0123456789*#"
# Times a caller re-enters a queue after waiting the table's longest wait.
QUEUE_ROUNDS = 3
SURVEY_TRIES = 2
CONFIRM_TRIES = 3
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


@dataclass
class _Call:
    session: AGISession
    call_id: int
    uniqueid: str
    caller: str | None
    language: str
    view: RoutingView
    steps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HotlineScript:
    tracker: CallTracker
    clock: Clock
    sounds_dir: Path
    spool_dir: Path
    routing: Callable[[], RoutingView]
    current_mode: Callable[[datetime], Awaitable[str]]
    store: CaseStore | DurableStore

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
            self._event(call, "caller_left", after=after)
            # Leaving the queue is not abandoning the IVR: the caller may have been
            # served, or moved by an agent's transfer (a redirect also ends this AGI).
            if after != "queue":
                await self.tracker.outcome(call.uniqueid, OUTCOME_ABANDONED)
            raise

    async def transfer_entry(self, session: AGISession) -> None:
        """`AGI(…/transfer,CODE,BY)`: an agent (feature 8) or an admin sent the caller here."""
        req = session.request
        code = req.args[0] if req.args else ""
        initiated_by = req.args[1] if len(req.args) > 1 and req.args[1] else "admin"
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
        # A caller who knows the menu may key during the greeting (barge-in); that key
        # is their first choice at the entry menu.
        early = await self._play(call, view.greeting, "greeting", interruptible=True)
        now = self.clock()
        rule = blocked_by(view.blocklist, call.caller, now)
        if rule is not None:
            self._event(call, "blocked", pattern=rule.pattern, reason=rule.reason)
            await self._play(call, "service-suspended", "blocked")
            await self._finish(call, OUTCOME_BLOCKED)
            return
        state = compute_service_state(view.service_hours, now, disaster=disaster)
        self._event(
            call,
            "service_state",
            open=state.open,
            reason=state.reason,
            next_open=state.next_open.isoformat() if state.next_open else None,
        )
        if state.disaster and view.disaster_prompt:
            await self._play(call, view.disaster_prompt, "disaster")
        if not state.open:
            if view.closed is None:
                # A table without a closed destination is refused by the loader; if
                # it happens anyway, a person is the safe answer.
                await self._finish(call, "closed-unhandled")
                return
            await self._destination(call, view.closed, fallback=None)
            return
        destination, menu = await self._menus(call, early)
        await self._destination(call, destination, fallback=menu.on_exhausted)

    # ------------------------------------------------------------------ menus

    async def _menus(self, call: _Call, early: str | None) -> tuple[Destination, Menu]:
        view = call.view
        state = start(view.menus)
        keyable = view.extensions.keys()
        # A key pressed during the previous prompt (greeting or retry) counts here.
        pending = early
        while True:
            menu = view.menus.menus[state.menu]
            if pending:
                digits, timed_out = pending, False
                pending = None
            else:
                digits, timed_out = await call.session.get_data(
                    self._prompt(call, menu.prompt), int(menu.timeout_s * 1000), 1
                )
            entry = digits
            if digits and first_key(menu, digits, keyable) == "collect":
                more, _ = await call.session.get_data(
                    self._prompt(call, "silence"), INTERDIGIT_MS, menu.extension_digits_max - 1
                )
                entry += more
            decision = decide(menu, state, entry, keyable)
            self._event(
                call,
                "menu",
                menu=state.menu,
                entry=entry,
                timed_out=timed_out and not entry,
                tries=state.tries,
                decision=_describe(decision),
            )
            if isinstance(decision, Retry):
                pending = await self._play(
                    call, decision.prompt, f"{state.menu}:{decision.cause}", interruptible=True
                )
                state = decision.state
                continue
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
        max_wait = call.view.queue_max_wait_s.get(queue, 600)
        self._event(call, "queue_enter", queue=queue, language=call.language)
        await self.tracker.outcome(call.uniqueid, OUTCOME_QUEUED)
        call.steps.append("queue")
        session = call.session
        for _ in range(QUEUE_ROUNDS):
            # c: come back here when the agent hangs up first, for the survey (T8).
            # b(): the agent's leg (only that leg) gets the transfer key, 8 + a unit code.
            await session.command(
                "EXEC",
                "Queue",
                f"{queue_name(queue)},cb({dv.AGENT_LEG_GOSUB}),,,{max_wait}",
                timeout=max_wait + CONVERSATION_LIMIT_S,
            )
            queued = await session.get_variables("QUEUESTATUS", "MEMBERNAME")
            status, agent = queued["QUEUESTATUS"] or None, queued["MEMBERNAME"] or None
            self._event(call, "queue_leave", queue=queue, status=status, agent=agent)
            if agent:
                await self._survey(call, agent, queue)
                return
            if status != "TIMEOUT":
                break
        # The queue could not take the caller (or kept them too long): hand over to the
        # dialplan's agents' queue, which every logged-in agent serves. Never a hangup.
        await session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
        self._event(call, "route", next=dv.NEXT_QUEUE, queue_status=status)

    async def _transfer(self, call: _Call, spec: TransferSpec, initiated_by: str = "ivr") -> None:
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
            await self.store.finish_transfer(transfer_id, at=self.clock(), result="caller_left")
            # Dialling on would ring the next lines for a caller who is gone.
            raise AGIHangup("caller hung up while the unit's line rang")
        await self.store.finish_transfer(transfer_id, at=self.clock(), result="ticket")
        await self._transfer_ticket(call, spec, transfer_id, step.reason)

    async def _answered(
        self, call: _Call, spec: TransferSpec, transfer_id: int, step: Answered
    ) -> None:
        liaison = step.role == "liaison"
        await self.store.finish_transfer(
            transfer_id,
            at=self.clock(),
            result="liaison_answered" if liaison else "answered",
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
                    caller_number=normalise_number(call.caller or "") or "unknown",
                    agency_id=spec.agency_id,
                    unit_id=spec.unit_id,
                    reason="liaison_registered",
                    created_at=now,
                    due_at=callback_due(call.view.sla, call.view.office, now),
                ),
            )
            if ticket is None:
                return
        await self._finish(call, OUTCOME_TRANSFERRED)

    async def _transfer_ticket(
        self, call: _Call, spec: TransferSpec, transfer_id: int, reason: str
    ) -> None:
        """Nobody answered: a callback number, a message, a ticket, then its number."""
        await self._play(call, "transfer-nobody-answered", "ticket")
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
                due_at=callback_due(call.view.sla, call.view.office, now),
                message_path=message,
            ),
        )
        if ticket is not None:
            await self._announce_ticket(call, ticket, "ticket-callback-4h")

    async def _open_ticket(self, call: _Call, new: NewTicket) -> TicketRecord | None:
        """Commit a ticket; None (and a person takes over) when the store cannot."""
        try:
            ticket = await self.store.create_ticket(
                call_id=call.call_id,
                transfer_id=new.transfer_id,
                caller_number=new.caller_number,
                agency_id=new.agency_id,
                unit_id=new.unit_id,
                reason=new.reason,
                created_at=new.created_at,
                due_at=new.due_at,
                message_path=new.message_path,
            )
        except StoreUnavailable:
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

    async def _announce_ticket(self, call: _Call, ticket: TicketRecord, promise: str) -> None:
        # _open_ticket has committed: only now may the caller hear the number.
        await self.tracker.outcome(call.uniqueid, OUTCOME_TICKET)
        await self._play(call, "ticket-registered", "ticket")
        await self._say_digits(call, ticket.number)
        await self._play(call, promise, "ticket")
        await self._finish(call, OUTCOME_TICKET)

    async def _ticket_unavailable(self, call: _Call) -> None:
        """The store cannot commit a ticket: no number may be read out, so a person takes over."""
        self._event(call, "ticket_unavailable")
        await self._play(call, "ticket-unavailable", "ticket")
        await self.tracker.outcome(call.uniqueid, OUTCOME_QUEUED)
        await call.session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
        self._event(call, "route", next=dv.NEXT_QUEUE, reason="ticket_unavailable")

    async def _record_message(self, call: _Call, max_seconds: int) -> str | None:
        path = self.spool_dir / f"{call.call_id}-{call.uniqueid.replace('/', '_')}"
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
            reply = await call.session.stream_file(self._prompt(call, dest.prompt), "0123456789*#")
            if reply.result_int and reply.result_int > 0:
                digit = chr(reply.result_int)
            else:
                digit = await call.session.wait_for_digit(5000)
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
            if status == "ANSWER":
                await self._finish(call, OUTCOME_TRANSFERRED)
                return
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
                due_at=next_working_day_end(call.view.office, now),
                message_path=message,
            ),
        )
        if ticket is not None:
            await self._announce_ticket(call, ticket, "ticket-callback-next-day")

    async def _callback_number(self, call: _Call) -> str:
        """The caller id if the caller confirms it, else a keyed Taiwan number."""
        session = call.session
        candidate = normalise_number(call.caller or "")
        for _ in range(CONFIRM_TRIES):
            if candidate and is_taiwan_callback_number(candidate):
                await self._play(call, "callback-number-is", "callback")
                await self._say_digits(call, candidate)
                key, _ = await session.get_data(
                    self._prompt(call, "callback-number-confirm"), 5000, 1
                )
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
        return candidate or "unknown"

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
