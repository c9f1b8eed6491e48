"""Placing test calls and reading their timelines, shared by the integration tests."""

from __future__ import annotations

import asyncio
import math
import uuid
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr import app
from ivr.adapters.fastagi.server import AGIRouter, AGISession, FastAGIServer
from ivr.config import StackConfig
from ivr.prompts import prompt_path
from ivr.routing.loader import load_profile
from ivr.store import CallRecord, CaseStore
from ivr.testcall import place_call
from tests.ports import sipp_media_port
from tests.sipp.scenarios import register_scenario, run_caller

StartEngine = Callable[..., Awaitable[app.Engine]]


async def call_own_handler(
    cfg: StackConfig,
    handler: Callable[[AGISession, FastAGIServer], Awaitable[None]],
    *,
    hold_s: float,
    caller: str = "0912000000",
    timeout_s: float = 20.0,
) -> None:
    """A call to 1999 served by `handler` on our FastAGI server in the engine's place.

    Returns once the handler has finished; it gets the server too, for its stats.
    """
    done = asyncio.Event()
    server: FastAGIServer

    async def wrapped(session: AGISession) -> None:
        try:
            await handler(session, server)
        finally:
            done.set()

    router = AGIRouter()
    router.register("hotline", wrapped)
    server = FastAGIServer(router, cfg.host, cfg.ports.agi)
    await server.start()
    try:
        await place_call(
            cfg,
            "1999",
            dtmf="",
            caller=caller,
            wait_s=0.5,
            hold_s=hold_s,
            call_uid=uuid.uuid4().hex,
        )
        await asyncio.wait_for(done.wait(), timeout_s)
    finally:
        await server.stop()


def secs(cfg: StackConfig, name: str, language: str = "zh-TW") -> float:
    path = prompt_path(cfg.sounds_dir, language, name).with_suffix(".wav")
    if not path.exists():
        return 0.0
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def pause(seconds: float) -> str:
    """SendDTMF's `w` waits half a second."""
    return "w" * math.ceil(seconds / 0.5)


async def call(
    cfg: StackConfig,
    store: CaseStore,
    *,
    dtmf: str,
    wait_s: float,
    hold_s: float,
    caller: str = "0912345678",
) -> CallRecord:
    result = await place_call(
        cfg,
        "1999",
        dtmf=dtmf,
        caller=caller,
        wait_s=wait_s,
        hold_s=hold_s,
        call_uid=uuid.uuid4().hex,
    )
    record = await store.get_call_by_uniqueid(result["uniqueid"])
    assert record is not None, result["summary"]
    return record


def events(record: CallRecord, kind: str) -> list[dict[str, object]]:
    return [dict(e.data) for e in record.events if e.kind == kind]


def greeting_s(cfg: StackConfig) -> float:
    """Just after the greeting ends: tests time the caller's first key from here."""
    return secs(cfg, "greeting") + 0.6


AGENT_CONTEXT = "hotline-agent-phone"


async def feature_code(stack: StackConfig, extension: str, code: str) -> None:
    """The agent's phone dials a feature code (its caller id is its extension)."""
    await place_call(
        stack,
        code,
        dtmf="",
        caller=extension,
        wait_s=0,
        hold_s=4,
        call_uid=uuid.uuid4().hex,
        context=AGENT_CONTEXT,
    )


async def register_agent(stack: StackConfig, extension: str, port: int) -> None:
    """A SIPp registers the agent's phone (digest auth) at 127.0.0.1:port."""
    tables = load_profile(Path(stack.routing_profile))
    secret = next(a.secret for a in tables.agents.agents if a.extension == extension)
    result = await asyncio.to_thread(
        run_caller,
        stack.ports.sip,
        extension,
        register_scenario(extension, secret),
        local_port=port,
        media_port=sipp_media_port(),
        timeout_s=20,
    )
    assert result.ok, result.output
