"""The estimate a caller hears on entering a queue (issue 18, "honest waiting").

Asterisk says the position and plays the queue's estimate sound on entry and every
`announce_every_s` while the caller keeps their place (docs/queues.md). Just before
the caller joins, this step computes the estimate for a caller at the back of the
queue, which they are about to be, and publishes it, so the first estimate counts
them. The engine's WaitKeeper keeps it current after that.
"""

from __future__ import annotations

import structlog

from ivr.adapters.wait_keeper import handled, publish_estimate
from ivr.asterisk.generate import queue_name
from ivr.domain.queueing import QueuePolicy
from ivr.domain.wait_estimate import WaitEstimate, estimate_wait, recent_talk
from ivr.flow.call import Call

log = structlog.get_logger()


def _count(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


async def _answering_agents(call: Call, name: str) -> int:
    """Agents signed in to the queue, phones reachable, not paused."""
    session = call.session
    logged = _count(await session.get_variable(f"QUEUE_MEMBER({name},logged)"))
    members = (await session.get_variable(f"QUEUE_MEMBER_LIST({name})") or "").split(",")
    paused = 0
    for member in filter(None, members):
        paused += _count(await session.get_variable(f"QUEUE_MEMBER({name},paused,{member})"))
    # A paused member whose phone is also unreachable is subtracted twice: fewer
    # agents, a longer wait, still an upper bound.
    return max(0, logged - paused)


async def publish_entry_estimate(call: Call, policy: QueuePolicy) -> WaitEstimate | None:
    """Publish the estimate for this caller, about to join `policy`'s queue at the back,
    and return it (None: unknown, and nothing is said)."""
    name = queue_name(policy.queue)
    waiting = _count(await call.session.get_variable(f"QUEUE_WAITING_COUNT({name})"))
    agents = await _answering_agents(call, name)
    now = call.now()
    talk = await handled(call.services.queue_legs, policy.queue, now)
    estimate = estimate_wait(talk, now=now, position=waiting + 1, agents=agents)
    published = publish_estimate(
        call.services.sounds_dir, policy, call.view.default_language, estimate
    )
    call.event(
        "queue_estimate",
        queue=policy.queue,
        position=waiting + 1,
        agents=agents,
        answered=len(recent_talk(talk, now)),
        prompt=estimate.prompt if estimate and published else None,
    )
    # The figure is true whether or not the queue's file could be written: the offer
    # plays its prompt itself.
    return estimate
