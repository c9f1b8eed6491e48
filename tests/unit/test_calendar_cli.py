"""`ivr calendar show`: each day's working time and why, from the tables and closures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from ivr import cli
from ivr.calendar_cli import show
from ivr.domain.workdays import national_holidays
from ivr.routing.loader import load_profile
from ivr.store import ClosureRecord

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def line_of(out: str, day: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(day))


def test_show_2027_lists_new_year_and_lunar_new_year_with_the_package_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The done-means of the calendar: 60 days of 2027 for Taipei, holidays named."""
    argv = ["calendar", "show", "--dir", str(REPO / "routing" / "taipei")]
    code = cli.main([*argv, "--from", "2027-01-01", "--days", "60"])
    out = capsys.readouterr().out
    assert code == 0
    days = [line for line in out.splitlines() if line[:4] == "2027"]
    assert len(days) == 60
    tw = national_holidays("TW")
    new_year = line_of(out, "2027-01-01")
    assert "closed" in new_year
    assert f"holiday: {tw.holiday(date(2027, 1, 1))}" in new_year
    for d in range(4, 11):
        day = date(2027, 2, d)
        assert f"holiday: {tw.holiday(day)}" in line_of(out, day.isoformat())
    assert "weekend" in line_of(out, "2027-01-02")
    assert "08:30-12:30 13:30-17:30  working day" in line_of(out, "2027-01-04")


def test_show_marks_closures_with_their_hour_and_lists_who_declared_them() -> None:
    tables = load_profile(REPO / "routing" / "taipei")
    closures = [
        ClosureRecord(1, date(2026, 12, 1), True, "typhoon", time(12), NOW, "duty-chief", None),
        ClosureRecord(2, date(2026, 12, 2), True, "typhoon", None, NOW, "duty-chief", None),
        ClosureRecord(3, date(2026, 12, 2), False, None, None, NOW, "mayor", "風已減弱"),
    ]
    out = show(tables, date(2026, 11, 30), 3, closures, now=NOW)
    first = line_of(out, "2026-12-01").split()
    assert first[2:] == ["08:30-12:00", "closure", "from", "12:00:", "typhoon"]
    assert "working day" in line_of(out, "2026-12-02")
    assert "  2026-12-01 closed from 12:00 (typhoon) by duty-chief at 2026-11-30 10:00" in out
    assert "  2026-12-02 opened by mayor at 2026-11-30 10:00 - 風已減弱" in out


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["show", "--from", "2026-02-30"], "--from '2026-02-30' is not a date"),
        (["show", "--days", "0"], "--days must be 1 to"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = str(REPO / "routing" / "kinmen")
    code = cli.main(["calendar", *argv, "--dir", profile])
    assert code == 1
    assert reason in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["close", "2026-02-30", "--reason", "typhoon"], "DATE '2026-02-30' is not a date"),
        (["close", "2026-09-01", "--reason", "typhoon", "--from", "25:00"], "'25:00' is not"),
        (["close", "2026-09-01", "--reason", " "], "--reason is required"),
        (["open", "09/01"], "DATE '09/01' is not a date"),
    ],
)
def test_close_and_open_refuse_bad_arguments_with_a_reason(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = cli.main(["--state-dir", str(tmp_path), "calendar", *argv])
    assert code == 1
    assert reason in capsys.readouterr().err
