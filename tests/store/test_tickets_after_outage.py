"""Tickets made after a store outage: spooled with a key, made exactly once, marked.

On both backends; the spool is replayed against a real database. An engine that
crashed between the ticket's commit and the spool's `done` line is played by putting
the spool file back as it was before replay.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from ivr.adapters.durable import DurableStore
from ivr.store import CaseStore
from ivr.store.repo import MIGRATIONS_DIR
from ivr.store.write_records import MarkAnswered

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=4)
MESSAGE = "/var/lib/hotline/spool/outage-1788.1.wav"


def ticket_args(call_id: int | None, transfer_id: int | None) -> dict[str, object]:
    return {
        "call_id": call_id,
        "transfer_id": transfer_id,
        "caller_number": "0912345678",
        "agency_id": "dot",
        "unit_id": "parking",
        "reason": "no_answer",
        "created_at": T0,
        "due_at": DUE,
        "message_path": MESSAGE,
    }


async def test_a_keyed_ticket_is_made_once_and_marked(store: CaseStore) -> None:
    """The same key twice is one ticket: the second write returns the first, unchanged."""
    first = await store.create_ticket(
        **ticket_args(None, None), idempotency_key="k-1", after_outage=True
    )  # type: ignore[arg-type]
    again = await store.create_ticket(
        **ticket_args(None, None), idempotency_key="k-1", after_outage=True
    )  # type: ignore[arg-type]
    plain = await store.create_ticket(**ticket_args(None, None))  # type: ignore[arg-type]
    assert again.id == first.id
    assert again.number == first.number
    assert first.after_outage is True
    assert plain.after_outage is False
    assert len(await store.list_tickets()) == 2
    events = await store.ticket_events(first.id)
    assert [(e.kind, e.data.get("after_outage")) for e in events] == [("created", True)]


async def test_a_deferred_ticket_is_made_once_after_replay_even_replayed_twice(
    store: CaseStore, tmp_path: Path
) -> None:
    """Spooled call, transfer and ticket reach the store; a repeated replay adds nothing."""
    spool = tmp_path / "spool" / "store.jsonl"
    durable = await DurableStore.open(store, spool)
    call_id = await store.start_call(
        uniqueid="u-outage",
        linkedid="u-outage",
        channel="PJSIP/carrier-1",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=T0,
    )
    transfer_id = await store.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=T0
    )
    await durable.defer_ticket(key="engine-key-1", **ticket_args(call_id, transfer_id))  # type: ignore[arg-type]
    assert durable.pending == 1
    assert await store.list_tickets() == []
    before_replay = tmp_path / "before-replay.jsonl"
    shutil.copy(spool, before_replay)

    assert await durable.replay() == 1
    [ticket] = await store.list_tickets()
    assert (ticket.call_id, ticket.transfer_id, ticket.message_path) == (
        call_id,
        transfer_id,
        MESSAGE,
    )
    assert ticket.after_outage is True
    assert [t.number for t in await store.tickets_of_call(call_id)] == [ticket.number]

    # The engine died after the commit, before the spool said so: it starts again
    # with the record still waiting, and replays it.
    shutil.copy(before_replay, spool)
    restarted = await DurableStore.open(store, spool)
    assert restarted.pending == 1
    assert await restarted.replay() == 1
    assert restarted.pending == 0
    assert [t.id for t in await store.list_tickets()] == [ticket.id]


async def test_a_deferred_ticket_names_the_real_ids_of_spooled_records(
    store: CaseStore, tmp_path: Path
) -> None:
    """The call and transfer were spooled too: replay writes the ticket with their real ids."""
    spool = tmp_path / "spool" / "store.jsonl"
    durable = await DurableStore.open(store, spool)
    # With something waiting in the spool, every write is spooled, as in an outage.
    await durable._spool(MarkAnswered(key="waiting", uniqueid="nobody", at=T0))
    call_id = await durable.start_call(
        uniqueid="u-spooled",
        linkedid="u-spooled",
        channel="PJSIP/carrier-1",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=T0,
    )
    transfer_id = await durable.start_transfer(
        call_id, initiated_by="ivr", agency_id="dot", unit_id="parking", at=T0
    )
    assert call_id < 0
    assert transfer_id < 0
    await durable.defer_ticket(key="engine-key-2", **ticket_args(call_id, transfer_id))  # type: ignore[arg-type]
    await durable.replay()
    assert durable.pending == 0
    call = await store.get_call_by_uniqueid("u-spooled")
    assert call is not None
    [ticket] = await store.tickets_of_call(call.id)
    assert ticket.transfer_id is not None
    assert ticket.transfer_id > 0
    assert ticket.after_outage is True


async def test_upgrade_from_0006_keeps_tickets_and_marks_none_after_outage(db_url: str) -> None:
    """A store written by the schema before 0007 upgrades in place, its tickets intact."""
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0006(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0006)
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at, message_path) "
                    "VALUES ('25030001', '0912345678', 'dot', 'no_answer', 'open', :t, :t, :m)"
                ),
                {"t": T0, "m": MESSAGE},
            )
            await conn.execute(
                text(
                    "INSERT INTO ticket_notes (ticket_id, at, author, text) "
                    "SELECT id, :t, 'officer', 'rang twice' FROM tickets"
                ),
                {"t": T0},
            )
        await store.migrate()
        old = await store.get_ticket_by_number("25030001")
        assert old is not None
        assert (old.message_path, old.after_outage) == (MESSAGE, False)
        # SQLite rebuilds the tickets table: its notes must not go with the old one.
        assert [n.text for n in old.notes] == ["rang twice"]
        # Old tickets carry no key: two of them never collide, and a keyed one is new.
        made = await store.create_ticket(
            **ticket_args(None, None), idempotency_key="k-after", after_outage=True
        )  # type: ignore[arg-type]
        assert made.id != old.id
        assert made.after_outage is True
    finally:
        await store.close()


async def test_a_spool_left_by_the_previous_release_is_replayed(
    store: CaseStore, tmp_path: Path
) -> None:
    """Lines written before records had keys: their line key becomes the record's key."""
    spool = tmp_path / "spool" / "store.jsonl"
    spool.parent.mkdir()
    at = T0.isoformat()
    lines = [
        {
            "t": "op",
            "key": "old-1",
            "op": "start_call",
            "pid": -1,
            "doubt": None,
            "args": {
                "uniqueid": "u-old",
                "linkedid": "u-old",
                "channel": "PJSIP/carrier-1",
                "caller_number": "0912345678",
                "caller_name": None,
                "dnid": "1999",
                "started_at": at,
                "mode": "normal",
                "answered_at": None,
            },
        },
        {
            "t": "op",
            "key": "old-2",
            "op": "add_event",
            "pid": None,
            "doubt": None,
            "args": {"call_id": -1, "at": at, "kind": "menu", "data": {"menu": "main"}},
        },
        {
            "t": "op",
            "key": "old-3",
            "op": "create_ticket",
            "pid": None,
            "doubt": None,
            "args": {
                **{
                    k: v.isoformat() if isinstance(v, datetime) else v
                    for k, v in ticket_args(-1, None).items()
                },
                "idempotency_key": "engine-key-old",
                "after_outage": True,
            },
        },
    ]
    spool.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    durable = await DurableStore.open(store, spool)
    assert durable.pending == 3
    assert await durable.replay() == 3
    call = await store.get_call_by_uniqueid("u-old")
    assert call is not None
    assert [e.kind for e in call.events] == ["menu"]
    [ticket] = await store.tickets_of_call(call.id)
    assert ticket.after_outage
    assert not durable.rejected_path.exists()
