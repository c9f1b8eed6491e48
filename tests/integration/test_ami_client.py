"""The AMI client against a real Asterisk: the event filter."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping

import pytest

from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.testcall import place_call

pytestmark = pytest.mark.asterisk


async def test_ami_session_receives_only_the_events_it_has_handlers_for(
    stack: StackConfig,
) -> None:
    """A session with handlers gets only those events; one with a pattern gets them all."""
    handled: list[str] = []

    def on_hangup(event: Mapping[str, str]) -> None:
        handled.append(event.get("Uniqueid", ""))

    filtered = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    filtered.on("Hangup", on_hangup)
    everything = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    everything.on("*", lambda _event: None)
    await filtered.start()
    await everything.start()
    try:
        await filtered.wait_connected(10.0)
        await everything.wait_connected(10.0)
        # Login sends FullyBooted before any filter can exist: count from here.
        before_filtered = Counter(filtered.events_received)
        before_all = Counter(everything.events_received)
        await place_call(
            stack,
            "1999",
            dtmf="1",
            caller="0912000000",
            wait_s=0.5,
            hold_s=2.0,
            call_uid=uuid.uuid4().hex,
        )
        # Both sessions are on the same Asterisk: a ping on each drains what was queued.
        await filtered.action({"Action": "Ping"})
        await everything.action({"Action": "Ping"})
    finally:
        await filtered.stop()
        await everything.stop()
    got = filtered.events_received - before_filtered
    all_events = everything.events_received - before_all
    # OriginateResponse always passes: it is how Asterisk answers an async Originate.
    assert set(got) == {"Hangup", "OriginateResponse"}
    assert got["Hangup"] == all_events["Hangup"] >= 2
    assert len(handled) == got["Hangup"]
    # What the filter spares the engine: every other event of the same call.
    assert sum(all_events.values()) > 10 * sum(got.values()), all_events
