"""Queued callbacks in the store (migration 0015_queued_callbacks), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from ivr.domain.vocabulary import CallbackAttemptOutcome as Outcome
from ivr.domain.vocabulary import QueuedCallbackState as State
from ivr.store import CaseStore
from ivr.store.queued_callbacks import QueuedCallbacks
from ivr.store.repo import MIGRATIONS_DIR

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


async def _request(callbacks: QueuedCallbacks, uniqueid: str = "u-1") -> int:
    held = await callbacks.request(
        uniqueid=uniqueid,
        call_id=None,
        queue="taiwanese",
        language="nan",
        number="0912345678",
        at=T0,
        waiting_since=T0 - timedelta(seconds=300),
    )
    return held.id


async def test_a_request_is_held_once_and_each_attempt_recorded_once(store: CaseStore) -> None:
    callbacks = QueuedCallbacks.of(store)
    first = await _request(callbacks)
    # The caller's session retried the write: the same place, not a second one.
    assert await _request(callbacks) == first
    [held] = await callbacks.open_callbacks()
    assert (held.state, held.attempts, held.next_attempt_at) == (State.WAITING, 0, T0)
    assert await callbacks.begin_attempt(first, 1, "qcb-1-1", T0)
    assert not await callbacks.begin_attempt(first, 1, "qcb-1-1", T0)
    calling = await callbacks.get(first)
    assert calling is not None
    assert (calling.state, calling.attempts) == (State.CALLING, 1)
    assert await callbacks.end_attempt(first, 1, Outcome.NO_ANSWER, "NOANSWER", T0)
    # The first end stands.
    assert not await callbacks.end_attempt(first, 1, Outcome.CONNECTED, "ANSWER", T0)
    await callbacks.retry_at(first, T0 + timedelta(minutes=2))
    assert await callbacks.begin_attempt(first, 2, "qcb-1-2", T0)
    assert await callbacks.end_attempt(first, 2, Outcome.CONNECTED, "ANSWER", T0)
    await callbacks.settle(first, State.COMPLETED, T0)
    # Settled is final: a late retry does not reopen it.
    await callbacks.retry_at(first, T0)
    done = await callbacks.get(first)
    assert done is not None
    assert done.state == State.COMPLETED
    assert [(a.attempt, a.outcome, a.status) for a in await callbacks.attempts_of(first)] == [
        (1, Outcome.NO_ANSWER, "NOANSWER"),
        (2, Outcome.CONNECTED, "ANSWER"),
    ]
    assert await callbacks.open_callbacks() == []
    assert await callbacks.requested_between(T0, T0 + timedelta(days=1)) == [("u-1", True)]


async def test_upgrade_from_0013_keeps_the_data_and_adds_queued_callbacks(db_url: str) -> None:
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0013(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")

    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(to_0013)
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at, idempotency_key, language) "
                    "VALUES ('25110001', '0912345678', 'hotline', 'queue_callback', 'open', "
                    ":t, :t, 'written-by-0013', 'nan')"
                ),
                {"t": T0},
            )
        await store.migrate()
        old = await store.get_ticket_by_number("25110001")
        assert old is not None
        assert (old.caller_number, old.reason) == ("0912345678", "queue_callback")
        callbacks = QueuedCallbacks.of(store)
        made = await _request(callbacks, "u-after-upgrade")
        assert await callbacks.begin_attempt(made, 1, f"qcb-{made}-1", T0)
    finally:
        await store.close()
