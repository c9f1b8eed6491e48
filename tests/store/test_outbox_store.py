"""The outbox in the case store, on SQLite and PostgreSQL: once per key, one holder per
message, every attempt recorded, a crash mid-attempt found and handled per channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ivr.domain.outbox_policy import RetryPolicy
from ivr.domain.vocabulary import NotifyChannel, OutboxOutcome, OutboxState
from ivr.notify import enqueue
from ivr.notify.sender import Sender
from ivr.notify.transport import NotConfigured, PermanentFailure, TemporaryFailure
from ivr.store import CaseStore
from ivr.store import outbox as box
from ivr.store.repo import MIGRATIONS_DIR

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
POLICY = RetryPolicy(
    first_delay=timedelta(seconds=30), factor=2, max_delay=timedelta(hours=1), max_attempts=3
)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Scripted:
    """A channel that answers with the outcomes it is given, in order, and keeps what it sent."""

    def __init__(self, *outcomes: Exception | str) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[str] = []

    async def send(self, message: box.MessageRecord) -> str:
        self.sent.append(message.key)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def _sms(store: CaseStore, key: str = "case:1:completion:sms", at: datetime = T0) -> int:
    made = await enqueue(
        store,
        key=key,
        channel=NotifyChannel.SMS,
        recipient="0912345678",
        body="您的案件已完成",
        purpose="completion",
        ref="case:1",
        at=at,
    )
    return made.id


async def test_enqueueing_twice_is_one_message(store: CaseStore) -> None:
    first = await _sms(store)
    again = await enqueue(
        store,
        key="case:1:completion:sms",
        channel="sms",
        recipient="0987654321",
        body="another text",
        purpose="completion",
        at=T0 + timedelta(minutes=5),
    )
    assert again.id == first
    # The first message stands: a replayed enqueue does not rewrite it.
    assert again.recipient == "0912345678"
    assert [m.id for m in await box.list_messages(store)] == [first]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"channel": "fax"}, "unknown channel"),
        ({"key": ""}, "idempotency key"),
        ({"key": "k" * 129}, "idempotency key"),
        ({"recipient": "  "}, "recipient"),
        ({"body": ""}, "body"),
    ],
)
async def test_a_bad_message_is_refused(
    store: CaseStore, change: dict[str, str], error: str
) -> None:
    args: dict[str, object] = {
        "key": "k1",
        "channel": "email",
        "recipient": "a@example.com",
        "body": "text",
        "purpose": "digest",
        "at": T0,
        **change,
    }
    with pytest.raises(box.OutboxError, match=error):
        await enqueue(store, **args)  # type: ignore[arg-type]
    assert await box.list_messages(store) == []


async def test_a_leased_message_is_nobody_elses(store: CaseStore) -> None:
    message = await _sms(store)
    [mine] = await box.claim(store, sender="a", now=T0, lease=LEASE)
    assert mine.id == message
    assert await box.claim(store, sender="b", now=T0 + timedelta(seconds=59), lease=LEASE) == []
    # Only the holder may begin an attempt.
    assert await box.begin_attempt(store, message, sender="b", now=T0, lease=LEASE) is None
    # Unattempted and past its lease: another sender may take it.
    [theirs] = await box.claim(store, sender="b", now=T0 + LEASE, lease=LEASE)
    assert theirs.lease_owner == "b"


async def test_a_message_not_yet_due_is_not_claimed(store: CaseStore) -> None:
    await _sms(store, at=T0 + timedelta(minutes=1))
    assert await box.claim(store, sender="a", now=T0, lease=LEASE) == []
    assert len(await box.claim(store, sender="a", now=T0 + timedelta(minutes=1), lease=LEASE)) == 1


async def test_failures_back_off_then_the_message_is_dead(store: CaseStore) -> None:
    message = await _sms(store)
    clock = Clock()
    channel = Scripted(
        TemporaryFailure("gateway failed: HTTP 500"),
        TemporaryFailure("gateway timed out"),
        TemporaryFailure("gateway unreachable"),
    )
    sender = Sender(store, {NotifyChannel.SMS: channel}, clock, POLICY, lease=LEASE, name="s1")
    assert await sender.run_once() == 1
    after_one = await box.get(store, str(message))
    assert after_one is not None
    assert after_one.state is OutboxState.PENDING
    assert after_one.next_attempt_at == T0 + timedelta(seconds=30)
    # Not due yet: nothing happens.
    clock.now = T0 + timedelta(seconds=29)
    assert await sender.run_once() == 0
    clock.now = T0 + timedelta(seconds=30)
    await sender.run_once()
    again = await box.get(store, str(message))
    assert again is not None
    assert again.next_attempt_at == clock.now + timedelta(seconds=60)
    clock.now += timedelta(seconds=60)
    await sender.run_once()
    dead = await box.get(store, str(message))
    assert dead is not None
    assert dead.state is OutboxState.DEAD
    assert dead.next_attempt_at is None
    assert [(a.seq, a.outcome) for a in dead.history] == [
        (1, OutboxOutcome.FAILED),
        (2, OutboxOutcome.FAILED),
        (3, OutboxOutcome.FAILED),
    ]
    assert dead.history[0].detail == "gateway failed: HTTP 500"
    assert dead.last_error == "gateway unreachable"
    assert channel.sent == ["case:1:completion:sms"] * 3
    # A dead message is left alone until an operator retries it.
    clock.now += timedelta(days=1)
    assert await sender.run_once() == 0
    revived = await box.retry(store, str(message), now=clock.now)
    assert revived.state is OutboxState.PENDING
    await sender.run_once()
    done = await box.get(store, str(message))
    assert done is not None
    assert done.state is OutboxState.DELIVERED
    assert done.delivered_at == clock.now
    assert [a.outcome for a in done.history][-1] == OutboxOutcome.DELIVERED


async def test_a_permanent_refusal_is_not_retried(store: CaseStore) -> None:
    message = await _sms(store)
    channel = Scripted(PermanentFailure("gateway refused: HTTP 400 bad number"))
    sender = Sender(store, {NotifyChannel.SMS: channel}, Clock(), POLICY, lease=LEASE)
    await sender.run_once()
    dead = await box.get(store, str(message))
    assert dead is not None
    assert (dead.state, dead.attempts) == (OutboxState.DEAD, 1)
    assert dead.history[0].outcome == OutboxOutcome.REJECTED


async def test_only_dead_or_unknown_messages_are_retried(store: CaseStore) -> None:
    message = await _sms(store)
    with pytest.raises(box.OutboxError, match="pending"):
        await box.retry(store, str(message), now=T0)
    with pytest.raises(box.OutboxError, match="no message"):
        await box.retry(store, "no-such-key", now=T0)


async def _crash_mid_attempt(store: CaseStore, message: int) -> None:
    """What a sender killed during its network call leaves behind."""
    [claimed] = await box.claim(store, sender="dead", now=T0, lease=LEASE)
    assert claimed.id == message
    assert await box.begin_attempt(store, message, sender="dead", now=T0, lease=LEASE) == 1


@pytest.mark.parametrize(
    ("channel", "recipient", "final", "resent"),
    [
        (NotifyChannel.SMS, "0912345678", OutboxState.DELIVERED, True),
        (NotifyChannel.EMAIL, "citizen@example.com", OutboxState.DELIVERED, True),
        (NotifyChannel.PHONE, "0912345678", OutboxState.UNKNOWN, False),
    ],
)
async def test_a_crash_mid_attempt_is_recovered_per_channel(
    store: CaseStore,
    channel: NotifyChannel,
    recipient: str,
    final: OutboxState,
    resent: bool,
) -> None:
    made = await enqueue(
        store,
        key=f"case:7:completion:{channel.value}",
        channel=channel,
        recipient=recipient,
        body="您的案件已完成",
        purpose="completion",
        at=T0,
    )
    await _crash_mid_attempt(store, made.id)
    clock = Clock(T0 + timedelta(seconds=30))
    transport = Scripted()
    sender = Sender(store, {channel: transport}, clock, POLICY, lease=LEASE, name="new")
    # The dead sender's lease still holds: nothing is touched.
    assert await sender.run_once() == 0
    clock.now = T0 + LEASE
    await sender.run_once()
    await sender.run_once()
    after = await box.get(store, str(made.id))
    assert after is not None
    assert after.state is final
    assert after.history[0].outcome == OutboxOutcome.INTERRUPTED
    assert transport.sent == ([made.key] if resent else [])
    assert sender.tally.recovered == [made.id]


async def test_two_senders_never_hold_the_same_message(store: CaseStore) -> None:
    ids = [await _sms(store, key=f"k{i}") for i in range(30)]
    a = await box.claim(store, sender="a", now=T0, lease=LEASE, limit=20)
    b = await box.claim(store, sender="b", now=T0, lease=LEASE, limit=20)
    assert len(a) == 20
    assert {m.id for m in a}.isdisjoint({m.id for m in b})
    assert {m.id for m in a} | {m.id for m in b} == set(ids)


async def test_upgrade_from_0007_keeps_tickets_and_adds_the_outbox(db_url: str) -> None:
    """A store written by the schema before the outbox upgrades in place."""
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0007(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0007)
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at, after_outage) "
                    "VALUES ('25030001', '0912345678', 'dot', 'no_answer', 'open', :t, :t, false)"
                ),
                {"t": T0},
            )
        await store.migrate()
        old = await store.get_ticket_by_number("25030001")
        assert old is not None
        assert old.caller_number == "0912345678"
        message = await _sms(store)
        found = await box.get(store, "case:1:completion:sms")
        assert found is not None
        assert found.id == message
    finally:
        await store.close()


async def test_a_channel_not_configured_uses_up_no_attempts(store: CaseStore) -> None:
    message = await _sms(store)
    clock = Clock()
    sms = NotConfigured("the SMS gateway (notify.yaml: sms)")
    sender = Sender(store, {NotifyChannel.SMS: sms}, clock, POLICY, lease=LEASE)
    await sender.run_once()
    waiting = await box.get(store, str(message))
    assert waiting is not None
    assert (waiting.state, waiting.attempts, waiting.history) == (OutboxState.PENDING, 0, ())
    assert waiting.next_attempt_at == T0 + POLICY.max_delay
    assert waiting.last_error == "the SMS gateway (notify.yaml: sms) is not configured"
    # Configured now: sent on its next look.
    clock.now = T0 + POLICY.max_delay
    gateway = Scripted()
    await Sender(store, {NotifyChannel.SMS: gateway}, clock, POLICY, lease=LEASE).run_once()
    assert gateway.sent == [waiting.key]


async def test_a_fault_in_a_channel_is_a_failed_attempt(store: CaseStore) -> None:
    message = await _sms(store)
    channel = Scripted(RuntimeError("a bug in the channel"))
    await Sender(store, {NotifyChannel.SMS: channel}, Clock(), POLICY, lease=LEASE).run_once()
    found = await box.get(store, str(message))
    assert found is not None
    assert (found.state, found.next_attempt_at) == (OutboxState.PENDING, T0 + timedelta(seconds=30))
    assert found.history[0].detail == "RuntimeError: a bug in the channel"
