"""`AGI(agi://…/hotline)`: the first thing every 1999 call meets in the engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from ivr import dialplan_vars as dv
from ivr.adapters.calls import CallTracker
from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.adapters.fastagi.server import AGISession
from ivr.domain.clock import Clock
from ivr.prompts import prompt_path

log = structlog.get_logger()

DEFAULT_LANGUAGE = "zh-TW"
# Call outcomes as the case store records them.
OUTCOME_QUEUED = "queued"
OUTCOME_ABANDONED = "abandoned"


@dataclass(frozen=True)
class HotlineScript:
    """Records the call, plays the greeting, and tells the dialplan where to go next."""

    tracker: CallTracker
    clock: Clock
    sounds_dir: Path

    async def __call__(self, session: AGISession) -> None:
        req = session.request
        linkedid = await session.get_variable("CHANNEL(linkedid)") or req.uniqueid
        structlog.contextvars.bind_contextvars(linkedid=linkedid)
        call_id = await self.tracker.started(
            uniqueid=req.uniqueid,
            linkedid=linkedid,
            channel=req.channel,
            caller_number=_known(req.callerid),
            caller_name=_known(req.calleridname),
            dnid=_known(req.dnid) or req.extension,
            at=self.clock(),
        )
        structlog.contextvars.bind_contextvars(call_id=call_id)
        await session.set_variable(dv.CALL_ID, str(call_id))
        await self.tracker.event(call_id, "agi_start", self.clock(), {"script": req.script})

        try:
            await self._greet_and_route(session, call_id)
        except AGIHangup:
            await self.tracker.event(call_id, "caller_left", self.clock(), {"during": "ivr"})
            await self.tracker.outcome(req.uniqueid, OUTCOME_ABANDONED)
            raise

    async def _greet_and_route(self, session: AGISession, call_id: int) -> None:
        greeting = prompt_path(self.sounds_dir, DEFAULT_LANGUAGE, "greeting")
        reply = await session.stream_file(str(greeting))
        await self.tracker.event(
            call_id,
            "greeting_played",
            self.clock(),
            {
                "prompt": "greeting",
                "language": DEFAULT_LANGUAGE,
                "endpos": reply.endpos,
                "result": reply.result,
            },
        )
        if reply.result == "-1":
            if session.hung_up or reply.endpos:
                # Streaming stopped part-way: the caller hung up (Asterisk may send its
                # HANGUP line only later, and still accepts SET VARIABLE on a dead channel).
                raise AGIHangup("caller hung up during the greeting")
            # -1 with nothing played is a missing prompt, not a hangup: keep going,
            # a caller must never be stuck because a sound file is absent.
            log.warning("prompt_missing", prompt=str(greeting))
        await session.set_variable(dv.NEXT, dv.NEXT_QUEUE)
        await self.tracker.event(call_id, "route", self.clock(), {"next": dv.NEXT_QUEUE})
        await self.tracker.outcome(session.request.uniqueid, OUTCOME_QUEUED)
        log.info("hotline_routed", next=dv.NEXT_QUEUE)


def _known(value: str) -> str | None:
    # Asterisk sends "unknown" when a caller id field is absent.
    return None if value in {"", "unknown"} else value


HOTLINE_SCRIPT_NAME = "hotline"
