"""One FastAGI call as its handler sees it: `AGISession`, and the command timings.

Commands are serialised and every read is bounded by a timeout; `FastAGIServer`
(`ivr.adapters.fastagi.server`) creates one session per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import deque
from typing import Final

import structlog

from ivr.adapters.fastagi.protocol import (
    HANGUP_LINE,
    AGICommandError,
    AGIHangup,
    AGIProtocolError,
    AGIReply,
    AGIRequest,
    AGITimeout,
    format_command,
    parse_reply,
)
from ivr.stats import nearest_rank

STATS_SAMPLES: Final = 10_000
# A 520 usage text is a few dozen lines; anything far longer is a hostile peer.
_MAX_REPLY_LINES: Final = 1000

_log = structlog.get_logger()


def decode_line(raw: bytes) -> str:
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
            line = decode_line(await self._reader.readuntil(b"\n"))
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
