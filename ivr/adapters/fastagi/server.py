"""FastAGI over asyncio streams: one task per connection, routed by script name.

Every read is bounded by a timeout and every failure closes only its own
connection, so one bad peer can never stall the event loop or other calls.
"""

from __future__ import annotations

import asyncio
import ipaddress
import types
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import structlog

from ivr.adapters.fastagi.protocol import (
    SCRIPT_NAME_RE,
    AGIError,
    AGIHangup,
    AGIProtocolError,
    AGIRequest,
    parse_env_line,
)
from ivr.adapters.fastagi.session import AGISession, CommandStats, decode_line
from ivr.config import is_loopback
from ivr.dialplan_vars import AGI_ERROR, AGI_OUTCOME, OUTCOME_FAILURE, OUTCOME_SUCCESS

__all__ = [
    "ERROR_UNKNOWN_SCRIPT",
    "AGIRouter",
    "AGISession",
    "CommandStats",
    "FastAGIServer",
    "Handler",
]

Handler = Callable[[AGISession], Awaitable[None]]

# Value of AGI_ERROR when no handler is registered for the requested script.
ERROR_UNKNOWN_SCRIPT: Final = "unknown-script"
# Scripts whose sessions are not logged (the supervisor's health probe).
QUIET_SCRIPTS: Final = frozenset({"health"})

# Closing waits for the kernel to take our last bytes; a peer that stopped
# reading must not keep the task alive, so it gets aborted after this.
_CLOSE_TIMEOUT: Final = 1.0

_log = structlog.get_logger()


class AGIRouter:
    """Maps script names (the path of ``agi://host/<name>``) to handlers."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        """Route ``name`` to ``handler``; a name can be registered only once."""
        if not SCRIPT_NAME_RE.fullmatch(name):
            raise ValueError(f"AGI script name {name!r} is not [A-Za-z0-9_.-]+")
        if name in self._handlers:
            raise ValueError(f"AGI script {name!r} is already registered")
        self._handlers[name] = handler

    def handler_for(self, name: str) -> Handler | None:
        """The handler for ``name``, or None."""
        return self._handlers.get(name)

    def names(self) -> frozenset[str]:
        """Every registered script name."""
        return frozenset(self._handlers)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(permit: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in permit)


def _permitted(peer: object, permit: tuple[Network, ...]) -> bool:
    """A peer from the permit list, or from loopback when there is none."""
    if not isinstance(peer, tuple) or not peer:
        # A Unix socket: only local processes with access to its path reach it.
        return True
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not permit:
        return address.is_loopback
    return any(address in net for net in permit)


class FastAGIServer:
    """Accepts FastAGI connections from Asterisk and runs the routed handler."""

    def __init__(
        self,
        router: AGIRouter,
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        header_timeout: float = 5.0,
        command_timeout: float = 300.0,
        max_line: int = 8192,
        max_header_lines: int = 200,
        max_sessions: int = 2000,
        permit: Sequence[str] = (),
    ) -> None:
        self.stats = CommandStats()
        # Anyone who reaches the port could write calls and tickets: loopback only,
        # unless `permit` names the Asterisk servers allowed in (checked on accept).
        self._permit = _networks(permit)
        if not permit and not is_loopback(host):
            raise ValueError(
                f"FastAGI bind {host!r} is not loopback: give a permit list of the "
                "Asterisk servers allowed to connect"
            )
        self._router = router
        self._host = host
        self._requested_port = port
        self._bound_port: int | None = None
        self._header_timeout = header_timeout
        self._command_timeout = command_timeout
        self._max_line = max_line
        self._max_header_lines = max_header_lines
        self._max_sessions = max_sessions
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port actually bound (useful with port=0)."""
        if self._bound_port is None:
            raise RuntimeError("FastAGIServer has not been started")
        return self._bound_port

    @property
    def active_sessions(self) -> int:
        """Connections currently being served."""
        return len(self._tasks)

    async def start(self) -> None:
        """Start listening."""
        if self._server is not None:
            raise RuntimeError("FastAGIServer is already started")
        # The stream limit is what turns an endless line into LimitOverrunError
        # instead of unbounded buffering.
        self._server = await asyncio.start_server(
            self._on_connect, self._host, self._requested_port, limit=self._max_line
        )
        self._bound_port = int(self._server.sockets[0].getsockname()[1])
        _log.info("agi.server.started", host=self._host, port=self._bound_port)

    async def stop(self) -> None:
        """Stop listening, cancel every session and wait for them to end."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        _log.info("agi.server.stopped", cancelled_sessions=len(tasks))

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None or len(self._tasks) >= self._max_sessions:
            _log.warning(
                "agi.session.refused", active=len(self._tasks), max_sessions=self._max_sessions
            )
            writer.close()
            return
        peer = writer.get_extra_info("peername")
        if not _permitted(peer, self._permit):
            _log.warning("agi.peer.refused", peer=str(peer))
            writer.transport.abort()
            return
        # A task per connection also gives each call its own contextvars copy,
        # so the ids bound for one call never show up in another's events.
        task = asyncio.get_running_loop().create_task(self._run_session(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        structlog.contextvars.bind_contextvars(peer=str(writer.get_extra_info("peername")))
        try:
            env = await self._read_header(reader)
            if env is not None:
                await self._serve(env, reader, writer)
        except Exception:
            _log.exception("agi.session.crashed")
        finally:
            await _close(writer)

    async def _read_header(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        env: dict[str, str] = {}
        try:
            await self._collect_header(reader, env)
        except asyncio.IncompleteReadError as exc:
            if env or exc.partial:
                _log.warning("agi.header.truncated", lines=len(env))
            else:
                # Port probes and health checks connect and leave without a byte.
                _log.debug("agi.header.empty_connection")
        except TimeoutError:
            _log.warning("agi.header.timeout", lines=len(env), timeout=self._header_timeout)
        except asyncio.LimitOverrunError:
            _log.warning("agi.header.line_too_long", max_line=self._max_line)
        except AGIProtocolError as exc:
            _log.warning("agi.header.invalid", error=str(exc))
        except ConnectionError as exc:
            _log.info("agi.header.connection_lost", error=type(exc).__name__)
        else:
            return env
        return None

    async def _collect_header(self, reader: asyncio.StreamReader, env: dict[str, str]) -> None:
        # One deadline for the whole header: a peer dripping a line now and then cannot
        # hold a session open, and no timer task is made per line.
        async with asyncio.timeout(self._header_timeout):
            await self._collect_header_lines(reader, env)

    async def _collect_header_lines(
        self, reader: asyncio.StreamReader, env: dict[str, str]
    ) -> None:
        for _ in range(self._max_header_lines):
            line = decode_line(await reader.readuntil(b"\n"))
            if not line:
                return
            key, value = parse_env_line(line)
            env[key] = value
        raise AGIProtocolError(f"AGI header longer than {self._max_header_lines} lines")

    async def _serve(
        self, env: dict[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        structlog.contextvars.bind_contextvars(
            uniqueid=env.get("agi_uniqueid", ""),
            channel=env.get("agi_channel", ""),
            agi_script=env.get("agi_network_script") or env.get("agi_request", ""),
        )
        try:
            request = AGIRequest.from_env(env)
        except AGIProtocolError as exc:
            _log.warning("agi.request.invalid", error=str(exc))
            request = AGIRequest(
                script="",
                args=(),
                query=types.MappingProxyType({}),
                env=types.MappingProxyType(env),
            )
        else:
            structlog.contextvars.bind_contextvars(agi_script=request.script)
        session = AGISession(
            request, reader, writer, stats=self.stats, command_timeout=self._command_timeout
        )
        handler = self._router.handler_for(request.script) if request.script else None
        if handler is None:
            _log.warning("agi.script.unknown", known=sorted(self._router.names()))
            # The peer may not be a real Asterisk, so do not wait long for its replies.
            await self._report(session, OUTCOME_FAILURE, ERROR_UNKNOWN_SCRIPT, self._header_timeout)
            return
        # The watchdog probes every second; its sessions would drown the log.
        quiet = request.script in QUIET_SCRIPTS
        if not quiet:
            _log.info("agi.session.started", args=len(request.args))
        try:
            await handler(session)
        except AGIHangup as exc:
            _log.info("agi.session.hung_up", detail=str(exc))
            return
        except Exception as exc:
            _log.exception("agi.handler.failed", error=type(exc).__name__)
            await self._report(session, OUTCOME_FAILURE, type(exc).__name__)
            return
        await self._report(session, OUTCOME_SUCCESS)
        if not quiet:
            _log.info("agi.session.finished")

    async def _report(
        self,
        session: AGISession,
        outcome: str,
        error: str | None = None,
        wait_s: float | None = None,
    ) -> None:
        """Best-effort: tell the dialplan how the session ended, if anyone can hear."""
        if not session._can_report:
            _log.info("agi.outcome.skipped", outcome=outcome, hung_up=session.hung_up)
            return
        try:
            await session.command("SET", "VARIABLE", AGI_OUTCOME, outcome, timeout=wait_s)
            if error is not None and session._can_report:
                await session.command("SET", "VARIABLE", AGI_ERROR, error, timeout=wait_s)
        except AGIError as exc:
            _log.warning("agi.outcome.not_set", outcome=outcome, error=type(exc).__name__)
