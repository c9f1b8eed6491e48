"""FastAGI server over real TCP sockets, against scripted fake Asterisk peers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import structlog

from ivr.adapters.fastagi.protocol import (
    AGICommandError,
    AGIHangup,
    AGIProtocolError,
    AGIRequest,
    AGITimeout,
)
from ivr.adapters.fastagi.server import (
    ERROR_UNKNOWN_SCRIPT,
    AGIRouter,
    AGISession,
    CommandStats,
    FastAGIServer,
)
from ivr.dialplan_vars import AGI_ERROR, AGI_OUTCOME, OUTCOME_FAILURE, OUTCOME_SUCCESS

# Guards against a hung test; never an assertion about speed.
IO_TIMEOUT = 5.0

SET_SUCCESS = f"SET VARIABLE {AGI_OUTCOME} {OUTCOME_SUCCESS}"
SET_FAILURE = f"SET VARIABLE {AGI_OUTCOME} {OUTCOME_FAILURE}"
DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
USAGE_REPLY = [
    "520-Invalid command syntax.  Proper usage follows:",
    " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
    "520 End of proper usage.",
]

StartServer = Callable[..., Awaitable[FastAGIServer]]


def header_lines(
    script: str = "hotline", *, uniqueid: str = "1700000000.1", args: tuple[str, ...] = ()
) -> list[str]:
    """The header Asterisk 22 sends for AGI(agi://127.0.0.1:4573/<script>,<args>)."""
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://127.0.0.1:4573/{script}",
        "agi_channel: PJSIP/alice-00000001",
        "agi_language: en",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.0.0",
        "agi_callerid: 1001",
        "agi_calleridname: Alice",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        "agi_dnid: 1999",
        "agi_rdnis: unknown",
        "agi_context: hotline",
        "agi_extension: 1999",
        "agi_priority: 2",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140000000000000",
    ]
    lines += [f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, 1)]
    return lines


class FakeAsterisk:
    """The Asterisk side of one FastAGI connection, driven step by step by a test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_lines(self, *lines: str) -> None:
        await self.send_raw("".join(f"{line}\n" for line in lines).encode())

    async def send_header(self, script: str = "hotline", **kwargs: Any) -> None:
        await self.send_lines(*header_lines(script, **kwargs), "")

    async def read_command(self) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), IO_TIMEOUT)
        assert raw.endswith(b"\n"), f"server closed instead of sending a command: {raw!r}"
        return raw.decode().removesuffix("\n")

    async def expect(self, command: str) -> None:
        assert await self.read_command() == command

    async def finish(self, reply: str = "200 result=1") -> list[str]:
        """Answer every further command with ``reply`` until the server closes."""
        commands: list[str] = []
        while True:
            try:
                raw = await asyncio.wait_for(self.reader.readline(), IO_TIMEOUT)
            except ConnectionResetError:
                return commands
            if not raw:
                return commands
            commands.append(raw.decode().removesuffix("\n"))
            await self.send_lines(reply)

    async def assert_closed_by_server(self) -> None:
        """The server closed the connection without sending anything."""
        try:
            data = await asyncio.wait_for(self.reader.read(), IO_TIMEOUT)
        except ConnectionResetError:
            return
        assert data == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def wait_until(predicate: Callable[[], bool]) -> None:
    """Poll until ``predicate`` holds; fail the test if it never does."""
    async with asyncio.timeout(IO_TIMEOUT):
        # These are server counters with no event to wait on; polling is deliberate.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    servers: list[FastAGIServer] = []

    async def start(router: AGIRouter, **kwargs: Any) -> FastAGIServer:
        server = FastAGIServer(router, port=0, **kwargs)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[[int], Awaitable[FakeAsterisk]]]:
    peers: list[FakeAsterisk] = []

    async def open_peer(port: int) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peers.append(FakeAsterisk(reader, writer))
        return peers[-1]

    yield open_peer
    for peer in peers:
        await peer.close()


Connect = Callable[[int], Awaitable[FakeAsterisk]]


def router_with(**handlers: Callable[[AGISession], Awaitable[None]]) -> AGIRouter:
    router = AGIRouter()
    for name, handler in handlers.items():
        router.register(name, handler)
    return router


def answer_and_record(done: list[AGIRequest]) -> Callable[[AGISession], Awaitable[None]]:
    async def handler(session: AGISession) -> None:
        await session.answer()
        done.append(session.request)

    return handler


async def run_normal_session(port: int, connect: Connect, uniqueid: str) -> list[str]:
    """A full well-behaved call; returns the commands sent after ANSWER."""
    peer = await connect(port)
    await peer.send_header(uniqueid=uniqueid)
    await peer.expect("ANSWER")
    await peer.send_lines("200 result=0")
    return await peer.finish()


async def test_truncated_and_stalled_headers_do_not_block_other_sessions(
    start_server: StartServer, connect: Connect
) -> None:
    """Peers that drop or stall mid-header leave other sessions and the loop unaffected."""
    done: list[AGIRequest] = []
    server = await start_server(router_with(hotline=answer_and_record(done)), header_timeout=60.0)

    dropped = await connect(server.port)
    await dropped.send_lines(*header_lines()[:5])
    await dropped.send_raw(b"agi_uniqueid: 17000")
    await dropped.close()

    stalled = await connect(server.port)
    await stalled.send_lines(*header_lines()[:5])
    await stalled.send_raw(b"agi_uniq")

    assert await run_normal_session(server.port, connect, "good.1") == [SET_SUCCESS]
    assert [request.uniqueid for request in done] == ["good.1"]
    # The dropped peer's session ended instead of spinning; only the stalled one waits.
    await wait_until(lambda: server.active_sessions == 1)
    await stalled.close()
    await wait_until(lambda: server.active_sessions == 0)


async def test_hangup_line_is_skipped_and_511_ends_without_outcome(
    start_server: StartServer, connect: Connect
) -> None:
    """HANGUP before a reply is skipped, the reply still matches, and 511 raises AGIHangup."""
    seen: dict[str, Any] = {}

    async def handler(session: AGISession) -> None:
        seen["value"] = await session.get_variable("CALLER_LANG")
        seen["hung_up"] = session.hung_up
        try:
            await session.stream_file("goodbye")
        except AGIHangup:
            seen["hangup_raised"] = True
            raise

    server = await start_server(router_with(hotline=handler))
    peer = await connect(server.port)
    await peer.send_header()
    await peer.expect("GET VARIABLE CALLER_LANG")
    await peer.send_lines("HANGUP", "200 result=1 (de)")
    await peer.expect('STREAM FILE goodbye ""')
    await peer.send_lines(DEAD_CHANNEL)

    assert await peer.finish() == []
    assert seen == {"value": "de", "hung_up": True, "hangup_raised": True}


async def test_command_errors_and_hangup_among_usage_lines(
    start_server: StartServer, connect: Connect
) -> None:
    """510 and 520 raise AGICommandError; a HANGUP among 520 lines is not part of the reply."""
    errors: list[AGICommandError] = []

    async def handler(session: AGISession) -> None:
        for parts in (("FROB",), ("GET", "DATA")):
            try:
                await session.command(*parts)
            except AGICommandError as exc:
                errors.append(exc)

    server = await start_server(router_with(hotline=handler))
    peer = await connect(server.port)
    await peer.send_header()
    await peer.expect("FROB")
    await peer.send_lines("510 Invalid or unknown command")
    await peer.expect("GET DATA")
    await peer.send_lines(USAGE_REPLY[0], "HANGUP", *USAGE_REPLY[1:])

    # The channel hung up, so the outcome is not reported even though the handler returned.
    assert await peer.finish() == []
    assert [exc.reply.code for exc in errors if exc.reply] == [510, 520]
    usage = errors[1].reply
    assert usage is not None
    assert usage.raw == "\n".join(USAGE_REPLY)


async def test_eof_during_command_raises_hangup(
    start_server: StartServer, connect: Connect
) -> None:
    """Asterisk closing the socket mid-command reaches the handler as AGIHangup."""
    seen: list[bool] = []
    ended = asyncio.Event()

    async def handler(session: AGISession) -> None:
        try:
            await session.answer()
        except AGIHangup:
            seen.append(session.hung_up)
            raise
        finally:
            ended.set()

    server = await start_server(router_with(hotline=handler))
    peer = await connect(server.port)
    await peer.send_header()
    await peer.expect("ANSWER")
    await peer.close()
    await asyncio.wait_for(ended.wait(), IO_TIMEOUT)
    assert seen == [True]
    await wait_until(lambda: server.active_sessions == 0)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"hello world\n", id="not-agi"),
        pytest.param(b"agi_network: yes\nGET / HTTP/1.1\n", id="http-after-agi"),
        pytest.param(b"agi_calleridname: " + b"x" * 1000 + b"\n", id="overlong-line"),
        pytest.param(b"agi_network: yes\n" + b"x" * 5000, id="overlong-no-newline"),
        pytest.param("".join(f"agi_x{i}: y\n" for i in range(50)).encode(), id="too-many-lines"),
    ],
)
async def test_bad_headers_are_refused(
    start_server: StartServer, connect: Connect, payload: bytes
) -> None:
    """Garbage, overlong lines and endless headers get the socket closed; others still work."""
    done: list[AGIRequest] = []
    server = await start_server(
        router_with(hotline=answer_and_record(done)), max_line=256, max_header_lines=40
    )
    bad = await connect(server.port)
    await bad.send_raw(payload)
    await bad.assert_closed_by_server()

    assert await run_normal_session(server.port, connect, "after.1") == [SET_SUCCESS]
    assert [request.uniqueid for request in done] == ["after.1"]


async def test_handler_exception_reports_failure(
    start_server: StartServer, connect: Connect
) -> None:
    """A handler exception reaches the dialplan as FAILURE plus the exception's class name."""

    async def handler(session: AGISession) -> None:
        await session.answer()
        raise LookupError("no such case")

    server = await start_server(router_with(hotline=handler))
    peer = await connect(server.port)
    await peer.send_header(uniqueid="fail.1")
    await peer.expect("ANSWER")
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as events:
        await peer.send_lines("200 result=0")
        commands = await peer.finish()

    assert commands == [SET_FAILURE, f"SET VARIABLE {AGI_ERROR} LookupError"]
    failed = [event for event in events if event["event"] == "agi.handler.failed"]
    assert len(failed) == 1
    assert failed[0]["uniqueid"] == "fail.1"
    assert failed[0]["channel"] == "PJSIP/alice-00000001"
    assert failed[0]["agi_script"] == "hotline"
    assert failed[0]["error"] == "LookupError"


async def test_normal_handler_reports_success(start_server: StartServer, connect: Connect) -> None:
    """A handler that returns sets the outcome to SUCCESS and nothing else."""
    done: list[AGIRequest] = []
    server = await start_server(router_with(hotline=answer_and_record(done)))
    assert await run_normal_session(server.port, connect, "ok.1") == [SET_SUCCESS]
    assert server.stats.count == 2


@pytest.mark.parametrize("script", ["nosuch", "no/such", "hotline2?x=1"])
async def test_unknown_script_reports_failure(
    start_server: StartServer, connect: Connect, script: str
) -> None:
    """A script nobody registered gets FAILURE with unknown-script, and no handler runs."""
    done: list[AGIRequest] = []
    server = await start_server(router_with(hotline=answer_and_record(done)))
    peer = await connect(server.port)
    await peer.send_header(script)
    assert await peer.finish() == [SET_FAILURE, f"SET VARIABLE {AGI_ERROR} {ERROR_UNKNOWN_SCRIPT}"]
    assert done == []


async def test_routing_by_script_with_query_and_args(
    start_server: StartServer, connect: Connect
) -> None:
    """script?lang=en&x=1 routes by name; query and agi_arg_N reach the handler in order."""
    hotline: list[AGIRequest] = []
    menu: list[AGIRequest] = []
    router = router_with(hotline=answer_and_record(hotline), menu=answer_and_record(menu))
    server = await start_server(router)

    peer = await connect(server.port)
    await peer.send_header("menu?lang=en&x=1", args=("first", "second arg", ""))
    await peer.expect("ANSWER")
    await peer.send_lines("200 result=0")
    assert await peer.finish() == [SET_SUCCESS]

    assert hotline == []
    [request] = menu
    assert request.script == "menu"
    assert dict(request.query) == {"lang": "en", "x": "1"}
    assert request.args == ("first", "second arg", "")
    assert request.env["agi_network_script"] == "menu?lang=en&x=1"


async def test_get_data_timeout_is_reported(start_server: StartServer, connect: Connect) -> None:
    """GET DATA's (timeout) marker comes back as timed_out, with or without partial digits."""
    results: list[tuple[str, bool]] = []

    async def handler(session: AGISession) -> None:
        for _ in range(3):
            results.append(await session.get_data("enter-number", 5000, 4))

    server = await start_server(router_with(hotline=handler))
    peer = await connect(server.port)
    await peer.send_header()
    for reply in ("200 result= (timeout)", "200 result=12 (timeout)", "200 result=1234"):
        await peer.expect("GET DATA enter-number 5000 4")
        await peer.send_lines(reply)
    assert await peer.finish() == [SET_SUCCESS]
    assert results == [("", True), ("12", True), ("1234", False)]


async def test_convenience_commands_on_the_wire(
    start_server: StartServer, connect: Connect
) -> None:
    """Each helper sends the command Asterisk expects and decodes its reply."""
    seen: dict[str, Any] = {}

    async def handler(session: AGISession) -> None:
        seen["answer"] = (await session.answer()).result_int
        seen["stream"] = (await session.stream_file("menu-main", "12#")).result_int
        seen["digit_none"] = await session.wait_for_digit(3000)
        seen["digit"] = await session.wait_for_digit(3000)
        seen["unset"] = await session.get_variable("NOPE")
        await session.set_variable("GREETING", 'say "hi"')
        await session.verbose("call started", level=3)
        seen["exec"] = (await session.exec_("Playback", "beep&beep")).result_int
        await session.hangup()
        seen["hung_up"] = session.hung_up

    server = await start_server(router_with(hotline=handler))
    peer = await connect(server.port)
    await peer.send_header()
    for command, reply in [
        ("ANSWER", "200 result=0"),
        ("STREAM FILE menu-main 12#", "200 result=49 endpos=8000"),
        ("WAIT FOR DIGIT 3000", "200 result=0"),
        ("WAIT FOR DIGIT 3000", "200 result=50"),
        ("GET VARIABLE NOPE", "200 result=0"),
        ('SET VARIABLE GREETING "say \\"hi\\""', "200 result=1"),
        ('VERBOSE "call started" 3', "200 result=1"),
        ("EXEC Playback beep&beep", "200 result=0"),
        ("HANGUP", "200 result=1"),
    ]:
        await peer.expect(command)
        await peer.send_lines(reply)
    # The handler hung the call up itself, so there is no channel left to report to.
    assert await peer.finish() == []
    assert seen == {
        "answer": 0,
        "stream": 49,
        "digit_none": None,
        "digit": "2",
        "unset": None,
        "exec": 0,
        "hung_up": True,
    }


def test_registering_a_name_twice_raises() -> None:
    """A script name can be registered only once, and only if it is routable."""

    async def handler(session: AGISession) -> None:
        return None

    router = AGIRouter()
    router.register("hotline", handler)
    with pytest.raises(ValueError, match="already registered"):
        router.register("hotline", handler)
    with pytest.raises(ValueError, match="is not"):
        router.register("hot/line", handler)
    assert router.names() == frozenset({"hotline"})
    assert router.handler_for("hotline") is handler
    assert router.handler_for("other") is None


async def test_command_without_reply_times_out_and_ends_session(
    start_server: StartServer, connect: Connect
) -> None:
    """A peer that never replies makes the command raise AGITimeout and the session end."""
    seen: list[type[Exception]] = []

    async def handler(session: AGISession) -> None:
        try:
            await session.get_variable("X")
        except AGITimeout as exc:
            seen.append(type(exc))
        # The late reply could be taken for the next one, so the session refuses more.
        try:
            await session.answer()
        except AGIProtocolError as exc:
            seen.append(type(exc))
            raise

    server = await start_server(router_with(hotline=handler), command_timeout=0.2)
    peer = await connect(server.port)
    await peer.send_header()
    await peer.expect("GET VARIABLE X")
    assert await peer.finish() == []
    assert seen == [AGITimeout, AGIProtocolError]
    await wait_until(lambda: server.active_sessions == 0)


async def test_connections_over_max_sessions_are_closed(
    start_server: StartServer, connect: Connect
) -> None:
    """Beyond max_sessions new connections are closed at once; capacity comes back."""
    done: list[AGIRequest] = []
    server = await start_server(
        router_with(hotline=answer_and_record(done)), max_sessions=1, header_timeout=60.0
    )
    holder = await connect(server.port)
    await holder.send_lines(*header_lines()[:3])
    await wait_until(lambda: server.active_sessions == 1)

    refused = await connect(server.port)
    await refused.assert_closed_by_server()

    await holder.close()
    await wait_until(lambda: server.active_sessions == 0)
    assert await run_normal_session(server.port, connect, "later.1") == [SET_SUCCESS]


async def test_stop_cancels_running_sessions(start_server: StartServer, connect: Connect) -> None:
    """stop() cancels handlers and header reads in progress and closes their sockets."""
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def handler(session: AGISession) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    server = await start_server(router_with(hotline=handler), header_timeout=60.0)
    busy = await connect(server.port)
    await busy.send_header()
    idle = await connect(server.port)
    await idle.send_lines(*header_lines()[:3])
    await asyncio.wait_for(started.wait(), IO_TIMEOUT)
    await wait_until(lambda: server.active_sessions == 2)

    await server.stop()
    assert cancelled == [True]
    assert server.active_sessions == 0
    await busy.assert_closed_by_server()
    await idle.assert_closed_by_server()


def test_command_stats_percentiles() -> None:
    """Percentiles are nearest-rank over the kept window, in milliseconds."""
    stats = CommandStats(max_samples=100)
    assert stats.percentile(50) is None
    for ms in range(1, 201):
        stats.record(ms / 1000)
    assert stats.count == 200
    assert stats.percentile(50) == pytest.approx(150.0)
    assert stats.percentile(100) == pytest.approx(200.0)
    assert stats.percentile(0) == pytest.approx(101.0)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        stats.percentile(101)
