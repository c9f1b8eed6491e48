"""The outbox's sender: claim due messages, deliver each through its channel, record.

One message at a time, in this order, each step committed before the next:

1. `claim` leases a batch of due messages (and messages whose sender died while
   sending) to this sender;
2. a message found "sending" is recovered: its open attempt is marked interrupted,
   and it is sent again at once, or, for a phone call, set aside as "unknown"
   (`ivr.domain.outbox_policy.after_crash`);
3. otherwise `begin_attempt` records the attempt as "sending" — before the network
   call, so a crash during the call leaves that mark for step 2;
4. the channel delivers, and `finish_attempt` records the outcome and the next state:
   delivered, pending again after the backoff, or dead.

The lease (`lease_s`) must outlast the slowest delivery (SMS timeout, phone ring),
or a second sender could take over a message still being sent; the defaults leave
a wide margin.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from ivr.background import Background
from ivr.domain.clock import Clock
from ivr.domain.outbox_policy import Next, RetryPolicy, after_crash, after_failure
from ivr.domain.vocabulary import NotifyChannel, OutboxOutcome, OutboxState
from ivr.notify.transport import NotConfigured, PermanentFailure, TemporaryFailure, Transport
from ivr.store import CaseStore, StoreUnavailable
from ivr.store import outbox as box

log = structlog.get_logger(__name__)


def sender_name() -> str:
    """Host and process: unique among live senders, and says who held a lease."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass
class Tally:
    """What rounds did, by message id: for logs, tests and `ivr outbox run`."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)


class Sender:
    def __init__(
        self,
        store: CaseStore,
        transports: Mapping[NotifyChannel, Transport],
        clock: Clock,
        policy: RetryPolicy,
        *,
        lease: timedelta = timedelta(seconds=120),
        interval_s: float = 5.0,
        batch: int = 20,
        name: str | None = None,
    ) -> None:
        self._store = store
        self._transports = transports
        self._clock = clock
        self._policy = policy
        self._lease = lease
        self._interval_s = interval_s
        self._batch = batch
        self.name = name or sender_name()
        self.tally = Tally()
        self._sending = Background("outbox-sender", self.run_forever)

    async def run_once(self) -> int:
        """Handle every message due now, in batches; return how many were handled."""
        handled = 0
        while True:
            claimed = await box.claim(
                self._store,
                sender=self.name,
                now=self._clock(),
                lease=self._lease,
                limit=self._batch,
            )
            for message in claimed:
                await self._handle(message)
            handled += len(claimed)
            if len(claimed) < self._batch:
                return handled

    async def _handle(self, message: box.MessageRecord) -> None:
        if message.state is OutboxState.SENDING:
            await self._recover(message)
            return
        transport = self._transports.get(message.channel)
        if transport is None or isinstance(transport, NotConfigured):
            # Not the message's fault: it waits, without using up its attempts, and is
            # looked at again after the longest backoff.
            what = transport.what if transport else message.channel.value
            await box.postpone(
                self._store,
                message.id,
                sender=self.name,
                until=self._clock() + self._policy.max_delay,
                reason=f"{what} is not configured",
            )
            return
        seq = await box.begin_attempt(
            self._store, message.id, sender=self.name, now=self._clock(), lease=self._lease
        )
        if seq is None:
            log.info("outbox_lease_lost", message=message.id)
            return
        outcome, detail, next_step = OutboxOutcome.DELIVERED, "", Next(OutboxState.DELIVERED)
        try:
            detail = await transport.send(message)
        except TemporaryFailure as exc:
            outcome, detail = OutboxOutcome.FAILED, str(exc)
            next_step = after_failure(self._policy, seq, self._clock(), permanent=False)
        except PermanentFailure as exc:
            outcome, detail = OutboxOutcome.REJECTED, str(exc)
            next_step = after_failure(self._policy, seq, self._clock(), permanent=True)
        except Exception as exc:
            # A fault in a channel's code: recorded like a failure, so that it backs off
            # and ends dead instead of holding the message "sending" until the lease ends.
            log.exception("outbox_channel_fault", message=message.id)
            outcome, detail = OutboxOutcome.FAILED, f"{type(exc).__name__}: {exc}"
            next_step = after_failure(self._policy, seq, self._clock(), permanent=False)
        kept = await box.finish_attempt(
            self._store,
            message.id,
            seq,
            sender=self.name,
            now=self._clock(),
            outcome=outcome,
            detail=detail,
            next_step=next_step,
        )
        self._count(message.id, next_step.state)
        log.info(
            "outbox_attempt",
            message=message.id,
            channel=message.channel.value,
            purpose=message.purpose,
            attempt=seq,
            outcome=outcome.value,
            next_state=next_step.state.value,
            next_at=next_step.at.isoformat() if next_step.at else None,
            detail=detail if outcome is not OutboxOutcome.DELIVERED else None,
            lease_kept=kept,
        )

    async def _recover(self, message: box.MessageRecord) -> None:
        next_step = after_crash(self._policy, message.channel, message.attempts, self._clock())
        if await box.recover(
            self._store, message.id, sender=self.name, now=self._clock(), next_step=next_step
        ):
            self.tally.recovered.append(message.id)
            if next_step.state is OutboxState.UNKNOWN:
                self.tally.unknown.append(message.id)
            log.warning(
                "outbox_attempt_interrupted",
                message=message.id,
                channel=message.channel.value,
                next_state=next_step.state.value,
            )

    def _count(self, message_id: int, state: OutboxState) -> None:
        if state is OutboxState.DELIVERED:
            self.tally.delivered.append(message_id)
        elif state is OutboxState.DEAD:
            self.tally.dead.append(message_id)
        else:
            self.tally.retrying.append(message_id)

    # -- background task -----------------------------------------------------------

    def start(self) -> None:
        self._sending.start()

    async def stop(self) -> None:
        await self._sending.stop()

    async def close(self) -> None:
        """Close the channels' connections (the SMS gateway's HTTP client)."""
        for transport in self._transports.values():
            close = getattr(transport, "close", None)
            if close is not None:
                await close()

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except StoreUnavailable as exc:
                log.warning("outbox_round_skipped", error=str(exc))
            except Exception:
                # One bad round must not end notifications for good.
                log.exception("outbox_round_failed")
            await asyncio.sleep(self._interval_s)
