"""A long estimated wait is said and offered at once, on the real Asterisk (issue 18).

The Mandarin queue of a copied Taipei profile asks past 60 s of estimated wait. With
five answered stays of 100 s in the last hour and one agent signed in, a caller about
to join would wait about 2 minutes: they hear `queue-busy-now`, the estimate and the
choice before any round of Queue(). What was played is read from Asterisk's own log
of played files; the engine runs on a clock weeks ahead, so its last hour holds only
the stays this test put there.
"""

from __future__ import annotations

import subprocess

import pytest

from ivr.config import StackConfig
from ivr.store import CaseStore
from tests.integration.calls import StartEngine, events, feature_code
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, On
from tests.integration.test_queue_announcements import (  # noqa: F401 (fixtures)
    MANDARIN_AGENT,
    TO_GENERAL,
    PlayedLog,
    _days_ahead,
    _drop_seeded,
    _seed_answered,
    busy_agent,
    played,
)

pytestmark = pytest.mark.asterisk

GENERAL = (
    "{id: general, name: 一般諮詢, skills: [zh-TW], strategy: rrmemory, "
    "announce_position: true, max_wait_s: 600}"
)


def _ask_past(profile: ProfileCopy, seconds: int) -> None:
    agents = profile.directory / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    assert GENERAL in text
    asking = GENERAL[:-1] + f", offer_when_estimate_over_s: {seconds}}}"
    agents.write_text(text.replace(GENERAL, asking), encoding="utf-8")


async def test_a_long_estimate_is_said_with_the_choice_before_any_round(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
    busy_agent: subprocess.Popen[str],  # noqa: F811
    played: PlayedLog,  # noqa: F811
) -> None:
    """The caller keys nothing (silence keeps them waiting), so every prompt of the
    question is played in full; they hang up as the round starts."""
    _ask_past(taipei_profile, 60)
    clock = _days_ahead(21)
    await _seed_answered(store, clock(), [100.0] * 5)
    try:
        await start_engine(clock=clock, profile=taipei_profile.directory)
        await feature_code(stack, MANDARIN_AGENT, "*45")
        async with Driver(stack, store) as driver:
            uid = await driver.place([*TO_GENERAL, On("EXEC Queue")])
            lines = await played.until(f"{stack.sounds_dir}/zh-TW/queue-key-callback.")
            record = await driver.ended(uid, timeout_s=120)
            commands = driver.commands(uid)
    finally:
        await _drop_seeded(store)
    assert events(record, "queue_offer") == [
        {
            "queue": "general",
            "reason": "long_estimate",
            "keys": "12",
            "choice": "1",
            "estimate": "queue-wait-about-2",
        }
    ]
    # Asked before the caller was ever queued: the question's Read, then the round.
    asked = next(n for n, c in enumerate(commands) if "queue-busy-now" in c)
    first_round = next(n for n, c in enumerate(commands) if c.startswith("EXEC Queue"))
    assert asked < first_round, commands
    # Heard in that order, in Mandarin: agents busy, about 2 minutes, the keys.
    order = [
        next(
            (n for n, line in enumerate(lines) if f"{stack.sounds_dir}/zh-TW/{name}." in line),
            -1,
        )
        for name in ("queue-busy-now", "queue-wait-about-2", "queue-key-wait", "queue-key-callback")
    ]
    assert -1 not in order, (order, lines[-20:])
    assert order == sorted(order), (order, lines[-20:])
