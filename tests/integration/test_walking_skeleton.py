"""Calls to 1999 on a real Asterisk: the engine path and the dialplan fallback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import Mapping

import pytest

from ivr.adapters.ami import AmiClient
from ivr.adapters.fastagi.server import AGIRouter, AGISession, FastAGIServer
from ivr.config import StackConfig
from ivr.engine_file import ENGINE_FILE
from ivr.prompts import prompt_path
from ivr.store import CaseStore
from ivr.testcall import place_call
from tests.harness import EngineProcess
from tests.integration.calls import call_own_handler
from tests.integration.driven import Driver

pytestmark = pytest.mark.asterisk


async def test_call_to_1999_reaches_engine_plays_greeting_and_is_recorded(
    stack: StackConfig, engine: EngineProcess, store: CaseStore
) -> None:
    """Given the engine runs, a call to 1999 hears the whole greeting and is stored."""
    # The caller stays through the greeting, the language menu and its wait for a key
    # (the menu's read timing out), then hangs up.
    async with Driver(stack, store) as driver:
        uid = await driver.place([], caller="0223456789")
        await driver.until(uid, lambda r: any(e.kind == "menu" for e in r.events))
        await driver.hang_up(uid)
        call = await driver.ended(uid)
    assert call.caller_number == "0223456789"
    assert call.ended_at is not None
    assert call.ended_at > call.started_at
    assert call.hangup_cause == 16
    assert call.hangup_cause_text == "Normal Clearing"
    assert call.linkedid == uid.replace("-hotline", "-caller")
    kinds = [e.kind for e in call.events]
    assert kinds[0] == "agi_start"
    assert kinds[-1] == "hangup"
    # The greeting opens the language menu's read, which times out only after
    # Asterisk has played every prompt in it and waited for a key.
    first = next(e.data for e in call.events if e.kind == "menu")
    assert first["prompts"] == ["greeting", "taipei-language-menu"]
    assert first["timed_out"] is True
    assert "service_state" in kinds
    # The caller left at the language menu, after hearing the greeting.
    assert call.outcome == "abandoned"


def test_an_engine_served_without_its_console_binds_no_web_port(
    stack: StackConfig, engine: EngineProcess
) -> None:
    """`ivr serve --no-console` (this fixture's engine, which the test above calls): the
    CLI's record says there is no console, and nothing listens on the console's port."""
    assert not engine.console
    record = json.loads((stack.run_dir / ENGINE_FILE).read_text(encoding="utf-8"))
    assert record["pid"] == engine.pid
    assert record["console"] is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((stack.web_bind, stack.ports.web), timeout=5).close()


async def test_caller_hanging_up_during_greeting_is_recorded_as_abandoned(
    stack: StackConfig, engine: EngineProcess, store: CaseStore
) -> None:
    """A caller who leaves during the greeting is stored as abandoned, with the cause."""
    result = await place_call(
        stack,
        "1999",
        dtmf="",
        caller="0911000111",
        wait_s=0.5,
        hold_s=0.5,
        call_uid=uuid.uuid4().hex,
    )
    call = await store.get_call_by_uniqueid(result["uniqueid"])
    assert call is not None
    assert [e.kind for e in call.events] == ["agi_start", "service_state", "caller_left", "hangup"]
    assert call.events[2].data == {"after": "greeting"}
    assert call.outcome == "abandoned"
    assert call.ended_at is not None


class _Seen:
    def __init__(self, uniqueid: str) -> None:
        self.uniqueid = uniqueid
        self.fallback_reason: str | None = None
        self.queue_joined: str | None = None
        self.channel = ""
        self.joined = asyncio.Event()

    def on_user_event(self, event: Mapping[str, str]) -> None:
        if event.get("UserEvent") == "HotlineFallback" and event.get("Uniqueid") == self.uniqueid:
            self.fallback_reason = event.get("Reason")

    def on_queue_join(self, event: Mapping[str, str]) -> None:
        if event.get("Uniqueid") == self.uniqueid:
            self.queue_joined = event.get("Queue")
            self.channel = event.get("Channel", "")
            self.joined.set()


async def _call_and_watch(stack: StackConfig, ami: AmiClient) -> tuple[_Seen, dict[str, object]]:
    call_uid = uuid.uuid4().hex
    seen = _Seen(f"{call_uid}-hotline")
    ami.on("UserEvent", seen.on_user_event)
    ami.on("QueueCallerJoin", seen.on_queue_join)
    # The caller stays until the queue join is seen, then is hung up: a fixed hold
    # could end before a slow machine had played the fallback notice.
    placed = asyncio.create_task(
        place_call(
            stack, "1999", dtmf="", caller="0912000000", wait_s=0.5, hold_s=120.0, call_uid=call_uid
        )
    )
    try:
        async with asyncio.timeout(90):
            await seen.joined.wait()
    except TimeoutError:
        pass
    if seen.channel:
        await ami.action({"Action": "Hangup", "Channel": seen.channel})
    else:
        placed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        return seen, await placed
    return seen, {"reached": None}


async def test_engine_down_call_takes_fallback_and_reaches_agent_queue(
    stack: StackConfig, ami: AmiClient, store: CaseStore
) -> None:
    """With no engine listening, the caller hears the fallback and waits in the agents' queue."""
    seen, result = await _call_and_watch(stack, ami)
    assert not result["reached"]
    assert seen.fallback_reason == "engine-unreachable"
    assert seen.queue_joined == "hotline-agents"
    assert await store.get_call_by_uniqueid(seen.uniqueid) is None


async def test_handler_exception_reaches_dialplan_as_failure(
    stack: StackConfig, ami: AmiClient
) -> None:
    """A handler that raises sends the caller to the fallback, naming the error."""

    async def broken(session: AGISession) -> None:
        await session.answer()
        raise RuntimeError("routing table exploded")

    router = AGIRouter()
    router.register("hotline", broken)
    server = FastAGIServer(router, stack.host, stack.ports.agi)
    await server.start()
    try:
        seen, _ = await _call_and_watch(stack, ami)
    finally:
        await server.stop()
    assert seen.fallback_reason == "RuntimeError"
    assert seen.queue_joined == "hotline-agents"


async def test_real_asterisk_hangup_line_is_seen_and_later_commands_raise(
    stack: StackConfig,
) -> None:
    """When the caller hangs up mid-prompt, the session marks it and stops cleanly."""
    observed: dict[str, object] = {}

    async def long_prompt(session: AGISession, _server: FastAGIServer) -> None:
        greeting = prompt_path(stack.sounds_dir, "zh-TW", "greeting")
        reply = await session.stream_file(str(greeting))
        observed["stream_result"] = reply.result
        try:
            # STREAM FILE is not allowed on a dead channel: Asterisk answers 511.
            await session.stream_file(str(greeting))
        except Exception as exc:
            observed["after_hangup"] = type(exc).__name__
            observed["hung_up"] = session.hung_up
            raise

    await call_own_handler(stack, long_prompt, hold_s=0.5, caller="0912000001")
    assert observed["stream_result"] == "-1"
    assert observed["after_hangup"] == "AGIHangup"
    assert observed["hung_up"] is True
