"""The screen pop: from the queue's AMI events to what the agent's page shows.

AgentCalled (the agent's phone rings), AgentConnect (answered) and AgentComplete
(the call ended, wrap-up begins) name the agent by MemberName, which the queues set to
the agent's id (the feature codes and the console both add members that way). The
caller is looked up in the store: masked number, the language and menu path of this
call, their calls of the last 90 days, open tickets, and whether they are blocked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from ivr.adapters.ami import AmiEvent
from ivr.domain.masking import mask_number
from ivr.domain.screening import blocked_by
from ivr.store import console as reads
from ivr.store.case_reads import CaseReader
from ivr.web import threeway_news, wrapup
from ivr.web.context import Console
from ivr.web.hub import Message

log = structlog.get_logger()

POP_EVENTS = ("AgentCalled", "AgentConnect", "AgentComplete")
HISTORY = timedelta(days=90)
_PHASES = {"AgentCalled": "ringing", "AgentConnect": "answered", "AgentComplete": "wrap_up"}
_ORDER = {"ringing": 0, "answered": 1, "wrap_up": 2}
# What the page added to a call's pop (its cases, its transfer, its wrap-up hold, its
# three-way call): a later phase of the same call keeps it.
_KEPT = ("cases", "transferred", "wrapup_form", "threeway", threeway_news.NEWS)


@dataclass(frozen=True)
class TicketLine:
    number: str
    status: str
    due_at: str
    agency_id: str


@dataclass(frozen=True)
class Pop:
    """What a screen pop shows; never a number in clear."""

    uniqueid: str
    queue: str
    phase: str
    number: str
    language: str
    menu_path: tuple[str, ...]
    calls_90_days: int
    open_tickets: tuple[TicketLine, ...]
    blocked: str | None
    # The cases linked to this call in the store (number and state): opened from it on
    # the agent's page, or an open order its report merged into.
    cases: tuple[dict[str, Any], ...] = field(default=())
    # The call's id in the store (None: the engine has not recorded it).
    call_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["menu_path"] = list(self.menu_path)
        data["open_tickets"] = [asdict(t) for t in self.open_tickets]
        data["cases"] = list(self.cases)
        return data


async def build(ctx: Console, event: AmiEvent, phase: str) -> Pop:
    number = event.get("CallerIDNum", "") or ""
    uniqueid = event.get("Uniqueid", "") or ""
    call = await ctx.store.get_call_by_uniqueid(uniqueid) if uniqueid else None
    if call is None and event.get("Linkedid"):
        call = await ctx.store.get_call_by_uniqueid(event["Linkedid"])
    language = ""
    path: list[str] = []
    for ev in call.events if call else ():
        if ev.kind == "language":
            language = str(ev.data.get("language", ""))
        elif ev.kind == "queue_enter" and not language:
            language = str(ev.data.get("language", "") or "")
        elif ev.kind == "menu" and ev.data.get("entry"):
            path.append(f"{ev.data.get('menu')} {ev.data.get('entry')}")
    now = ctx.clock()
    count, _ = await reads.calls_of_number(ctx.store, number, since=now - HISTORY, limit=1)
    tickets = await reads.open_tickets_of_number(ctx.store, number) if number else []
    view = ctx.routing_view()
    rule = blocked_by(view.blocklist, number, now, tz=view.office.tz) if number else None
    return Pop(
        # The call's own id where the store knows it (the event may name a local leg),
        # so the page's actions (a case, a transfer) find the call by it.
        uniqueid=call.uniqueid if call is not None else uniqueid,
        call_id=call.id if call is not None else None,
        queue=event.get("Queue", ""),
        phase=phase,
        number=mask_number(number) or "-",
        language=language or "-",
        menu_path=tuple(path),
        calls_90_days=count,
        open_tickets=tuple(
            TicketLine(t.number, t.status, t.due_at.isoformat(), t.agency_id) for t in tickets
        ),
        blocked=(rule.reason or rule.pattern) if rule is not None else None,
        cases=tuple(await cases_of_call(ctx, call.id)) if call is not None else (),
    )


async def cases_of_call(ctx: Console, call_id: int) -> list[dict[str, Any]]:
    """The "Cases" row: the cases linked to this call in the store, and no others."""
    book = CaseReader.of(ctx.store, ctx.tables().profile.name)
    return [{"number": n, "status": s} for n, s in await book.cases_of_call(call_id)]


def agent_of(ctx: Console, event: AmiEvent) -> str | None:
    """The agent an AMI queue event is about: its MemberName, else its interface."""
    tables = ctx.tables()
    ids = {a.id for a in tables.agents.agents}
    member = event.get("MemberName", "")
    if member in ids:
        return member
    interface = event.get("Interface", "") or event.get("DestChannel", "")
    extension = interface.removeprefix("PJSIP/").split("-", 1)[0]
    for agent in tables.agents.agents:
        if agent.extension == extension:
            return agent.id
    return None


async def on_queue_event(ctx: Console, event: AmiEvent) -> None:
    """AMI handler: build the pop and send it to the agent's open pages."""
    name = event.get("Event", "")
    phase = _PHASES.get(name)
    agent = agent_of(ctx, event) if phase else None
    if phase is None or agent is None:
        return
    if phase == "wrap_up" and threeway_news.defer_wrapup(ctx.hub, agent):
        # The call was moved into the three-way bridge, not ended: the agent is still
        # on it, and the form comes when they leave it.
        return
    try:
        if phase == "wrap_up" and agent in ctx.hub.last_pop:
            pop = {**ctx.hub.last_pop[agent], "phase": phase}
        else:
            pop = (await build(ctx, event, phase)).to_json()
    except Exception:
        # A pop that cannot be built must never take the engine's AMI link with it.
        log.exception("screen_pop_failed", agent=agent, event_name=name)
        return
    previous = ctx.hub.last_pop.get(agent)
    if previous is not None and previous.get("uniqueid") == pop.get("uniqueid"):
        # Each event is handled in its own task: a ring whose lookup finished late
        # must not undo the answer (nor the answer, the end).
        if _ORDER.get(str(previous.get("phase")), 0) > _ORDER[phase]:
            return
        for key in _KEPT:
            if key in previous and not pop.get(key):
                pop[key] = previous[key]
    ctx.hub.last_pop[agent] = pop
    if phase == "answered":
        # Before the pop is shown: the page then offers the form the hold needs.
        try:
            await wrapup.hold(ctx, agent, pop)
        except Exception:
            # As a pop: a hold that fails must not take the AMI link with it.
            log.exception("wrapup_hold_failed", agent=agent)
    ctx.hub.publish(agent, Message("pop", pop))
