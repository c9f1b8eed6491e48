"""The console beside the engine: same event loop, same store, same AMI link.

The engine calls `start_console`; a failure to bind (the port taken) is logged and the
engine carries on: calls matter more than the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import structlog
import uvicorn

from ivr.adapters.ami import AmiClient, AmiEvent
from ivr.adapters.threeway import ThreeWayCalls
from ivr.domain.clock import Clock
from ivr.routing.publish import Site
from ivr.routing.tables import RoutingTables
from ivr.routing.view import RoutingView
from ivr.store import CaseStore
from ivr.web import pop, threeway_news
from ivr.web.app import create_app
from ivr.web.context import Console
from ivr.web.hub import Message

log = structlog.get_logger()

MEMBER_EVENTS = ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the engine's loop owns SIGINT/SIGTERM/SIGHUP."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningConsole:
    console: Console
    server: uvicorn.Server
    task: asyncio.Task[None]
    url: str

    def attach_threeway(self, calls: ThreeWayCalls) -> None:
        """The engine's three-way calls: the agent's action, and its news to the page."""
        threeway_news.attach(self.console, calls)

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await asyncio.shield(self.task)
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


def attach_ami(console: Console, ami: AmiClient) -> None:
    """Screen pops from the queue's events; the phone's state changes to the page."""

    async def on_pop(event: AmiEvent) -> None:
        await pop.on_queue_event(console, event)

    def on_member(event: AmiEvent) -> None:
        agent = pop.agent_of(console, event)
        if agent is None:
            return
        name = event.get("Event", "")
        if name == "QueueMemberRemoved":
            state, reason = "logged_out", None
        elif event.get("Paused") == "1":
            state, reason = "paused", event.get("PausedReason") or None
        else:
            state, reason = "ready", None
        console.hub.publish(agent, Message("state", {"state": state, "reason": reason}))

    for name in pop.POP_EVENTS:
        ami.on(name, on_pop)
    for name in MEMBER_EVENTS:
        ami.on(name, on_member)


async def start_console(
    *,
    store: CaseStore,
    ami: AmiClient | None,
    tables: Callable[[], RoutingTables],
    view: Callable[[], RoutingView],
    clock: Clock,
    host: str,
    port: int,
    callback: Callable[[str, str], Awaitable[str]] | None = None,
    routing_site: Site | None = None,
) -> RunningConsole | None:
    console = Console(
        store=store,
        tables=tables,
        clock=clock,
        view=view,
        ami=ami,
        callback=callback,
        routing_site=routing_site,
    )
    if ami is not None:
        attach_ami(console, ami)
    config = uvicorn.Config(
        create_app(console),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        lifespan="off",
    )
    # Bound here, not by uvicorn: uvicorn answers a taken port with sys.exit, which
    # would end the engine's event loop with it.
    try:
        sock = _bind(host, port)
    except OSError as exc:
        log.error("console_not_started", host=host, port=port, error=str(exc))  # noqa: TRY400
        return None
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="console")
    while not server.started:
        if task.done():
            log.error("console_not_started", host=host, port=port)
            return None
        await asyncio.sleep(0.05)
    url = f"http://{host}:{port}/"
    log.info("console_started", url=url)
    return RunningConsole(console, server, task, url)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
