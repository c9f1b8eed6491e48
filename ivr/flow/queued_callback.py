"""A queued callback on the caller's side: their place is kept, and they may hang up.

Offered where agents with the language are signed in (a long wait, or the longest
wait used up): the caller's place is held by a virtual entry in the same queue
(ivr.adapters.queued_callbacks dials it). Where nobody with the language is signed
in, there is no place to keep: the caller gets the callback ticket as before. The
callback is committed before the caller hears that their place is kept; if it cannot
be, the caller gets the ticket path (which survives an outage) instead.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr.domain.screening import NO_USABLE_NUMBER, callback_number
from ivr.domain.vocabulary import CallOutcome
from ivr.flow.call import Call

log = structlog.get_logger()

KEPT = "queue-callback-kept"


async def keep_place(
    call: Call, queue: str, language: str, number: str, waiting_since: datetime, agents: int
) -> bool:
    """Hold the caller's place for a callback; False: the caller gets a ticket instead."""
    callbacks = call.services.queued_callbacks
    usable = callback_number(number)
    if callbacks is None or agents <= 0 or usable == NO_USABLE_NUMBER:
        return False
    try:
        held = await callbacks.request(
            uniqueid=call.uniqueid,
            call_id=call.call_id,
            queue=queue,
            language=language,
            number=usable,
            at=call.now(),
            waiting_since=waiting_since,
        )
    except (SQLAlchemyError, OSError) as exc:
        log.warning("queued_callback_not_stored", queue=queue, error=str(exc))
        return False
    # Committed: only now may the caller hear that their place is kept.
    call.event("queue_callback_kept", queue=queue, language=language, callback=held.id)
    call.settled = True
    await call.play(KEPT, "queue")
    await call.finish(CallOutcome.QUEUED)
    return True
