"""The dispatch catalogue as a routing table: the shipped one loads, bad ones are refused."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.cases.deadlines import dispatch_deadlines
from ivr.routing.loader import RoutingError, load_profile

ROOT = Path(__file__).resolve().parents[2]
TPE = ZoneInfo("Asia/Taipei")


def test_taipei_ships_the_22_items_with_their_deadlines() -> None:
    """Every item loads with its unit from the directory; item 21's stage 2 is 96 hours."""
    tables = load_profile(ROOT / "routing" / "taipei")
    items = tables.dispatch.domain_items()
    assert sorted(items) == list(range(1, 23))
    assert items[21].stage2_hours == 96
    assert items[16].same_day_rule
    assert items[4].contact_attempts == items[17].contact_attempts == 3
    created = datetime(2026, 6, 5, 10, tzinfo=TPE)
    assert dispatch_deadlines(items[1], created, TPE).stage1 == datetime(2026, 6, 5, 14, tzinfo=TPE)


def test_a_profile_without_the_file_takes_no_dispatch_orders() -> None:
    """Kinmen's county table (K7 annex 2) is not public: its profile has no items."""
    assert load_profile(ROOT / "routing" / "kinmen").dispatch.items == []


@pytest.mark.parametrize(
    ("old", "new", "path", "reason"),
    [
        ("unit: new-construction\n", "unit: nowhere\n", "items[0].unit", "has no unit"),
        ("agency: pwd\n", "agency: nasa\n", "items[0].agency", "no agency"),
        ("  - item: 2\n", "  - item: 1\n", "items[1].item", "more than once"),
        ("stage2_days: 15\n", "stage2_days: 15\n    stage2_hours: 3\n", "items[0]", "not both"),
        ("stage1_hours: 4\n", "stage1_hours: -4\n", "items[0].stage1_hours", "greater than"),
    ],
)
def test_a_bad_item_is_refused_with_file_field_and_reason(
    tmp_path: Path, old: str, new: str, path: str, reason: str
) -> None:
    """Each mistake names dispatch_items.yaml, the item's field and why."""
    profile = tmp_path / "taipei"
    shutil.copytree(ROOT / "routing" / "taipei", profile)
    file = profile / "dispatch_items.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RoutingError) as caught:
        load_profile(profile)
    problems = [p for p in caught.value.problems if p.file.endswith("dispatch_items.yaml")]
    assert problems, caught.value.problems
    assert any(p.path == path and reason in p.reason for p in problems), problems
