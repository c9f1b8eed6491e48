"""Migration 0009: a store written by the previous release (0007) gets a key on every row.

The rows are kept, each old row gets a key of its own ("legacy-<id>"), and a write
made twice after the upgrade adds its row once. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from ivr.store import CaseStore
from ivr.store.repo import MIGRATIONS_DIR
from ivr.store.write_records import AddEvent, StartTransfer

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
KEYED = (
    "call_events",
    "agent_states",
    "survey_ratings",
    "transfers",
    "dial_attempts",
    "service_modes",
    "calendar_closures",
    "ticket_notes",
    "tickets",
)
OLD_ROWS = [
    # Without explicit ids, so PostgreSQL's sequences move on: a fresh store counts from 1.
    "INSERT INTO calls (uniqueid, linkedid, channel, started_at) "
    "VALUES ('u-old', 'u-old', 'PJSIP/carrier-1', :t)",
    "INSERT INTO call_events (call_id, seq, at, kind, data) VALUES (1, 1, :t, 'menu', '{}')",
    "INSERT INTO call_events (call_id, seq, at, kind, data) VALUES (1, 2, :t, 'menu', '{}')",
    "INSERT INTO agent_states (agent_id, state, at, queues) VALUES ('a01', 'paused', :t, '[]')",
    "INSERT INTO survey_ratings (call_id, rating, at) VALUES (1, 5, :t)",
    "INSERT INTO transfers (call_id, initiated_by, agency_id, unit_id, started_at) "
    "VALUES (1, 'ivr', 'dot', 'parking', :t)",
    "INSERT INTO dial_attempts (transfer_id, seq, target, role, attempt, started_at) "
    "VALUES (1, 1, 'PJSIP/6900', 'primary', 1, :t)",
    "INSERT INTO service_modes (mode, active, changed_at, changed_by) "
    "VALUES ('disaster', true, :t, 'ops')",
    "INSERT INTO calendar_closures (day, closed, reason, changed_at, changed_by) "
    "VALUES ('2026-09-01', true, 'typhoon', :t, 'ops')",
    "INSERT INTO tickets (number, call_id, caller_number, agency_id, reason, status, "
    "created_at, due_at) VALUES ('26090001', 1, '0912345678', 'dot', 'no_answer', 'open', "
    ":t, :t)",
    "INSERT INTO ticket_notes (ticket_id, at, author, text) VALUES (1, :t, 'officer', 'rang')",
]


async def test_upgrade_from_0007_keys_every_row_and_keeps_the_data(db_url: str) -> None:
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0007(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0007)
            for sql in OLD_ROWS:
                await conn.execute(text(sql), {"t": T0})
        await store.migrate()

        async with store._engine.connect() as conn:
            for table in KEYED:
                rows = (await conn.execute(text(f"SELECT id, idempotency_key FROM {table}"))).all()
                assert rows, table
                assert all(key == f"legacy-{row_id}" for row_id, key in rows), (table, rows)
        call = await store.get_call_by_uniqueid("u-old")
        assert call is not None
        assert [e.seq for e in call.events] == [1, 2]
        ticket = await store.get_ticket_by_number("26090001")
        assert ticket is not None
        assert [n.text for n in ticket.notes] == ["rang"]
        assert await store.current_mode(T0) == "disaster"

        # After the upgrade, the same record written twice is one row, with one answer.
        event = AddEvent(key="new-event", call_id=call.id, at=T0, kind="hangup", data={})
        assert await store.apply(event) == 3
        assert await store.apply(event) == 3
        transfer = StartTransfer(
            key="new-transfer",
            call_id=call.id,
            initiated_by="ivr",
            agency_id="dot",
            unit_id="parking",
            at=T0,
        )
        first = await store.apply(transfer)
        assert await store.apply(transfer) == first
        again = await store.get_call(call.id)
        assert again is not None
        assert [e.kind for e in again.events] == ["menu", "menu", "hangup"]
        async with store._engine.connect() as conn:
            transfers = (await conn.execute(text("SELECT count(*) FROM transfers"))).scalar_one()
        assert transfers == 2
    finally:
        await store.close()
