"""A queue of agents: up to three rounds of its longest wait, then the survey."""

from __future__ import annotations

from ivr import dialplan_vars as dv
from ivr.asterisk.generate import queue_name
from ivr.domain.vocabulary import CallOutcome
from ivr.flow.call import CONVERSATION_LIMIT_S, Call
from ivr.flow.survey import survey

# Times a caller re-enters a queue after waiting the table's longest wait.
QUEUE_ROUNDS = 3
# A queue the tables do not bound (none does today) keeps a caller this long a round.
DEFAULT_MAX_WAIT_S = 600


async def queue(call: Call, name: str) -> None:
    max_wait = call.view.queue_max_wait_s.get(name, DEFAULT_MAX_WAIT_S)
    call.event("queue_enter", queue=name, language=call.language)
    await call.tracker.outcome(call.uniqueid, CallOutcome.QUEUED)
    call.steps.append("queue")
    session = call.session
    status: str | None = None
    for _ in range(QUEUE_ROUNDS):
        # c: come back here when the agent hangs up first, for the survey (T8).
        # b(): the agent's leg (only that leg) gets the transfer key, 8 + a unit code.
        await session.command(
            "EXEC",
            "Queue",
            f"{queue_name(name)},cb({dv.AGENT_LEG_GOSUB}),,,{max_wait}",
            timeout=max_wait + CONVERSATION_LIMIT_S,
        )
        queued = await session.get_variables("QUEUESTATUS", "MEMBERNAME")
        status, agent = queued["QUEUESTATUS"] or None, queued["MEMBERNAME"] or None
        call.event("queue_leave", queue=name, status=status, agent=agent)
        if agent:
            await survey(call, agent, name)
            return
        if status != "TIMEOUT":
            break
    # The queue could not take the caller (or kept them too long): hand over to the
    # dialplan's agents' queue, which every logged-in agent serves. Never a hangup.
    await call.to_agents(queue_status=status)
