"""The menus: each menu is one read of the caller's whole entry, decided in the domain.

A menu leads to another menu (or sets the caller's language and then leads on) until
the caller's choice is a destination; `ivr.flow.destinations` takes it from there.
"""

from __future__ import annotations

from typing import Any

from ivr.domain.menu import Decision, Dialled, Menu, Retry, decide, listen, start
from ivr.flow.call import Call
from ivr.routing.menus import Destination, ToExtension, ToLanguage, ToMenu


async def menus(
    call: Call, lead: tuple[str, ...], first: str | None = None
) -> tuple[Destination, Menu[Destination]]:
    """Each menu is one read: `lead` (greeting, retry notice) and the menu's prompt,
    then the caller's whole entry; see ivr.adapters.agi.keys. The caller starts at
    `first`, or at the table's entry."""
    view = call.view
    state = start(view.menus, first)
    keyable = view.extensions.keys()
    while True:
        menu = view.menus.menus[state.menu]
        prompts = (*lead, menu.prompt)
        call.steps.append("greeting" if view.greeting in lead else f"menu:{state.menu}")
        keyed = await call.read(prompts, listen(menu, keyable))
        entry = keyed.entry
        decision = decide(menu, state, entry, keyable)
        call.event(
            "menu",
            menu=state.menu,
            entry=entry,
            timed_out=keyed.timed_out,
            tries=state.tries,
            decision=describe(decision),
            prompts=list(prompts),
        )
        if isinstance(decision, Retry):
            lead = (decision.prompt,)
            state = decision.state
            continue
        lead = ()
        dest = destination_of(decision)
        if isinstance(dest, ToMenu):
            state = start(view.menus, dest.menu)
        elif isinstance(dest, ToLanguage):
            call.language = dest.language
            await call.session.set_variable("CHANNEL(language)", dest.language)
            call.event("language", language=dest.language)
            state = start(view.menus, dest.then)
        else:
            return dest, menu


def destination_of(decision: Decision[Destination]) -> Destination:
    """Where a decision to leave the menu leads; a keyed extension is a transfer."""
    if isinstance(decision, Retry):
        raise TypeError("a retry leads nowhere")
    if isinstance(decision, Dialled):
        return ToExtension(type="extension", extension=decision.extension)
    return decision.destination


def describe(decision: Decision[Destination]) -> dict[str, Any]:
    """The decision as the call's timeline records it."""
    if isinstance(decision, Retry):
        return {"retry": decision.cause}
    return {"go": destination_of(decision).model_dump(), "reason": decision.reason.value}
