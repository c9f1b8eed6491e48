"""An `announcement` destination: play a prompt, then the dialplan hangs up."""

from __future__ import annotations

from ivr.domain.vocabulary import CallOutcome
from ivr.flow.call import Call
from ivr.routing.menus import ToAnnouncement


async def announcement(call: Call, dest: ToAnnouncement) -> None:
    await call.play(dest.prompt, "announcement")
    await call.finish(CallOutcome.ANNOUNCED)
