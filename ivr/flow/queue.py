"""A queue of agents: waiting with a choice, a callback in the caller's language, or
the survey after the conversation (ivr.flow.waiting)."""

from __future__ import annotations

from ivr.flow.call import Call
from ivr.flow.waiting import wait_in_queue


async def queue(call: Call, name: str) -> None:
    # No silent overflow: the caller leaves this queue only for an agent, a callback,
    # or the other-language queue they chose by key (DOMAIN 3a).
    await wait_in_queue(call, name)
