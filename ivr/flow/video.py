"""A sign-language video call: straight to the video queue, nothing asked by voice.

Whether a call is one is decided by what its phone negotiated (`ivr.domain.video`,
docs/decisions/0004-video-calls.md). The caller may not hear, so they never meet
the voice menus or the waiting's spoken choices: they wait for an agent with the
skill, and when none is signed in, or the queue's longest wait is used up, a callback
ticket in sign language is committed for their number, with nothing read out.
"""

from __future__ import annotations

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.queue_events import LANGUAGE_VAR
from ivr.domain.calendar import next_working_day_end
from ivr.domain.queueing import Wait, agent_display
from ivr.domain.screening import NO_USABLE_NUMBER, callback_number
from ivr.domain.tickets import HOTLINE_AGENCY
from ivr.domain.video import (
    SIGN_LANGUAGE,
    VideoCallback,
    VideoWait,
    shared_video,
    video_move,
)
from ivr.domain.vocabulary import CallOutcome, TicketReason
from ivr.flow.call import Call
from ivr.flow.tickets import NewTicket, open_ticket
from ivr.flow.waiting import ENGINE_ENDED, _round, _taken_out, policy_for, signed_in

log = structlog.get_logger()

NATIVE_VIDEO = "CHANNEL(videonativeformat)"


async def video_formats(call: Call) -> tuple[str, ...]:
    """The call's negotiated video the sign-language agents take; () for a voice call."""
    if call.view.video_queue is None:
        return ()
    native = await call.session.get_variable(NATIVE_VIDEO)
    return shared_video(native, call.view.video_codecs)


async def video_call(call: Call, formats: tuple[str, ...]) -> None:
    """Serve a video caller in the sign-language queue; never through a voice menu."""
    queue = call.view.video_queue
    assert queue is not None  # video_formats found video only where a queue exists
    policy = policy_for(call.view, queue)
    call.event("video_call", queue=queue, formats=list(formats))
    call.event("queue_enter", queue=queue, language=SIGN_LANGUAGE)
    await call.tracker.outcome(call.uniqueid, CallOutcome.QUEUED)
    session = call.session
    # The agent's phone shows the queue's name (no spoken language): `[手語視訊] 0912○○○678`.
    await session.set_variable("CALLERID(name)", agent_display(None, policy.name, call.caller))
    await session.set_variable(LANGUAGE_VAR, SIGN_LANGUAGE)
    # The agent's leg inherits it ("_"): its phone is offered the caller's codec only.
    await session.set_variable(f"_{dv.VIDEO_OFFER}", formats[0])
    waited = 0.0
    while True:
        move = video_move(
            agents_signed_in=await signed_in(call, queue),
            waited_s=waited,
            max_wait_s=policy.max_wait_s,
            # A number an officer may dial back: nobody can confirm it by voice here.
            caller_known=callback_number(call.caller) != NO_USABLE_NUMBER,
        )
        if not isinstance(move, VideoWait):
            break
        started = call.now()
        agent, status = await _round(call, policy, Wait(queue, move.seconds))
        waited += (call.now() - started).total_seconds()
        call.event("queue_leave", queue=queue, status=status, agent=agent)
        if agent:
            # The survey is spoken: a signing caller is not asked it.
            await call.finish(CallOutcome.QUEUED)
            return
        if status in ENGINE_ENDED and not session.hung_up:
            await _taken_out(call, queue)
    call.event("video_wait_end", queue=queue, reason=move.reason, waited_s=round(waited))
    if isinstance(move, VideoCallback):
        await _callback(call, queue)
        return
    await call.finish(CallOutcome.QUEUED)


async def _callback(call: Call, queue: str) -> None:
    """A callback ticket in sign language for the caller's number, read out to nobody."""
    now = call.now()
    ticket = await open_ticket(
        call,
        NewTicket(
            transfer_id=None,
            caller_number=callback_number(call.caller),
            agency_id=HOTLINE_AGENCY,
            unit_id=None,
            reason=TicketReason.QUEUE_CALLBACK,
            created_at=now,
            due_at=next_working_day_end(await call.services.working(call.view, now), now),
            language=SIGN_LANGUAGE,
        ),
    )
    call.event("queue_callback", queue=queue, language=SIGN_LANGUAGE, ok=ticket is not None)
    if ticket is None:
        # The store is down: open_ticket kept the ticket for replay and sent the caller
        # to the agents' queue, where a person still sees the call.
        return
    call.settled = True
    await call.finish(CallOutcome.TICKET)
