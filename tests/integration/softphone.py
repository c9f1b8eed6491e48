"""A real SIP softphone for the tests: Debian's baresip, headless, as an agent's phone.

baresip runs from a private config directory (`-f`) with no sound card: a file of
silence is its microphone and the audio bridge's player swallows what it hears. The
test drives it over its `ctrl_tcp` module, which takes commands (`uanew`, `dial`,
`accept`, `hangup`) as JSON in netstrings and reports every event (registered,
incoming call with the caller's display name, established, closed) the same way.
The test waits for those events, never for a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import wave
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ports import PHONE_PORTS, pick

BARESIP = "baresip"
MODULES = Path("/usr/lib/baresip/modules")
Event = Mapping[str, Any]


def _config(sip_port: int, ctrl_port: int, rtp_port: int, microphone: Path) -> str:
    return (
        "poll_method epoll\n"
        f"sip_listen 127.0.0.1:{sip_port}\n"
        f"rtp_ports {rtp_port}-{rtp_port + 9}\n"
        f"audio_source aufile,{microphone}\n"
        "audio_player aubridge,nil\n"
        "audio_alert aubridge,nil\n"
        f"module_path {MODULES}\n"
        "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule ctrl_tcp.so\n"
        "module_app account.so\nmodule_app menu.so\n"
        f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n"
    )


def _silence(path: Path) -> None:
    """What the agent "says": a minute of 8 kHz silence, the codec's own rate."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 60)


# baresip binds SIP/TLS on the port after its SIP port and has no switch to leave it
# out, so a phone takes a whole block from the range tests.ports keeps for phones.
_BLOCK = 16  # SIP (UDP+TCP), SIP/TLS (TCP), control (TCP), spare, then 10 RTP/RTCP


@dataclass(frozen=True)
class PhonePorts:
    sip: int
    ctrl: int
    rtp: int


def phone_ports() -> PhonePorts:
    """A free block of ports for one baresip, outside every range the kernel or Asterisk uses."""
    start = pick(range(PHONE_PORTS.start, PHONE_PORTS.stop - _BLOCK, _BLOCK), _BLOCK)
    return PhonePorts(sip=start, ctrl=start + 2, rtp=start + 4)


@dataclass
class Softphone:
    """One running baresip registered as `extension` at the stack's SIP port."""

    extension: str
    workdir: Path
    proc: asyncio.subprocess.Process | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _token: int = 0

    async def start(self, asterisk_sip_port: int, secret: str) -> None:
        if shutil.which(BARESIP) is None:
            raise AssertionError("baresip is missing: apt-get install baresip-core (make deps)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o700)
        ports = phone_ports()
        microphone = self.workdir / "microphone.wav"
        _silence(microphone)
        config = _config(ports.sip, ports.ctrl, ports.rtp, microphone)
        (self.workdir / "config").write_text(config, encoding="utf-8")
        # The account is added over the control connection once it is up, so the
        # test hears its registration (events before the connection are not kept).
        (self.workdir / "accounts").write_text("", encoding="utf-8")
        log = (self.workdir / "baresip.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            BARESIP,
            "-f",
            str(self.workdir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1", ports.ctrl)
                break
            except OSError:
                if self.proc.returncode is not None or loop.time() > deadline:
                    raise AssertionError(f"baresip did not start: {self.output()}") from None
                await asyncio.sleep(0.1)
        self._task = asyncio.create_task(self._read())
        # No auto-answer: the agent sees who calls, then answers.
        await self.command(
            "uanew",
            f"<sip:{self.extension}@127.0.0.1:{asterisk_sip_port}>;"
            f"auth_pass={secret};regint=300;answermode=manual",
        )

    def output(self) -> str:
        path = self.workdir / "baresip.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    async def command(self, command: str, params: str = "") -> dict[str, Any]:
        """Run a baresip command; its response."""
        assert self._writer is not None
        self._token += 1
        token = str(self._token)
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self._writer.write(f"{len(body)}:".encode() + body + b",")
        await self._writer.drain()
        return await self.wait(lambda e: e.get("response") is True and e.get("token") == token)

    async def event(
        self, kind: str, since: int = 0, *, timeout_s: float = 60.0, **match: str
    ) -> dict[str, Any]:
        """The first event of type `kind` (after the first `since` messages) matching."""

        def seen(e: Event) -> bool:
            return (
                e.get("event") is True
                and e.get("type") == kind
                and all(e.get(k) == v for k, v in match.items())
            )

        return await self.wait(seen, since, timeout_s=timeout_s)

    async def wait(
        self, seen: Callable[[Event], bool], since: int = 0, *, timeout_s: float = 60.0
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    for e in self.events[since:]:
                        if seen(e):
                            return e
                    if self._task is not None and self._task.done():
                        raise AssertionError("baresip's control connection closed")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"baresip never reported it; events: {self.events}\n{self.output()}"
            ) from None

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while True:
                # A netstring: "<length>:<JSON>,".
                length = int((await self._reader.readuntil(b":"))[:-1])
                body = await self._reader.readexactly(length + 1)
                self.events.append(json.loads(body[:-1]))
                self._changed.set()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            self._changed.set()

    async def stop(self) -> None:
        if self._writer is not None and self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(Exception):
                body = json.dumps({"command": "quit"}).encode()
                self._writer.write(f"{len(body)}:".encode() + body + b",")
                await self._writer.drain()
        if self.proc is not None:
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
