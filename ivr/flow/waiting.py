"""Waiting in a queue for an agent who speaks the caller's language (issue 18).

Decisions are ivr.domain.queueing's; this module asks Asterisk whether anyone is
signed in, runs one round of `Queue()` at a time, plays the choice and takes the
callback. Between rounds the caller is never moved to another queue unless they
pressed the key that accepts it: no silent overflow (DOMAIN 3a).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr import dialplan_vars as dv
from ivr.adapters.queue_events import LANGUAGE_VAR
from ivr.asterisk.generate import queue_name
from ivr.domain.calendar import next_working_day_end
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
from ivr.flow.call import CONVERSATION_LIMIT_S, Call
from ivr.flow.call_cap import capped
from ivr.flow.callback import callback_number_of
from ivr.flow.queued_callback import keep_place
from ivr.flow.survey import survey
from ivr.flow.tickets import NewTicket, announce_ticket, open_ticket
from ivr.flow.wait_announce import publish_entry_estimate
from ivr.routing.view import RoutingView
from ivr.store import StoreUnavailable

log = structlog.get_logger()

_OFFER_PROMPT = {
    OfferReason.NO_AGENTS: "queue-no-agents",
    OfferReason.LONG_WAIT: "queue-long-wait",
    OfferReason.LONG_ESTIMATE: "queue-busy-now",
}
_KEY_PROMPT = {
    Choice.KEEP_WAITING: "queue-key-wait",
    Choice.CALLBACK: "queue-key-callback",
    Choice.OTHER_LANGUAGE: "queue-key-other-language",
}
# One key after the choice; silence keeps the caller waiting, never moves them.
CHOICE_WAIT_S = 6.0
# A queue the tables do not bound (none does today) keeps a caller this long.
DEFAULT_MAX_WAIT_S = 600
# QUEUESTATUS values of a round that ended with the caller still there (a hangup
# leaves it unset): the engine ended it to ask them, so it is no abandonment.
ENGINE_ENDED = frozenset(
    {"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", "CONTINUE"}
)


def policy_for(view: RoutingView, queue: str) -> QueuePolicy:
    """The queue's policy; a view built without policies still bounds the wait."""
    if queue in view.queues:
        return view.queues[queue]
    max_wait = view.queue_max_wait_s.get(queue, DEFAULT_MAX_WAIT_S)
    return QueuePolicy(queue, queue, None, offer_after_s=max_wait, max_wait_s=max_wait)


async def signed_in(call: Call, queue: str) -> int:
    """Agents signed in to the queue whose phones are reachable (paused ones count)."""
    value = await call.session.get_variable(f"QUEUE_MEMBER({queue_name(queue)},logged)")
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def wait_in_queue(call: Call, queue: str) -> None:
    """Wait for an agent of the queue's language; a choice, never a silent move."""
    session = call.session
    policy = policy_for(call.view, queue)
    # The promise: the queue's language (a caller who pressed Taiwanese reaches the
    # Taiwanese queue even while the prompts are Mandarin), else the prompts'.
    language = policy.language or call.language
    call.event("queue_enter", queue=queue, language=language)
    await call.tracker.outcome(call.uniqueid, CallOutcome.QUEUED)
    # The agent's phone shows the language before answering: `[台語] 0912○○○678`.
    await session.set_variable("CALLERID(name)", agent_display(language, policy.name, call.caller))
    # On every AMI event of this channel (manager.conf channelvars): the queue stays
    # the store keeps carry the language (ivr.adapters.queue_events).
    await session.set_variable(LANGUAGE_VAR, language)
    current = policy
    waived = False
    waited = 0.0
    entered = call.now()
    agents = await signed_in(call, queue)
    # The estimate decides only where the queue has a threshold and someone to answer;
    # otherwise it is computed just before the round, as the caller joins.
    fresh = policy.offer_when_estimate_over_s is not None and agents > 0
    estimate = await publish_entry_estimate(call, policy) if fresh else None
    move = next_move(
        current, waited_s=0.0, agents_signed_in=agents, offered=False, estimate=estimate
    )
    while True:
        if isinstance(move, MaxWaitReached):
            call.event("queue_max_wait", queue=current.queue, waited_s=round(waited))
            await call.play("queue-max-wait", "queue")
            await _callback(call, current.queue, language, entered)
            return
        if isinstance(move, Offer):
            # The caller's answer takes time: the estimate is recomputed as they join.
            fresh = False
            choice = await _offer(call, move)
            call.event(
                "queue_offer",
                queue=current.queue,
                reason=move.reason,
                keys="".join(move.keys),
                choice=choice,
                # Only when one was said: "estimate" names the prompt heard.
                **({"estimate": move.estimate.prompt} if move.estimate else {}),
            )
            if choice == Choice.CALLBACK:
                await _callback(call, current.queue, language, entered)
                return
            if choice == Choice.OTHER_LANGUAGE and current.other_language_queue is not None:
                other = policy_for(call.view, current.other_language_queue)
                # The caller accepted, in their own language, agents without it: the one
                # way to them. The longest wait stays the first queue's.
                call.event(
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
        started = call.now()
        agent, status = await _round(call, current, move, published=fresh)
        fresh = False
        waited += (call.now() - started).total_seconds()
        call.event("queue_leave", queue=current.queue, status=status, agent=agent)
        if agent:
            # A conversation the cap ended was settled there (ivr/flow/call_cap.py).
            if not call.capped:
                await survey(call, agent, current.queue)
            return
        if status in ENGINE_ENDED and not session.hung_up:
            await _taken_out(call, current.queue)
        agents = await signed_in(call, current.queue)
        # The question after a round says how much longer a caller rejoining now
        # would wait, when that is known.
        asked = agents > 0 and not session.hung_up
        estimate = await publish_entry_estimate(call, current) if asked else None
        move = after_round(
            current, waited_s=waited, agents_signed_in=agents, waived=waived, estimate=estimate
        )


async def _round(
    call: Call, policy: QueuePolicy, wait: Wait, *, published: bool = False
) -> tuple[str | None, str | None]:
    call.steps.append("queue")
    # The whisper plays to the answering agent alone, before the bridge, in that
    # agent's language: a gosub on the agent's channel ([hotline-agent-whisper]),
    # which inherits the prompt's name from this channel ([hotline-agent-answered]).
    # Set (or cleared) every round: a round of another queue must not inherit it.
    await call.session.set_variable(f"_{dv.WHISPER}", policy.whisper or "")
    # The estimate for a caller at the back of the queue, which this caller is about
    # to be: Asterisk plays it on entry, after the position (docs/queues.md). Not
    # again when it was published a moment ago, with nothing said in between.
    if not published:
        await publish_entry_estimate(call, policy)
    # c: come back here when the agent hangs up first, for the survey (T8).
    # b(): the agent's leg (only that leg) gets the transfer key, 8 + a unit code.
    # The call cap keeps the time of the conversation, if any.
    async with capped(call, policy.queue):
        await call.session.command(
            "EXEC",
            "Queue",
            f"{queue_name(policy.queue)},cb({dv.AGENT_LEG_GOSUB}),,,{wait.seconds},,"
            f"{dv.AGENT_ANSWERED_CONTEXT}",
            timeout=wait.seconds + CONVERSATION_LIMIT_S,
        )
    queued = await call.session.get_variables("QUEUESTATUS", "MEMBERNAME")
    return queued["MEMBERNAME"] or None, queued["QUEUESTATUS"] or None


async def _taken_out(call: Call, queue: str) -> None:
    """Tell the store this unanswered round was ended by the engine, not by a hangup."""
    legs = call.services.queue_legs
    if legs is None:
        return
    try:
        await legs.taken_out(uniqueid=call.uniqueid, queue=queue, at=call.now())
    except (SQLAlchemyError, OSError, StoreUnavailable):
        # The figures lose one stay's outcome; the caller loses nothing.
        log.warning("queue_leg_not_stored", queue=queue)


async def _offer(call: Call, offer: Offer) -> str:
    # The estimate, when known, is said before the keys: "about N minutes" (nothing
    # when unknown: never a guess).
    said = [offer.estimate.prompt] if offer.estimate is not None else []
    prompts = [_OFFER_PROMPT[offer.reason], *said, *(_KEY_PROMPT[k] for k in offer.keys)]
    # Still the queue step: a caller who hangs up at the choice is a queued caller
    # who left while waiting, as one who hangs up in Queue() (the stays say which).
    call.steps.append("queue")
    keyed = await call.read(prompts, Listen(CHOICE_WAIT_S, INTERDIGIT_S, 1))
    key = str(keyed.entry or "")
    # Silence or a key not offered keeps the caller waiting where they are.
    return key if key in offer.keys else Choice.KEEP_WAITING


async def _callback(call: Call, queue: str, language: str, entered: datetime) -> None:
    """A callback in the caller's language: number confirmed, place kept or ticket, told."""
    await call.play("queue-callback", "queue")
    number = await callback_number_of(call)
    if await keep_place(call, queue, language, number, entered, await signed_in(call, queue)):
        return
    now = call.now()
    ticket = await open_ticket(
        call,
        NewTicket(
            transfer_id=None,
            caller_number=callback_number(number),
            agency_id=HOTLINE_AGENCY,
            unit_id=None,
            reason=TicketReason.QUEUE_CALLBACK,
            created_at=now,
            due_at=next_working_day_end(await call.services.working(call.view, now), now),
            language=language,
        ),
    )
    call.event("queue_callback", queue=queue, language=language, ok=ticket is not None)
    if ticket is not None:
        await announce_ticket(call, ticket)
