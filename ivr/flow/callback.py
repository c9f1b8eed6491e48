"""The number an officer calls back: the caller id if the caller confirms it, else keyed."""

from __future__ import annotations

from ivr.domain.menu import INTERDIGIT_S, Listen
from ivr.domain.screening import callback_number, is_taiwan_callback_number, normalise_number
from ivr.flow.call import ONE_KEY_S, Call

CONFIRM_TRIES = 3
NUMBER_IS = "callback-number-is"
CONFIRM = "callback-number-confirm"
ENTER = "callback-number-enter"
INVALID = "callback-number-invalid"


async def callback_number_of(call: Call) -> str:
    """The caller id if the caller confirms it, else a keyed Taiwan number."""
    session = call.session
    candidate = normalise_number(call.caller or "")
    for _ in range(CONFIRM_TRIES):
        if candidate and is_taiwan_callback_number(candidate):
            # The number and the question are one read: a key pressed while the
            # number is read out, or as the question ends, is the caller's answer.
            call.steps.append("callback")
            readout = [NUMBER_IS, *(f"digit-{d}" for d in candidate if d.isdigit()), CONFIRM]
            answer = await call.read(readout, Listen(ONE_KEY_S, INTERDIGIT_S, 1))
            key = answer.digits
            call.event("callback_confirm", number=candidate, key=key)
            if key in {"1", ""}:
                # Silence keeps the number we read out: the caller heard it.
                return candidate
        keyed, _ = await session.get_data(call.prompt(ENTER), 8000, 12)
        call.event("callback_keyed", valid=is_taiwan_callback_number(keyed))
        if is_taiwan_callback_number(keyed):
            candidate = normalise_number(keyed)
            continue
        await call.play(INVALID, "callback")
        candidate = normalise_number(call.caller or "")
    # The caller id was refused or never confirmed: only a Taiwan number is kept.
    return callback_number(candidate)
