"""Listening for keys so that none falls between two AGI commands.

Between AGI commands Asterisk reads the channel and drops what it reads, DTMF
included: a key pressed after one command's reply and before the engine's next
command is lost, and the slower the engine (a loaded machine), the wider that gap.
So every moment a caller may press is one command: `Read` plays the whole prompt
sequence (greeting, retry notice, menu) with barge-in and then collects the whole
entry, ending after an inter-digit pause, at `#` or at the most digits an entry can
have. Inside one application Asterisk queues the keys; nothing is read in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.adapters.fastagi.server import AGISession
from ivr.domain.menu import Listen

log = structlog.get_logger()

# Where Read leaves the keys; private to the engine, the dialplan never reads it.
KEYS_VAR = "HOTLINE_KEYS"
# Read stores its result here: OK, TIMEOUT, HANGUP, ERROR, INTERRUPTED, SKIPPED.
STATUS_VAR = "READSTATUS"
# A prompt sequence can be long; the command ends when the caller is done.
READ_LIMIT_S = 900.0


@dataclass(frozen=True)
class Keyed:
    """What one listen heard: the keys (without a closing `#`) and Read's status."""

    digits: str
    status: str

    @property
    def entry(self) -> str:
        """The caller's entry as the menu judges it; a lone `#` is an entry too."""
        if not self.digits and self.status == "OK":
            return "#"
        return self.digits

    @property
    def timed_out(self) -> bool:
        return not self.entry


@dataclass
class KeyReader:
    """One per call: remembers the channel's timeouts so each is set only when it changes."""

    _timeouts: dict[str, float] = field(default_factory=dict)

    async def read(self, session: AGISession, prompts: Sequence[str], listen: Listen) -> Keyed:
        """Play `prompts` in order, barge-in allowed, then collect one whole entry."""
        # Read takes its first-key and inter-digit waits from the channel's
        # TIMEOUT(response) and TIMEOUT(digit) when it is given no timeout of its own
        # (a timeout argument would set both to the same value).
        await self._timeout(session, "response", listen.first_s)
        await self._timeout(session, "digit", listen.interdigit_s)
        keyed = await self._read(session, prompts, listen.max_digits)
        if keyed.status == "ERROR" and prompts:
            # Read gives up before listening when its last prompt cannot be played;
            # a missing sound file must not cost the caller their turn: listen anyway.
            log.warning("prompt_missing", prompts=list(prompts))
            keyed = await self._read(session, (), listen.max_digits)
        return keyed

    async def _read(self, session: AGISession, prompts: Sequence[str], max_digits: int) -> Keyed:
        # Read(variable,filename&filename2…,maxdigits,options,attempts,timeout)
        args = ",".join([KEYS_VAR, "&".join(prompts), str(max_digits), "", "1", ""])
        await session.command("EXEC", "Read", args, timeout=READ_LIMIT_S)
        got = await session.get_variables(STATUS_VAR, KEYS_VAR)
        status = got[STATUS_VAR]
        if status == "HANGUP" or session.hung_up:
            raise AGIHangup("caller hung up while keys were read")
        return Keyed(digits=got[KEYS_VAR], status=status)

    async def _timeout(self, session: AGISession, kind: str, seconds: float) -> None:
        if self._timeouts.get(kind) == seconds:
            return
        await session.set_variable(f"TIMEOUT({kind})", f"{seconds:.3f}")
        self._timeouts[kind] = seconds
