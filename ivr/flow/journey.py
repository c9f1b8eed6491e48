"""A citizen's whole IVR journey: screening, service hours, menus, then the destination."""

from __future__ import annotations

from ivr.domain.calendar import compute_service_state
from ivr.domain.vocabulary import CallOutcome
from ivr.flow.call import Call
from ivr.flow.destinations import destination
from ivr.flow.menu import menus
from ivr.flow.screening import screened_out
from ivr.flow.video import video_call, video_formats


async def journey(call: Call, disaster: bool) -> None:
    view = call.view
    now = call.now()
    if await screened_out(call, now):
        return
    # A video caller may not hear: no greeting, hours notice or menu decides for them;
    # the sign-language queue's agents are their service (its empty queue a callback).
    if formats := await video_formats(call):
        await video_call(call, formats)
        return
    hours = await call.services.service_hours(view, now)
    state = compute_service_state(hours, now, disaster=disaster)
    call.event(
        "service_state",
        open=state.open,
        reason=state.reason,
        next_open=state.next_open.isoformat() if state.next_open else None,
    )
    # When the menu follows at once, the greeting opens its first read: a caller
    # who knows the menu may key during it (barge-in), and a key pressed as it ends
    # is not lost between two commands. A notice that must be heard plays whole.
    greeting: tuple[str, ...] = (view.greeting,)
    if (state.disaster and view.disaster_prompt) or not state.open:
        await call.play(view.greeting, "greeting")
        greeting = ()
    if state.disaster and view.disaster_prompt:
        await call.play(view.disaster_prompt, "disaster")
    if not state.open:
        if view.closed is None:
            # A table without a closed destination is refused by the loader; if
            # it happens anyway, a person is the safe answer.
            await call.finish(CallOutcome.CLOSED_UNHANDLED)
            return
        await destination(call, view.closed, fallback=None)
        return
    chosen, menu = await menus(call, greeting)
    await destination(call, chosen, fallback=menu.on_exhausted)
