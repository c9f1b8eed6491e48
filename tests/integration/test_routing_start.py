"""An engine started with a bad table on disk still answers, from the last good table.

Issue 11, defect 6: a holiday written as 2026-02-30 made the loader raise, so an
engine restarted with that file on disk did not start and every call fell to the
fallback. Now the engine serves the table it last accepted; a real call proves it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.config import StackConfig
from ivr.routing.last_good import last_good_dir, remember
from ivr.routing.loader import load_profile
from ivr.store import CaseStore
from tests.integration.calls import StartEngine, events
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import key, until_queued

pytestmark = pytest.mark.asterisk


async def test_engine_started_on_a_bad_date_answers_from_the_last_good_table(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(taipei_profile.directory, profile)
    # What an earlier run of the engine on this profile left behind.
    remember(load_profile(profile), stack.state_dir)
    hours = profile / "hours.yaml"
    text = hours.read_text(encoding="utf-8")
    assert text.count("holidays: []") == 1
    impossible = "holidays: [{date: 2026-02-30, name: 不存在的日子}]"
    hours.write_text(text.replace("holidays: []", impossible), encoding="utf-8")

    engine = await start_engine(profile=profile)

    assert [(Path(p.file).name, p.path) for p in engine.routing.refused_at_start] == [
        ("hours.yaml", "holidays[0].date")
    ]
    assert engine.routing.tables().source == last_good_dir(stack.state_dir)
    record = await until_queued(
        stack, store, [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
    )
    assert [(m["menu"], m["entry"]) for m in events(record, "menu")] == [
        ("language", "9"),
        ("main", "1"),
    ]
    assert events(record, "queue_enter")[0] == {"queue": "general", "language": "zh-TW"}
    assert record.outcome == "queued"
