"""Each agent's month (ivr.domain.agent_report): answered, talk, wrap-up, cap, pauses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.domain.agent_report import agent_rows
from ivr.domain.pause_report import PauseRow

AT = datetime(2026, 11, 10, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Stay:
    queue: str
    agent: str | None
    answered_at: datetime | None
    talk_s: float | None
    capped: bool = False


def test_answered_stays_and_pauses_are_summed_per_agent() -> None:
    stays = [
        Stay("general", "a02", AT, 100.0),
        Stay("taiwanese", "a02", AT, 600.0, capped=True),
        # Abandoned: nobody's work; answered with no agent named: nobody's either.
        Stay("general", None, None, None),
        Stay("general", "", AT, 50.0),
        # A queue gone from the tables adds no wrap-up; a call going on, no talk yet.
        Stay("closed-queue", "a05", AT, None),
    ]
    pauses = [
        PauseRow("a02", "meal", 1, 1800.0, 1800.0, 0),
        PauseRow("a02", "break", 2, 600.0, 300.0, 0),
        PauseRow("a07", "training", 1, 3600.0, 3600.0, 1),
    ]
    rows = agent_rows(stays, pauses, {"general": 10, "taiwanese": 30})
    assert [(r.agent_id, r.answered, r.talk_s, r.wrapup_s, r.capped) for r in rows] == [
        ("a02", 2, 700.0, 40.0, 1),
        ("a05", 1, 0.0, 0.0, 0),
        ("a07", 0, 0.0, 0.0, 0),
    ]
    assert rows[0].paused_by_reason == {"break": 600.0, "meal": 1800.0}
    assert rows[0].paused_s == 2400.0
    assert rows[1].talk_unknown == 1
    only = agent_rows(stays, pauses, {"general": 10}, agent_id="a07")
    assert [(r.agent_id, r.paused_s) for r in only] == [("a07", 3600.0)]


def test_a_month_with_nothing_has_no_rows() -> None:
    assert agent_rows([], [], {}) == []
