"""Declared closures (typhoon days), the same on SQLite and PostgreSQL, and the 0005 upgrade."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from ivr.store import CaseStore
from ivr.store.repo import MIGRATIONS_DIR

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
TYPHOON_DAY = date(2026, 9, 2)


async def test_a_closure_is_in_force_until_opened_and_every_change_is_kept(
    store: CaseStore,
) -> None:
    """The newest row per day decides; the history keeps who, when and why."""
    await store.set_closure(
        TYPHOON_DAY, closed=True, at=T0, by="duty-chief", reason="typhoon", closes_at=time(12)
    )
    await store.set_closure(date(2026, 9, 3), closed=True, at=T0, by="duty-chief", reason="typhoon")
    closed = await store.closures(date(2026, 9, 1))
    assert sorted(closed) == [TYPHOON_DAY, date(2026, 9, 3)]
    assert (closed[TYPHOON_DAY].reason, closed[TYPHOON_DAY].closes_at) == ("typhoon", time(12))
    assert closed[date(2026, 9, 3)].closes_at is None
    # Days before `since` are not asked for.
    assert list(await store.closures(date(2026, 9, 3))) == [date(2026, 9, 3)]

    await store.set_closure(
        date(2026, 9, 3), closed=False, at=T0 + timedelta(hours=3), by="mayor", note="風已減弱"
    )
    assert list(await store.closures(date(2026, 9, 1))) == [TYPHOON_DAY]
    history = await store.closure_history(date(2026, 9, 1))
    assert [(h.day, h.closed, h.changed_by) for h in history] == [
        (TYPHOON_DAY, True, "duty-chief"),
        (date(2026, 9, 3), True, "duty-chief"),
        (date(2026, 9, 3), False, "mayor"),
    ]
    assert history[-1].note == "風已減弱"
    assert history[0].changed_at == T0


async def test_a_closure_needs_a_reason_and_an_aware_time(store: CaseStore) -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        await store.set_closure(TYPHOON_DAY, closed=True, at=T0, by="x")
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.set_closure(
            TYPHOON_DAY,
            closed=True,
            at=datetime(2026, 9, 1, 12),  # noqa: DTZ001 - refusing it is the point
            by="x",
            reason="typhoon",
        )
    with pytest.raises(ValueError, match="at most 64"):
        await store.set_closure(TYPHOON_DAY, closed=True, at=T0, by="x", reason="r" * 65)
    assert await store.closure_history() == []


async def test_upgrade_from_0003_keeps_the_data_and_adds_closures(db_url: str) -> None:
    """A store written by the schema before closures upgrades in place, its rows intact."""
    engine = create_async_engine(db_url)

    def upgrade_to_0003(conn: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to_0003)
            await conn.execute(
                text(
                    "INSERT INTO service_modes (mode, active, changed_at, changed_by) "
                    "VALUES ('disaster', true, :at, 'duty-chief')"
                ),
                {"at": T0},
            )
    finally:
        await engine.dispose()
    store = await CaseStore.open(db_url)
    try:
        await store.migrate()
        assert await store.current_mode(T0 + timedelta(minutes=1)) == "disaster"
        assert [m.changed_by for m in await store.mode_history()] == ["duty-chief"]
        await store.set_closure(TYPHOON_DAY, closed=True, at=T0, by="duty-chief", reason="typhoon")
        assert list(await store.closures(TYPHOON_DAY)) == [TYPHOON_DAY]
    finally:
        await store.close()
