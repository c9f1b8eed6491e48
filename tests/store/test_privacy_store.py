"""The audit log's hash chain, de-identification, and the upgrade that adds them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text, update
from sqlalchemy.engine import Connection

import ivr.store
from ivr.domain.screening import NO_USABLE_NUMBER
from ivr.store import CaseStore, audit
from ivr.store.models import AuditEntry
from ivr.store.retention import deidentify

T0 = datetime(2025, 3, 14, 1, 30, tzinfo=UTC)
NUMBER = "0912345678"
NAME = "王小明"


async def test_audit_rows_chain_and_verify(store: CaseStore) -> None:
    """Each row carries the hash of the one before; the chain verifies end to end."""
    for i in range(3):
        await audit.record(
            store,
            at=T0 + timedelta(minutes=i),
            who="officer",
            action="view",
            subject=f"ticket:2503000{i}",
            detail="text",
        )
    rows = await audit.entries(store)
    assert [r.prev_hash for r in rows] == [audit.GENESIS, rows[0].hash, rows[1].hash]
    assert audit.verify_chain(rows) is None
    assert [r.subject for r in await audit.entries(store, subject="ticket:25030001")] == [
        "ticket:25030001"
    ]
    assert await audit.entries(store, who="nobody") == []
    assert len(await audit.entries(store, since=T0 + timedelta(minutes=1))) == 2


async def test_a_changed_or_removed_row_breaks_the_chain(store: CaseStore) -> None:
    """Editing a reason after the fact, or deleting a row, is found by verify."""
    for i in range(3):
        await audit.record(
            store, at=T0, who="officer", action="unmask", subject=f"call:{i}", reason="consent"
        )
    rows = await audit.entries(store)
    edited = [rows[0], replace(rows[1], reason="no consent needed"), rows[2]]
    broken = audit.verify_chain(edited)
    assert broken is not None
    assert broken.id == rows[1].id
    gap = audit.verify_chain([rows[0], rows[2]])
    assert gap is not None
    assert gap.id == rows[2].id

    def tamper(conn: Connection) -> None:
        conn.execute(update(AuditEntry).where(AuditEntry.id == rows[0].id).values(who="x"))

    await store._write(tamper)
    stored = audit.verify_chain(await audit.entries(store))
    assert stored is not None
    assert stored.id == rows[0].id


async def test_concurrent_appends_keep_one_chain(db_url: str) -> None:
    """Two stores (two processes' worth of connections) appending at once: one chain."""
    first, second = await CaseStore.open(db_url), await CaseStore.open(db_url)
    await first.migrate()
    try:
        await asyncio.gather(
            *(
                audit.record(
                    first if i % 2 else second,
                    at=T0,
                    who=f"u{i}",
                    action="view",
                    subject="calls",
                )
                for i in range(20)
            )
        )
        rows = await audit.entries(first)
    finally:
        await first.close()
        await second.close()
    assert len(rows) == 20
    assert audit.verify_chain(rows) is None


async def test_long_audit_fields_are_clipped_not_refused(store: CaseStore) -> None:
    """A 10,000-character reason is kept, clipped, and the view still audited."""
    await audit.record(
        store, at=T0, who="x" * 500, action="unmask", subject="s", reason="r" * 10_000
    )
    [row] = await audit.entries(store)
    assert (len(row.who), len(row.reason or "")) == (64, 512)
    with pytest.raises(ValueError, match="audit action"):
        await audit.record(store, at=T0, who="x", action="peek", subject="s")


async def _closed_ticket(store: CaseStore, uniqueid: str, closed_at: datetime) -> tuple[int, str]:
    call_id = await store.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/carrier-{uniqueid}",
        caller_number=NUMBER,
        caller_name=NAME,
        dnid="1999",
        started_at=closed_at - timedelta(hours=2),
    )
    await store.add_event(
        call_id, at=closed_at, kind="callback_confirm", data={"number": NUMBER, "key": "1"}
    )
    await store.end_call(
        uniqueid, ended_at=closed_at - timedelta(hours=1), cause=16, cause_text="ok"
    )
    ticket = await store.create_ticket(
        call_id=call_id,
        transfer_id=None,
        caller_number=NUMBER,
        agency_id="dot",
        unit_id="parking",
        reason="busy",
        created_at=closed_at - timedelta(hours=1),
        due_at=closed_at + timedelta(hours=3),
        message_path=f"/nowhere/{uniqueid}.wav",
    )
    await store.add_ticket_note(
        ticket.id, at=closed_at, author="officer", text=f"{NAME} 住信義路 電話 {NUMBER}"
    )
    await store.set_ticket_status(
        ticket.id, "closed", at=closed_at, by="officer", outcome=f"已回電 {NAME}"
    )
    return ticket.id, ticket.number


async def test_deidentify_masks_closed_tickets_after_their_period(store: CaseStore) -> None:
    """A ticket closed two days ago is masked whole; one closed an hour ago is not yet."""
    old_id, old_number = await _closed_ticket(store, "u-old", T0)
    new_id, _ = await _closed_ticket(store, "u-new", T0 + timedelta(days=2))
    now = T0 + timedelta(days=2, hours=1)
    done = await deidentify(store, now=now, ticket_days=1, call_days=30)
    assert done.tickets == [old_number]
    assert done.uniqueids == {"u-old"}
    assert done.message_paths == ["/nowhere/u-old.wav"]
    old = await store.get_ticket(old_id)
    assert old is not None
    assert old.caller_number == "○" * 10
    assert old.message_path is None
    assert NAME not in (old.outcome or "")
    assert all(NUMBER not in n.text and NAME not in n.text for n in old.notes)
    events = await store.ticket_events(old_id)
    assert all(NUMBER not in str(e.data) and NAME not in str(e.data) for e in events)
    call = await store.get_call_by_uniqueid("u-old")
    assert call is not None
    assert (call.caller_number, call.caller_name) == ("○" * 10, "○○○")
    assert all(NUMBER not in str(e.data) for e in call.events)
    still = await store.get_ticket(new_id)
    assert still is not None
    assert still.caller_number == NUMBER
    # A second run finds nothing left to do.
    again = await deidentify(store, now=now, ticket_days=1, call_days=30)
    assert (again.tickets, again.calls) == ([], 0)


async def test_upgrade_keeps_a_store_written_by_the_previous_schema(db_url: str) -> None:
    """A 0003 store with a call and a ticket upgrades: rows kept, audit log empty."""
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(ivr.store.__file__).parent / "migrations"))

    def to_0003(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0003)
            await conn.execute(
                text(
                    "INSERT INTO calls (uniqueid, linkedid, channel, caller_number, started_at) "
                    "VALUES ('u-0003', 'u-0003', 'PJSIP/carrier-1', :n, :t)"
                ),
                {"n": NUMBER, "t": T0},
            )
            await conn.execute(
                text(
                    "INSERT INTO tickets (number, caller_number, agency_id, reason, status, "
                    "created_at, due_at) VALUES ('25030001', :n, 'dot', 'busy', 'open', :t, :t)"
                ),
                {"n": NO_USABLE_NUMBER, "t": T0},
            )
        await store.migrate()
        call = await store.get_call_by_uniqueid("u-0003")
        ticket = await store.get_ticket_by_number("25030001")
        assert call is not None
        assert call.caller_number == NUMBER
        assert ticket is not None
        assert ticket.caller_number == NO_USABLE_NUMBER
        assert await audit.entries(store) == []
    finally:
        await store.close()


async def test_a_10000_character_caller_name_is_recorded_cut_to_fit(store: CaseStore) -> None:
    """A hostile caller name, number or DNID is clipped, not refused: the call is recorded."""
    call_id = await store.start_call(
        uniqueid="u-long",
        linkedid="u-long",
        channel="PJSIP/carrier-00000001",
        caller_number="9" * 1000,
        caller_name="名" * 10_000,
        dnid="1" * 1000,
        started_at=T0,
    )
    call = await store.get_call(call_id)
    assert call is not None
    assert call.caller_name == "名" * 128
    assert (len(call.caller_number or ""), len(call.dnid or "")) == (64, 64)


async def test_caller_usage_counts_calls_tickets_and_recorded_minutes(
    store: CaseStore, tmp_path: Path
) -> None:
    """Calls in the last hour by caller id; tickets and message seconds today by number."""
    import wave

    from ivr.store.limits import caller_usage

    message = tmp_path / "m.wav"
    with wave.open(str(message), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 90)  # a minute and a half
    for i, minutes_ago in enumerate((90, 30, 5)):
        await store.start_call(
            uniqueid=f"u-{i}",
            linkedid=f"u-{i}",
            channel="PJSIP/carrier-1",
            caller_number=NUMBER,
            caller_name=None,
            dnid="1999",
            started_at=T0 - timedelta(minutes=minutes_ago),
        )
    for created, path in ((T0 - timedelta(days=1), None), (T0, str(message))):
        await store.create_ticket(
            call_id=None,
            transfer_id=None,
            caller_number=NUMBER,
            agency_id="dot",
            unit_id=None,
            reason="busy",
            created_at=created,
            due_at=created + timedelta(hours=4),
            message_path=path,
        )
    usage = await caller_usage(
        store, NUMBER, NUMBER, hour_ago=T0 - timedelta(hours=1), day_start=T0 - timedelta(hours=2)
    )
    assert (usage.calls_last_hour, usage.tickets_today, usage.recorded_s_today) == (2, 1, 90.0)
