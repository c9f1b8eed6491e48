"""Agents' state from the console: the same queue actions as the phone's feature codes.

The phone's *45..*48 run AddQueueMember and friends in the dialplan; the console sends
their AMI twins (QueueAdd, QueuePause, QueueRemove) for the same interface, member
name and queues, and stores the change the same way. A pause carries one of the
reasons of `*47` and a digit (vocabulary.PauseReason): Asterisk shows it in `queue
show`, writes it to its queue log and to QueueStatus, and the store keeps it. Either
way the store's newest state is the agent's state, so the page and the phone stay in
step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import structlog

from ivr.adapters.ami import AmiActionFailed, AmiUnavailable
from ivr.asterisk.generate import agent_queues
from ivr.domain.vocabulary import AgentState, PauseReason
from ivr.errors import ExitStatus, HotlineError
from ivr.web.context import Console
from ivr.web.hub import Message

log = structlog.get_logger()

# Asterisk answers QueueAdd for a member already there, or QueueRemove for one not
# there, with an error; the state wanted holds all the same.
_ALREADY = ("already there", "not there", "unable to remove")


class AgentAction(StrEnum):
    READY = "ready"
    PAUSE = "pause"
    RESUME = "resume"
    LEAVE = "leave"


class AgentError(HotlineError):
    """The state cannot be changed; the message says why (for the page)."""

    code = "web.agent_refused"
    exit_status = ExitStatus.REFUSED

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class AgentView:
    agent_id: str
    extension: str
    queues: tuple[str, ...]
    # "logged_out", "ready" or "paused" (as the page names them).
    state: str
    reason: str | None


def _shown(state: str | None) -> str:
    if state in (AgentState.LOGGED_IN, AgentState.UNPAUSED):
        return "ready"
    if state == AgentState.PAUSED:
        return "paused"
    return "logged_out"


def _agent(ctx: Console, agent_id: str | None) -> tuple[str, str, list[str]]:
    if agent_id is None:
        raise AgentError("no_agent")
    tables = ctx.tables()
    for agent in tables.agents.agents:
        if agent.id == agent_id:
            found, queues = agent_queues(tables, agent.extension)
            return found, agent.extension, queues
    raise AgentError("no_agent")


async def view(ctx: Console, agent_id: str | None) -> AgentView:
    found, extension, queues = _agent(ctx, agent_id)
    history = await ctx.store.agent_states(found, limit=1)
    latest = history[0] if history else None
    return AgentView(
        agent_id=found,
        extension=extension,
        queues=tuple(queues),
        state=_shown(latest.state if latest else None),
        reason=latest.reason if latest and latest.state == AgentState.PAUSED else None,
    )


async def change(
    ctx: Console, agent_id: str | None, action: AgentAction, reason: PauseReason | None = None
) -> AgentView:
    """Carry out `action` on every queue of the agent's skills, then store it."""
    found, extension, queues = _agent(ctx, agent_id)
    if ctx.ami is None or not ctx.ami.connected:
        raise AgentError("phone_down")
    interface = f"PJSIP/{extension}"
    if action is AgentAction.PAUSE and reason is None:
        # As `*47` alone on the phone.
        reason = PauseReason.UNSPECIFIED
    try:
        for queue in queues:
            await _queue_action(ctx, action, queue, interface, found, reason)
    except AmiUnavailable as exc:
        log.warning("console_agent_action_failed", agent=found, error=str(exc))
        raise AgentError("phone_down") from exc
    state = {
        AgentAction.READY: AgentState.LOGGED_IN,
        AgentAction.PAUSE: AgentState.PAUSED,
        AgentAction.RESUME: AgentState.UNPAUSED,
        AgentAction.LEAVE: AgentState.LOGGED_OUT,
    }[action]
    await ctx.store.record_agent_state(
        found,
        state,
        at=ctx.clock(),
        queues=queues,
        reason=str(reason) if action is AgentAction.PAUSE and reason else None,
    )
    shown = await view(ctx, found)
    ctx.hub.publish(found, Message("state", {"state": shown.state, "reason": shown.reason}))
    log.info("console_agent_state", agent=found, action=str(action), queues=queues)
    return shown


async def _queue_action(
    ctx: Console,
    action: AgentAction,
    queue: str,
    interface: str,
    agent_id: str,
    reason: PauseReason | None,
) -> None:
    assert ctx.ami is not None
    if action is AgentAction.READY:
        request = {
            "Action": "QueueAdd",
            "Queue": queue,
            "Interface": interface,
            "MemberName": agent_id,
            "Paused": "false",
        }
    elif action is AgentAction.LEAVE:
        request = {"Action": "QueueRemove", "Queue": queue, "Interface": interface}
    else:
        request = {
            "Action": "QueuePause",
            "Queue": queue,
            "Interface": interface,
            "Paused": "true" if action is AgentAction.PAUSE else "false",
            "Reason": str(reason or ""),
        }
    try:
        await ctx.ami.action(request, single=True)
    except AmiActionFailed as exc:
        if action is AgentAction.READY and any(w in str(exc).lower() for w in _ALREADY):
            # Already a member (signed in by phone): make sure it is not paused.
            await ctx.ami.action(
                {"Action": "QueuePause", "Queue": queue, "Interface": interface, "Paused": "false"},
                single=True,
            )
            return
        if action is AgentAction.LEAVE and any(w in str(exc).lower() for w in _ALREADY):
            return
        raise AgentError("phone_down") from exc
