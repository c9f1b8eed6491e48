"""Per-caller limits on a real Asterisk: past the limit, a notice and an agent."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.integration.calls import StartEngine, call, events, greeting_s, secs
from tests.integration.conftest import ProfileCopy

pytestmark = pytest.mark.asterisk


async def test_a_caller_past_the_hourly_limit_hears_a_notice_and_goes_to_an_agent(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    tmp_path: Path,
) -> None:
    """calls_per_hour: 1 — the first call gets the menu, the second the notice and a queue."""
    profile = tmp_path / "taipei"
    shutil.copytree(taipei_profile.directory, profile)
    with (profile / "profile.yaml").open("a", encoding="utf-8") as fh:
        fh.write("privacy:\n  limits:\n    calls_per_hour: 1\n")
    await start_engine(profile=profile)
    caller = "0955" + uuid.uuid4().hex[:6].translate(str.maketrans("abcdef", "123456"))
    first = await call(
        stack, store, dtmf="", wait_s=0.5, hold_s=greeting_s(stack) + 2, caller=caller
    )
    second = await call(
        stack,
        store,
        dtmf="",
        wait_s=0.5,
        hold_s=greeting_s(stack) + secs(stack, "caller-limit-reached") + 3,
        caller=caller,
    )
    assert not events(first, "caller_limit")
    assert events(first, "menu") or events(first, "service_state")
    assert events(second, "caller_limit") == [{"limit": "calls_per_hour"}]
    played = [p["prompt"] for p in events(second, "played")]
    assert "caller-limit-reached" in played
    assert events(second, "queue_enter")[0]["queue"] == "general"
    assert not events(second, "menu")
