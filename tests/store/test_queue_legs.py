"""Queue stays on both backends: written once per join, an answer never undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.domain.queue_report import Callback, queue_rows
from ivr.store import CaseStore
from ivr.store.queue_legs import QueueLegs

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def legs(store: CaseStore) -> QueueLegs:
    return QueueLegs.of(store)


async def test_a_join_handled_twice_is_one_stay(legs: QueueLegs) -> None:
    for _ in range(2):
        await legs.joined(uniqueid="u1", queue="taiwanese", language="nan", at=T0)
    [stay] = await legs.legs_of("u1")
    assert (stay.queue, stay.language, stay.outcome) == ("taiwanese", "nan", "waiting")


async def test_answered_then_left_stays_answered_with_hold_and_talk(legs: QueueLegs) -> None:
    await legs.joined(uniqueid="u2", queue="general", language="zh-TW", at=T0)
    await legs.answered(
        uniqueid="u2", queue="general", agent="a02", hold_s=12, at=T0 + timedelta(seconds=12)
    )
    await legs.left(uniqueid="u2", queue="general", at=T0 + timedelta(seconds=12))
    await legs.completed(
        uniqueid="u2", queue="general", talk_s=95, transferred=False, at=T0 + timedelta(seconds=107)
    )
    [stay] = await legs.legs_of("u2")
    assert (stay.outcome, stay.agent, stay.hold_s, stay.talk_s) == ("answered", "a02", 12, 95)
    assert stay.ended_at == T0 + timedelta(seconds=107)


async def test_an_abandoned_stay_and_a_left_one_are_told_apart(legs: QueueLegs) -> None:
    await legs.joined(uniqueid="u3", queue="general", language="zh-TW", at=T0)
    await legs.taken_out(uniqueid="u3", queue="general", at=T0 + timedelta(seconds=180))
    await legs.joined(
        uniqueid="u3", queue="general", language="zh-TW", at=T0 + timedelta(seconds=190)
    )
    await legs.abandoned(uniqueid="u3", queue="general", hold_s=30, at=T0 + timedelta(seconds=220))
    await legs.left(uniqueid="u3", queue="general", at=T0 + timedelta(seconds=220))
    assert [s.outcome for s in await legs.legs_of("u3")] == ["left", "abandoned"]
    rows = queue_rows(await legs.between(T0, T0 + timedelta(days=1)), [Callback("u3", False)])
    general = rows[0]
    assert (general.queue, general.offered, general.answered, general.abandoned) == (
        "general",
        1,
        0,
        1,
    )
    assert general.callbacks_requested == 1


@pytest.mark.parametrize("engine_first", [True, False])
async def test_a_round_the_engine_ended_is_left_whatever_order_the_events_come_in(
    legs: QueueLegs, engine_first: bool
) -> None:
    """app_queue reports a timeout as an abandonment too; the engine's mark stands."""
    uid = f"u4-{engine_first}"
    await legs.joined(uniqueid=uid, queue="taiwanese", language="nan", at=T0)
    later = T0 + timedelta(seconds=120)
    if engine_first:
        await legs.taken_out(uniqueid=uid, queue="taiwanese", at=later)
    await legs.abandoned(uniqueid=uid, queue="taiwanese", hold_s=120, at=later)
    await legs.left(uniqueid=uid, queue="taiwanese", at=later)
    if not engine_first:
        await legs.taken_out(uniqueid=uid, queue="taiwanese", at=later)
    [stay] = await legs.legs_of(uid)
    assert (stay.outcome, stay.left_at) == ("left", later)


async def test_handled_since_gives_the_queues_finished_conversations_only(
    legs: QueueLegs,
) -> None:
    """What a waiting caller's estimate is drawn from: answered stays of that queue
    whose conversation ended after the given time (not waiting, abandoned or other
    queues' stays, nor a conversation still going on)."""
    base = T0 + timedelta(days=30)

    async def stay(uid: str, queue: str, *, talk: float | None, ended_min: int | None) -> None:
        await legs.joined(uniqueid=uid, queue=queue, language="zh-TW", at=base)
        if talk is None:
            await legs.abandoned(uniqueid=uid, queue=queue, hold_s=5, at=base)
            return
        await legs.answered(uniqueid=uid, queue=queue, agent="a02", hold_s=5, at=base)
        if ended_min is not None:
            at = base + timedelta(minutes=ended_min)
            await legs.completed(uniqueid=uid, queue=queue, talk_s=talk, transferred=False, at=at)

    await stay("h1", "english", talk=100, ended_min=10)
    await stay("h2", "english", talk=200, ended_min=70)
    await stay("h3", "english", talk=None, ended_min=None)
    await stay("h4", "english", talk=300, ended_min=None)
    await stay("h5", "dispatch", talk=400, ended_min=70)
    found = await legs.handled_since("english", base + timedelta(minutes=30))
    assert [(h.ended_at, h.talk_s) for h in found] == [(base + timedelta(minutes=70), 200)]
    assert all(h.ended_at.tzinfo is not None for h in found)
