"""K4(4): outside office hours a transfer rings nobody and is recorded. Pure, no mocks."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.calendar import Calendar, TimeRange
from ivr.domain.transfer import (
    RecordForWorkingDay,
    RingLines,
    TransferPlan,
    in_office_day,
    plan_transfer,
)
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.view import build_view

REPO = Path(__file__).resolve().parents[2]
TPE = ZoneInfo("Asia/Taipei")
# Kinmen's county offices: 08:00-12:00 and 13:30-17:30 on weekdays; Christmas 2026
# (Constitution Day, a Friday) and New Year's Day 2027 off.
OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(
        range(5), (TimeRange(time(8), time(12)), TimeRange(time(13, 30), time(17, 30)))
    ),
    holidays=frozenset({date(2026, 12, 25), date(2027, 1, 1)}),
)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TPE)


def record_until(y: int, mo: int, d: int) -> RecordForWorkingDay:
    return RecordForWorkingDay(at(y, mo, d, 17, 30))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(at(2026, 11, 23, 10), RingLines(), id="monday-morning-rings"),
        pytest.param(at(2026, 11, 23, 8), RingLines(), id="at-opening-rings"),
        pytest.param(at(2026, 11, 23, 12, 30), RingLines(), id="lunch-rings"),
        pytest.param(at(2026, 11, 23, 17, 29), RingLines(), id="last-minute-rings"),
        pytest.param(at(2026, 11, 23, 17, 30), record_until(2026, 11, 24), id="at-close"),
        pytest.param(at(2026, 11, 23, 19), record_until(2026, 11, 24), id="evening"),
        pytest.param(at(2026, 11, 24, 2), record_until(2026, 11, 24), id="night-same-day"),
        pytest.param(at(2026, 11, 24, 7, 59), record_until(2026, 11, 24), id="before-opening"),
        pytest.param(at(2026, 11, 20, 22), record_until(2026, 11, 23), id="friday-night"),
        pytest.param(at(2026, 11, 21, 10), record_until(2026, 11, 23), id="saturday"),
        pytest.param(at(2026, 12, 25, 10), record_until(2026, 12, 28), id="holiday"),
        pytest.param(at(2026, 12, 31, 19), record_until(2027, 1, 4), id="end-of-year"),
    ],
)
def test_kinmen_rings_only_in_office_hours(now: datetime, expected: TransferPlan) -> None:
    assert plan_transfer(OFFICE, now, "record") == expected


@pytest.mark.parametrize("now", [at(2026, 11, 20, 22), at(2026, 12, 25, 10), at(2026, 11, 23, 10)])
def test_a_dialling_profile_rings_at_any_hour(now: datetime) -> None:
    # Taipei's units forward their lines to whoever is on duty (T4(2)2).
    assert plan_transfer(OFFICE, now, "dial") == RingLines()


def test_the_shipped_profiles_kinmen_records_taipei_dials() -> None:
    night = at(2026, 11, 23, 19)
    kinmen = build_view(load_profile(REPO / "routing" / "kinmen"))
    taipei = build_view(load_profile(REPO / "routing" / "taipei"))
    assert plan_transfer(kinmen.office, night, kinmen.off_hours_transfers) == record_until(
        2026, 11, 24
    )
    assert plan_transfer(taipei.office, night, taipei.off_hours_transfers) == RingLines()


def test_in_office_day_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        in_office_day(OFFICE, datetime(2026, 11, 23, 10))  # noqa: DTZ001 - the point


def test_an_unknown_off_hours_rule_is_refused_with_its_file_and_field(tmp_path: Path) -> None:
    profile = tmp_path / "kinmen"
    shutil.copytree(REPO / "routing" / "kinmen", profile)
    hours = profile / "hours.yaml"
    text = hours.read_text(encoding="utf-8")
    hours.write_text(
        text.replace("off_hours_transfers: record", "off_hours_transfers: ring"),
        encoding="utf-8",
    )
    with pytest.raises(RoutingError) as refused:
        load_profile(profile)
    [problem] = refused.value.problems
    assert problem.file.endswith("hours.yaml")
    assert problem.path == "off_hours_transfers"
    assert "dial" in problem.reason
    assert "record" in problem.reason
