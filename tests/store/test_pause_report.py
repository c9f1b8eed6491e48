"""`ivr report pauses` through its handler, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.cli import pauses
from ivr.domain.tickets import month_bounds
from ivr.store import CaseStore

START, END = month_bounds("2026-11")


async def _seed(db_url: str) -> None:
    store = await CaseStore.open(db_url)
    try:
        await store.migrate()
        changes = [
            # Paused in October, ready 30 min into November: 30 min counted here.
            ("1001", "paused", START - timedelta(hours=1), "break"),
            ("1001", "unpaused", START + timedelta(minutes=30), None),
            # A meal ended by logging out, and one by going ready.
            ("1001", "paused", datetime(2026, 11, 10, 4, tzinfo=UTC), "meal"),
            ("1001", "logged_out", datetime(2026, 11, 10, 5, tzinfo=UTC), None),
            ("1001", "logged_in", datetime(2026, 11, 11, 1, tzinfo=UTC), None),
            ("1001", "paused", datetime(2026, 11, 11, 4, tzinfo=UTC), "meal"),
            ("1001", "unpaused", datetime(2026, 11, 11, 4, 20, tzinfo=UTC), None),
            # Another agent's pause that runs past the month's end.
            ("1002", "paused", END - timedelta(minutes=10), "technical"),
            ("1002", "unpaused", END + timedelta(hours=1), None),
        ]
        for agent, state, at, reason in changes:
            await store.record_agent_state(agent, state, at=at, queues=["general"], reason=reason)
    finally:
        await store.close()


def test_report_pauses_per_agent_and_reason(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(db_url))
    now = END + timedelta(days=3)
    out_csv = tmp_path / "pauses.csv"
    code = pauses.command(db_url, "2026-11", agent=None, as_json=True, csv_path=out_csv, now=now)
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows == [
        {"agent_id": "1001", "reason": "break", "pauses": 1, "paused_s": 1800.0,
         "median_s": 1800.0, "open": 0},
        {"agent_id": "1001", "reason": "meal", "pauses": 2, "paused_s": 4800.0,
         "median_s": 2400.0, "open": 0},
        {"agent_id": "1002", "reason": "technical", "pauses": 1, "paused_s": 600.0,
         "median_s": 600.0, "open": 0},
    ]  # fmt: skip
    with out_csv.open(newline="", encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert [(r["agent"], r["reason"], r["pauses"]) for r in written] == [
        ("1001", "break", "1"),
        ("1001", "meal", "2"),
        ("1002", "technical", "1"),
    ]

    # One agent, as a table; the pause still open "now" is cut at now.
    code = pauses.command(
        db_url, "2026-11", agent="1002", as_json=False, csv_path=None,
        now=END - timedelta(minutes=4),
    )  # fmt: skip
    assert code == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["agent", "reason", "pauses", "paused", "median", "open"]
    assert table[1].split() == ["1002", "technical", "1", "0:06:00", "0:06:00", "1"]
    assert len(table) == 2


def test_report_pauses_refuses_a_bad_month(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = pauses.command(db_url, "2026-13", agent=None, as_json=False, csv_path=None, now=END)
    assert code == 1
    assert "YYYY-MM" in capsys.readouterr().err
