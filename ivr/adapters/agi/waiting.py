"""The queue step of a citizen's call: wait for an agent who speaks the caller's language.

Decisions are ivr.domain.queueing's; this module asks Asterisk whether anyone is
signed in, runs one round of `Queue()` at a time, plays the choice and takes the
callback. Between rounds the caller is never moved to another queue unless they
pressed the key that accepts it: no silent overflow (DOMAIN 3a).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr import dialplan_vars as dv
from ivr.adapters.agi.keys import KeyReader
from ivr.adapters.calls import CallTracker
from ivr.adapters.fastagi.server import AGISession
from ivr.adapters.queue_events import LANGUAGE_VAR
from ivr.asterisk.generate import queue_name
from ivr.domain.calendar import Calendar, next_working_day_end
from ivr.domain.clock import Clock
from ivr.domain.menu import INTERDIGIT_S, Listen
from ivr.domain.queueing import (
    Choice,
    MaxWaitReached,
    Offer,
    OfferReason,
    QueuePolicy,
    Wait,
    after_round,
    agent_display,
    next_move,
)
from ivr.domain.screening import callback_number
from ivr.domain.tickets import HOTLINE_AGENCY
from ivr.domain.vocabulary import CallOutcome, TicketReason
from ivr.prompts import prompt_path
from ivr.routing.view import RoutingView
from ivr.store import StoreUnavailable, TicketRecord
from ivr.store.queue_legs import queue_legs_of

log = structlog.get_logger()

# Prompts of the waiting caller; `ivr routing check` needs them in every enabled language.
WAITING_PROMPTS = (
    "queue-no-agents",
    "queue-long-wait",
    "queue-key-wait",
    "queue-key-callback",
    "queue-key-other-language",
    "queue-max-wait",
    "queue-callback",
)
_OFFER_PROMPT = {OfferReason.NO_AGENTS: "queue-no-agents", OfferReason.LONG_WAIT: "queue-long-wait"}
_KEY_PROMPT = {
    Choice.KEEP_WAITING: "queue-key-wait",
    Choice.CALLBACK: "queue-key-callback",
    Choice.OTHER_LANGUAGE: "queue-key-other-language",
}
# One key after the choice; silence keeps the caller waiting, never moves them.
CHOICE_WAIT_S = 6.0
CONVERSATION_LIMIT_S = 4 * 3600.0
# QUEUESTATUS values of a round that ended with the caller still there (a hangup
# leaves it unset): the engine ended it to ask them, so it is no abandonment.
ENGINE_ENDED = frozenset(
    {"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", "CONTINUE"}
)


class _Call(Protocol):
    session: AGISession
    call_id: int
    uniqueid: str
    caller: str | None
    language: str
    view: RoutingView
    steps: list[str]
    settled: bool

    keys: KeyReader


class Host(Protocol):
    """What the queue step needs from the call's script (ivr.adapters.agi.hotline)."""

    @property
    def clock(self) -> Clock: ...
    @property
    def tracker(self) -> CallTracker: ...
    @property
    def sounds_dir(self) -> Path: ...
    @property
    def store(self) -> object: ...

    def _event(self, call: Any, kind: str, **data: Any) -> None: ...
    def _prompt(self, call: Any, name: str) -> str: ...
    async def _working(self, view: RoutingView, now: datetime) -> Calendar: ...
    async def _callback_number(self, call: Any) -> str: ...
    async def _open_ticket(self, call: Any, new: Any) -> TicketRecord | None: ...
    async def _announce_ticket(self, call: Any, ticket: TicketRecord) -> None: ...
    async def _survey(self, call: Any, agent: str, queue: str) -> None: ...
    async def _play(
        self, call: Any, prompt: str, step: str, *, interruptible: bool = False
    ) -> str | None: ...


def policy_for(view: RoutingView, queue: str) -> QueuePolicy:
    """The queue's policy; a view built without policies still bounds the wait."""
    if queue in view.queues:
        return view.queues[queue]
    max_wait = view.queue_max_wait_s.get(queue, 600)
    return QueuePolicy(queue, queue, None, offer_after_s=max_wait, max_wait_s=max_wait)


async def signed_in(session: AGISession, queue: str) -> int:
    """Agents signed in to the queue whose phones are reachable (paused ones count)."""
    value = await session.get_variable(f"QUEUE_MEMBER({queue_name(queue)},logged)")
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def wait_in_queue(host: Host, call: _Call, queue: str, new_ticket: Any) -> None:
    """Wait for an agent of the queue's language; a choice, never a silent move.

    `new_ticket` builds the callback ticket record (hotline.NewTicket): passed in so
    this module does not import the script that imports it.
    """
    session = call.session
    policy = policy_for(call.view, queue)
    # The promise: the queue's language (a caller who pressed Taiwanese reaches the
    # Taiwanese queue even while the prompts are Mandarin), else the prompts'.
    language = policy.language or call.language
    host._event(call, "queue_enter", queue=queue, language=language)
    await host.tracker.outcome(call.uniqueid, CallOutcome.QUEUED)
    # The agent's phone shows the language before answering: `[台語] 0912○○○678`.
    display = agent_display(language, policy.name, call.caller)
    await session.set_variable("CALLERID(name)", display)
    # On every AMI event of this channel (manager.conf channelvars): the queue stays
    # the store keeps carry the language (ivr.adapters.queue_events).
    await session.set_variable(LANGUAGE_VAR, language)
    current = policy
    waived = False
    waited = 0.0
    move = next_move(
        current, waited_s=0.0, agents_signed_in=await signed_in(session, queue), offered=False
    )
    while True:
        if isinstance(move, MaxWaitReached):
            host._event(call, "queue_max_wait", queue=current.queue, waited_s=round(waited))
            await host._play(call, "queue-max-wait", "queue")
            await _callback(host, call, current.queue, language, new_ticket)
            return
        if isinstance(move, Offer):
            choice = await _offer(host, call, move)
            host._event(
                call,
                "queue_offer",
                queue=current.queue,
                reason=move.reason,
                keys="".join(move.keys),
                choice=choice,
            )
            if choice == Choice.CALLBACK:
                await _callback(host, call, current.queue, language, new_ticket)
                return
            if choice == Choice.OTHER_LANGUAGE and current.other_language_queue is not None:
                other = policy_for(call.view, current.other_language_queue)
                # The caller accepted, in their own language, agents without it: the one
                # way to them. The longest wait stays the first queue's.
                host._event(
                    call,
                    "language_waived",
                    language=language,
                    queue=other.queue,
                    agent_language=other.language,
                )
                current = replace(other, max_wait_s=policy.max_wait_s)
                waived = True
            move = next_move(
                current, waited_s=waited, agents_signed_in=1, offered=True, waived=waived
            )
            continue
        assert isinstance(move, Wait)
        started = host.clock()
        agent, status = await _round(host, call, current, move)
        waited += (host.clock() - started).total_seconds()
        host._event(call, "queue_leave", queue=current.queue, status=status, agent=agent)
        if agent:
            await host._survey(call, agent, current.queue)
            return
        if status in ENGINE_ENDED and not session.hung_up:
            await _taken_out(host, call, current.queue)
        move = after_round(
            current,
            waited_s=waited,
            agents_signed_in=await signed_in(session, current.queue),
            waived=waived,
        )


async def _round(
    host: Host, call: _Call, policy: QueuePolicy, wait: Wait
) -> tuple[str | None, str | None]:
    session = call.session
    call.steps.append("queue")
    # The whisper plays to the agent alone, before the bridge (Queue's announce), in
    # the hotline's default language: agents' own languages are not in the tables yet.
    whisper = (
        str(prompt_path(host.sounds_dir, call.view.default_language, policy.whisper))
        if policy.whisper is not None
        else ""
    )
    # c: come back here when the agent hangs up first, for the survey (T8).
    # b(): the agent's leg (only that leg) gets the transfer key, 8 + a unit code.
    await session.command(
        "EXEC",
        "Queue",
        f"{queue_name(policy.queue)},cb({dv.AGENT_LEG_GOSUB}),,{whisper},{wait.seconds}",
        timeout=wait.seconds + CONVERSATION_LIMIT_S,
    )
    queued = await session.get_variables("QUEUESTATUS", "MEMBERNAME")
    return queued["MEMBERNAME"] or None, queued["QUEUESTATUS"] or None


async def _taken_out(host: Host, call: _Call, queue: str) -> None:
    """Tell the store this unanswered round was ended by the engine, not by a hangup."""
    legs = queue_legs_of(host.store)
    if legs is None:
        return
    try:
        await legs.taken_out(uniqueid=call.uniqueid, queue=queue, at=host.clock())
    except (SQLAlchemyError, OSError, StoreUnavailable):
        # The figures lose one stay's outcome; the caller loses nothing.
        log.warning("queue_leg_not_stored", queue=queue)


async def _offer(host: Host, call: _Call, offer: Offer) -> str:
    prompts = [_OFFER_PROMPT[offer.reason], *(_KEY_PROMPT[k] for k in offer.keys)]
    # Still the queue step: a caller who hangs up at the choice is a queued caller
    # who left while waiting, as one who hangs up in Queue() (the stays say which).
    call.steps.append("queue")
    keyed = await call.keys.read(
        call.session,
        [host._prompt(call, p) for p in prompts],
        Listen(CHOICE_WAIT_S, INTERDIGIT_S, 1),
    )
    key = str(keyed.entry or "")
    # Silence or a key not offered keeps the caller waiting where they are.
    return key if key in offer.keys else Choice.KEEP_WAITING


async def _callback(host: Host, call: _Call, queue: str, language: str, new_ticket: Any) -> None:
    """A callback in the caller's language: number confirmed, ticket committed, told."""
    await host._play(call, "queue-callback", "queue")
    number = await host._callback_number(call)
    now = host.clock()
    ticket = await host._open_ticket(
        call,
        new_ticket(
            transfer_id=None,
            caller_number=callback_number(number),
            agency_id=HOTLINE_AGENCY,
            unit_id=None,
            reason=TicketReason.QUEUE_CALLBACK,
            created_at=now,
            due_at=next_working_day_end(await host._working(call.view, now), now),
            language=language,
        ),
    )
    host._event(call, "queue_callback", queue=queue, language=language, ok=ticket is not None)
    if ticket is not None:
        await host._announce_ticket(call, ticket)
