"""Service modes, agent states and survey ratings, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from ivr.store import CaseStore

T0 = datetime(2025, 7, 28, 2, 0, tzinfo=UTC)
TAIPEI = timezone(timedelta(hours=8))
NAIVE = datetime(2025, 7, 28, 2, 0)  # noqa: DTZ001 - rejecting it is the point


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def new_call(store: CaseStore, uniqueid: str) -> int:
    return await store.start_call(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/trunk-{uniqueid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        started_at=T0,
    )


async def test_mode_is_normal_without_history(store: CaseStore) -> None:
    """With no mode switches recorded the hotline is in normal mode."""
    assert await store.current_mode(T0) == "normal"
    assert await store.mode_history() == []


async def test_disaster_mode_on_and_off(store: CaseStore) -> None:
    """Disaster mode holds from its switch-on until its switch-off, as of each moment."""
    await store.set_mode("disaster", active=True, at=at(10), by="duty-chief", note="颱風 level 1")
    await store.set_mode("disaster", active=False, at=at(70), by="duty-chief")

    assert await store.current_mode(at(0)) == "normal"
    assert await store.current_mode(at(10)) == "disaster"
    assert await store.current_mode(at(69)) == "disaster"
    assert await store.current_mode(at(70)) == "normal"
    assert await store.current_mode(at(500)) == "normal"
    # The same instant given in Taipei time reads the same.
    assert await store.current_mode(at(30).astimezone(TAIPEI)) == "disaster"


async def test_mode_history_newest_first(store: CaseStore) -> None:
    """mode_history lists every switch newest first, with who and why, up to the limit."""
    await store.set_mode("disaster", active=True, at=at(10), by="chief-a", note="颱風")
    await store.set_mode("disaster", active=False, at=at(70), by="chief-b")
    await store.set_mode("disaster", active=True, at=at(90), by="chief-a", note="地震")

    history = await store.mode_history()
    assert [(h.mode, h.active, h.changed_at, h.changed_by, h.note) for h in history] == [
        ("disaster", True, at(90), "chief-a", "地震"),
        ("disaster", False, at(70), "chief-b", None),
        ("disaster", True, at(10), "chief-a", "颱風"),
    ]
    assert [h.changed_at for h in await store.mode_history(limit=2)] == [at(90), at(70)]
    assert await store.current_mode(at(95)) == "disaster"
    with pytest.raises(ValueError, match="limit"):
        await store.mode_history(limit=0)


async def test_normal_mode_rows_leave_disaster_in_force(store: CaseStore) -> None:
    """Only the latest disaster row decides: a "normal" row does not end disaster mode."""
    await store.set_mode("disaster", active=True, at=at(10), by="chief")
    await store.set_mode("normal", active=True, at=at(20), by="chief")
    assert await store.current_mode(at(30)) == "disaster"


async def test_set_mode_rejects_bad_input(store: CaseStore) -> None:
    """Unknown modes, naive times and over-long notes are refused and nothing is written."""
    with pytest.raises(ValueError, match="mode"):
        await store.set_mode("holiday", active=True, at=T0, by="chief")
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.set_mode("disaster", active=True, at=NAIVE, by="chief")
    with pytest.raises(ValueError, match="256"):
        await store.set_mode("disaster", active=True, at=T0, by="chief", note="x" * 257)
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.current_mode(NAIVE)
    assert await store.mode_history() == []


async def test_agent_state_history_newest_first(store: CaseStore) -> None:
    """An agent's state changes read back newest first with queues, reason and call."""
    await store.record_agent_state("7001", "logged_in", at=at(0), queues=["mandarin", "taigi"])
    await store.record_agent_state(
        "7001", "paused", at=at(5), queues=["mandarin", "taigi"], reason="lunch"
    )
    await store.record_agent_state(
        "7001",
        "unpaused",
        at=at(35),
        queues=["mandarin"],
        call_uniqueid="1753668000.42",
    )
    await store.record_agent_state("7002", "logged_in", at=at(1), queues=[])

    history = await store.agent_states("7001")
    assert [(s.state, s.at, s.queues, s.reason, s.call_uniqueid) for s in history] == [
        ("unpaused", at(35), ("mandarin",), None, "1753668000.42"),
        ("paused", at(5), ("mandarin", "taigi"), "lunch", None),
        ("logged_in", at(0), ("mandarin", "taigi"), None, None),
    ]
    assert all(s.agent_id == "7001" for s in history)
    assert [s.state for s in await store.agent_states("7001", limit=1)] == ["unpaused"]
    assert await store.agent_states("9999") == []


async def test_latest_agent_state_per_agent(store: CaseStore) -> None:
    """latest_agent_states gives each agent's newest change, whatever order they came in."""
    await store.record_agent_state("7001", "logged_in", at=at(0), queues=["mandarin"])
    await store.record_agent_state("7002", "logged_in", at=at(1), queues=["hakka"])
    # Recorded late but older: the newest by time wins, not the last written.
    await store.record_agent_state("7001", "paused", at=at(20), queues=["mandarin"], reason="break")
    await store.record_agent_state("7001", "logged_in", at=at(10), queues=["mandarin"])
    await store.record_agent_state("7003", "logged_in", at=at(2), queues=[])
    await store.record_agent_state("7003", "logged_out", at=at(40), queues=[])

    latest = await store.latest_agent_states()
    assert {agent: (s.state, s.at) for agent, s in latest.items()} == {
        "7001": ("paused", at(20)),
        "7002": ("logged_in", at(1)),
        "7003": ("logged_out", at(40)),
    }
    assert latest["7001"].reason == "break"


async def test_latest_agent_state_ties_go_to_the_later_record(store: CaseStore) -> None:
    """Two changes at the same instant: the one recorded second is the latest."""
    await store.record_agent_state("7001", "paused", at=at(3), queues=["q"])
    await store.record_agent_state("7001", "unpaused", at=at(3), queues=["q"])
    assert (await store.latest_agent_states())["7001"].state == "unpaused"
    assert [s.state for s in await store.agent_states("7001")] == ["unpaused", "paused"]


async def test_record_agent_state_rejects_bad_input(store: CaseStore) -> None:
    """Unknown states, a bare string for queues and naive times are refused."""
    with pytest.raises(ValueError, match="state"):
        await store.record_agent_state("7001", "on_break", at=T0, queues=[])
    with pytest.raises(TypeError, match="queues"):
        await store.record_agent_state("7001", "logged_in", at=T0, queues="mandarin")
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.record_agent_state("7001", "logged_in", at=NAIVE, queues=[])
    with pytest.raises(ValueError, match="32"):
        await store.record_agent_state("7" * 33, "logged_in", at=T0, queues=[])
    assert await store.latest_agent_states() == {}


async def test_rating_round_trip(store: CaseStore) -> None:
    """A rating reads back with its agent, queue and time; an unrated call reads None."""
    call_id = await new_call(store, "u-rated")
    unrated = await new_call(store, "u-unrated")
    assert await store.record_rating(call_id, 4, agent_id="7001", queue="mandarin", at=at(9))
    rating = await store.rating_for_call(call_id)
    assert rating is not None
    assert (rating.call_id, rating.rating, rating.agent_id, rating.queue, rating.at) == (
        call_id,
        4,
        "7001",
        "mandarin",
        at(9),
    )
    assert await store.rating_for_call(unrated) is None


@pytest.mark.parametrize("bad", [0, 6, -1, True])
async def test_rating_out_of_bounds_is_refused(store: CaseStore, bad: int) -> None:
    """Ratings outside 1..5 (or a bool) raise ValueError and store nothing."""
    call_id = await new_call(store, "u-bad")
    with pytest.raises(ValueError, match="1 to 5"):
        await store.record_rating(call_id, bad, agent_id=None, queue=None, at=T0)
    assert await store.rating_for_call(call_id) is None


async def test_rating_bounds_are_inclusive(store: CaseStore) -> None:
    """1 and 5 are both valid ratings."""
    low = await new_call(store, "u-low")
    high = await new_call(store, "u-high")
    assert await store.record_rating(low, 1, agent_id=None, queue=None, at=T0)
    assert await store.record_rating(high, 5, agent_id=None, queue=None, at=T0)
    for call_id, expected in ((low, 1), (high, 5)):
        rating = await store.rating_for_call(call_id)
        assert rating is not None
        assert rating.rating == expected


async def test_database_refuses_out_of_range_rating(store: CaseStore, db_url: str) -> None:
    """The CHECK constraint holds even for a write that bypasses the repository."""
    call_id = await new_call(store, "u-raw")
    engine = create_async_engine(db_url)
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO survey_ratings (call_id, rating, at) VALUES (:call_id, 6, :at)"
                    ),
                    {"call_id": call_id, "at": T0},
                )
    finally:
        await engine.dispose()


async def test_one_rating_per_call(store: CaseStore) -> None:
    """A second rating for a call returns False and the first one stands."""
    call_id = await new_call(store, "u-once")
    assert await store.record_rating(call_id, 2, agent_id="7001", queue="q", at=at(1))
    assert not await store.record_rating(call_id, 5, agent_id="7002", queue="q", at=at(2))
    rating = await store.rating_for_call(call_id)
    assert rating is not None
    assert (rating.rating, rating.agent_id, rating.at) == (2, "7001", at(1))


async def test_concurrent_ratings_store_exactly_one(store: CaseStore) -> None:
    """Of several racing ratings for one call exactly one is stored."""
    call_id = await new_call(store, "u-race")
    results = await asyncio.gather(
        *(store.record_rating(call_id, n, agent_id=None, queue=None, at=at(n)) for n in range(1, 6))
    )
    assert results.count(True) == 1
    rating = await store.rating_for_call(call_id)
    assert rating is not None
    assert rating.rating == results.index(True) + 1


async def test_rating_for_unknown_call_raises(store: CaseStore) -> None:
    """Rating a call id that does not exist raises LookupError."""
    with pytest.raises(LookupError):
        await store.record_rating(4242, 3, agent_id=None, queue=None, at=T0)
