"""The service switches' pure parts (which days are closed, whether disaster mode is
on) and the service page's words in both interface languages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from ivr.service_switches import disaster_on, in_force
from ivr.store import ClosureRecord, ModeChange
from ivr.web.service_words import keys, service_translator

TEMPLATES = Path(__file__).resolve().parents[2] / "ivr" / "web" / "templates"
AT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def _closure(n: int, day: int, closed: bool) -> ClosureRecord:
    return ClosureRecord(n, date(2026, 9, day), closed, "typhoon", None, AT, "sup", None)


def test_a_day_is_closed_when_its_newest_change_closed_it() -> None:
    history = [_closure(1, 2, True), _closure(2, 3, True), _closure(3, 2, False)]
    assert [c.day for c in in_force(history)] == [date(2026, 9, 3)]
    assert in_force([]) == []


def test_disaster_mode_is_its_newest_switch() -> None:
    def change(n: int, active: bool) -> ModeChange:
        return ModeChange(n, "disaster", active, AT, "sup", None)

    assert disaster_on([change(2, False), change(1, True)]) is False
    assert disaster_on([change(2, True), change(1, False)]) is True
    assert disaster_on([]) is False


def test_every_word_of_the_service_page_exists_in_both_languages() -> None:
    zh, en = service_translator("zh-TW"), service_translator("en")
    for key in keys():
        assert zh(
            key, at="t", by="b", day="d", agent="a", reason="r", queue="q", hold=1, talk=2
        ).strip()
        assert en(
            key, at="t", by="b", day="d", agent="a", reason="r", queue="q", hold=1, talk=2
        ).strip()
    for name in ("service.html", "agent_day.html"):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        used = set(re.findall(r'\bs\("([a-z_]+)"[,)]', text))
        assert used
        assert used <= set(keys())
