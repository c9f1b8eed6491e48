"""FastAGI over asyncio streams: one task per connection, routed by script name.

Every read is bounded by a timeout and every failure closes only its own
connection, so one bad peer can never stall the event loop or other calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
import types
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import structlog

from ivr.adapters.fastagi.protocol import (
    HANGUP_LINE,
    SCRIPT_NAME_RE,
    AGICommandError,
    AGIError,
    AGIHangup,
    AGIProtocolError,
    AGIReply,
    AGIRequest,
    AGITimeout,
    format_command,
    parse_env_line,
    parse_reply,
)
from ivr.config import is_loopback
from ivr.dialplan_vars import AGI_ERROR, AGI_OUTCOME, OUTCOME_FAILURE, OUTCOME_SUCCESS
from ivr.stats import nearest_rank

__all__ = [
    "ERROR_UNKNOWN_SCRIPT",
    "AGIRouter",
    "AGISession",
    "CommandStats",
    "FastAGIServer",
    "Handler",
]

Handler = Callable[["AGISession"], Awaitable[None]]

# Value of AGI_ERROR when no handler is registered for the requested script.
ERROR_UNKNOWN_SCRIPT: Final = "unknown-script"
STATS_SAMPLES: Final = 10_000
# Scripts whose sessions are not logged (the supervisor's health probe).
QUIET_SCRIPTS: Final = frozenset({"health"})

# A 520 usage text is a few dozen lines; anything far longer is a hostile peer.
_MAX_REPLY_LINES: Final = 1000
# Closing waits for the kernel to take our last bytes; a peer that stopped
# reading must not keep the task alive, so it gets aborted after this.
_CLOSE_TIMEOUT: Final = 1.0

_log = structlog.get_logger()


def _decode(raw: bytes) -> str:
    # Caller names may arrive in any charset; a replacement character is better
    # than dropping the call.
    return raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")


# Linux only; elsewhere delayed ACKs stay as the system sets them.
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

# Joins the values of GET FULL VARIABLE: printable (AGI splits its command line on
# whitespace, and quotes), and nothing a channel variable holds in practice.
_VALUE_SEPARATOR = "~|~"


class CommandStats:
    """Round-trip times of AGI commands, for benchmarks only (never for asserts)."""

    def __init__(self, max_samples: int = STATS_SAMPLES) -> None:
        self._samples: deque[float] = deque(maxlen=max_samples)
        self._count = 0

    def record(self, seconds: float) -> None:
        """Add one round trip, measured with time.perf_counter."""
        self._samples.append(seconds)
        self._count += 1

    @property
    def count(self) -> int:
        """Round trips recorded since start, including those evicted from the window."""
        return self._count

    def samples_ms(self) -> list[float]:
        """The kept round trips in milliseconds, oldest first."""
        return [s * 1000.0 for s in self._samples]

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile of the kept samples in milliseconds; None if empty."""
        value = nearest_rank(self._samples, p)
        return None if value is None else value * 1000.0


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


class AGISession:
    """One FastAGI call as seen by its handler; created by FastAGIServer.

    Commands are serialised: AGI has no request ids, so a reply can only be
    matched to a command by order.
    """

    def __init__(
        self,
        request: AGIRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        stats: CommandStats,
        command_timeout: float,
    ) -> None:
        self.request = request
        self.hung_up = False
        self._reader = reader
        self._writer = writer
        self._sock = writer.get_extra_info("socket")
        self._stats = stats
        self._command_timeout = command_timeout
        self._lock = asyncio.Lock()
        self._closed = False
        # Set once the stream can no longer be trusted to pair replies with
        # commands (e.g. a reply arrived late); later commands fail fast.
        self._broken: str | None = None

    @property
    def _can_report(self) -> bool:
        return not (self.hung_up or self._closed or self._broken)

    # A per-command deadline is part of the API: GET DATA may legitimately take
    # far longer than SET VARIABLE.
    async def command(self, *parts: str, timeout: float | None = None) -> AGIReply:
        """Send one command (each word a separate part) and return its reply.

        Raises AGIHangup (511, end of stream), AGICommandError (510, 520),
        AGITimeout (no full reply in time) or AGIProtocolError.
        """
        line = format_command(*parts)
        name = " ".join(parts[:2])
        limit = self._command_timeout if timeout is None else timeout
        async with self._lock:
            if self._broken is not None:
                raise AGIProtocolError(f"AGI session unusable ({self._broken}); {name} not sent")
            if self._closed:
                raise AGIHangup(f"AGI connection already closed; {name} not sent")
            started = time.perf_counter()
            try:
                async with asyncio.timeout(limit):
                    self._writer.write(line)
                    self._quick_ack()
                    await self._writer.drain()
                    lines = await self._read_reply()
            except TimeoutError as exc:
                self._broken = f"no reply to {name}"
                raise AGITimeout(f"no reply to {name} within {limit}s") from exc
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                self._closed = True
                self.hung_up = True
                raise AGIHangup(f"AGI connection closed during {name}") from exc
            except asyncio.LimitOverrunError as exc:
                self._broken = f"overlong reply line to {name}"
                raise AGIProtocolError(f"reply line to {name} exceeds the line limit") from exc
            except AGIProtocolError:
                self._broken = f"bad reply to {name}"
                raise
            except asyncio.CancelledError:
                # The reply may still arrive and would be taken for the next one.
                self._broken = f"{name} cancelled while waiting for its reply"
                raise
            self._stats.record(time.perf_counter() - started)
            try:
                reply = parse_reply(lines)
            except AGIProtocolError:
                self._broken = f"bad reply to {name}"
                raise
        if reply.code == 511:
            self.hung_up = True
            raise AGIHangup(f"{name}: {reply.raw}")
        if reply.code in (510, 520):
            raise AGICommandError(f"{name}: {reply.raw}", reply)
        return reply

    def _quick_ack(self) -> None:
        """ACK what Asterisk sends next at once, instead of up to 40 ms later.

        Asterisk writes to the AGI socket with Nagle's algorithm on, so a reply queued
        behind an unacknowledged segment (typically the "HANGUP" line that follows a
        Dial's result) waits for our ACK, and Linux delays that ACK while the
        connection looks interactive, which sending a command makes it. Measured: one
        command in nine took 42-48 ms. TCP_QUICKACK is not sticky, so it is set again
        after every command sent.
        """
        if self._sock is not None and _TCP_QUICKACK is not None:
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)

    async def _read_reply(self) -> list[str]:
        lines: list[str] = []
        while len(lines) <= _MAX_REPLY_LINES:
            line = _decode(await self._reader.readuntil(b"\n"))
            if line == HANGUP_LINE:
                if not self.hung_up:
                    _log.info("agi.hangup_notice")
                self.hung_up = True
                continue
            lines.append(line)
            if not lines[0].startswith("520-") or line.startswith("520 "):
                return lines
        raise AGIProtocolError(f"AGI reply longer than {_MAX_REPLY_LINES} lines")

    async def answer(self) -> AGIReply:
        """ANSWER the channel."""
        return await self.command("ANSWER")

    async def stream_file(self, name: str, escape_digits: str = "") -> AGIReply:
        """Play a sound file; result is the ASCII code of an escape digit, 0 or -1."""
        return await self.command("STREAM", "FILE", name, escape_digits)

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        """Play ``prompt`` and collect DTMF: returns (digits, timed_out)."""
        reply = await self.command("GET", "DATA", prompt, str(timeout_ms), str(max_digits))
        if reply.result == "-1":
            raise AGIHangup("GET DATA failed: channel hung up")
        return reply.result, reply.timeout

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """Wait for one DTMF digit; None when none came in time."""
        reply = await self.command("WAIT", "FOR", "DIGIT", str(timeout_ms))
        code = reply.result_int
        if code is not None and code < 0:
            raise AGIHangup(f"WAIT FOR DIGIT failed: {reply.raw}")
        if code is None or code > 127:
            raise AGIProtocolError(f"WAIT FOR DIGIT: not an ASCII code: {reply.raw!r}")
        return chr(code) if code else None

    async def get_variable(self, name: str) -> str | None:
        """A channel variable's value; None when it is not set."""
        reply = await self.command("GET", "VARIABLE", name)
        if reply.result_int != 1:
            return None
        return reply.data or ""

    async def get_variables(self, *names: str) -> dict[str, str]:
        """Several variables in one round trip (GET FULL VARIABLE); unset reads as "".

        The values come back joined by a separator no channel variable is expected to
        hold; if one does (the count is off), each is read on its own instead.
        """
        if len(names) == 1:
            return {names[0]: await self.get_variable(names[0]) or ""}
        expression = _VALUE_SEPARATOR.join(f"${{{name}}}" for name in names)
        reply = await self.command("GET", "FULL", "VARIABLE", expression)
        values = (reply.data or "").split(_VALUE_SEPARATOR) if reply.result_int == 1 else []
        if len(values) != len(names):
            return {name: await self.get_variable(name) or "" for name in names}
        return dict(zip(names, values, strict=True))

    async def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable."""
        await self.command("SET", "VARIABLE", name, value)

    async def verbose(self, message: str, level: int = 1) -> None:
        """Write ``message`` to the Asterisk console at verbosity ``level``."""
        await self.command("VERBOSE", message, str(level))

    async def exec_(self, app: str, args: str) -> AGIReply:
        """Run a dialplan application; result -2 means it does not exist."""
        return await self.command("EXEC", app, args)

    async def hangup(self) -> None:
        """Hang up the channel; the session counts as hung up afterwards."""
        await self.command("HANGUP")
        self.hung_up = True


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
            line = _decode(await reader.readuntil(b"\n"))
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
