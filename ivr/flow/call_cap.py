"""The call cap around a conversation (Taipei: 10 minutes, DOMAIN 3a).

`capped(call)` wraps the one AGI command that bridges the caller to a person: a
queue round's Queue() (waiting.py) or a transfer's Dial() (transfer.py). While that
command runs, a task keeps the time from the answer: the warning on both legs, then
at the limit the direct line on both legs and the agent's leg ended, so the command
returns; on the way out the call ends or the caller is put through to the direct line.
What is said and when is ivr.domain.call_cap's; the hands are
ivr.adapters.conversation's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr import dialplan_vars as dv
from ivr.adapters.conversation import ConversationControl
from ivr.domain.call_cap import CapPolicy, limit_prompts, warning_prompts
from ivr.domain.vocabulary import CallOutcome, CapAction, CapLeg
from ivr.flow.call import CONVERSATION_LIMIT_S, Call
from ivr.prompts import prompt_path
from ivr.routing.view import dialstring
from ivr.store import StoreUnavailable

log = structlog.get_logger()

# Bounds on one whisper (a tone, a sentence, a number read out).
WHISPER_S = 60.0
# How long the direct line rings before the caller is let go.
DIRECT_LINE_RING_S = 60


@dataclass(frozen=True)
class Cap:
    """What the bridging command needs to add; empty when the profile has no cap."""

    # Run [hotline-conversation] on the answering leg, which tells the engine and sets
    # Asterisk's own end: Dial()'s option. (A queue's agent leg always runs it, through
    # [hotline-agent-answered], Queue()'s gosub argument.)
    dial_option: str = ""


@contextlib.asynccontextmanager
async def capped(
    call: Call, queue: str | None = None, transfer_id: int | None = None
) -> AsyncIterator[Cap]:
    """Keep the cap on the conversation the wrapped Queue()/Dial() opens: a queue's
    (`queue`, whose stay is marked capped) or a transfer's (`transfer_id`, named in
    the `cap_reached` event)."""
    policy = call.view.call_cap
    control = call.services.conversations
    if policy is None or control is None:
        yield Cap()
        return
    await call.session.set_variable(f"_{dv.CAP_CALLER}", call.uniqueid)
    await call.session.set_variable(f"_{dv.CAP_HARD_S}", str(policy.hard_limit_s))
    with control.expecting(call.uniqueid) as answered:
        where: dict[str, object] = (
            {"queue": queue} if queue is not None else {"transfer_id": transfer_id}
        )
        clock = asyncio.create_task(_keep_time(call, policy, control, answered, where))
        try:
            yield Cap(f"U({dv.CONVERSATION_CONTEXT})")
        finally:
            if call.capped and not clock.done():
                # The agent hung up during the limit prompts: let the caller's finish.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WHISPER_S):
                        await asyncio.shield(clock)
            clock.cancel()
            try:
                await clock
            except asyncio.CancelledError:
                pass
            except Exception:
                # The cap failed; the conversation and the caller go on regardless.
                log.exception("cap_clock_failed", uniqueid=call.uniqueid)
    if call.capped and not call.session.hung_up:
        await _after_limit(call, policy, queue)


async def _keep_time(
    call: Call,
    policy: CapPolicy,
    control: ConversationControl,
    answered: asyncio.Future[str],
    where: dict[str, object],
) -> None:
    peer = await answered
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(policy.warning_at_s)
    heard = await _both(call, control, peer, warning_prompts)
    call.event("cap_warning", peer=peer, after_s=round(loop.time() - start), **heard)
    await asyncio.sleep(max(0.0, policy.limit_s - (loop.time() - start)))
    call.capped = True
    heard = await _both(call, control, peer, lambda leg: limit_prompts(policy, leg))
    ended = await control.hang_up(peer)
    call.event(
        "cap_reached",
        peer=peer,
        after_s=round(loop.time() - start),
        at_limit=policy.at_limit,
        agent_leg_ended=ended,
        **where,
        **heard,
    )


async def _both(
    call: Call,
    control: ConversationControl,
    peer: str,
    prompts: Callable[[CapLeg], tuple[str, ...]],
) -> dict[str, str]:
    """The caller's prompts in the call's language, the agent's in the hotline's own
    (agents' languages are not in the tables yet), both at once."""
    sounds = call.services.sounds_dir

    def files(leg: CapLeg, language: str) -> list[Path]:
        return [prompt_path(sounds, language, p) for p in prompts(leg)]

    caller, agent = await asyncio.gather(
        control.whisper(call.uniqueid, files(CapLeg.CALLER, call.language), WHISPER_S),
        control.whisper(peer, files(CapLeg.AGENT, call.view.default_language), WHISPER_S),
    )
    return {"caller": caller, "agent": agent}


async def _after_limit(call: Call, policy: CapPolicy, queue: str | None) -> None:
    if queue is not None and call.services.queue_legs is not None:
        try:
            await call.services.queue_legs.capped(uniqueid=call.uniqueid, queue=queue)
        except (SQLAlchemyError, OSError, StoreUnavailable):
            # The report misses one capped call; the caller loses nothing.
            log.warning("queue_leg_cap_not_stored", queue=queue)
    if policy.at_limit == CapAction.TRANSFER:
        line = policy.direct_line
        await call.session.command(
            "EXEC",
            "Dial",
            f"{dialstring(line)},{DIRECT_LINE_RING_S},g",
            timeout=DIRECT_LINE_RING_S + CONVERSATION_LIMIT_S,
        )
        status = await call.session.get_variable("DIALSTATUS")
        call.event("cap_transfer", number=line.number, dialstatus=status or "UNKNOWN")
        await call.finish(CallOutcome.TRANSFERRED)
        return
    await call.finish(CallOutcome.QUEUED if queue is not None else CallOutcome.TRANSFERRED)
