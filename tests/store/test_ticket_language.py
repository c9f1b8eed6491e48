"""A callback ticket records the language it is owed in (migration 0013), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from ivr.store import CaseStore
from ivr.store.repo import MIGRATIONS_DIR

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


async def _language(store: CaseStore, number: str) -> str | None:
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT language FROM tickets WHERE number = :n"), {"n": number}
            )
        ).one()
    return row[0]  # type: ignore[no-any-return]


async def test_upgrade_from_0012_keeps_tickets_and_records_languages_from_then(
    db_url: str,
) -> None:
    """A store written by the schema before 0013 upgrades in place: old tickets keep
    everything and have no language; new ones keep theirs."""
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0012(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")

    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(to_0012)
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at, idempotency_key) "
                    "VALUES ('25030001', '0912345678', 'hotline', 'voicemail', 'open', :t, :t, "
                    "'written-before-0013')"
                ),
                {"t": T0},
            )
        await store.migrate()
        old = await store.get_ticket_by_number("25030001")
        assert old is not None
        assert (old.caller_number, old.reason) == ("0912345678", "voicemail")
        assert await _language(store, "25030001") is None
        made = await store.create_ticket(
            call_id=None,
            transfer_id=None,
            caller_number="0912345678",
            agency_id="hotline",
            unit_id=None,
            reason="queue_callback",
            created_at=T0,
            due_at=T0 + timedelta(hours=4),
            language="nan",
        )
        assert await _language(store, made.number) == "nan"
    finally:
        await store.close()
