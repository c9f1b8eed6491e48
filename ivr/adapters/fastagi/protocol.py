"""The AGI wire protocol as Asterisk 22 speaks it, without any I/O.

A FastAGI session starts with a header of ``agi_key: value`` lines ended by a
blank line; then the script sends one command line at a time and Asterisk
answers each with a reply (one line, or several for the ``520-`` usage text).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from ivr.errors import ExitStatus, HotlineError

__all__ = [
    "HANGUP_LINE",
    "SCRIPT_NAME_RE",
    "AGICommandError",
    "AGIError",
    "AGIHangup",
    "AGIProtocolError",
    "AGIReply",
    "AGIRequest",
    "AGITimeout",
    "format_command",
    "parse_env_line",
    "parse_reply",
]

# Sent by Asterisk on its own, FastAGI only, once the channel has hung up. It can
# arrive before or among the lines of any reply and is never a reply itself.
HANGUP_LINE = "HANGUP"

SCRIPT_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)

_ENV_LINE_RE = re.compile(r"(agi_[a-z0-9_]+):(?: (.*))?", re.ASCII | re.DOTALL)
_ARG_KEY = "agi_arg_{}"
# Digit runs are bounded so that int() can never hit the interpreter's
# int-from-string limit on hostile input.
_INT_RE = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_OK_RE = re.compile(
    r"200 result=(?P<result>[^ ]*)(?: \((?P<data>.*)\))?(?: endpos=(?P<endpos>-?[0-9]{1,19}))?",
    re.ASCII | re.DOTALL,
)
_ERROR_RE = re.compile(r"(?P<code>5[0-9]{2}) (?P<text>.*)", re.ASCII | re.DOTALL)
_USAGE_FIRST_PREFIX = "520-"
_USAGE_LAST_PREFIX = "520 "
_ERROR_CODES = frozenset({510, 511, 520})
# A line break would start a second command; NUL would silently truncate the line
# inside Asterisk's C parser.
_FORBIDDEN = re.compile(r"[\n\r\x00]")


class AGIError(HotlineError):
    """Base of every AGI failure."""

    code = "agi.failed"


class AGIProtocolError(AGIError):
    """The peer sent something that is not AGI as Asterisk speaks it."""

    code = "agi.protocol"


# The API names these after what happened, not "...Error": a hangup is an event.
class AGIHangup(AGIError):
    """The channel is gone: HANGUP line, 511 reply or end of stream."""

    code = "agi.hangup"


class AGICommandError(AGIError):
    """Asterisk refused the command (510 unknown, 520 bad syntax)."""

    code = "agi.command_refused"

    def __init__(self, message: str, reply: AGIReply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class AGITimeout(AGIError):
    """The peer did not answer within the allotted time."""

    code = "agi.timeout"
    exit_status = ExitStatus.UNAVAILABLE


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class AGIRequest:
    """What Asterisk asked for: the script to run, its arguments and the header."""

    script: str
    args: tuple[str, ...]
    query: Mapping[str, str] = field(hash=False)
    env: Mapping[str, str] = field(hash=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AGIRequest:
        """Build a request from header pairs; raise AGIProtocolError if unroutable."""
        target = env.get("agi_network_script", "")
        if not target:
            request = env.get("agi_request", "")
            if not request:
                raise AGIProtocolError(
                    "AGI header has neither agi_network_script nor agi_request: nothing to route"
                )
            parts = urlsplit(request)
            if parts.scheme:
                target = parts.path + (f"?{parts.query}" if parts.query else "")
            else:
                target = request
        path, _, query_string = target.partition("?")
        script = path.lstrip("/")
        if not SCRIPT_NAME_RE.fullmatch(script):
            raise AGIProtocolError(
                f"AGI script name {script!r} (from {target!r}) is not [A-Za-z0-9_.-]+"
            )
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        args: list[str] = []
        while (arg := env.get(_ARG_KEY.format(len(args) + 1))) is not None:
            args.append(arg)
        return cls(script=script, args=tuple(args), query=_frozen(query), env=_frozen(env))

    @property
    def uniqueid(self) -> str:
        """Asterisk's id of the channel (agi_uniqueid)."""
        return self.env.get("agi_uniqueid", "")

    @property
    def channel(self) -> str:
        """Channel name, e.g. PJSIP/alice-00000001."""
        return self.env.get("agi_channel", "")

    @property
    def callerid(self) -> str:
        """Caller number; Asterisk sends "unknown" when there is none."""
        return self.env.get("agi_callerid", "")

    @property
    def calleridname(self) -> str:
        """Caller name; Asterisk sends "unknown" when there is none."""
        return self.env.get("agi_calleridname", "")

    @property
    def extension(self) -> str:
        """Dialplan extension that ran AGI()."""
        return self.env.get("agi_extension", "")

    @property
    def context(self) -> str:
        """Dialplan context that ran AGI()."""
        return self.env.get("agi_context", "")

    @property
    def language(self) -> str:
        """Channel language, e.g. "en"."""
        return self.env.get("agi_language", "")

    @property
    def dnid(self) -> str:
        """Dialed number as received."""
        return self.env.get("agi_dnid", "")


def parse_env_line(line: str) -> tuple[str, str]:
    """Split one ``agi_key: value`` header line (without its newline)."""
    match = _ENV_LINE_RE.fullmatch(line)
    if match is None:
        raise AGIProtocolError(f"not an AGI header line: {line[:80]!r}")
    return match.group(1), match.group(2) or ""


@dataclass(frozen=True, slots=True)
class AGIReply:
    """One reply; ``data`` holds the text in parentheses, or a 5xx message."""

    code: int
    result: str
    data: str | None
    timeout: bool
    endpos: int | None
    raw: str

    @property
    def result_int(self) -> int | None:
        """The result as an integer, None when it is not one (e.g. DTMF digits "12#")."""
        if _INT_RE.fullmatch(self.result):
            return int(self.result)
        return None


def parse_reply(lines: Sequence[str]) -> AGIReply:
    """Parse the lines of one reply (HANGUP lines already removed)."""
    if not lines:
        raise AGIProtocolError("empty AGI reply")
    raw = "\n".join(lines)
    first = lines[0]
    if first.startswith(_USAGE_FIRST_PREFIX):
        last = lines[-1]
        if len(lines) < 2 or not last.startswith(_USAGE_LAST_PREFIX):
            raise AGIProtocolError(f"unterminated 520 usage reply: {raw[:200]!r}")
        usage = "\n".join([first[len(_USAGE_FIRST_PREFIX) :], *lines[1:-1]])
        return AGIReply(code=520, result="", data=usage, timeout=False, endpos=None, raw=raw)
    if len(lines) != 1:
        raise AGIProtocolError(f"unexpected multi-line AGI reply: {raw[:200]!r}")
    ok = _OK_RE.fullmatch(first)
    if ok is not None:
        data = ok.group("data")
        endpos = ok.group("endpos")
        return AGIReply(
            code=200,
            result=ok.group("result"),
            data=data,
            timeout=data == "timeout",
            endpos=None if endpos is None else int(endpos),
            raw=raw,
        )
    err = _ERROR_RE.fullmatch(first)
    if err is not None and int(err.group("code")) in _ERROR_CODES:
        return AGIReply(
            code=int(err.group("code")),
            result="",
            data=err.group("text"),
            timeout=False,
            endpos=None,
            raw=raw,
        )
    raise AGIProtocolError(f"unknown AGI reply: {raw[:200]!r}")


_NEEDS_QUOTES = re.compile(r'[\s"\\]')


def _quote(part: str) -> str:
    if part and not _NEEDS_QUOTES.search(part):
        return part
    escaped = part.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def format_command(*parts: str) -> bytes:
    """Encode one command line; each word of the command is its own part.

    Asterisk splits on spaces and honours quotes and backslash escapes, so
    arguments are quoted as needed. Line breaks are refused: they would let a
    caller-controlled value smuggle in a second command.
    """
    if not parts:
        raise ValueError("an AGI command needs at least one word")
    for part in parts:
        if _FORBIDDEN.search(part):
            raise ValueError(f"AGI command part contains a line break or NUL: {part[:80]!r}")
    return (" ".join(_quote(part) for part in parts) + "\n").encode("utf-8")
