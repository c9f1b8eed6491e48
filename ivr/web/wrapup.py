"""A wrap-up that must be done before the agent is offered the next call (per queue).

A queue with `wrapup_form: true` (agents.yaml) holds its agents after each call until
they submit the wrap-up form on their page. The hold is the page's own pause (AMI
QueuePause on every queue of the agent's skills, reason `after_call_work`, stored as
the phone's `*47 3` is), sent when the agent answers (AgentConnect), not when the call
ends: a member paused during a call stays in the call, and Asterisk offers a paused
member nothing, so no next call can slip in between the hang-up and the pause. The
form's submission resumes the agent, unless they have left the queues or resumed (or
paused for another reason) from the phone meanwhile: the newest state wins, as ever.
"""

from __future__ import annotations

from typing import Any

import structlog

from ivr.asterisk.generate import queue_name
from ivr.domain.vocabulary import PauseReason
from ivr.web import agents
from ivr.web.agents import AgentAction, AgentError
from ivr.web.context import Console

log = structlog.get_logger()

# The key in the pop that says this call's wrap-up holds the agent.
HELD = "wrapup_form"


def needs_form(ctx: Console, queue: str) -> bool:
    """Whether the Asterisk queue `queue` holds its agents for the wrap-up form."""
    return any(queue_name(q.id) == queue and q.wrapup_form for q in ctx.tables().agents.queues)


async def hold(ctx: Console, agent_id: str, pop: dict[str, Any]) -> None:
    """Pause the agent for this call's wrap-up (AMI QueuePause), and mark the pop."""
    if not needs_form(ctx, str(pop.get("queue", ""))):
        return
    pop[HELD] = True
    ctx.hub.wrapup_held[agent_id] = str(pop.get("uniqueid", ""))
    try:
        await agents.change(ctx, agent_id, AgentAction.PAUSE, PauseReason.AFTER_CALL_WORK)
    except AgentError as exc:
        # Without AMI the queue's own wrapuptime still spaces the calls; the form is
        # still asked for.
        log.warning("wrapup_hold_failed", agent=agent_id, error=exc.key)


async def release(ctx: Console, agent_id: str, uniqueid: str) -> None:
    """After the form: resume the agent that this call's wrap-up held, and no other."""
    if ctx.hub.wrapup_held.get(agent_id) != uniqueid:
        return
    del ctx.hub.wrapup_held[agent_id]
    view = await agents.view(ctx, agent_id)
    if view.state != "paused" or view.reason != PauseReason.AFTER_CALL_WORK:
        return
    try:
        await agents.change(ctx, agent_id, AgentAction.RESUME)
    except AgentError as exc:
        log.warning("wrapup_release_failed", agent=agent_id, error=exc.key)
