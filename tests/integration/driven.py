"""Test calls whose caller acts on what the engine really does, not on a timetable.

Asterisk reports every AGI command it starts (AMI `AGIExecStart`). A `Script` says
what the caller does when a given command starts on its call: key digits (received
on the hotline channel, as if from the phone) or hang up. A key is sent only once
the engine is listening for it, so no digit is lost to a prompt that does not
listen, and nothing waits longer than the engine does. Many calls can run at once on
one AMI session; each is told apart by its hotline channel's uniqueid.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ivr.adapters.ami import AmiClient
from ivr.config import StackConfig
from ivr.store import CallRecord, CaseStore
from ivr.testcall import INBOUND_CONTEXT
from tests.harness import OBSERVER_USER

# The caller half "speaks" silence (real voice frames, as a phone sends) for up to
# 300 s unless a script or the test hangs it up: a recording then ends on the engine's
# own silence detection, not on a key timed against the beep.
CALLER_AUDIO = "&".join(["silence/10"] * 30)
REACTION_S = 0.3
# The store is read again this long after one of the call's AMI events (the engine's
# write follows its act), and at least this often while the call is quiet: a caller
# on hold or in a queue for a minute is read 1.5 times a second, not 5 times.
AFTER_EVENT_S = 0.2
QUIET_S = 0.5


@dataclass(frozen=True)
class On:
    """When an AGI command starting with `command` and containing `contains` starts..."""

    command: str
    contains: str = ""
    # ...key these digits, or (None) hang up the caller.
    digits: str | None = None

    def matches(self, command: str) -> bool:
        return command.startswith(self.command) and self.contains in command


@dataclass(frozen=True)
class Listening(On):
    """The engine's `Read` whose prompts include one prompt by name (not a prefix of it)."""

    def matches(self, command: str) -> bool:
        # Read's prompts are joined by "&" and end at the ",maxdigits" argument.
        return command.startswith(self.command) and any(
            f"{self.contains}{end}" in command for end in "&,"
        )


def key(prompt: str, digits: str) -> On:
    """Key `digits` once the engine listens while playing `prompt` (one `Read`).

    A whole entry ends at the inter-digit wait, as a caller's does; the test keys no
    "#", which a one-key read would leave for the next one.
    """
    return Listening("EXEC Read", f"/{prompt}", digits)


@dataclass
class _Call:
    script: list[On]
    channel: str = ""
    commands: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    fell_back: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # Any AMI event of the call since the store was last read for it.
    stirred: asyncio.Event = field(default_factory=asyncio.Event)


class Driver:
    """One AMI session that drives any number of concurrent test calls."""

    def __init__(self, stack: StackConfig, store: CaseStore) -> None:
        self._stack = stack
        self._store = store
        self._calls: dict[str, _Call] = {}
        self._ami = AmiClient(stack.host, stack.ports.ami, OBSERVER_USER, stack.ami_secret)
        self._ami.on("AGIExecStart", self._on_exec)
        self._ami.on("Hangup", self._on_hangup)
        self._ami.on("UserEvent", self._on_user_event)
        self._pending: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Driver:
        await self._ami.start()
        await self._ami.wait_connected(10.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task
        await self._ami.stop()

    async def place(
        self, script: list[On], *, caller: str = "0912345678", uid: str | None = None
    ) -> str:
        """Start a call to 1999 (its channels named after `uid`, a new one if None);
        returns the hotline channel's uniqueid."""
        uid = uid or uuid.uuid4().hex
        hotline = f"{uid}-hotline"
        self._calls[hotline] = _Call(list(script))
        await self._ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/1999@{INBOUND_CONTEXT}/n",
                "Application": "Playback",
                "Data": CALLER_AUDIO,
                "CallerID": f'"Test caller" <{caller}>',
                "ChannelId": f"{uid}-caller",
                "OtherChannelId": hotline,
                "Timeout": "30000",
                "Async": "true",
            }
        )
        return hotline

    def commands(self, uniqueid: str) -> list[str]:
        """The AGI commands the engine started on the call, in order."""
        return list(self._calls[uniqueid].commands)

    def fallback_reasons(self, uniqueid: str) -> list[str]:
        """Reasons of the dialplan fallbacks the call took (HotlineFallback events)."""
        return list(self._calls[uniqueid].fallback)

    async def fallback(self, uniqueid: str, *, timeout_s: float = 60.0) -> list[str]:
        """Wait for the call's first dialplan fallback; its reasons so far."""
        async with asyncio.timeout(timeout_s):
            await self._calls[uniqueid].fell_back.wait()
        return self.fallback_reasons(uniqueid)

    async def command_started(self, uniqueid: str, step: On, *, timeout_s: float = 120.0) -> None:
        """Wait until the engine starts an AGI command that `step` matches."""
        call = self._calls[uniqueid]
        async with asyncio.timeout(timeout_s):
            while not any(step.matches(c) for c in call.commands):
                call.started.clear()
                await call.started.wait()

    def unused(self, uniqueid: str) -> list[On]:
        """Script steps that never found their command."""
        return list(self._calls[uniqueid].script)

    async def hang_up(self, uniqueid: str) -> None:
        """The caller hangs up (their half of the Local channel)."""
        call = self._calls[uniqueid]
        if call.channel and not call.done.is_set():
            with contextlib.suppress(Exception):
                # Cause 16 (normal clearing), as a phone's hang-up gives; AMI's default
                # leaves the cause unknown (0).
                await self._ami.action(
                    {
                        "Action": "Hangup",
                        "Channel": call.channel.replace(";2", ";1"),
                        "Cause": "16",
                    }
                )

    async def until(
        self,
        uniqueid: str,
        seen: Callable[[CallRecord], bool],
        *,
        timeout_s: float = 120.0,
    ) -> CallRecord:
        """Poll the store until the call's record satisfies `seen`, or the call ends or
        takes the dialplan's fallback (then the caller's assertions say what went wrong)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        call = self._calls[uniqueid]
        while True:
            call.stirred.clear()
            record = await self._store.get_call_by_uniqueid(uniqueid)
            # A call that fell back to the dialplan will get no further in the engine.
            gone = call.fallback or (record and record.ended_at)
            if record is not None and (seen(record) or gone):
                return record
            if loop.time() > deadline:
                raise AssertionError(f"call {uniqueid} never got there: {record}")
            # What a test waits for is written as the engine acts on the call, and each
            # act shows on AMI (an AGI command, a user event, the hangup).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.stirred.wait(), QUIET_S)
            await asyncio.sleep(AFTER_EVENT_S)

    async def ended(self, uniqueid: str, *, timeout_s: float = 60.0) -> CallRecord:
        """The call's record once the engine has closed it from AMI's Hangup."""
        return await self.until(uniqueid, lambda r: r.ended_at is not None, timeout_s=timeout_s)

    def _on_exec(self, event: Mapping[str, str]) -> None:
        call = self._calls.get(event.get("Uniqueid", ""))
        if call is None:
            return
        call.stirred.set()
        call.channel = event.get("Channel", call.channel)
        command = event.get("Command", "")
        call.commands.append(command)
        call.started.set()
        if call.script and call.script[0].matches(command):
            step = call.script.pop(0)
            task = asyncio.create_task(self._act(event.get("Uniqueid", ""), step))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def _on_user_event(self, event: Mapping[str, str]) -> None:
        call = self._calls.get(event.get("Uniqueid", ""))
        if call is None:
            return
        call.stirred.set()
        if event.get("UserEvent") == "HotlineFallback":
            call.fallback.append(event.get("Reason", ""))
            call.fell_back.set()

    def _on_hangup(self, event: Mapping[str, str]) -> None:
        call = self._calls.get(event.get("Uniqueid", ""))
        if call is not None:
            call.done.set()
            call.stirred.set()

    async def _act(self, uniqueid: str, step: On) -> None:
        call = self._calls[uniqueid]
        if step.digits is None:
            await self.hang_up(uniqueid)
            return
        # A caller keys after hearing the prompt begin. A key in the first milliseconds
        # of a command can reach the channel before Asterisk's Read is listening and
        # be dropped (seen on Asterisk 22); no person keys that fast, so the test
        # caller takes a person's shortest reaction time first.
        await asyncio.sleep(REACTION_S)
        for digit in step.digits:
            # Receive: the digit arrives on the hotline channel, as from the phone.
            await self._ami.action(
                {
                    "Action": "PlayDTMF",
                    "Channel": call.channel,
                    "Digit": digit,
                    "Duration": "120",
                    "Receive": "true",
                    # Asterisk answers "DTMF successfully queued", which panoramisk 1.4
                    # takes for an async Originate's reply and looks up this header;
                    # without it the AMI session fails. Asterisk ignores it.
                    "Async": "false",
                }
            )


async def until_queued(stack: StackConfig, store: CaseStore, script: list[On]) -> CallRecord:
    """A caller who keys `script` as each menu listens, then stays until the engine
    puts them in a queue, and hangs up: nothing is timed against prompt lengths, so a
    slow machine delays the call but cannot lose a digit or end it early."""
    async with Driver(stack, store) as driver:
        uid = await driver.place(script)
        await driver.until(uid, lambda r: any(e.kind == "queue_enter" for e in r.events))
        await driver.hang_up(uid)
        return await driver.ended(uid)


async def call_through(
    stack: StackConfig, store: CaseStore, script: list[On], *, timeout_s: float = 120.0
) -> CallRecord:
    """A caller who keys `script` as each menu listens, then the call's record once the
    engine has closed it (its `uniqueid` names the call for the store's other reads)."""
    async with Driver(stack, store) as driver:
        uid = await driver.place(script)
        return await driver.ended(uid, timeout_s=timeout_s)
