"""The AMI client against a real Asterisk: the event filter."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping

import pytest

from ivr.adapters.ami import AmiClient
from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.testcall import place_call

pytestmark = pytest.mark.asterisk


async def test_engine_ami_user_receives_only_the_events_the_engine_handles(
    stack: StackConfig,
) -> None:
    """manager.conf filters the engine's user: even a session asking for all gets few."""
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
    # No Newexten, VarSet, AGIExec, RTCP...: only what the engine and the CLI handle.
    allowed = {
        "Hangup",
        "UserEvent",
        "OriginateResponse",
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "AgentConnect",
        "AgentComplete",
    }
    assert set(all_events) <= allowed, all_events
    assert set(got) <= allowed, got
    assert got["Hangup"] == all_events["Hangup"] >= 2
    assert len(handled) == got["Hangup"]


async def test_the_engine_reads_astdb_marks_and_a_missing_one_is_none(stack: StackConfig) -> None:
    """The engine's AMI user reads AstDB (the queued-callback marks). A missing key
    answers None at once: a list action would wait for a completion an error never
    sends, and the resume after a restart would stall on it."""
    process.rx(install.ensure(), stack, "database put hotline-qcb qcb-probe-1 dialling")
    client = AmiClient(stack.host, stack.ports.ami, stack.ami_user, stack.ami_secret)
    await client.start()
    try:
        await client.wait_connected(10.0)
        assert await client.db_get("hotline-qcb", "qcb-probe-1") == "dialling"
        assert await client.db_get("hotline-qcb", "qcb-probe-none", timeout=5.0) is None
    finally:
        await client.stop()
