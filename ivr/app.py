"""`ivr serve`: wires the FastAGI server, AMI, ARI and the case store in one process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from dataclasses import dataclass

import structlog

from ivr.adapters.agi.hotline import HOTLINE_SCRIPT_NAME, HotlineScript
from ivr.adapters.ami import AmiClient
from ivr.adapters.calls import CallTracker
from ivr.adapters.fastagi.server import AGIRouter, FastAGIServer
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.store import CaseStore

log = structlog.get_logger()

ENGINE_FILE = "engine.json"


@dataclass
class Engine:
    cfg: StackConfig
    store: CaseStore
    agi: FastAGIServer
    ami: AmiClient

    async def stop(self) -> None:
        await self.agi.stop()
        await self.ami.stop()
        await self.store.close()
        (self.cfg.run_dir / ENGINE_FILE).unlink(missing_ok=True)


def build_router(tracker: CallTracker, clock: Clock, cfg: StackConfig) -> AGIRouter:
    router = AGIRouter()
    router.register(HOTLINE_SCRIPT_NAME, HotlineScript(tracker, clock, cfg.sounds_dir))
    return router


async def start(cfg: StackConfig, clock: Clock = system_clock) -> Engine:
    store = await CaseStore.open(cfg.database_url)
    await store.migrate()
    tracker = CallTracker(store, clock)
    await tracker.load_open()
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    ami.on("Hangup", tracker.on_hangup)
    await ami.start()
    agi = FastAGIServer(build_router(tracker, clock, cfg), cfg.host, cfg.ports.agi)
    await agi.start()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / ENGINE_FILE).write_text(
        json.dumps({"pid": os.getpid(), "agi_port": agi.port}), encoding="utf-8"
    )
    log.info("engine_started", agi_port=agi.port, database=_redact(cfg.database_url))
    return Engine(cfg, store, agi, ami)


async def serve(cfg: StackConfig) -> None:
    engine = await start(cfg)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("engine_stopping")
        with contextlib.suppress(Exception):
            await engine.stop()


def _redact(url: str) -> str:
    # Keep the driver and host in logs, never a password.
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
