"""E-mail from the outbox through a real SMTP server (aiosmtpd) the test starts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ivr.adapters.mail import SmtpMailer
from ivr.domain.outbox_policy import RetryPolicy
from ivr.domain.vocabulary import NotifyChannel, OutboxOutcome, OutboxState
from ivr.notify import enqueue
from ivr.notify.mail import OutboxMailer, message_id
from ivr.notify.sender import Sender
from ivr.store import CaseStore
from ivr.store import outbox as box
from tests.harness import free_port
from tests.integration.test_overdue_mail import Mailbox, body

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FROM = "hotline1999@hotline.example"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    server = Mailbox(free_port())
    server.start()
    yield server
    server.stop()


def _sender(store: CaseStore, mailbox: Mailbox) -> Sender:
    mailer = OutboxMailer(SmtpMailer("127.0.0.1", mailbox.port, FROM, timeout_s=5))
    return Sender(store, {NotifyChannel.EMAIL: mailer}, lambda: T0, RetryPolicy(), name="m")


async def _mail(store: CaseStore, recipient: str = "citizen@example.tw") -> int:
    made = await enqueue(
        store,
        key="case:5:reply:email",
        channel=NotifyChannel.EMAIL,
        recipient=recipient,
        subject="案件 2511000005 回覆",
        body="您好，您的陳情已回覆。",  # noqa: RUF001 - Chinese punctuation in Chinese text
        purpose="reply",
        at=T0,
    )
    return made.id


async def test_an_email_goes_once_with_a_message_id_from_its_key(
    store: CaseStore, mailbox: Mailbox
) -> None:
    made = await _mail(store)
    sender = _sender(store, mailbox)
    await sender.run_once()
    await sender.run_once()
    [received] = mailbox.received
    assert received.to == ["citizen@example.tw"]
    assert received.message["Subject"] == "案件 2511000005 回覆"
    assert received.message["Message-ID"] == message_id("case:5:reply:email", FROM)
    assert body(received).strip() == "您好，您的陳情已回覆。"  # noqa: RUF001
    done = await box.get(store, str(made))
    assert done is not None
    assert done.state is OutboxState.DELIVERED


async def test_a_refused_email_waits_for_its_next_attempt(
    store: CaseStore, mailbox: Mailbox
) -> None:
    mailbox.handler.refuse = True
    made = await _mail(store)
    await _sender(store, mailbox).run_once()
    found = await box.get(store, str(made))
    assert found is not None
    assert found.state is OutboxState.PENDING
    assert found.history[0].outcome == OutboxOutcome.FAILED
    assert "451" in (found.history[0].detail or "")


async def test_a_malformed_address_is_dead_at_once(store: CaseStore, mailbox: Mailbox) -> None:
    made = await _mail(store, recipient="not an address")
    await _sender(store, mailbox).run_once()
    found = await box.get(store, str(made))
    assert found is not None
    assert found.state is OutboxState.DEAD
    assert mailbox.received == []
