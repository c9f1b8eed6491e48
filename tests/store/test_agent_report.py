"""`ivr report agents` through its handler, on SQLite and PostgreSQL: per agent, calls
answered, talk, wrap-up, calls that reached the cap, and pauses per reason."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from ivr.cli import agents_report
from ivr.domain.tickets import month_bounds
from ivr.store import CaseStore
from ivr.store.queue_legs import QueueLegs

START, END = month_bounds("2026-11")
WRAPUP = {"general": 10, "taiwanese": 30}


async def _stay(
    legs: QueueLegs,
    uid: str,
    queue: str,
    joined: datetime,
    *,
    agent: str | None,
    talk_s: float | None = None,
    capped: bool = False,
) -> None:
    await legs.joined(uniqueid=uid, queue=queue, language="zh-TW", at=joined)
    if agent is None:
        await legs.abandoned(
            uniqueid=uid, queue=queue, hold_s=40, at=joined + timedelta(seconds=40)
        )
        return
    answered = joined + timedelta(seconds=20)
    await legs.answered(uniqueid=uid, queue=queue, agent=agent, hold_s=20, at=answered)
    if talk_s is not None:
        await legs.completed(
            uniqueid=uid,
            queue=queue,
            talk_s=talk_s,
            transferred=False,
            at=answered + timedelta(seconds=talk_s),
        )
    if capped:
        await legs.capped(uniqueid=uid, queue=queue)


async def _seed(db_url: str) -> None:
    store = await CaseStore.open(db_url)
    try:
        await store.migrate()
        legs = QueueLegs.of(store)
        day = datetime(2026, 11, 10, 2, tzinfo=UTC)
        await _stay(legs, "u1", "general", day, agent="a02", talk_s=120)
        await _stay(legs, "u2", "taiwanese", day + timedelta(hours=1), agent="a02", talk_s=600,
                    capped=True)  # fmt: skip
        # Still talking when the report runs: counted, its talk time not yet known.
        await _stay(legs, "u3", "general", day + timedelta(hours=2), agent="a05")
        # Abandoned while waiting: nobody's work.
        await _stay(legs, "u4", "general", day + timedelta(hours=3), agent=None)
        # Last month's and next month's calls are not this month's.
        await _stay(legs, "u5", "general", START - timedelta(minutes=5), agent="a02", talk_s=60)
        await _stay(legs, "u6", "general", END, agent="a02", talk_s=60)
        for agent, state, at, reason in [
            ("a02", "paused", day + timedelta(hours=4), "meal"),
            ("a02", "unpaused", day + timedelta(hours=4, minutes=30), None),
            ("a02", "paused", day + timedelta(hours=5), "break"),
            ("a02", "unpaused", day + timedelta(hours=5, minutes=10), None),
            ("a07", "paused", day, "training"),
            ("a07", "logged_out", day + timedelta(hours=1), None),
        ]:
            await store.record_agent_state(agent, state, at=at, queues=["general"], reason=reason)
    finally:
        await store.close()


def test_report_agents_per_agent(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed(db_url))
    now = END + timedelta(days=2)
    code = agents_report.command(
        db_url, "2026-11", wrapup_by_queue=WRAPUP, agent=None, as_json=True, now=now
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows == [
        {"agent_id": "a02", "answered": 2, "talk_s": 720.0, "wrapup_s": 40.0, "capped": 1,
         "paused_s": 2400.0, "paused_by_reason": {"break": 600.0, "meal": 1800.0},
         "talk_unknown": 0},
        {"agent_id": "a05", "answered": 1, "talk_s": 0.0, "wrapup_s": 10.0, "capped": 0,
         "paused_s": 0.0, "paused_by_reason": {}, "talk_unknown": 1},
        {"agent_id": "a07", "answered": 0, "talk_s": 0.0, "wrapup_s": 0.0, "capped": 0,
         "paused_s": 3600.0, "paused_by_reason": {"training": 3600.0}, "talk_unknown": 0},
    ]  # fmt: skip

    # One agent, as a table.
    code = agents_report.command(
        db_url, "2026-11", wrapup_by_queue=WRAPUP, agent="a02", as_json=False, now=now
    )
    assert code == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "agent", "answered", "talk", "wrap-up", "capped", "paused", "reasons"
    ]  # fmt: skip
    assert table[1].split() == [
        "a02", "2", "0:12:00", "0:00:40", "1", "0:40:00", "break=0:10:00", "meal=0:30:00"
    ]  # fmt: skip
    assert len(table) == 2


def test_report_agents_refuses_a_bad_month(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = agents_report.command(
        db_url, "2026-13", wrapup_by_queue=WRAPUP, agent=None, as_json=False, now=END
    )
    assert code == 1
    assert "YYYY-MM" in capsys.readouterr().err
