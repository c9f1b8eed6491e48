"""`ivr retention run` under an injected clock: nothing personal left anywhere.

A stack directory holds a closed ticket with its call, a voice message, a Master.csv
line and a rejected spool record, all carrying the caller's number and name. A month
later the job runs; then the store, the spool, the recordings and the CDR files are
searched for the number and the name.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ivr import config as stack_config
from ivr.retention import mask_cdr_line, run_retention
from ivr.routing.privacy import Retention
from ivr.store import CaseStore, audit

NUMBER = "0912345678"
NAME = "王小明"
CLOSED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
UNIQUEID = "1772416800.41"


def _cdr_line(uniqueid: str, number: str, name: str) -> str:
    fields = [
        '""',
        f'"{number}"',
        '"1999"',
        '"hotline-inbound"',
        f'"""{name}"" <{number}>"',
        f'"PJSIP/carrier-{uniqueid}"',
        '""',
        '"AGI"',
        f'"PJSIP/{number}@t-pstn"',
        '"2026-03-02 01:00:00"',
        '"2026-03-02 01:00:01"',
        '"2026-03-02 01:05:00"',
        "299",
        "298",
        '"ANSWERED"',
        '"DOCUMENTATION"',
        f'"{uniqueid}"',
        '""',
    ]
    return ",".join(fields) + "\n"


def test_cdr_line_masked_in_place_keeps_its_length() -> None:
    """Each personal field becomes ○ (padded with spaces): the byte length is unchanged."""
    line = _cdr_line(UNIQUEID, NUMBER, NAME).encode()
    masked = mask_cdr_line(line, {UNIQUEID})
    assert len(masked) == len(line)
    assert NUMBER.encode() not in masked
    assert NAME.encode() not in masked
    assert UNIQUEID.encode() in masked
    assert b'"299",' not in masked  # bare durations stay bare
    assert b",299,298," in masked
    assert mask_cdr_line(line, {"other"}) == line


def _everything(state: Path, db_url: str) -> str:
    """All bytes under the state directory as text, the database files included."""
    texts = [
        p.read_bytes().decode("utf-8", errors="replace") for p in state.rglob("*") if p.is_file()
    ]
    return "\n".join(texts)


async def _store_dump(db_url: str) -> str:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            names = [
                "calls",
                "call_events",
                "tickets",
                "ticket_notes",
                "ticket_events",
                "dial_attempts",
            ]
            rows = [str((await conn.execute(text(f"SELECT * FROM {n}"))).all()) for n in names]
    finally:
        await engine.dispose()
    return "\n".join(rows)


async def test_retention_run_leaves_nothing_personal(tmp_path: Path) -> None:
    """A month after closing: store, spool, recordings and CDR files hold no number or name."""
    cfg = stack_config.init(tmp_path / "state")
    state = cfg.state_dir
    messages = state / "spool" / "messages"
    messages.mkdir(parents=True)
    message = messages / f"1-{UNIQUEID}.wav"
    message.write_bytes(b"RIFF voice of the caller")
    stray = messages / "7-1772000000.1.wav"  # a recording no ticket names, made long ago
    stray.write_bytes(b"RIFF")
    old = (CLOSED - timedelta(days=40)).timestamp()
    os.utime(stray, (old, old))
    cdr_dir = state / "log" / "cdr-csv"
    cdr_dir.mkdir(parents=True, exist_ok=True)
    master = cdr_dir / "Master.csv"
    master.write_text(_cdr_line(UNIQUEID, NUMBER, NAME), encoding="utf-8")
    rotated = cdr_dir / "Master-2025-11.csv"
    rotated.write_text(_cdr_line("1762000000.1", "0922333444", "李大華"), encoding="utf-8")
    very_old = (CLOSED - timedelta(days=120)).timestamp()
    os.utime(rotated, (very_old, very_old))
    size_before = master.stat().st_size
    (state / "spool" / "store.rejected.jsonl").write_text(
        f'{{"op": "start_call", "args": {{"caller_number": "{NUMBER}", '
        f'"caller_name": "{NAME}"}}, "error": "x"}}\n',
        encoding="utf-8",
    )

    store = await CaseStore.open(cfg.database_url)
    await store.migrate()
    try:
        call_id = await store.start_call(
            uniqueid=UNIQUEID,
            linkedid=UNIQUEID,
            channel="PJSIP/carrier-00000001",
            caller_number=NUMBER,
            caller_name=NAME,
            dnid="1999",
            started_at=CLOSED - timedelta(hours=1),
        )
        await store.add_event(call_id, at=CLOSED, kind="callback_confirm", data={"number": NUMBER})
        await store.end_call(UNIQUEID, ended_at=CLOSED, cause=16, cause_text="Normal Clearing")
        ticket = await store.create_ticket(
            call_id=call_id,
            transfer_id=None,
            caller_number=NUMBER,
            agency_id="dot",
            unit_id="parking",
            reason="busy",
            created_at=CLOSED - timedelta(minutes=50),
            due_at=CLOSED + timedelta(hours=3),
            message_path=str(message),
        )
        attempt = await store.start_attempt(
            ticket_id=ticket.id,
            target=f"PJSIP/{NUMBER}@t-pstn",
            role="callback",
            attempt=1,
            at=CLOSED,
        )
        await store.finish_attempt(
            attempt, at=CLOSED, dialstatus="ANSWER", hangup_cause=16, ring_seconds=None
        )
        await store.add_ticket_note(ticket.id, at=CLOSED, author="officer", text=f"{NAME} {NUMBER}")
        await store.set_ticket_status(ticket.id, "closed", at=CLOSED, by="officer", outcome=NAME)
    finally:
        await store.close()
    before = _everything(state, cfg.database_url) + await _store_dump(cfg.database_url)
    assert NUMBER in before
    assert NAME in before

    month_later = CLOSED + timedelta(days=31)
    report = await run_retention(cfg, clock=lambda: month_later, policy=Retention())

    after = _everything(state, cfg.database_url) + await _store_dump(cfg.database_url)
    for secret in (NUMBER, NAME, "0922333444", "李大華"):
        assert secret not in after, secret
    assert report.tickets == [ticket.number]
    assert not message.exists()
    assert not stray.exists()
    assert not rotated.exists()
    assert master.stat().st_size == size_before
    assert UNIQUEID in master.read_text(encoding="utf-8")
    # Masked in place, the refused record is still JSON an operator can read.
    rejected = (state / "spool" / "store.rejected.jsonl").read_text(encoding="utf-8")
    assert json.loads(rejected)["op"] == "start_call"
    store = await CaseStore.open(cfg.database_url)
    try:
        rows = await audit.entries(store, subject="retention")
    finally:
        await store.close()
    assert [(r.action, r.at) for r in rows] == [("retention", month_later)]


def test_ivr_status_warns_near_the_recordings_quota(tmp_path: Path) -> None:
    """Voice messages at 95% of a 1 MB quota: `ivr status` warns on its recordings line."""
    import shutil
    import subprocess
    import sys

    profile = tmp_path / "profile"
    shutil.copytree(Path(__file__).resolve().parents[2] / "routing" / "taipei", profile)
    with (profile / "profile.yaml").open("a", encoding="utf-8") as fh:
        fh.write("privacy:\n  recordings_quota_mb: 1\n")
    cfg = stack_config.init(tmp_path / "state", routing_profile=str(profile))
    messages = cfg.state_dir / "spool" / "messages"
    messages.mkdir(parents=True)
    (messages / "1-1.wav").write_bytes(b"\0" * int(0.95 * 1024 * 1024))
    done = subprocess.run(
        [sys.executable, "-m", "ivr", "--state-dir", str(cfg.state_dir), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr
    [recordings] = [c for c in json.loads(done.stdout) if c["name"] == "recordings"]
    assert recordings["ok"] is True
    assert "WARNING, near the recordings quota" in recordings["detail"]
    assert "(95%)" in recordings["detail"]
