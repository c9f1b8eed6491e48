"""What every channel's sender promises: deliver one message, or say how it failed."""

from __future__ import annotations

from typing import Protocol

from ivr.errors import HotlineError
from ivr.store.outbox import MessageRecord


class TemporaryFailure(HotlineError):
    """Worth another try later: a timeout, a 5xx, a refused connection, a busy line."""

    code = "notify.temporary_failure"


class PermanentFailure(HotlineError):
    """No retry will cure it: the gateway refused the request (4xx), a malformed address."""

    code = "notify.permanent_failure"


class Transport(Protocol):
    async def send(self, message: MessageRecord) -> str:
        """Deliver `message`; return a detail for the attempt's record (e.g. the gateway's
        reply). Raise TemporaryFailure or PermanentFailure otherwise."""


class NotConfigured:
    """A channel with no configuration: the sender leaves its messages pending."""

    def __init__(self, what: str) -> None:
        self.what = what

    async def send(self, message: MessageRecord) -> str:
        raise TemporaryFailure(f"{self.what} is not configured")
