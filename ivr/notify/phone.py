"""A phone message: an outbound call over the outbound trunk that reads the text.

The text is synthesised with espeak-ng (the voice from `notify.yaml`, Mandarin by
default) and converted with sox to 8 kHz mono, into `<state dir>/sounds/outbox/`
(owner-only, like every prompt), named by a hash of the idempotency key, so a retry
reuses the file. The call is an AMI Originate of `PJSIP/<number>@<trunk>` running
Playback of that file twice; it counts as delivered when the far end answers
(OriginateResponse Success). Busy, no answer and congestion are temporary failures.

A phone call cannot be recognised as a repeat by the far end, so an attempt cut off by
a crash is not made again on its own (`ivr.domain.outbox_policy.resend_after_crash`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import structlog

from ivr.adapters.ami import AmiActionFailed, AmiClient, AmiUnavailable
from ivr.domain.masking import mask_number
from ivr.domain.screening import is_taiwan_callback_number, normalise_number
from ivr.domain.transfer import Line
from ivr.notify.config import PhoneSettings
from ivr.notify.transport import PermanentFailure, TemporaryFailure
from ivr.routing.view import dialstring
from ivr.store.outbox import MessageRecord

log = structlog.get_logger(__name__)

SOX_FORMAT = ["-r", "8000", "-c", "1", "-b", "16"]
# Asterisk's OriginateResponse reasons (ast_control_frame_type). A PJSIP 486 reaches
# us as 0, like any other refusal; busy (5) and congestion (8) come from other techs.
_REASONS = {"0": "refused", "1": "hung up", "3": "no answer", "5": "busy", "8": "congestion"}


def speak(text: str, voice: str, target: Path) -> Path:
    """Synthesise `text` to `target` (a .wav), once; return it."""
    if target.exists():
        return target
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        # The text goes on stdin, never the command line: it is personal data.
        subprocess.run(
            ["espeak-ng", "-v", voice, "-w", str(raw), "--stdin"],
            input=text.encode("utf-8"),
            check=True,
            capture_output=True,
            timeout=60,
        )
        partial = target.with_name(f".{target.name}.tmp.wav")
        subprocess.run(
            ["sox", str(raw), *SOX_FORMAT, str(partial), "gain", "-n", "-3"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        os.chmod(partial, 0o600)
        partial.replace(target)
    return target


class PhoneCaller:
    def __init__(
        self,
        ami: AmiClient,
        settings: PhoneSettings,
        sounds_dir: Path,
        trunk: Callable[[], str | None],
    ) -> None:
        self._ami = ami
        self._settings = settings
        self._dir = sounds_dir / "outbox"
        self._trunk = trunk

    def audio_path(self, message: MessageRecord) -> Path:
        name = hashlib.sha256(message.key.encode("utf-8")).hexdigest()[:24]
        return self._dir / f"{name}.wav"

    async def send(self, message: MessageRecord) -> str:
        number = normalise_number(message.recipient)
        if not is_taiwan_callback_number(number):
            raise PermanentFailure(f"{mask_number(number)} is not a number the trunk may dial")
        trunk = self._settings.trunk or self._trunk()
        if trunk is None:
            raise TemporaryFailure("no outbound trunk: set directory.yaml's outbound_trunk")
        try:
            audio = await asyncio.to_thread(
                speak, message.body, self._settings.voice, self.audio_path(message)
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise TemporaryFailure(f"could not synthesise the message: {exc}") from exc
        played = str(audio.with_suffix(""))
        ring = self._settings.ring_s
        try:
            replies = await self._ami.action_list(
                {
                    "Action": "Originate",
                    "Channel": dialstring(Line(number, trunk)),
                    "Application": "Playback",
                    # Read twice: the first words are often lost to "hello?".
                    "Data": f"{played}&{played}",
                    "CallerID": f'"1999" <{self._settings.caller_id}>',
                    "Timeout": str(ring * 1000),
                    "Async": "true",
                },
                timeout=ring + 30,
            )
        except (AmiUnavailable, AmiActionFailed) as exc:
            raise TemporaryFailure(f"originate failed: {exc}") from exc
        outcome = replies[-1] if len(replies) > 1 else {}
        if outcome.get("Response", "").lower() == "success":
            log.info("phone_message_answered", to=mask_number(number), message=message.id)
            return f"answered on {trunk} ({outcome.get('Channel', '')})"
        reason = outcome.get("Reason", "")
        why = _REASONS.get(reason, "failed")
        raise TemporaryFailure(f"call not answered: {why} (reason {reason or '?'})")
