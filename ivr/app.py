"""`ivr serve`: wires the FastAGI server, AMI, the routing tables and the case store."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from ivr.adapters import collector
from ivr.adapters.agi.agent import AGENT_SCRIPT_NAME, AgentScript
from ivr.adapters.agi.hotline import HOTLINE_SCRIPT_NAME, TRANSFER_SCRIPT_NAME, HotlineScript
from ivr.adapters.ami import AmiClient
from ivr.adapters.ari import AriClient
from ivr.adapters.calls import CallTracker
from ivr.adapters.case_rounds import rounds_for
from ivr.adapters.conversation import ConversationControl
from ivr.adapters.durable import SPOOL_FILE, DurableStore
from ivr.adapters.fastagi.server import AGIRouter, AGISession, FastAGIServer
from ivr.adapters.mail import SmtpMailer
from ivr.adapters.malloc import fix_mmap_threshold
from ivr.adapters.queue_events import QUEUE_EVENTS, QueueEventRecorder
from ivr.adapters.queued_callbacks import CallbackDialler, callback_policy
from ivr.adapters.reconcile import CDR_DIR, CDR_FILE, OFFSET_FILE, Reconciler
from ivr.adapters.scheduler import OverdueScheduler
from ivr.adapters.threeway import ThreeWayCalls
from ivr.adapters.wait_keeper import WaitKeeper
from ivr.background import cancel_all
from ivr.config import StackConfig, check_exposure
from ivr.domain.clock import Clock, system_clock
from ivr.engine_file import ENGINE_FILE
from ivr.engine_record import watch_links, write_engine_file
from ivr.notify.service import run_outbox
from ivr.routing.holder import TableHolder
from ivr.routing.last_good import remember, start_tables
from ivr.routing.loader import Problem, RoutingError, load_profile
from ivr.routing.served import ServedVersions, directory_digest
from ivr.routing.sites import engine_site, publish_due_forever
from ivr.routing.tables import RoutingTables
from ivr.routing.view import RoutingView, build_view
from ivr.store import CaseStore, StoreUnavailable
from ivr.store.ports import EngineStore
from ivr.store.queue_legs import QueueLegs
from ivr.store.queued_callbacks import QueuedCallbacks
from ivr.watchdog import HEALTH_SCRIPT

if TYPE_CHECKING:
    from ivr.web.server import RunningConsole

log = structlog.get_logger()

# Written on SIGUSR1, for benchmarks: the FastAGI command round trips so far.
AGI_STATS_FILE = "agi-stats.json"
# Backoff of the schema check when the database is down at start.
MIGRATE_RETRY_S = 0.5
MIGRATE_RETRY_MAX_S = 5.0
# Reconciliation from CDRs runs at start and then this often (the environment
# variable shortens it, for tests).
RECONCILE_INTERVAL_S = 60.0
RECONCILE_ENV = "HOTLINE_RECONCILE_S"


class Routing:
    """The running tables and the view calls use, swapped together in one assignment."""

    def __init__(self, directory: Path, clock: Clock, state_dir: Path | None = None) -> None:
        self.directory = directory
        # With a state dir, a profile refused at start falls back to the last good copy.
        self.state_dir = state_dir
        if state_dir is None:
            self.holder = TableHolder.load(directory, clock=clock)
            self.refused_at_start: tuple[Problem, ...] = ()
        else:
            started = start_tables(directory, state_dir, load_profile)
            self.holder = TableHolder(started.tables, clock=clock)
            self.refused_at_start = started.refused
        tables = self.holder.current
        self._pair = (tables, build_view(tables), directory_digest(tables.source))

    def tables(self) -> RoutingTables:
        return self._pair[0]

    def view(self) -> RoutingView:
        return self._pair[1]

    def pinned(self) -> tuple[RoutingView, str | None]:
        """The view and the digest of the files it came from, as one snapshot."""
        return self._pair[1], self._pair[2]

    def reload(self) -> int:
        """Validate and swap; on RoutingError the running table stays as it was."""
        # The files are read twice (here and by the loader): the same digest before
        # and after says the loader read exactly those bytes.
        before = directory_digest(self.directory)
        loaded = self.holder.reload(self.directory)
        after = directory_digest(self.directory)
        self._pair = (loaded.tables, build_view(loaded.tables), before if before == after else None)
        self.refused_at_start = ()
        if self.state_dir is not None:
            remember(loaded.tables, self.state_dir)
        return loaded.version


@dataclass
class Engine:
    cfg: StackConfig
    store: CaseStore
    agi: FastAGIServer
    ami: AmiClient
    routing: Routing
    scheduler: OverdueScheduler
    durable: DurableStore
    ari: AriClient
    tracker: CallTracker
    # Reconciliation and the link watcher: cancelled first on stop.
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    # The web console, when its port could be bound.
    console: RunningConsole | None = None

    async def stop(self) -> None:
        if self.console is not None:
            await self.console.stop()
        await cancel_all(self.background)
        await self.agi.stop()
        await self.scheduler.stop()
        await self.ami.stop()
        await self.ari.stop()
        await self.tracker.flush()
        # What is still spooled stays on disk for the next start.
        await self.durable.stop()
        await self.store.close()
        (self.cfg.run_dir / ENGINE_FILE).unlink(missing_ok=True)


def build_router(
    store: EngineStore,
    tracker: CallTracker,
    clock: Clock,
    cfg: StackConfig,
    routing: Routing,
    served: ServedVersions | None = None,
    queue_legs: QueueLegs | None = None,
    conversations: ConversationControl | None = None,
    queued_callbacks: QueuedCallbacks | None = None,
) -> AGIRouter:
    async def save_agent_state(
        agent: str, state: str, at: datetime, queues: list[str], reason: str | None = None
    ) -> None:
        await store.record_agent_state(agent, state, at=at, queues=queues, reason=reason)

    hotline = HotlineScript(
        tracker=tracker,
        clock=clock,
        sounds_dir=cfg.sounds_dir,
        spool_dir=cfg.state_dir / "spool" / "messages",
        routing=routing.view,
        current_mode=store.current_mode,
        store=store,
        closures=store.closures,
        queue_legs=queue_legs,
        conversations=conversations,
        queued_callbacks=queued_callbacks,
    )
    router = AGIRouter()
    # The supervisor's watchdog probe: an answer proves the event loop runs.
    router.register(HEALTH_SCRIPT, _health)
    router.register(
        HOTLINE_SCRIPT_NAME, hotline if served is None else _pinned(hotline, routing, served)
    )
    router.register(TRANSFER_SCRIPT_NAME, hotline.transfer_entry)
    router.register(
        AGENT_SCRIPT_NAME,
        AgentScript(clock, cfg.sounds_dir, routing.tables, save_agent_state),
    )
    return router


def _pinned(
    hotline: HotlineScript, routing: Routing, served: ServedVersions
) -> Callable[[AGISession], Awaitable[None]]:
    """The call keeps the table it started with, and its version is noted for the record."""

    async def call(session: AGISession) -> None:
        view, content = routing.pinned()
        served.note(session.request.uniqueid, routing.directory.name, content)
        await replace(hotline, routing=lambda: view)(session)

    return call


async def _health(_session: AGISession) -> None:
    """Nothing to do: the session's SUCCESS report is the answer."""


async def start(cfg: StackConfig, clock: Clock = system_clock, *, console: bool = True) -> Engine:
    """The engine, serving calls; with the web console unless `console` is False."""
    # Everything the engine writes (run files, offsets, spool, markers) stays owner-only.
    os.umask(0o077)
    check_exposure(cfg)
    routing = Routing(cfg.routing_dir, clock, cfg.state_dir)
    store = await CaseStore.open(cfg.database_url)
    # Calls go on while the database is away; this keeps their records, and replays
    # (in the background, from now on) what an earlier run had to spool.
    durable = await DurableStore.open(store, cfg.state_dir / SPOOL_FILE)
    tracker = CallTracker(durable, clock)
    # A database that is down at start is an outage like one that begins later: the
    # engine serves from the spool, and replay begins once the schema is current.
    schema: asyncio.Task[None] | None = None
    try:
        await store.migrate()
    except StoreUnavailable as exc:
        log.warning("store_unavailable_at_start", error=str(exc))
        schema = asyncio.create_task(_migrate_then_replay(store, durable), name="migrate")
    else:
        durable.start()
        await tracker.load_open()
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    ami.on("Hangup", tracker.on_hangup)
    ami.on("UserEvent", tracker.on_fallback)
    # An events link too, so `ivr status` can tell when the engine lost ARI.
    ari = AriClient(cfg.ari_base_url, cfg.ari_user, cfg.ari_password, cfg.ari_app)
    # Calls the fallback took while no engine ran, and calls an earlier run lost.
    reconciler = Reconciler(
        store,
        ari,
        clock,
        cdr_path=cfg.log_dir / CDR_DIR / CDR_FILE,
        offset_path=cfg.state_dir / OFFSET_FILE,
        settled=lambda: durable.pending == 0,
        outages=lambda: ami.outages,
        interval_s=_reconcile_interval(),
    )
    await reconciler.prepare()
    ami.on("Hangup", reconciler.on_hangup)
    # Queue stays: waiting told apart from talking (issue 18).
    queue_legs = QueueLegs.of(store)
    queue_events = QueueEventRecorder(queue_legs, clock)
    for name in QUEUE_EVENTS:
        ami.on(name, queue_events.on_event)
    # The call cap's hands: who answered (AMI UserEvent), prompts to one leg (ARI).
    conversations = ConversationControl(ari)
    ami.on("UserEvent", conversations.on_ami)
    # Queued callbacks: the caller's place kept, the agent first, never dialled twice.
    queued = QueuedCallbacks.of(store)
    dialler = CallbackDialler(
        queued,
        store,
        ari,
        ami,
        clock,
        trunk=lambda: routing.tables().directory.outbound_trunk,
        office=lambda: routing.view().office,
        queue_names=lambda: {q: p.name for q, p in routing.view().queues.items()},
        policy=lambda queue: callback_policy(routing.tables(), queue),
    )
    dialler.listen()
    threeway = ThreeWayCalls(ari, ami, durable, clock)  # the agent's 110/119 call (issue 16)
    await ami.start()
    await ari.start()
    agi = FastAGIServer(
        build_router(
            durable,
            tracker,
            clock,
            cfg,
            routing,
            ServedVersions(store, clock, routing.directory),
            queue_legs,
            conversations,
            queued,
        ),
        cfg.agi_bind,
        cfg.ports.agi,
        permit=cfg.agi_permit,
    )
    await agi.start()
    # Overdue callbacks are flagged and mailed, and the 08:00 digest sent, from here.
    scheduler = OverdueScheduler(
        durable,
        SmtpMailer.from_config(cfg),
        clock,
        lambda: routing.tables().directory,
        cfg.hotline_supervisor,
        lambda: routing.view().office,
        state_dir=cfg.state_dir,
        case_rounds=rounds_for(
            store,
            routing.tables,
            lambda: routing.view().office,
            cfg.state_dir,
        ),
    )
    scheduler.start()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    engine = Engine(cfg, store, agi, ami, routing, scheduler, durable, ari, tracker)
    if console:
        engine.console = await _start_console(cfg, store, ami, routing, clock)
    if engine.console is not None:
        engine.console.attach_threeway(threeway)
    write_engine_file(engine)
    if schema is not None:
        engine.background.append(schema)
    engine.background += [
        asyncio.create_task(reconciler.run(), name="reconcile"),
        asyncio.create_task(watch_links(engine), name="link-watch"),
        # What waiting callers hear of the wait, kept current (issue 18).
        asyncio.create_task(
            WaitKeeper(ami, queue_legs, clock, cfg.sounds_dir, routing.view).run(),
            name="wait-estimates",
        ),
        asyncio.create_task(dialler.run(), name="queued-callbacks"),
        # The outbox: e-mail, SMS and phone messages to citizens and officials.
        asyncio.create_task(
            run_outbox(cfg, store, ami, clock, lambda: routing.tables().directory.outbound_trunk),
            name="outbox",
        ),
        # Drafts an admin scheduled (a holiday schedule) go live here, checked again.
        asyncio.create_task(
            publish_due_forever(store, engine_site(cfg, lambda: routing.holder.version), clock),
            name="routing-due",
        ),
    ]
    log.info(
        "engine_started",
        agi_port=agi.port,
        database=_redact(cfg.database_url),
        routing=str(cfg.routing_dir),
    )
    return engine


async def _start_console(
    cfg: StackConfig, store: CaseStore, ami: AmiClient, routing: Routing, clock: Clock
) -> RunningConsole | None:
    """The web console on the engine's loop, store and AMI link (None: port not free).

    Its web stack (~2 s to import) is loaded only here, in a thread: FastAGI, already
    listening, serves calls meanwhile, and whoever imports `ivr.app` never pays it.
    """
    await asyncio.to_thread(importlib.import_module, "ivr.web.server")
    from ivr.control import ControlError, click_to_callback
    from ivr.web.server import start_console

    async def callback(ticket: str, extension: str) -> str:
        try:
            return (await click_to_callback(cfg, ticket, extension)).dialstatus
        except ControlError as exc:
            return str(exc)

    return await start_console(
        store=store,
        ami=ami,
        tables=routing.tables,
        view=routing.view,
        clock=clock,
        host=cfg.web_bind,
        port=cfg.ports.web,
        callback=callback,
        routing_site=engine_site(cfg, lambda: routing.holder.version),
    )


async def _migrate_then_replay(store: CaseStore, durable: DurableStore) -> None:
    """Retry the schema upgrade with backoff; then replay what was spooled meanwhile."""
    delay = MIGRATE_RETRY_S
    while True:
        await asyncio.sleep(delay)
        try:
            await store.migrate()
        except StoreUnavailable as exc:
            log.info("store_still_unavailable", error=str(exc), retry_in_s=delay)
            delay = min(delay * 2, MIGRATE_RETRY_MAX_S)
            continue
        log.info("store_available")
        durable.start()
        return


def _reconcile_interval() -> float:
    """Seconds between reconciliation passes: every minute, or $HOTLINE_RECONCILE_S."""
    try:
        return max(1.0, float(os.environ.get(RECONCILE_ENV, RECONCILE_INTERVAL_S)))
    except ValueError:
        log.warning("reconcile_interval_invalid", value=os.environ.get(RECONCILE_ENV))
        return RECONCILE_INTERVAL_S


def _reload(engine: Engine) -> None:
    try:
        version = engine.routing.reload()
    except RoutingError as exc:
        # A refused table is an expected outcome with its reasons, not a crash trace.
        log.error("routing_reload_refused", problems=[str(p) for p in exc.problems])  # noqa: TRY400
        return
    write_engine_file(engine)
    log.info("routing_reloaded", version=version)


def _write_agi_stats(engine: Engine) -> None:
    stats = engine.agi.stats
    data = {
        "pid": os.getpid(),
        "count": stats.count,
        "p50_ms": stats.percentile(50),
        "p99_ms": stats.percentile(99),
        # Every kept sample, oldest first: a benchmark tells quick commands from media
        # ones by length, and a one-call run maps them to the commands in order.
        "samples_ms": stats.samples_ms(),
        # How the case store grouped the engine's writes into commits.
        "store_commits": engine.store.commit_stats.summary(),
    }
    path = engine.cfg.run_dir / AGI_STATS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


async def serve(cfg: StackConfig, *, console: bool = True) -> None:
    # Before the first socket read: see ivr/adapters/malloc.py.
    fix_mmap_threshold()
    engine = await start(cfg, console=console)
    # Loaded (the console too): start-up's heap is set aside from collections.
    collector.started()
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
