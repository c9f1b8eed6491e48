"""Who answered a caller's Queue()/Dial(): the HotlineConnected UserEvent, read as AMI
delivers it, resolves only that caller's wait (ivr.adapters.conversation)."""

from __future__ import annotations

import asyncio

from ivr import dialplan_vars as dv
from ivr.adapters.ari import AriClient
from ivr.adapters.conversation import ConversationControl


def _event(caller: str, peer: str, name: str = dv.CONNECTED_EVENT) -> dict[str, str]:
    return {"Event": "UserEvent", "UserEvent": name, "Caller": caller, "Peer": peer}


async def test_the_answering_leg_is_handed_to_its_caller_only() -> None:
    # No request is made: the client is only where snoops would go.
    control = ConversationControl(AriClient("http://127.0.0.1:9/ari", "u", "p", "app"))
    with control.expecting("caller-1") as first, control.expecting("caller-2") as second:
        await control.on_ami(_event("caller-9", "agent-9"))
        await control.on_ami(_event("caller-1", "agent-1", name="HotlineCallback"))
        assert not first.done()
        await control.on_ami(_event("caller-1", "agent-1"))
        # A second answer on the same wait (a retried event) changes nothing.
        await control.on_ami(_event("caller-1", "agent-x"))
        assert await asyncio.wait_for(first, 1) == "agent-1"
        assert not second.done()
    # Once the command returned, a late event has nothing to resolve and is dropped.
    await control.on_ami(_event("caller-2", "agent-2"))
    assert not second.done()
