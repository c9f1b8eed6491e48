"""The engine's hands on a conversation Asterisk bridged: who answered, a prompt to one
side only, ending the other side. Used by the call cap (ivr/flow/call_cap.py).

Queue() has no time limit of its own (Dial's L() has no counterpart there), so the
engine keeps the time: the dialplan's [hotline-conversation] sends a HotlineConnected
UserEvent over AMI from the answering channel, and prompts reach one leg through an
ARI snoop channel that whispers into that leg alone ("out": the person on that leg
hears it, the other does not). docs/decisions/0004-call-cap.md says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import httpx
import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.ari import AriClient, AriError, AriEvent, PlaybackFinished, StasisStart

log = structlog.get_logger()

# A snoop channel enters our Stasis application at once; more than this is a fault.
SNOOP_START_S = 5.0


class ConversationControl:
    def __init__(self, ari: AriClient) -> None:
        self._ari = ari
        self._connected: dict[str, asyncio.Future[str]] = {}
        self._snoops: dict[str, asyncio.Event] = {}
        self._playbacks: dict[str, asyncio.Future[str]] = {}
        ari.subscribe(self._on_ari)

    async def on_ami(self, event: Mapping[str, str]) -> None:
        """AMI UserEvent handler: HotlineConnected names the leg that answered."""
        if event.get("UserEvent") != dv.CONNECTED_EVENT:
            return
        waiting = self._connected.get(event.get("Caller", ""))
        peer = event.get("Peer", "")
        if waiting is not None and not waiting.done() and peer:
            waiting.set_result(peer)

    @contextlib.contextmanager
    def expecting(self, caller: str) -> Iterator[asyncio.Future[str]]:
        """A future of the uniqueid of whoever answers `caller`'s next Queue() or Dial()."""
        waiting: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._connected[caller] = waiting
        try:
            yield waiting
        finally:
            if self._connected.get(caller) is waiting:
                del self._connected[caller]

    async def _on_ari(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart) and event.channel.id in self._snoops:
            self._snoops[event.channel.id].set()
        elif isinstance(event, PlaybackFinished):
            done = self._playbacks.get(event.playback_id)
            if done is not None and not done.done():
                done.set_result(event.state)

    async def whisper(self, channel: str, files: Sequence[Path], timeout_s: float) -> str:
        """Play `files` to the person on `channel` alone; "done", or why not.

        Never raises for Asterisk's sake: a leg that hung up meanwhile, or ARI down,
        is an answer ("gone", "unavailable"), and the conversation goes on regardless.
        """
        snoop = f"cap-{uuid.uuid4().hex}"
        playback = f"cap-{uuid.uuid4().hex}"
        started = self._snoops[snoop] = asyncio.Event()
        finished: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._playbacks[playback] = finished
        try:
            await self._ari._request(  # the client is at its size limit; its transport
                "POST",
                f"/channels/{quote(channel, safe='')}/snoop/{snoop}",
                params={"whisper": "out", "spy": "none", "app": self._ari.app},
            )
            async with asyncio.timeout(SNOOP_START_S):
                await started.wait()
            await self._ari._request(
                "POST",
                f"/channels/{snoop}/play/{playback}",
                params=httpx.QueryParams([("media", f"sound:{f}") for f in files]),
            )
            async with asyncio.timeout(timeout_s):
                return await finished
        except AriError as exc:
            log.warning("cap_whisper_failed", channel=channel, error=str(exc))
            return "gone" if exc.status == 404 else "unavailable"
        except TimeoutError:
            log.warning("cap_whisper_timeout", channel=channel)
            return "timeout"
        finally:
            self._snoops.pop(snoop, None)
            self._playbacks.pop(playback, None)
            with contextlib.suppress(AriError):
                await self._ari.hangup(snoop)

    async def hang_up(self, channel: str) -> bool:
        """End one leg; False if it was already gone (or ARI is down)."""
        try:
            await self._ari.hangup(channel)
        except AriError as exc:
            log.info("cap_hangup_failed", channel=channel, error=str(exc))
            return False
        return True
