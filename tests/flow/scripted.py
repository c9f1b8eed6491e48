"""A scripted Asterisk: it answers an AGI session's commands as Asterisk 22 does.

In the spirit of panoramisk's recorded fixtures, but driven by what the engine sends:
the engine's own `AGISession` talks over a real socket pair to this peer, which
parses each command line, answers it with the reply Asterisk gives (the lines the
real-Asterisk tests see), keeps the channel's variables, and records every command.
What the caller does is a script, like the real-call driver's (`driven.py`): each
step waits for a command that matches it, in order. Unscripted commands get the
answer of a caller who does nothing: a Read times out, GET DATA times out, a unit's
line is not answered, a queue keeps the caller until its wait ends.

Only commands the engine uses are understood; anything else is answered `510`, as
Asterisk answers an unknown command, so a new command shows up as a failing test.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ivr.adapters.fastagi.protocol import AGIHangup, AGIRequest
from ivr.adapters.fastagi.server import AGISession, CommandStats

DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
UNKNOWN_COMMAND = "510 Invalid or unknown command"
# Bounds a test that went wrong; never an assertion about speed.
COMMAND_TIMEOUT_S = 10.0
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# What a line that rings out leaves (Asterisk 22, Dial with a 20 s ring timeout).
NO_ANSWER = {"DIALSTATUS": "NOANSWER", "HANGUPCAUSE": "19", "DIALEDTIME": "20", "ANSWEREDTIME": ""}


@dataclass(frozen=True)
class On:
    """When a command starting with `command` whose words include `contains` comes..."""

    command: str
    contains: str = ""
    # ...key these digits (Read, GET DATA), or
    digits: str | None = None
    # ...leave these channel variables as the command ends (Dial, Queue), or
    variables: Mapping[str, str] = field(default_factory=dict)
    # ...hang up the caller instead of answering.
    hang_up: bool = False

    def matches(self, command: Command) -> bool:
        return command.line.startswith(self.command) and (
            not self.contains or self.contains in command.names
        )


def key(prompt: str, digits: str) -> On:
    """Key `digits` when the engine listens while playing `prompt` (Read or GET DATA).

    A `#` at the end ends the entry at once, as on a phone; Read keeps it out of the keys.
    """
    return On("EXEC Read", prompt, digits=digits)


def keyed(prompt: str, digits: str) -> On:
    """Key `digits` at a GET DATA that plays `prompt` (callback number, survey)."""
    return On("GET DATA", prompt, digits=digits)


def dial(number: str, status: str, *, answered_s: float = 0.0) -> On:
    """The line `number` (a PJSIP target) ends its Dial with `status`."""
    answered = status == "ANSWER"
    return On(
        "EXEC Dial",
        number,
        variables={
            "DIALSTATUS": status,
            "HANGUPCAUSE": "16" if answered else {"BUSY": "17"}.get(status, "19"),
            "DIALEDTIME": f"{answered_s + 5:g}" if answered else "20",
            "ANSWEREDTIME": f"{answered_s:g}" if answered else "",
        },
    )


def queue(name: str, *, agent: str = "", status: str = "") -> On:
    """The queue `name` (Asterisk's name for it) ends with `agent` having served, or `status`."""
    return On("EXEC Queue", name, variables={"QUEUESTATUS": status, "MEMBERNAME": agent})


def hang_up(command: str, contains: str = "") -> On:
    """The caller hangs up when this command comes."""
    return On(command, contains, hang_up=True)


@dataclass(frozen=True)
class Command:
    """One command line as the engine sent it, split the way Asterisk splits it."""

    line: str
    words: tuple[str, ...]

    @classmethod
    def parse(cls, line: str) -> Command:
        return cls(line, tuple(shlex.split(line)))

    @property
    def prompts(self) -> tuple[str, ...]:
        """The prompt names (without language and directory) a command plays."""
        if self.line.startswith("EXEC Read"):
            files = self.words[2].split(",")[1]
            return tuple(PurePosixPath(f).name for f in files.split("&") if f)
        if self.line.startswith(("STREAM FILE", "GET DATA")):
            return (PurePosixPath(self.words[2]).name,)
        return ()

    @property
    def languages(self) -> tuple[str, ...]:
        if self.line.startswith("EXEC Read"):
            files = self.words[2].split(",")[1]
            return tuple(PurePosixPath(f).parent.name for f in files.split("&") if f)
        if self.line.startswith(("STREAM FILE", "GET DATA")):
            return (PurePosixPath(self.words[2]).parent.name,)
        return ()

    @property
    def names(self) -> tuple[str, ...]:
        """What `On.contains` matches: the prompts played, else the arguments' parts."""
        if self.prompts:
            return self.prompts
        return tuple(part for word in self.words[2:] for part in re.split(r"[,/@]", word))


@dataclass
class ScriptedAsterisk:
    """The Asterisk side of one AGI session: answers commands, keeps variables, records."""

    script: list[On]
    variables: dict[str, str]
    commands: list[Command] = field(default_factory=list)
    hung_up: bool = False
    # Seconds the caller spent in Queue() rounds that nobody answered: the engine's
    # clock moves on by as much, as a real caller's wait would move it.
    waited_s: float = 0.0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while raw := await reader.readline():
            command = Command.parse(raw.decode().removesuffix("\n"))
            self.commands.append(command)
            writer.write("".join(f"{line}\n" for line in self.answer(command)).encode())
            await writer.drain()
        writer.close()

    def answer(self, command: Command) -> list[str]:
        if self.hung_up:
            return [DEAD_CHANNEL]
        step = self.script[0] if self.script and self.script[0].matches(command) else None
        if step is not None:
            self.script.pop(0)
            if step.hang_up:
                self.hung_up = True
                return ["HANGUP", DEAD_CHANNEL]
        return [self._reply(command, step)]

    def _reply(self, command: Command, step: On | None) -> str:  # noqa: PLR0911 - one per command
        words = command.words
        verb = " ".join(words[:2])
        if verb == "SET VARIABLE":
            self.variables[words[2]] = words[3] if len(words) > 3 else ""
            return "200 result=1"
        if verb == "GET VARIABLE":
            value = self.variables.get(words[2])
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if verb == "GET FULL":
            expanded = _VARIABLE.sub(lambda m: self.variables.get(m.group(1), ""), words[3])
            return f"200 result=1 ({expanded})"
        if verb == "STREAM FILE":
            return "200 result=0 endpos=8000"
        if verb == "GET DATA":
            return _get_data(step.digits if step else None, int(words[4]))
        if verb == "RECORD FILE":
            # The caller spoke, then was silent: Asterisk has written the file.
            with open(f"{words[2]}.{words[3]}", "wb") as recording:
                recording.write(b"RIFF")
            return "200 result=0 endpos=16000"
        if verb.startswith("EXEC "):
            self._execute(words[1], words[2] if len(words) > 2 else "", step)
            return "200 result=0"
        return UNKNOWN_COMMAND

    def _execute(self, app: str, args: str, step: On | None) -> None:
        if app == "Read":
            name, _files, max_digits = args.split(",")[:3]
            digits = step.digits if step and step.digits is not None else ""
            entry = digits.removesuffix("#")[: int(max_digits)]
            self.variables[name] = entry
            self.variables["READSTATUS"] = "OK" if digits else "TIMEOUT"
        elif app == "Dial":
            self.variables.update(step.variables if step else NO_ANSWER)
        elif app == "Queue":
            queued = {"QUEUESTATUS": "TIMEOUT", "MEMBERNAME": ""}
            self.variables.update(step.variables if step else queued)
            # Queue(name,options,URL,announce,timeout): a round that timed out lasted
            # its whole timeout.
            timeout = args.split(",")[4] if args.count(",") >= 4 else ""
            if self.variables.get("QUEUESTATUS") == "TIMEOUT" and timeout:
                self.waited_s += float(timeout)

    def played(self) -> list[str]:
        """Every prompt the engine played or listened over, in order."""
        return [p for c in self.commands for p in c.prompts]

    def sent(self, prefix: str) -> list[Command]:
        return [c for c in self.commands if c.line.startswith(prefix)]


def _get_data(digits: str | None, max_digits: int) -> str:
    if not digits:
        return "200 result= (timeout)"
    entry = digits.removesuffix("#")[:max_digits]
    # Asterisk notes a timeout unless the caller filled every digit or ended with #.
    done = len(entry) == max_digits or digits.endswith("#")
    return f"200 result={entry}" + ("" if done else " (timeout)")


def header(script: str, *, uniqueid: str, caller: str, args: Sequence[str] = ()) -> dict[str, str]:
    """The header Asterisk 22 sends for `AGI(agi://127.0.0.1/<script>,<args>)`."""
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1/{script}",
        "agi_channel": f"Local/1999@hotline-inbound-{uniqueid};2",
        "agi_language": "en",
        "agi_type": "Local",
        "agi_uniqueid": uniqueid,
        "agi_version": "22.0.0",
        "agi_callerid": caller or "unknown",
        "agi_calleridname": "unknown",
        "agi_dnid": "1999",
        "agi_context": "hotline-inbound",
        "agi_extension": "1999",
        "agi_priority": "2",
    }
    env.update({f"agi_arg_{i}": arg for i, arg in enumerate(args, 1)})
    return env


async def run_session(
    handler: Callable[[AGISession], Awaitable[None]],
    asterisk: ScriptedAsterisk,
    env: Mapping[str, str],
) -> AGIHangup | None:
    """Run `handler` on one session against `asterisk`; the hangup it ended with, if any."""
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    peer_reader, peer_writer = await asyncio.open_connection(sock=theirs)
    peer = asyncio.create_task(asterisk.serve(peer_reader, peer_writer))
    session = AGISession(
        AGIRequest.from_env(env),
        reader,
        writer,
        stats=CommandStats(),
        command_timeout=COMMAND_TIMEOUT_S,
    )
    ended: AGIHangup | None = None
    try:
        await handler(session)
    except AGIHangup as exc:
        # The FastAGI server ends such a session quietly; so does the test.
        ended = exc
    finally:
        writer.close()
        await peer
    return ended
