"""The case store behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import ivr.store
from ivr.store import CaseStore, StoreUnavailable, default_sqlite_url
from ivr.store.core import MIGRATIONS_DIR, SCHEMA_HEAD
from ivr.store.models import Base

T0 = datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)
TAIPEI = timezone(timedelta(hours=8))


async def _join_aiosqlite_workers() -> None:
    # After a failed connect, aiosqlite 0.22 asks its worker thread to stop but does not
    # wait for it; if the test's event loop closes first, the thread dies on "Event loop
    # is closed" and pytest reports it (omnilib/aiosqlite#389). Let it finish while the
    # loop still runs.
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 10)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def start(store: CaseStore, uniqueid: str, **overrides: Any) -> int:
    fields: dict[str, Any] = {
        "uniqueid": uniqueid,
        "linkedid": uniqueid,
        "channel": f"PJSIP/trunk-{uniqueid}",
        "caller_number": "0912345678",
        "caller_name": "王小明",
        "dnid": "1999",
        "started_at": T0,
    }
    fields.update(overrides)
    return await store.start_call(**fields)


async def test_call_lifecycle_round_trip(store: CaseStore) -> None:
    """A started, answered, eventful and ended call reads back exactly, times in UTC."""
    started_local = T0.astimezone(TAIPEI)
    call_id = await start(store, "1700000000.1", started_at=started_local, mode="normal")
    await store.mark_answered("1700000000.1", at(1.5))
    assert await store.add_event(call_id, at=at(1), kind="agi_start") == 1
    assert await store.add_event(call_id, at=at(2), kind="greeting_played", data={"n": 1}) == 2
    assert await store.end_call(
        "1700000000.1",
        ended_at=at(30),
        cause=16,
        cause_text="Normal Clearing",
        outcome="transferred",
    )

    call = await store.get_call(call_id)
    assert call is not None
    assert call == await store.get_call_by_uniqueid("1700000000.1")
    assert (call.id, call.uniqueid, call.linkedid) == (call_id, "1700000000.1", "1700000000.1")
    assert call.channel == "PJSIP/trunk-1700000000.1"
    assert (call.caller_number, call.caller_name, call.dnid) == ("0912345678", "王小明", "1999")
    assert (call.started_at, call.answered_at, call.ended_at) == (T0, at(1.5), at(30))
    for moment in (call.started_at, call.answered_at, call.ended_at):
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)
    assert (call.hangup_cause, call.hangup_cause_text) == (16, "Normal Clearing")
    assert (call.outcome, call.mode) == ("transferred", "normal")
    assert [(e.seq, e.at, e.kind, dict(e.data)) for e in call.events] == [
        (1, at(1), "agi_start", {}),
        (2, at(2), "greeting_played", {"n": 1}),
    ]
    assert all(e.at.utcoffset() == timedelta(0) for e in call.events)


async def test_unknown_call_reads_as_none(store: CaseStore) -> None:
    """Looking up a call that does not exist gives None, not an error."""
    assert await store.get_call(12345) is None
    assert await store.get_call_by_uniqueid("nope") is None


async def test_start_call_is_idempotent(store: CaseStore) -> None:
    """A second start for the same uniqueid returns the first id and changes nothing."""
    first = await start(store, "u-1", mode="normal")
    again = await start(store, "u-1", channel="PJSIP/other", started_at=at(5), mode="disaster")
    assert again == first
    call = await store.get_call(first)
    assert call is not None
    assert (call.channel, call.started_at, call.mode) == ("PJSIP/trunk-u-1", T0, "normal")
    assert len(await store.list_calls()) == 1


async def test_concurrent_starts_share_one_call(store: CaseStore) -> None:
    """Racing starts for one uniqueid all get the same id and create a single row."""
    ids = await asyncio.gather(*(start(store, "u-race") for _ in range(8)))
    assert len(set(ids)) == 1
    assert len(await store.list_calls()) == 1


async def test_mark_answered_keeps_first_answer(store: CaseStore) -> None:
    """answered_at is set once; a later answer and an unknown uniqueid change nothing."""
    call_id = await start(store, "u-ans")
    await store.mark_answered("u-ans", at(2))
    await store.mark_answered("u-ans", at(9))
    await store.mark_answered("no-such-call", at(3))
    call = await store.get_call(call_id)
    assert call is not None
    assert call.answered_at == at(2)


async def test_start_call_can_record_the_answer_in_the_same_write(store: CaseStore) -> None:
    """answered_at at the start is a new call's answer; for a known call, a first answer."""
    new = await start(store, "u-new", answered_at=at(1))
    known = await start(store, "u-known")
    assert await start(store, "u-known", answered_at=at(2)) == known
    assert await start(store, "u-known", answered_at=at(3)) == known
    answered = {c.uniqueid: c.answered_at for c in await store.list_calls()}
    assert answered == {"u-new": at(1), "u-known": at(2)}
    assert new != known


async def test_first_end_wins(store: CaseStore) -> None:
    """The first end_call stands; later ones and unknown calls report False."""
    call_id = await start(store, "u-end")
    assert await store.end_call("u-end", ended_at=at(10), cause=16, cause_text="Normal Clearing")
    assert not await store.end_call(
        "u-end", ended_at=at(20), cause=17, cause_text="User busy", outcome="abandoned"
    )
    assert not await store.end_call("no-such-call", ended_at=at(10), cause=None, cause_text=None)
    call = await store.get_call(call_id)
    assert call is not None
    assert (call.ended_at, call.hangup_cause, call.hangup_cause_text) == (
        at(10),
        16,
        "Normal Clearing",
    )
    assert call.outcome is None


async def test_concurrent_ends_only_one_wins(store: CaseStore) -> None:
    """Of several racing end_call for one call exactly one succeeds."""
    await start(store, "u-end-race")
    results = await asyncio.gather(
        *(
            store.end_call("u-end-race", ended_at=at(i), cause=i, cause_text=None)
            for i in range(1, 7)
        )
    )
    assert results.count(True) == 1
    call = await store.get_call_by_uniqueid("u-end-race")
    assert call is not None
    winner = results.index(True) + 1
    assert (call.ended_at, call.hangup_cause) == (at(winner), winner)


async def test_set_outcome_survives_end_without_outcome(store: CaseStore) -> None:
    """An outcome set before the hangup is kept when end_call passes none."""
    await start(store, "u-out")
    await store.set_outcome("u-out", "fallback")
    assert await store.end_call("u-out", ended_at=at(5), cause=16, cause_text=None)
    call = await store.get_call_by_uniqueid("u-out")
    assert call is not None
    assert call.outcome == "fallback"
    await store.set_outcome("u-out", "transferred")
    await store.set_outcome("no-such-call", "transferred")
    call = await store.get_call_by_uniqueid("u-out")
    assert call is not None
    assert call.outcome == "transferred"


async def test_event_seqs_count_per_call(store: CaseStore) -> None:
    """Each call's events are numbered 1, 2, 3... independently of other calls."""
    a = await start(store, "u-a")
    b = await start(store, "u-b")
    assert [await store.add_event(a, at=at(i), kind="step") for i in range(3)] == [1, 2, 3]
    assert await store.add_event(b, at=at(0), kind="step") == 1
    assert await store.add_event(a, at=at(9), kind="hangup") == 4
    call = await store.get_call(a)
    assert call is not None
    assert [(e.seq, e.kind) for e in call.events] == [
        (1, "step"),
        (2, "step"),
        (3, "step"),
        (4, "hangup"),
    ]


async def test_concurrent_add_event_gives_distinct_consecutive_seqs(store: CaseStore) -> None:
    """Events appended from many tasks at once get seqs 1..n with no gaps or repeats."""
    call_id = await start(store, "u-conc")
    seqs = await asyncio.gather(
        *(store.add_event(call_id, at=at(i), kind="dtmf", data={"i": i}) for i in range(20))
    )
    assert sorted(seqs) == list(range(1, 21))
    call = await store.get_call(call_id)
    assert call is not None
    assert [e.seq for e in call.events] == list(range(1, 21))
    by_task = {e.data["i"]: e.seq for e in call.events}
    assert [by_task[i] for i in range(20)] == seqs


async def test_add_event_to_unknown_call_raises(store: CaseStore) -> None:
    """Appending to a call id that does not exist raises LookupError."""
    with pytest.raises(LookupError):
        await store.add_event(999, at=T0, kind="agi_start")


async def test_list_calls_newest_first_with_pagination(store: CaseStore) -> None:
    """list_calls pages newest first via before_id and carries no events."""
    ids = [await start(store, f"u-{n}", started_at=at(n)) for n in range(7)]
    await store.add_event(ids[-1], at=at(10), kind="agi_start")

    page1 = await store.list_calls(limit=3)
    page2 = await store.list_calls(limit=3, before_id=page1[-1].id)
    page3 = await store.list_calls(limit=3, before_id=page2[-1].id)
    assert [c.id for c in page1 + page2 + page3] == ids[::-1]
    assert len(page3) == 1
    assert await store.list_calls(limit=3, before_id=ids[0]) == []
    assert all(c.events == () for c in page1)
    with pytest.raises(ValueError, match="limit"):
        await store.list_calls(limit=0)


async def test_open_calls_lists_only_unended(store: CaseStore) -> None:
    """open_calls returns exactly the calls without ended_at, oldest first."""
    ids = [await start(store, f"u-{n}") for n in range(4)]
    await store.end_call("u-1", ended_at=at(5), cause=16, cause_text=None)
    await store.end_call("u-3", ended_at=at(5), cause=16, cause_text=None)
    assert [c.id for c in await store.open_calls()] == [ids[0], ids[2]]


async def test_naive_datetimes_are_rejected(store: CaseStore) -> None:
    """Every entry point refuses naive datetimes with ValueError and writes nothing."""
    naive = datetime(2025, 3, 14, 9, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        await start(store, "u-naive", started_at=naive)
    assert await store.get_call_by_uniqueid("u-naive") is None

    call_id = await start(store, "u-ok")
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.mark_answered("u-ok", naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.add_event(call_id, at=naive, kind="agi_start")
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.end_call("u-ok", ended_at=naive, cause=None, cause_text=None)
    call = await store.get_call(call_id)
    assert call is not None
    assert (call.answered_at, call.ended_at, call.events) == (None, None, ())


async def test_migrate_twice_is_a_noop(store: CaseStore, db_url: str) -> None:
    """Migrating an up-to-date database keeps its data and its revision."""
    call_id = await start(store, "u-keep")
    await store.migrate()
    call = await store.get_call(call_id)
    assert call is not None
    assert call.uniqueid == "u-keep"
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await engine.dispose()
    # Exactly one row, at the newest revision the package ships.
    scripts = ScriptDirectory(str(Path(ivr.store.__file__).parent / "migrations"))
    assert [v for (v,) in versions] == [scripts.get_current_head()]


def test_schema_head_names_the_newest_migration() -> None:
    """A new migration must move SCHEMA_HEAD too, or stores at the old head would be
    taken as current and never upgraded."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    assert scripts.get_current_head() == SCHEMA_HEAD


async def test_a_store_at_the_head_migrates_without_alembic(store: CaseStore, db_url: str) -> None:
    """The check every engine start and CLI command makes reads the revision only."""
    probe = (
        "import asyncio, sys\n"
        "from ivr.store import CaseStore\n"
        "async def main():\n"
        f"    store = await CaseStore.open({db_url!r})\n"
        "    await store.migrate()\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


async def test_models_match_migrations(store: CaseStore, db_url: str) -> None:
    """The migrated schema and the declarative models do not differ."""

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_json_data_round_trips_chinese_text(store: CaseStore) -> None:
    """Event data with nested values and Chinese text reads back unchanged."""
    call_id = await start(store, "u-json")
    data = {
        "district": "臺北市",
        "menu": ["1", "2"],
        "nested": {"label": "市民熱線 1999", "ok": True, "n": None},
        "score": 1.5,
    }
    await store.add_event(call_id, at=T0, kind="menu_choice", data=data)
    call = await store.get_call(call_id)
    assert call is not None
    assert dict(call.events[0].data) == data


async def test_ping_succeeds_on_a_live_store(store: CaseStore) -> None:
    """ping returns quietly while the database is reachable."""
    await store.ping()


async def test_ping_on_closed_store_raises(store: CaseStore) -> None:
    """After close, ping (and any query) raises StoreUnavailable."""
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.get_call(1)


async def test_ping_on_unreachable_url_raises(unreachable_url: str) -> None:
    """A store whose database cannot be reached raises StoreUnavailable, not a driver error."""
    store = await CaseStore.open(unreachable_url)
    try:
        with pytest.raises(StoreUnavailable):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.open_calls()
    finally:
        await store.close()
        await _join_aiosqlite_workers()


def test_default_sqlite_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """default_sqlite_url turns a relative path into an absolute sqlite+aiosqlite URL."""
    monkeypatch.chdir(tmp_path)
    assert default_sqlite_url(Path("cases.db")) == f"sqlite+aiosqlite:///{tmp_path}/cases.db"
