"""Keeps each queue's spoken wait estimate current (issue 18, "honest waiting").

Every minute, for every queue: how many callers wait and how many agents are signed
in and not paused (AMI QueueStatus), the last hour's talk times (the store's queue
stays), the estimate for a caller joining now at the back (ivr.domain.wait_estimate,
an upper bound for everyone already waiting), published as the queue's estimate
sound (ivr.asterisk.queue_sounds). The call flow publishes the same just before a
caller joins (ivr.flow.wait_announce), so the first estimate a caller hears counts
them too. Any failure here says nothing rather than something stale: the link is
removed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ivr.adapters.ami import AmiActionFailed, AmiClient, AmiUnavailable
from ivr.asterisk.generate import queue_name
from ivr.asterisk.queue_sounds import prompt_language, publish
from ivr.domain.clock import Clock
from ivr.domain.queueing import QueuePolicy
from ivr.domain.wait_estimate import WINDOW, Handled, WaitEstimate, estimate_wait
from ivr.routing.view import RoutingView
from ivr.store import StoreUnavailable
from ivr.store.queue_legs import QueueLegs

log = structlog.get_logger()

REFRESH_S = 60.0
# app_queue's device states of a member whose phone cannot ring (ast_device_state).
_UNREACHABLE = frozenset({"4", "5"})  # AST_DEVICE_INVALID, AST_DEVICE_UNAVAILABLE


async def handled(legs: QueueLegs | None, queue: str, now: datetime) -> list[Handled]:
    """The queue's last hour of conversations; none when the store cannot say."""
    if legs is None:
        return []
    try:
        return await legs.handled_since(queue, now - WINDOW)
    except (SQLAlchemyError, OSError, StoreUnavailable):
        log.warning("wait_estimate_no_store", queue=queue)
        return []


def publish_estimate(
    sounds_dir: Path,
    policy: QueuePolicy,
    default_language: str,
    estimate: WaitEstimate | None,
) -> bool:
    """Write the queue's announcement links; False if the files could not be written
    (the caller then hears what app_queue finds, never a stale estimate we know of)."""
    language = prompt_language(sounds_dir, policy.language, default_language)
    try:
        publish(sounds_dir, policy.queue, language, estimate.prompt if estimate else None)
    except OSError as exc:
        log.warning("wait_estimate_not_published", queue=policy.queue, error=str(exc))
        return False
    return True


@dataclass
class WaitKeeper:
    ami: AmiClient
    legs: QueueLegs
    clock: Clock
    sounds_dir: Path
    view: Callable[[], RoutingView]
    every_s: float = REFRESH_S

    async def run(self) -> None:
        # The engine starts this beside AMI's first connection; the first pass needs it.
        with contextlib.suppress(AmiUnavailable):
            await self.ami.wait_connected(10.0)
        while True:
            await self.refresh_all()
            await asyncio.sleep(self.every_s)

    async def refresh_all(self) -> None:
        view = self.view()
        for policy in view.queues.values():
            await self.refresh(policy, view.default_language)

    async def refresh(self, policy: QueuePolicy, default_language: str) -> WaitEstimate | None:
        estimate: WaitEstimate | None = None
        try:
            waiting, agents = await self._status(policy.queue)
        except (AmiUnavailable, AmiActionFailed) as exc:
            # Not knowing the queue is not knowing the wait: say nothing.
            log.warning("wait_estimate_no_status", queue=policy.queue, error=str(exc))
        else:
            now = self.clock()
            talk = await handled(self.legs, policy.queue, now)
            estimate = estimate_wait(talk, now=now, position=waiting + 1, agents=agents)
        publish_estimate(self.sounds_dir, policy, default_language, estimate)
        return estimate

    async def _status(self, queue: str) -> tuple[int, int]:
        """(callers waiting, agents signed in and not paused) from AMI QueueStatus."""
        messages = await self.ami.action_list({"Action": "QueueStatus", "Queue": queue_name(queue)})
        waiting = sum(1 for m in messages if m.get("Event") == "QueueEntry")
        agents = sum(
            1
            for m in messages
            if m.get("Event") == "QueueMember"
            and m.get("Paused", "0") == "0"
            and m.get("Status", "") not in _UNREACHABLE
        )
        return waiting, agents
