"""The outbox in the case store: enqueue, claim with a lease, record every attempt.

Every write is one transaction through the store's group committer, conditional on
the state it expects, so two senders (or a sender and `ivr outbox retry`) never both
act on one message:

- `enqueue` inserts and skips on a conflicting idempotency key: enqueueing the same
  message twice (a retried request, a replayed job) leaves one message.
- `claim` takes a lease on due messages with a conditional UPDATE; a message leased
  to a live sender is nobody else's until the lease runs out.
- `begin_attempt` records the attempt as "sending" and commits it *before* the
  network call, so a sender that dies mid-call leaves a trace that the next sender
  finds (`recover`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from ivr.domain.outbox_policy import Next
from ivr.domain.vocabulary import NotifyChannel, OutboxOutcome, OutboxState
from ivr.errors import HotlineError
from ivr.store.models import clip_to_column, require_utc_aware
from ivr.store.outbox_models import KEY_LENGTH, OutboxAttempt, OutboxMessage

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore


class OutboxError(HotlineError, ValueError):
    """A message that cannot be enqueued, or an outbox command that cannot be done."""

    code = "outbox.invalid"


@dataclass(frozen=True)
class AttemptRecord:
    seq: int
    sender: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    detail: str | None


@dataclass(frozen=True)
class MessageRecord:
    id: int
    key: str
    channel: NotifyChannel
    recipient: str
    subject: str
    body: str
    purpose: str
    ref: str
    state: OutboxState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    history: tuple[AttemptRecord, ...] = ()


def _record(row: OutboxMessage, history: Sequence[OutboxAttempt] = ()) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        key=row.idempotency_key,
        channel=NotifyChannel(row.channel),
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        purpose=row.purpose,
        ref=row.ref,
        state=OutboxState(row.state),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
        history=tuple(
            AttemptRecord(a.seq, a.sender, a.started_at, a.finished_at, a.outcome, a.detail)
            for a in sorted(history, key=lambda a: a.seq)
        ),
    )


INSERT_MESSAGE = {
    name: dialect.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
    for name, dialect in (("postgresql", pg), ("sqlite", sqlite))
}


async def enqueue(
    store: CaseStore,
    *,
    key: str,
    channel: NotifyChannel | str,
    recipient: str,
    body: str,
    purpose: str,
    at: datetime,
    subject: str = "",
    ref: str = "",
) -> MessageRecord:
    """Put a message in the outbox once; the same `key` again returns the first message.

    `key` is the enqueuer's deterministic name for the message, e.g.
    "case:2511000123:completion:sms". A second enqueue with the same key changes
    nothing, even if its text differs: the first message stands.
    """
    values = message_values(
        key=key,
        channel=channel,
        recipient=recipient,
        body=body,
        purpose=purpose,
        at=at,
        subject=subject,
        ref=ref,
    )

    def op(conn: Connection) -> None:
        conn.execute(INSERT_MESSAGE[conn.dialect.name], values)

    await store._write(op)
    found = await get(store, key)
    assert found is not None  # inserted or already there: the key is unique
    return found


def message_values(
    *,
    key: str,
    channel: NotifyChannel | str,
    recipient: str,
    body: str,
    purpose: str,
    at: datetime,
    subject: str = "",
    ref: str = "",
) -> dict[str, Any]:
    """The outbox row of a message, checked; OutboxError for bad input.

    For a write that enqueues in its own transaction (a case's move and the notice it
    owes the citizen): insert it with `INSERT_MESSAGE`, which skips a key already there.
    """
    try:
        channel = NotifyChannel(channel)
    except ValueError as exc:
        raise OutboxError(f"unknown channel {channel!r}") from exc
    if not key or len(key) > KEY_LENGTH:
        raise OutboxError(f"an idempotency key needs 1 to {KEY_LENGTH} characters")
    if not recipient.strip():
        raise OutboxError("a message needs a recipient")
    if not body.strip():
        raise OutboxError("a message needs a body")
    for name, value, limit in (("recipient", recipient, 256), ("purpose", purpose, 64)):
        if len(value) > limit:
            raise OutboxError(f"{name} is longer than {limit} characters")
    at = require_utc_aware(at, "at")
    values: dict[str, Any] = {
        "idempotency_key": key,
        "channel": channel.value,
        "recipient": recipient.strip(),
        "subject": clip_to_column(OutboxMessage, "subject", subject) or "",
        "body": body,
        "purpose": purpose,
        "ref": clip_to_column(OutboxMessage, "ref", ref) or "",
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "created_at": at,
        "next_attempt_at": at,
    }
    return values


def _claimable(now: datetime) -> Any:
    free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
    due = and_(
        OutboxMessage.state == OutboxState.PENDING.value,
        OutboxMessage.next_attempt_at <= now,
    )
    # "sending" with no live lease: its sender died mid-attempt.
    interrupted = OutboxMessage.state == OutboxState.SENDING.value
    return and_(free, or_(due, interrupted))


async def claim(
    store: CaseStore, *, sender: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[MessageRecord]:
    """Lease up to `limit` due (or interrupted) messages to `sender`, oldest due first."""
    now = require_utc_aware(now, "now")
    until = now + lease

    def op(conn: Connection) -> list[int]:
        candidates = conn.execute(
            select(OutboxMessage.id)
            .where(_claimable(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        ).scalars()
        taken: list[int] = []
        for message_id in list(candidates):
            # Conditional: of two senders that saw the same candidate, one updates it.
            done = conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _claimable(now))
                .values(lease_owner=sender, lease_until=until)
            )
            if done.rowcount == 1:
                taken.append(message_id)
        return taken

    ids = await store._write(op)
    if not ids:
        return []
    async with store._session() as session:
        rows = (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            )
        ).scalars()
        return [_record(r) for r in rows]


def _held(message_id: int, sender: str, now: datetime) -> Any:
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.lease_owner == sender,
        OutboxMessage.lease_until > now,
    )


async def begin_attempt(
    store: CaseStore, message_id: int, *, sender: str, now: datetime, lease: timedelta
) -> int | None:
    """Record an attempt as "sending" and renew the lease; None if the lease was lost.

    Committed before the network call: a crash from here on is visible as a message
    still "sending" when its lease runs out.
    """
    now = require_utc_aware(now, "now")

    def op(conn: Connection) -> int | None:
        done = conn.execute(
            update(OutboxMessage)
            .where(_held(message_id, sender, now))
            .values(
                state=OutboxState.SENDING.value,
                attempts=OutboxMessage.attempts + 1,
                lease_until=now + lease,
            )
            .returning(OutboxMessage.attempts)
        ).first()
        if done is None:
            return None
        seq = int(done[0])
        conn.execute(
            insert(OutboxAttempt).values(
                message_id=message_id,
                seq=seq,
                sender=sender,
                started_at=now,
                outcome=OutboxOutcome.SENDING.value,
            )
        )
        return seq

    return await store._write(op)


async def finish_attempt(
    store: CaseStore,
    message_id: int,
    seq: int,
    *,
    sender: str,
    now: datetime,
    outcome: OutboxOutcome,
    detail: str | None,
    next_step: Next,
) -> bool:
    """Record an attempt's outcome and the message's next state; release the lease.

    False if the lease was lost meanwhile (the call outlasted it and another sender
    took the message over): the attempt's outcome is still recorded, the message's
    state is left to its new holder.
    """
    now = require_utc_aware(now, "now")
    detail = clip_to_column(OutboxAttempt, "detail", detail)

    def op(conn: Connection) -> bool:
        conn.execute(
            update(OutboxAttempt)
            .where(OutboxAttempt.message_id == message_id, OutboxAttempt.seq == seq)
            .values(outcome=outcome.value, finished_at=now, detail=detail)
        )
        values: dict[str, Any] = {
            "state": next_step.state.value,
            "next_attempt_at": next_step.at,
            "lease_owner": None,
            "lease_until": None,
        }
        if outcome is OutboxOutcome.DELIVERED:
            values["delivered_at"] = now
            values["last_error"] = None
        else:
            values["last_error"] = clip_to_column(OutboxMessage, "last_error", detail)
        done = conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == sender)
            .values(**values)
        )
        return bool(done.rowcount == 1)

    return await store._write(op)


async def recover(
    store: CaseStore, message_id: int, *, sender: str, now: datetime, next_step: Next
) -> bool:
    """A claimed message found "sending": mark its open attempt interrupted, move it on."""
    now = require_utc_aware(now, "now")

    def op(conn: Connection) -> bool:
        done = conn.execute(
            update(OutboxMessage)
            .where(_held(message_id, sender, now))
            .where(OutboxMessage.state == OutboxState.SENDING.value)
            .values(
                state=next_step.state.value,
                next_attempt_at=next_step.at,
                lease_owner=None,
                lease_until=None,
                last_error="sender stopped during the attempt",
            )
        )
        if done.rowcount != 1:
            return False
        conn.execute(
            update(OutboxAttempt)
            .where(
                OutboxAttempt.message_id == message_id,
                OutboxAttempt.outcome == OutboxOutcome.SENDING.value,
            )
            .values(
                outcome=OutboxOutcome.INTERRUPTED.value,
                finished_at=now,
                detail="sender stopped during the attempt",
            )
        )
        return True

    return await store._write(op)


async def postpone(
    store: CaseStore, message_id: int, *, sender: str, until: datetime, reason: str
) -> None:
    """Put a claimed message off without an attempt (its channel is not configured)."""
    until = require_utc_aware(until, "until")

    def op(conn: Connection) -> None:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == sender)
            .where(OutboxMessage.state == OutboxState.PENDING.value)
            .values(
                next_attempt_at=until,
                lease_owner=None,
                lease_until=None,
                last_error=clip_to_column(OutboxMessage, "last_error", reason),
            )
        )

    await store._write(op)


async def release(store: CaseStore, message_id: int, *, sender: str) -> None:
    """Give a claimed but unattempted message back (a sender stopping)."""

    def op(conn: Connection) -> None:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == sender)
            .where(OutboxMessage.state == OutboxState.PENDING.value)
            .values(lease_owner=None, lease_until=None)
        )

    await store._write(op)


async def retry(store: CaseStore, ref: str, *, now: datetime) -> MessageRecord:
    """Send a dead or unknown message again, now (`ivr outbox retry`)."""
    now = require_utc_aware(now, "now")
    found = await get(store, ref)
    if found is None:
        raise OutboxError(f"no message {ref}")
    if found.state not in (OutboxState.DEAD, OutboxState.UNKNOWN):
        raise OutboxError(
            f"message {found.id} is {found.state.value}: only dead or unknown messages are retried"
        )

    def op(conn: Connection) -> bool:
        done = conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == found.id, OutboxMessage.state == found.state.value)
            .values(
                state=OutboxState.PENDING.value,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
            )
        )
        return bool(done.rowcount == 1)

    if not await store._write(op):
        raise OutboxError(f"message {found.id} changed meanwhile; look again")
    again = await get(store, str(found.id))
    assert again is not None
    return again


async def get(store: CaseStore, ref: str) -> MessageRecord | None:
    """A message with its attempts, by id (digits) or idempotency key."""
    where = OutboxMessage.idempotency_key == ref
    if ref.isdigit():
        where = or_(where, OutboxMessage.id == int(ref))
    async with store._session() as session:
        row = (await session.execute(select(OutboxMessage).where(where))).scalars().first()
        if row is None:
            return None
        history = (
            await session.execute(select(OutboxAttempt).where(OutboxAttempt.message_id == row.id))
        ).scalars()
        return _record(row, list(history))


async def list_messages(
    store: CaseStore,
    *,
    state: OutboxState | None = None,
    ref: str | None = None,
    limit: int = 50,
) -> list[MessageRecord]:
    """Newest first, optionally of one state or about one ticket or case."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if state is not None:
        query = query.where(OutboxMessage.state == state.value)
    if ref is not None:
        query = query.where(OutboxMessage.ref == ref)
    async with store._session() as session:
        return [_record(r) for r in (await session.execute(query)).scalars()]


async def counts(store: CaseStore) -> dict[str, int]:
    """How many messages are in each state."""

    async with store._session() as session:
        rows = await session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return {str(state): int(n) for state, n in rows.all()}
