"""Notifications: one outbox for every message to a citizen or an official.

Enqueue with `enqueue` (a store write, idempotent by key); the sender (`sender.py`)
delivers by e-mail (`mail.py`), SMS over an HTTP gateway (`sms.py`) or a phone call
that reads the text (`phone.py`). See docs/notifications.md.
"""

from ivr.domain.vocabulary import NotifyChannel, OutboxState
from ivr.store.outbox import MessageRecord, OutboxError, enqueue

__all__ = ["MessageRecord", "NotifyChannel", "OutboxError", "OutboxState", "enqueue"]
