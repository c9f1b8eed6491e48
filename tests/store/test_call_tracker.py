"""The call tracker posts a call's steps without waiting, and loses none of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from ivr.adapters.calls import CallTracker
from ivr.store import CaseStore

T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


class SteppingClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


async def started(tracker: CallTracker, clock: SteppingClock, uniqueid: str) -> int:
    return await tracker.started(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=f"PJSIP/carrier-{uniqueid}",
        caller_number="0912345678",
        caller_name=None,
        dnid="1999",
        at=clock(),
    )


async def test_start_records_the_call_answered(store: CaseStore) -> None:
    """The engine's calls were answered in the dialplan: the start says so in one write."""
    clock = SteppingClock()
    tracker = CallTracker(store, clock)
    call_id = await started(tracker, clock, "u-1")
    call = await store.get_call(call_id)
    assert call is not None
    assert call.answered_at == call.started_at == T0 + timedelta(milliseconds=10)


async def test_posted_steps_keep_their_order_and_the_hangup_comes_last(store: CaseStore) -> None:
    """A Hangup right behind the steps still lands after all of them, and ends the call."""
    clock = SteppingClock()
    tracker = CallTracker(store, clock)
    call_id = await started(tracker, clock, "u-2")
    for n in range(30):
        tracker.event(call_id, "played", clock(), {"n": n})
    # No await between the last post and the Hangup: the worst case for ordering.
    await tracker.on_hangup({"Uniqueid": "u-2", "Cause": "16", "Cause-txt": "Normal Clearing"})
    call = await store.get_call(call_id)
    assert call is not None
    assert [(e.kind, dict(e.data).get("n")) for e in call.events] == [
        *(("played", n) for n in range(30)),
        ("hangup", None),
    ]
    assert [e.seq for e in call.events] == list(range(1, 32))
    assert (call.hangup_cause, call.hangup_cause_text) == (16, "Normal Clearing")
    assert call.ended_at is not None


async def test_flush_waits_for_every_posted_step(store: CaseStore) -> None:
    """Before the engine closes the store, what was posted is committed."""
    clock = SteppingClock()
    tracker = CallTracker(store, clock)
    ids = [await started(tracker, clock, f"u-{n}") for n in range(5)]
    for call_id in ids:
        for kind in ("agi_start", "menu", "transfer"):
            tracker.event(call_id, kind, clock())
    await tracker.flush()
    for call_id in ids:
        call = await store.get_call(call_id)
        assert call is not None
        assert [e.kind for e in call.events] == ["agi_start", "menu", "transfer"]


async def test_a_step_the_store_refuses_is_logged_not_raised(store: CaseStore) -> None:
    """An event for a call the store does not know is logged; the tracker carries on."""
    clock = SteppingClock()
    tracker = CallTracker(store, clock)
    with capture_logs() as logs:
        tracker.event(424242, "menu", clock())
        await tracker.flush()
        await tracker.settled(424242)
    refused = [e for e in logs if e["event"] == "call_event_not_recorded"]
    assert [(e["call_id"], e["kind"]) for e in refused] == [(424242, "menu")]
    call_id = await started(tracker, clock, "u-after")
    tracker.event(call_id, "menu", clock())
    await tracker.settled(call_id)
    call = await store.get_call(call_id)
    assert call is not None
    assert [e.kind for e in call.events] == ["menu"]
