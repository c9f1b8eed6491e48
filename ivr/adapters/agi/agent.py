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
from typing import Protocol

import structlog

from ivr.adapters.fastagi.server import AGISession
from ivr.asterisk.generate import agent_queues
from ivr.domain.clock import Clock
from ivr.domain.vocabulary import PAUSE_REASON_DIGITS, AgentState, PauseReason
from ivr.prompts import prompt_path
from ivr.routing.agent_language import agent_by_extension, agent_prompt_language
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


class StateSaver(Protocol):
    def __call__(
        self, agent: str, state: str, at: datetime, queues: list[str], reason: str | None = None
    ) -> Awaitable[None]: ...


def pause_reason(args: list[str]) -> PauseReason | None:
    """`*47` + digit: the reason; `*47` alone: unspecified; an unknown digit: None."""
    digit = args[1] if len(args) > 1 else ""
    if not digit:
        return PauseReason.UNSPECIFIED
    return PAUSE_REASON_DIGITS.get(digit)


@dataclass(frozen=True)
class AgentScript:
    clock: Clock
    sounds_dir: Path
    tables: Callable[[], RoutingTables]
    save_state: StateSaver

    async def __call__(self, session: AGISession) -> None:
        action = session.request.args[0] if session.request.args else ""
        extension = session.request.callerid
        tables = self.tables()
        agent = agent_by_extension(tables, extension)
        # An unknown phone hears the hotline's default language.
        language = (
            agent_prompt_language(tables, agent)
            if agent is not None
            else tables.profile.default_language
        )
        if action not in ACTIONS:
            log.warning("agent_unknown_action", action=action, extension=extension)
            await self._say(session, "agent-not-known", language)
            return
        try:
            agent_id, queues = agent_queues(tables, extension)
        except KeyError:
            log.warning("agent_unknown_phone", extension=extension)
            await self._say(session, "agent-not-known", language)
            return
        structlog.contextvars.bind_contextvars(agent=agent_id)
        interface = f"PJSIP/{extension}"
        reason = pause_reason(list(session.request.args)) if action == "pause" else None
        if action == "pause" and reason is None:
            log.warning("agent_unknown_pause_reason", args=list(session.request.args))
            await self._say(session, "agent-not-known", language)
            return
        for queue in queues:
            if action == "login":
                # membername = agent id: the caller's MEMBERNAME names the agent.
                args = f"{queue},{interface},,,{agent_id}"
                await session.exec_("AddQueueMember", args)
            elif action == "logout":
                await session.exec_("RemoveQueueMember", f"{queue},{interface}")
            elif action == "pause":
                # The reason shows in `queue show`, queue_log and AMI's QueueMemberPause.
                await session.exec_("PauseQueueMember", f"{queue},{interface},,{reason}")
            else:
                await session.exec_("UnpauseQueueMember", f"{queue},{interface}")
        state = ACTIONS[action]
        await self.save_state(agent_id, state, self.clock(), queues, reason)
        log.info("agent_state", state=state, queues=queues, reason=reason)
        await self._say(session, f"agent-{action}", language)

    async def _say(self, session: AGISession, prompt: str, language: str) -> None:
        # The agent's own language (ivr.routing.agent_language).
        log.debug("agent_prompt", prompt=prompt, language=language)
        await session.stream_file(str(prompt_path(self.sounds_dir, language, prompt)))
