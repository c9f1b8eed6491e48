"""When the outbox tries a message again, and what a crash mid-attempt means. Pure.

Backoff is exponential: the n-th failed attempt waits `first_delay * factor**(n-1)`,
capped at `max_delay`, and after `max_attempts` attempts the message is dead. No
jitter: the sender sends one message at a time, so there is no herd to spread, and a
deterministic schedule is what an operator can read off `ivr outbox show`.

Crash recovery differs per channel (see docs/notifications.md):

- SMS carries the message's idempotency key as the gateway's client message id, so
  sending again after a crash is safe: the gateway drops the repeat. At least once to
  the gateway, once to the handset.
- E-mail has no such field in SMTP. The Message-ID is derived from the key, so a
  repeat is recognisable, but a mail the server took just before the crash goes out
  again: at least once.
- A phone call cannot be taken back or recognised by the far end: a call interrupted
  by a crash is not made again on its own (at most once). The message goes to
  "unknown" and an operator resends it with `ivr outbox retry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.domain.vocabulary import NotifyChannel, OutboxState


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, got {self.factor}")
        if self.first_delay < timedelta(0) or self.max_delay < self.first_delay:
            raise ValueError("need 0 <= first_delay <= max_delay")

    def delay_after(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        if attempts < 1:
            raise ValueError(f"attempts counts from 1, got {attempts}")
        # Capped in float seconds first: factor**attempts overflows timedelta long before
        # it overflows a float.
        seconds = self.first_delay.total_seconds() * self.factor ** min(attempts - 1, 64)
        return timedelta(seconds=min(seconds, self.max_delay.total_seconds()))


@dataclass(frozen=True)
class Next:
    """What becomes of a message after an attempt: its state and, if pending, when."""

    state: OutboxState
    at: datetime | None = None


def after_failure(policy: RetryPolicy, attempts: int, now: datetime, *, permanent: bool) -> Next:
    """After the `attempts`-th attempt failed: try again later, or give up."""
    if permanent or attempts >= policy.max_attempts:
        return Next(OutboxState.DEAD)
    return Next(OutboxState.PENDING, now + policy.delay_after(attempts))


def resend_after_crash(channel: NotifyChannel) -> bool:
    """Whether an attempt interrupted by a crash may be made again without asking."""
    return channel is not NotifyChannel.PHONE


def after_crash(policy: RetryPolicy, channel: NotifyChannel, attempts: int, now: datetime) -> Next:
    """A message found "sending" with its sender gone."""
    if not resend_after_crash(channel):
        return Next(OutboxState.UNKNOWN)
    # The interrupted attempt counts: a message that crashes its sender every time
    # must still end, dead, rather than loop forever. It is retried at once, as a
    # crash says nothing about the recipient.
    if attempts >= policy.max_attempts:
        return Next(OutboxState.DEAD)
    return Next(OutboxState.PENDING, now)
