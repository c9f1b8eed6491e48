"""An `emergency` destination: advice to dial 110/119, and with a key, a connection."""

from __future__ import annotations

from ivr.adapters.fastagi.protocol import AGIHangup
from ivr.domain.menu import INTERDIGIT_S, Listen
from ivr.domain.vocabulary import CallOutcome, DialStatus
from ivr.flow.call import CONVERSATION_LIMIT_S, ONE_KEY_S, Call
from ivr.routing.menus import ToEmergency

# How long the emergency line rings before the caller is taken elsewhere.
RING_S = 60


async def emergency(call: Call, dest: ToEmergency) -> bool:
    """Give the advice, and connect if the caller asks; True once they were connected.

    False: the caller goes on to the menu's fallback (or hears no more).
    """
    digit: str | None = None
    if dest.connect_key:
        # One command plays the advice and waits for the key: none is lost between.
        call.steps.append("emergency")
        keyed = await call.read([dest.prompt], Listen(ONE_KEY_S, INTERDIGIT_S, 1))
        digit = keyed.entry or None
    else:
        await call.play(dest.prompt, "emergency")
    call.event("emergency_advice", key=digit)
    if digit is None or digit != dest.connect_key or not dest.number:
        return False
    dialstring = f"PJSIP/{dest.number}@{dest.trunk}" if dest.trunk else f"PJSIP/{dest.number}"
    await call.session.command(
        "EXEC", "Dial", f"{dialstring},{RING_S},g", timeout=RING_S + CONVERSATION_LIMIT_S
    )
    status = await call.session.get_variable("DIALSTATUS")
    call.event("emergency_dial", number=dest.number, dialstatus=status)
    if status == DialStatus.ANSWER:
        await call.finish(CallOutcome.TRANSFERRED)
        return True
    if status == DialStatus.CANCEL or call.session.hung_up:
        # The caller hung up while the emergency line rang: nobody to queue.
        call.steps.append("emergency_dial")
        raise AGIHangup("caller hung up while the emergency line rang")
    return False
