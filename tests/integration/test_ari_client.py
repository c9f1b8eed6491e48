"""AriClient against a real Asterisk 22: REST calls, typed events, reconnect after a drop.

An ARI-originated channel enters Stasis only when it is answered, and the `;1` half
of a Local channel is answered only when its `;2` half answers in the dialplan.
`hotline-test-caller` never answers (in `ivr call` it runs on the half that is
already up), so these tests dial it through a one-step wrapper context that answers
first. The wrapper is added at run time over AMI and lives only in this Asterisk.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest
from structlog.testing import capture_logs

from ivr import dialplan_vars as dv
from ivr.adapters.ari import (
    AriClient,
    AriError,
    AriEvent,
    AriNotFound,
    AriUnavailable,
    ChannelDestroyed,
    ChannelDtmfReceived,
    LinkUp,
    PlaybackFinished,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
)
from ivr.config import StackConfig
from ivr.prompts import prompt_path
from tests.harness import free_port

pytestmark = pytest.mark.asterisk

# Guards against a hung test; never an assertion about speed.
IO_TIMEOUT = 15.0
CALLER_CONTEXT = "hotline-test-caller"

E = TypeVar("E", bound=AriEvent)


async def poll(condition: Callable[[], bool], what: str, timeout: float = IO_TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


async def eventually(check: Callable[[], Awaitable[bool]], what: Callable[[], str]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IO_TIMEOUT
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {IO_TIMEOUT:.0f} s waiting for {what()}")
        await asyncio.sleep(0.05)


class Recorder:
    """Every event the client delivers, in arrival order."""

    def __init__(self) -> None:
        self.events: list[AriEvent] = []

    def __call__(self, event: AriEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[E], channel_id: str | None = None) -> list[E]:
        found: list[E] = [e for e in self.events if isinstance(e, kind)]
        if channel_id is None:
            return found
        return [e for e in found if getattr(getattr(e, "channel", None), "id", None) == channel_id]

    async def first(self, kind: type[E], channel_id: str | None = None) -> E:
        await poll(lambda: bool(self.of(kind, channel_id)), f"{kind.__name__} on {channel_id}")
        return self.of(kind, channel_id)[0]


def make_client(cfg: StackConfig, base_url: str | None = None) -> AriClient:
    return AriClient(base_url or cfg.ari_base_url, cfg.ari_user, cfg.ari_password, cfg.ari_app)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def ari(stack: StackConfig, recorder: Recorder) -> AsyncIterator[AriClient]:
    client = make_client(stack)
    client.subscribe(recorder)
    await client.start()
    await client.wait_connected(IO_TIMEOUT)
    yield client
    await client.stop()


@pytest.fixture
def answering_wrapper() -> str:
    """The test caller answers first, which a Local `;1` needs to enter Stasis."""
    return f"Local/s@{CALLER_CONTEXT}"


def caller_script(*, wait_s: float, dtmf: str, hold_s: float) -> dict[str, str | int | float]:
    return {dv.TEST_WAIT: wait_s, dv.TEST_DTMF: dtmf, dv.TEST_HOLD: hold_s}


def new_id(tag: str) -> str:
    return f"ari-test-{tag}-{uuid.uuid4().hex[:12]}"


async def test_asterisk_info_reports_version_22(ari: AriClient) -> None:
    """GET /asterisk/info answers with the running Asterisk 22 version."""
    info = await ari.asterisk_info()
    assert str(info["system"]["version"]).startswith("22")


async def test_originated_call_enters_stasis_sends_dtmf_and_ends(
    ari: AriClient, recorder: Recorder, answering_wrapper: str
) -> None:
    """An originated Local call reaches Stasis, delivers digits 4 then 2, and ends."""
    channel_id = new_id("dtmf")
    channel = await ari.originate(
        answering_wrapper,
        app_args=["dtmf-test", "1999"],
        variables=caller_script(wait_s=0.5, dtmf="42", hold_s=2),
        channel_id=channel_id,
        other_channel_id=f"{channel_id}-2",
    )
    assert channel.id == channel_id

    start = await recorder.first(StasisStart, channel_id)
    assert start.args == ("dtmf-test", "1999")
    assert start.application == ari.app
    await ari.answer(channel_id)

    await poll(lambda: len(recorder.of(ChannelDtmfReceived, channel_id)) >= 2, "two digits")
    assert [e.digit for e in recorder.of(ChannelDtmfReceived, channel_id)] == ["4", "2"]

    destroyed = await recorder.first(ChannelDestroyed, channel_id)
    await recorder.first(StasisEnd, channel_id)
    assert destroyed.cause == 16
    assert destroyed.cause_txt == "Normal Clearing"


async def test_play_prompt_on_answered_channel_finishes(
    stack: StackConfig, ari: AriClient, recorder: Recorder, answering_wrapper: str
) -> None:
    """A prompt played by absolute path without suffix runs to its end (state done)."""
    channel = await ari.originate(
        answering_wrapper, variables=caller_script(wait_s=60, dtmf="", hold_s=0)
    )
    await recorder.first(StasisStart, channel.id)
    await ari.answer(channel.id)
    try:
        media = f"sound:{prompt_path(stack.sounds_dir, 'en', 'fallback')}"
        wanted = f"pb-{uuid.uuid4().hex}"
        playback_id = await ari.play(channel.id, media, playback_id=wanted)
        assert playback_id == wanted

        def finished() -> list[PlaybackFinished]:
            return [e for e in recorder.of(PlaybackFinished) if e.playback_id == playback_id]

        await poll(lambda: bool(finished()), "PlaybackFinished")
        assert finished()[0].state == "done"
        assert finished()[0].target_uri == f"channel:{channel.id}"
        assert any(e.playback_id == playback_id for e in recorder.of(PlaybackStarted))

        await ari.set_variable(channel.id, "HOTLINE_ARI_PROBE", "a b,c")
        assert await ari.get_variable(channel.id, "HOTLINE_ARI_PROBE") == "a b,c"
        assert await ari.get_variable(channel.id, dv.TEST_WAIT) == "60"
        assert await ari.get_variable(channel.id, "HOTLINE_NEVER_SET") is None
        assert channel.id in {c.id for c in await ari.list_channels()}
    finally:
        await ari.hangup(channel.id)
    await recorder.first(ChannelDestroyed, channel.id)


async def test_originate_to_context_and_extension_runs_the_dialplan(
    ari: AriClient, recorder: Recorder, answering_wrapper: str
) -> None:
    """With context/extension the originated channel runs that dialplan, not Stasis."""
    channel = await ari.originate(
        answering_wrapper,
        context=CALLER_CONTEXT,
        extension="s",
        priority=1,
        variables=caller_script(wait_s=60, dtmf="", hold_s=0),
    )
    # Before it is answered a Local channel shows its own target (the wrapper); only
    # the originate's context puts it in hotline-test-caller, waiting in Wait().
    seen: list[tuple[str, str, str]] = []

    async def in_caller_dialplan() -> bool:
        info = await ari.get_channel(channel.id)
        seen.append((info.context, info.exten, info.app_name))
        return seen[-1] == (CALLER_CONTEXT, "s", "Wait")

    await eventually(in_caller_dialplan, lambda: f"the channel in {CALLER_CONTEXT}: {seen[-3:]}")
    assert not recorder.of(StasisStart, channel.id)
    await ari.hangup(channel.id)

    async def gone() -> bool:
        try:
            await ari.get_channel(channel.id)
        except AriNotFound:
            return True
        return False

    await eventually(gone, lambda: "the channel to hang up")


async def test_unknown_channel_raises_not_found(ari: AriClient) -> None:
    """Every channel call on an id Asterisk does not know raises AriNotFound (HTTP 404)."""
    missing = new_id("missing")
    with pytest.raises(AriNotFound) as exc_info:
        await ari.get_channel(missing)
    assert exc_info.value.status == 404
    with pytest.raises(AriNotFound):
        await ari.answer(missing)
    with pytest.raises(AriNotFound):
        await ari.hangup(missing)
    with pytest.raises(AriNotFound):
        await ari.play(missing, "sound:beep")
    with pytest.raises(AriNotFound):
        await ari.get_variable(missing, dv.TEST_WAIT)
    with pytest.raises(AriNotFound):
        await ari.continue_in_dialplan(missing)


async def test_other_http_errors_raise_ari_error_with_status(ari: AriClient) -> None:
    """A refused request that is not a 404 is a plain AriError carrying the status."""
    with pytest.raises(AriError) as exc_info:
        await ari.originate("NoSuchTech/nobody")
    assert not isinstance(exc_info.value, AriNotFound | AriUnavailable)
    assert exc_info.value.status is not None
    assert exc_info.value.status >= 400


async def test_unreachable_ari_raises_unavailable(stack: StackConfig) -> None:
    """Nothing listening: REST raises AriUnavailable and the event link stays down."""
    client = make_client(stack, f"http://127.0.0.1:{free_port()}/ari")
    await client.start()
    try:
        with pytest.raises(AriUnavailable):
            await client.asterisk_info()
        with pytest.raises(AriUnavailable):
            await client.wait_connected(0.5)
        assert not client.connected
        assert len(client.outages) == 1
        assert client.outages[0].up_at is None
    finally:
        await client.stop()


class DroppingProxy:
    """A TCP relay in front of Asterisk's HTTP port that can cut and refuse links."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.refusing = False
        self.accepted = 0
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop(self) -> None:
        """Abort every relayed connection, as a crashed peer or a cut cable would."""
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        dst.transport.abort()


async def test_event_link_reconnects_after_drop_and_still_delivers(
    stack: StackConfig, answering_wrapper: str
) -> None:
    """After the link is cut and refused a while, the client reconnects and gets events."""
    proxy = DroppingProxy(stack.host, stack.ports.http)
    port = await proxy.start()
    client = make_client(stack, f"http://127.0.0.1:{port}/ari")
    recorder = Recorder()
    client.subscribe(recorder)
    await client.start()
    try:
        await client.wait_connected(IO_TIMEOUT)
        await client.asterisk_info()
        with capture_logs() as logs:
            proxy.refusing = True
            proxy.drop()
            await poll(lambda: not client.connected, "the client to notice the drop")
            refused_before = proxy.accepted
            await poll(lambda: proxy.accepted >= refused_before + 3, "three refused retries")
            proxy.refusing = False
            await client.wait_connected(IO_TIMEOUT)
        down_warnings = [e for e in logs if e["event"] == "ari_link_down"]
        assert len(down_warnings) == 1, down_warnings
        assert down_warnings[0]["log_level"] == "warning"
        assert len(client.outages) == 1
        assert client.outages[0].up_at is not None
        # Handlers are told each connect, so they can look again at what they hold.
        await poll(lambda: len(recorder.of(LinkUp)) == 2, "LinkUp on connect and reconnect")

        channel = await client.originate(
            answering_wrapper, variables=caller_script(wait_s=0, dtmf="", hold_s=0)
        )
        await recorder.first(StasisStart, channel.id)
        await recorder.first(ChannelDestroyed, channel.id)
    finally:
        await client.stop()
        await proxy.stop()


async def test_slow_or_failing_handler_does_not_hold_up_other_events(
    ari: AriClient, recorder: Recorder, answering_wrapper: str
) -> None:
    """A handler that blocks or raises leaves the reader and the other handlers running."""
    release = asyncio.Event()
    blocked: list[str] = []

    async def slow(event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            blocked.append(event.channel.id)
            await release.wait()

    def failing(event: AriEvent) -> None:
        raise RuntimeError(f"handler bug on {type(event).__name__}")

    ari.subscribe(slow)
    ari.subscribe(failing)
    try:
        with capture_logs() as logs:
            channel = await ari.originate(
                answering_wrapper, variables=caller_script(wait_s=0, dtmf="4", hold_s=0)
            )
            await recorder.first(ChannelDestroyed, channel.id)
        assert blocked == [channel.id]
        assert [e.digit for e in recorder.of(ChannelDtmfReceived, channel.id)] == ["4"]
        failures = [e for e in logs if e["event"] == "ari_handler_failed"]
        assert failures
        assert all(e["log_level"] == "error" for e in failures)
        assert ari.connected
    finally:
        release.set()
        ari.unsubscribe(slow)
        ari.unsubscribe(failing)
