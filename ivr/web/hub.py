"""Screen pops and state changes, from AMI events to each agent's open pages (SSE).

One bounded queue per open page: a page that stops reading loses old messages, never
the engine's memory. The last pop per agent is kept, so a page loaded (or reloaded,
without JavaScript) after the ring still shows the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

# Messages an open page may fall behind by before the oldest are dropped.
QUEUE_SIZE = 16


@dataclass(frozen=True)
class Message:
    event: str
    data: dict[str, Any]


class PopHub:
    def __init__(self) -> None:
        self._pages: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self.last_pop: dict[str, dict[str, Any]] = {}
        # Agents the queue holds for the wrap-up form: agent id -> the call's uniqueid.
        self.wrapup_held: dict[str, str] = {}
        # Open streams per session (by token hash): signing out ends them at once.
        self._sessions: dict[str, set[asyncio.Event]] = defaultdict(set)

    def publish(self, agent_id: str, message: Message) -> None:
        for queue in self._pages.get(agent_id, ()):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    def pages(self, agent_id: str) -> int:
        return len(self._pages.get(agent_id, ()))

    @contextlib.asynccontextmanager
    async def subscribe(self, agent_id: str) -> AsyncIterator[asyncio.Queue[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self._pages[agent_id].add(queue)
        try:
            yield queue
        finally:
            self._pages[agent_id].discard(queue)
            if not self._pages[agent_id]:
                del self._pages[agent_id]

    @contextlib.asynccontextmanager
    async def session_watch(self, session_key: str) -> AsyncIterator[asyncio.Event]:
        """An event set when the session `session_key` is signed out."""
        ended = asyncio.Event()
        self._sessions[session_key].add(ended)
        try:
            yield ended
        finally:
            self._sessions[session_key].discard(ended)
            if not self._sessions[session_key]:
                del self._sessions[session_key]

    def end_session(self, session_key: str) -> None:
        for ended in self._sessions.get(session_key, ()):
            ended.set()
