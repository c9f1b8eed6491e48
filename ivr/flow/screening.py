"""Before any menu: a blocked caller hears a notice; one past a per-caller limit, an agent."""

from __future__ import annotations

from datetime import datetime

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.agi.limits import LIMIT_QUEUE, over_caller_limit
from ivr.domain.screening import blocked_by
from ivr.domain.vocabulary import CallOutcome
from ivr.flow.call import Call
from ivr.flow.queue import queue

log = structlog.get_logger()

SUSPENDED = "service-suspended"
LIMIT_REACHED = "caller-limit-reached"


async def screened_out(call: Call, now: datetime) -> bool:
    """True when the call ends here: a blocked number, or a caller past a limit."""
    view = call.view
    rule = blocked_by(view.blocklist, call.caller, now, tz=view.office.tz)
    if rule is not None:
        await call.play(view.greeting, "greeting")
        call.event("blocked", pattern=rule.pattern, reason=rule.reason)
        await call.play(SUSPENDED, "blocked")
        await call.finish(CallOutcome.BLOCKED)
        return True
    return await _over_limit(call, now)


async def _over_limit(call: Call, now: datetime) -> bool:
    """Past a per-caller limit: a notice, then an agent (who can tell abuse from need)."""
    which = await over_caller_limit(call.store, call.view, call.caller, now)
    if which is None:
        return False
    call.event("caller_limit", limit=which)
    log.warning("caller_limit", limit=which, caller=call.caller)
    # The greeting carries the recording notice, owed before an agent answers.
    await call.play(call.view.greeting, "greeting")
    await call.play(LIMIT_REACHED, "limit")
    if LIMIT_QUEUE in call.view.queue_max_wait_s:
        await queue(call, LIMIT_QUEUE)
    else:
        await call.session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
    return True
