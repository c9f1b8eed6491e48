"""`ivr serve`: wires the FastAGI server, AMI, the routing tables and the case store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from ivr.adapters.agi.agent import AGENT_SCRIPT_NAME, AgentScript
from ivr.adapters.agi.hotline import HOTLINE_SCRIPT_NAME, TRANSFER_SCRIPT_NAME, HotlineScript
from ivr.adapters.ami import AmiClient
from ivr.adapters.calls import CallTracker
from ivr.adapters.fastagi.server import AGIRouter, FastAGIServer
from ivr.adapters.mail import SmtpMailer
from ivr.adapters.scheduler import OverdueScheduler
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.routing.holder import TableHolder
from ivr.routing.loader import RoutingError
from ivr.routing.tables import RoutingTables
from ivr.routing.view import RoutingView, build_view
from ivr.store import CaseStore

log = structlog.get_logger()

ENGINE_FILE = "engine.json"
# Written on SIGUSR1, for benchmarks: the FastAGI command round trips so far.
AGI_STATS_FILE = "agi-stats.json"


class Routing:
    """The running tables and the view calls use, swapped together in one assignment."""

    def __init__(self, directory: Path, clock: Clock) -> None:
        self.directory = directory
        self.holder = TableHolder.load(directory, clock=clock)
        self._pair = (self.holder.current, build_view(self.holder.current))

    def tables(self) -> RoutingTables:
        return self._pair[0]

    def view(self) -> RoutingView:
        return self._pair[1]

    def reload(self) -> int:
        """Validate and swap; on RoutingError the running table stays as it was."""
        loaded = self.holder.reload(self.directory)
        self._pair = (loaded.tables, build_view(loaded.tables))
        return loaded.version


@dataclass
class Engine:
    cfg: StackConfig
    store: CaseStore
    agi: FastAGIServer
    ami: AmiClient
    routing: Routing
    scheduler: OverdueScheduler

    async def stop(self) -> None:
        await self.agi.stop()
        await self.scheduler.stop()
        await self.ami.stop()
        await self.store.close()
        (self.cfg.run_dir / ENGINE_FILE).unlink(missing_ok=True)


def build_router(
    store: CaseStore, tracker: CallTracker, clock: Clock, cfg: StackConfig, routing: Routing
) -> AGIRouter:
    async def save_agent_state(agent: str, state: str, at: datetime, queues: list[str]) -> None:
        await store.record_agent_state(agent, state, at=at, queues=queues)

    hotline = HotlineScript(
        tracker=tracker,
        clock=clock,
        sounds_dir=cfg.sounds_dir,
        spool_dir=cfg.state_dir / "spool" / "messages",
        routing=routing.view,
        current_mode=store.current_mode,
        store=store,
    )
    router = AGIRouter()
    router.register(HOTLINE_SCRIPT_NAME, hotline)
    router.register(TRANSFER_SCRIPT_NAME, hotline.transfer_entry)
    router.register(
        AGENT_SCRIPT_NAME,
        AgentScript(clock, cfg.sounds_dir, routing.tables, save_agent_state),
    )
    return router


async def start(cfg: StackConfig, clock: Clock = system_clock) -> Engine:
    routing = Routing(cfg.routing_dir, clock)
    store = await CaseStore.open(cfg.database_url)
    await store.migrate()
    tracker = CallTracker(store, clock)
    await tracker.load_open()
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    ami.on("Hangup", tracker.on_hangup)
    await ami.start()
    agi = FastAGIServer(build_router(store, tracker, clock, cfg, routing), cfg.host, cfg.ports.agi)
    await agi.start()
    # Overdue callbacks are flagged and mailed, and the 08:00 digest sent, from here.
    scheduler = OverdueScheduler(
        store,
        SmtpMailer.from_config(cfg),
        clock,
        lambda: routing.tables().directory,
        cfg.hotline_supervisor,
        lambda: routing.view().office,
        state_dir=cfg.state_dir,
    )
    scheduler.start()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / ENGINE_FILE).write_text(
        json.dumps({"pid": os.getpid(), "agi_port": agi.port, "routing_version": 1}),
        encoding="utf-8",
    )
    log.info(
        "engine_started",
        agi_port=agi.port,
        database=_redact(cfg.database_url),
        routing=str(cfg.routing_dir),
    )
    return Engine(cfg, store, agi, ami, routing, scheduler)


def _reload(engine: Engine) -> None:
    try:
        version = engine.routing.reload()
    except RoutingError as exc:
        # A refused table is an expected outcome with its reasons, not a crash trace.
        log.error("routing_reload_refused", problems=[str(p) for p in exc.problems])  # noqa: TRY400
        return
    (engine.cfg.run_dir / ENGINE_FILE).write_text(
        json.dumps({"pid": os.getpid(), "agi_port": engine.agi.port, "routing_version": version}),
        encoding="utf-8",
    )
    log.info("routing_reloaded", version=version)


def _write_agi_stats(engine: Engine) -> None:
    stats = engine.agi.stats
    data = {
        "pid": os.getpid(),
        "count": stats.count,
        "p50_ms": stats.percentile(50),
        "p99_ms": stats.percentile(99),
        # Every kept sample: a benchmark tells quick commands from media ones by length.
        "samples_ms": sorted(s * 1000.0 for s in stats._samples),
    }
    path = engine.cfg.run_dir / AGI_STATS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


async def serve(cfg: StackConfig) -> None:
    engine = await start(cfg)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # `ivr routing reload` validates first, then signals: calls never see a bad table.
    loop.add_signal_handler(signal.SIGHUP, _reload, engine)
    loop.add_signal_handler(signal.SIGUSR1, _write_agi_stats, engine)
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
