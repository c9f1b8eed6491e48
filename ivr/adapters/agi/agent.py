"""`AGI(agi://…/agent,ACTION)`: agents log in, out, pause and resume from their phone.

Feature codes (*45 login, *46 logout, *47 pause, *48 resume) reach this script from
the agent phones' context. The phone is known by its caller id, which the PJSIP
endpoint forces, so an agent cannot act for another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from ivr.adapters.fastagi.server import AGISession
from ivr.asterisk.generate import agent_queues
from ivr.domain.clock import Clock
from ivr.domain.vocabulary import AgentState
from ivr.prompts import prompt_path
from ivr.routing.tables import RoutingTables

log = structlog.get_logger()

AGENT_SCRIPT_NAME = "agent"
ACTIONS = {
    "login": AgentState.LOGGED_IN,
    "logout": AgentState.LOGGED_OUT,
    "pause": AgentState.PAUSED,
    "unpause": AgentState.UNPAUSED,
}
# Agents hear the outcome of each feature code.
AGENT_PROMPTS = ("agent-login", "agent-logout", "agent-pause", "agent-unpause", "agent-not-known")
StateSaver = Callable[[str, str, datetime, list[str]], Awaitable[None]]


@dataclass(frozen=True)
class AgentScript:
    clock: Clock
    sounds_dir: Path
    tables: Callable[[], RoutingTables]
    save_state: StateSaver

    async def __call__(self, session: AGISession) -> None:
        action = session.request.args[0] if session.request.args else ""
        extension = session.request.callerid
        if action not in ACTIONS:
            log.warning("agent_unknown_action", action=action, extension=extension)
            await self._say(session, "agent-not-known")
            return
        try:
            agent_id, queues = agent_queues(self.tables(), extension)
        except KeyError:
            log.warning("agent_unknown_phone", extension=extension)
            await self._say(session, "agent-not-known")
            return
        structlog.contextvars.bind_contextvars(agent=agent_id)
        interface = f"PJSIP/{extension}"
        for queue in queues:
            if action == "login":
                # membername = agent id: the caller's MEMBERNAME names the agent.
                args = f"{queue},{interface},,,{agent_id}"
                await session.exec_("AddQueueMember", args)
            elif action == "logout":
                await session.exec_("RemoveQueueMember", f"{queue},{interface}")
            elif action == "pause":
                await session.exec_("PauseQueueMember", f"{queue},{interface}")
            else:
                await session.exec_("UnpauseQueueMember", f"{queue},{interface}")
        state = ACTIONS[action]
        await self.save_state(agent_id, state, self.clock(), queues)
        log.info("agent_state", state=state, queues=queues)
        await self._say(session, f"agent-{action}")

    async def _say(self, session: AGISession, prompt: str) -> None:
        # Agents hear the default language; their own language is a later refinement.
        await session.stream_file(str(prompt_path(self.sounds_dir, "zh-TW", prompt)))
