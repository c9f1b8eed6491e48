"""An engine (re)started with a bad table on disk serves the last good one (defect 6)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from ivr.app import Routing
from ivr.domain.clock import system_clock
from ivr.routing.last_good import last_good_dir, start_tables
from ivr.routing.loader import FILES, RoutingError, load_profile

ROOT = Path(__file__).resolve().parents[2]
GOOD_HOLIDAY = "holidays: []"
BAD_HOLIDAY = "holidays: [{date: 2026-02-30, name: 不存在的日子}]"


def profile(tmp_path: Path) -> Path:
    target = tmp_path / "taipei"
    shutil.copytree(ROOT / "routing" / "taipei", target)
    return target


def swap(directory: Path, old: str, new: str) -> None:
    hours = directory / "hours.yaml"
    text = hours.read_text(encoding="utf-8")
    assert text.count(old) == 1
    hours.write_text(text.replace(old, new), encoding="utf-8")


def test_a_good_start_keeps_a_private_copy(tmp_path: Path) -> None:
    directory, state = profile(tmp_path), tmp_path / "state"
    started = start_tables(directory, state, load_profile)
    assert not started.from_last_good
    assert started.tables.source == directory
    copy = last_good_dir(state)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o700
    for name in FILES:
        assert (copy / name).read_bytes() == (directory / name).read_bytes()
        assert stat.S_IMODE((copy / name).stat().st_mode) == 0o600


def test_a_start_with_a_bad_date_serves_the_last_good_table(tmp_path: Path) -> None:
    directory, state = profile(tmp_path), tmp_path / "state"
    start_tables(directory, state, load_profile)
    swap(directory, GOOD_HOLIDAY, BAD_HOLIDAY)
    started = start_tables(directory, state, load_profile)
    assert started.from_last_good
    assert started.tables.source == last_good_dir(state)
    assert [(Path(p.file).name, p.path) for p in started.refused] == [
        ("hours.yaml", "holidays[0].date")
    ]
    # The refused file did not replace the copy.
    assert GOOD_HOLIDAY in (last_good_dir(state) / "hours.yaml").read_text(encoding="utf-8")


def test_a_first_start_with_a_bad_table_is_refused_with_its_reasons(tmp_path: Path) -> None:
    """With no copy the engine does not start; Asterisk's fallback answers (README)."""
    directory, state = profile(tmp_path), tmp_path / "state"
    swap(directory, GOOD_HOLIDAY, BAD_HOLIDAY)
    with pytest.raises(RoutingError) as refused:
        start_tables(directory, state, load_profile)
    assert [p.path for p in refused.value.problems] == ["holidays[0].date"]


def test_the_engines_routing_serves_the_copy_then_takes_the_fixed_table(tmp_path: Path) -> None:
    directory, state = profile(tmp_path), tmp_path / "state"
    Routing(directory, system_clock, state)
    swap(directory, GOOD_HOLIDAY, BAD_HOLIDAY)
    routing = Routing(directory, system_clock, state)
    assert routing.refused_at_start
    assert routing.tables().source == last_good_dir(state)
    assert routing.view() is not None
    # A reload of a still-bad table is refused; the copy keeps serving.
    with pytest.raises(RoutingError):
        routing.reload()
    assert routing.tables().source == last_good_dir(state)
    swap(directory, BAD_HOLIDAY, "holidays: [{date: 2026-02-13, name: 市府停止上班}]")
    assert routing.reload() == 2
    assert routing.tables().source == directory
    assert not routing.refused_at_start
    text = (last_good_dir(state) / "hours.yaml").read_text(encoding="utf-8")
    assert "date: 2026-02-13," in text
