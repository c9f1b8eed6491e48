"""Agents on SIP softphones: feature codes, queue membership, and the caller's survey."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.routing.loader import load_profile
from ivr.store import CaseStore
from tests.harness import free_port
from tests.integration.calls import (
    StartEngine,
    call,
    events,
    feature_code,
    greeting_s,
    register_agent,
    secs,
)
from tests.ports import sipp_media_port
from tests.sipp.scenarios import (
    answer_then_hang_up_scenario,
    start_uas,
)

pytestmark = pytest.mark.asterisk


def queue_show(stack: StackConfig, queue: str) -> str:
    return process.rx(install.ensure(), stack, f"queue show {queue}")


async def test_feature_codes_log_in_pause_and_log_out_and_are_stored(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """*45, *47, *48 and *46 change the agent's queues in Asterisk and in the store."""
    await start_engine()
    await feature_code(stack, "7006", "*45")
    shown = queue_show(stack, "hotline-dispatch")
    assert "PJSIP/7006" in shown
    assert "a06" in shown
    assert "PJSIP/7006" in queue_show(stack, "hotline-agents")
    await feature_code(stack, "7006", "*47")
    assert "paused" in queue_show(stack, "hotline-dispatch").lower()
    await feature_code(stack, "7006", "*48")
    await feature_code(stack, "7006", "*46")
    assert "PJSIP/7006" not in queue_show(stack, "hotline-dispatch")
    history = await store.agent_states("a06", limit=10)
    assert [h.state for h in history][:4] == ["logged_out", "unpaused", "paused", "logged_in"]
    assert "hotline-dispatch" in history[-1].queues


async def test_unknown_phone_cannot_log_in(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine
) -> None:
    """A caller id that is no agent's changes nothing and is not stored."""
    await start_engine()
    before = await store.latest_agent_states()
    await feature_code(stack, "7999", "*45")
    assert "PJSIP/7999" not in queue_show(stack, "hotline-general")
    assert await store.latest_agent_states() == before


async def test_survey_rating_is_stored_when_the_agent_hangs_up_first(
    stack: StackConfig, store: CaseStore, start_engine: StartEngine, tmp_path: Path
) -> None:
    """A SIPp agent answers a queued caller and hangs up; the caller's 4 is stored."""
    await start_engine()
    tables = load_profile(Path(stack.routing_profile))
    agent = next(a for a in tables.agents.agents if a.extension == "7001")
    port = free_port()
    await register_agent(stack, agent.extension, port)
    uas = start_uas(
        answer_then_hang_up_scenario(agent.extension, talk_ms=2000),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    try:
        await feature_code(stack, agent.extension, "*45")
        # After key 1: the agent rings at once, talks 2 s, hangs up; the survey
        # prompt then listens for the rating.
        after_talk_s = 0.5 + 2.0 + 3.0
        survey_window = secs(stack, "survey-question")
        record = await call(
            stack,
            store,
            dtmf="9#ww1#" + "w" * int(after_talk_s * 2) + "4",
            wait_s=greeting_s(stack),
            hold_s=survey_window + 6,
        )
    finally:
        await feature_code(stack, agent.extension, "*46")
        if uas.poll() is None:
            uas.kill()
    leave = events(record, "queue_leave")[0]
    assert leave["agent"] == agent.id
    assert events(record, "survey") == [
        {"rating": 4, "agent": agent.id, "queue": "general", "saved": True}
    ]
    rating = await store.rating_for_call(record.id)
    assert rating is not None
    assert (rating.rating, rating.agent_id, rating.queue) == (4, agent.id, "general")
    assert record.outcome == "surveyed"
