"""The agent's page: state, screen pop (live, over SSE, into an ARIA live region), wrap-up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import RedirectResponse, Response

from ivr.domain.vocabulary import PAUSE_REASON_DIGITS, PauseReason, Role
from ivr.store import audit
from ivr.store.users import Session
from ivr.web import agents, auth, call_actions, lookup, streams, threeway_news, wrapup
from ivr.web.agents import AgentAction, AgentError
from ivr.web.auth import console
from ivr.web.hub import Message
from ivr.web.i18n import Translate, reason_text, translator
from ivr.web.pages import fragment, render

router = APIRouter(include_in_schema=False)

# Seconds between SSE comments that keep proxies from closing an idle stream.
PING_S = 15
# The phone's reasons, in the order of their digits after *47 (the agents' card).
PAUSE_REASONS = [(reason, digit) for digit, reason in sorted(PAUSE_REASON_DIGITS.items())]


class ServiceType(StrEnum):
    """What the call was about, logged at wrap-up."""

    INQUIRY = "inquiry"
    PETITION = "petition"
    DISPATCH = "dispatch"
    TRANSFER = "transfer"
    OTHER = "other"


Agent = Annotated[Session, Depends(auth.role_in(Role.AGENT))]
AgentWriter = Annotated[Session, Depends(auth.writer_in(Role.AGENT))]


def state_text(t: Translate, view: agents.AgentView) -> str:
    if view.state == "ready":
        return t("state_ready")
    if view.state == "paused":
        return t("state_paused", reason=reason_text(t, view.reason))
    return t("state_logged_out")


def pop_summary(t: Translate, pop: dict[str, Any] | None) -> str:
    if not pop:
        return ""
    event = {"ringing": "ringing", "answered": "answered"}.get(pop["phase"], "wrap_up_h")
    return t(
        "pop_summary",
        event=t(event),
        number=pop["number"],
        language=pop["language"],
        calls=pop["calls_90_days"],
        tickets=len(pop["open_tickets"]),
        blocked=t("blocked_note") if pop["blocked"] else "",
    )


async def _audit_pop(request: Request, session: Session, pop: dict[str, Any]) -> None:
    ctx = console(request)
    await audit.record(
        ctx.store,
        at=ctx.clock(),
        who=session.user.username,
        action="view",
        subject=f"call:{pop['uniqueid']}",
        detail=f"screen pop ({pop['phase']}), number masked",
    )


@router.get("/agent")
async def agent_page(request: Request, session: Agent, q: str = "") -> Response:
    t = translator(session.user.language)
    key = request.query_params.get("error")
    errors = [t(key)] if key in ("phone_down", "no_agent") else None
    return await show(request, session, q=q, errors=errors)


async def show(
    request: Request,
    session: Session,
    *,
    q: str = "",
    errors: list[str] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The agent's page; the call actions' routes answer with it (and what they did)."""
    ctx = console(request)
    t = translator(session.user.language)
    try:
        view = await agents.view(ctx, session.user.agent_id)
    except AgentError as exc:
        return render(request, "agent.html", session, agent=None, errors=[t(exc.key)])
    pop = ctx.hub.last_pop.get(view.agent_id)
    if pop:
        await _audit_pop(request, session, pop)
    return render(
        request,
        "agent.html",
        session,
        status_code=status_code,
        agent=view,
        state_text=state_text(t, view),
        reasons=PAUSE_REASONS,
        pop=pop,
        pop_summary=pop_summary(t, pop),
        service_types=list(ServiceType),
        errors=errors,
        q=q[: lookup.MAX_QUERY],
        found=lookup.directory(ctx, q),
        referrals_found=lookup.referrals(ctx, q) if q.strip() else [],
        referrals=lookup.referrals(ctx),
        **{**call_actions.form_context(ctx), **extra},
    )


@router.post("/agent/state")
async def change_state(
    request: Request,
    session: AgentWriter,
    action: Annotated[AgentAction, Form()],
    reason: Annotated[PauseReason | None, Form()] = None,
) -> Response:
    try:
        await agents.change(console(request), session.user.agent_id, action, reason)
    except AgentError as exc:
        return RedirectResponse(f"/agent?error={exc.key}", status_code=303)
    return RedirectResponse("/agent", status_code=303)


@router.post("/agent/wrapup")
async def wrap_up(
    request: Request,
    session: AgentWriter,
    uniqueid: Annotated[str, Form(max_length=64)],
    service_type: Annotated[ServiceType, Form()],
) -> Response:
    ctx = console(request)
    agent_id = session.user.agent_id or ""
    call = await ctx.store.get_call_by_uniqueid(uniqueid)
    if call is not None:
        await ctx.store.add_event(
            call.id,
            at=ctx.clock(),
            kind="wrapup",
            data={"service_type": str(service_type), "agent": agent_id},
        )
    pop = ctx.hub.last_pop.get(agent_id)
    if pop is not None and pop.get("uniqueid") == uniqueid:
        del ctx.hub.last_pop[agent_id]
    # The queue held the agent for this call's form: the next call may come now.
    await wrapup.release(ctx, agent_id, uniqueid)
    return RedirectResponse("/agent", status_code=303)


@router.get("/agent/events")
async def agent_events(
    request: Request, session: Agent, seen: Annotated[str, Query(max_length=200)] = ""
) -> EventSourceResponse:
    """Server-sent events for the agent's page: `pop`, `state` and `threeway` (how the
    emergency three-way call goes), as escaped HTML/text.

    `seen` is the call and phase the page was rendered with ("uniqueid:phase"): a pop
    that moved on between the render and this stream (the call ended while the page
    loaded) is sent at once, or the page would wait for an event already gone.
    """
    ctx = console(request)
    agent_id = session.user.agent_id or ""
    t = translator(session.user.language)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async with ctx.hub.subscribe(agent_id) as queue:
            now = ctx.hub.last_pop.get(agent_id)
            if now is not None and f"{now.get('uniqueid', '')}:{now.get('phase', '')}" != seen:
                queue.put_nowait(Message("pop", now))
            if now is not None and now.get(threeway_news.NEWS):
                # Told between the render and this stream: the page sets it only if new.
                queue.put_nowait(Message(threeway_news.EVENT, now[threeway_news.NEWS]))
            async for message in streams.until_session_ends(request, ctx, queue):
                if message.event == "pop":
                    await _audit_pop(request, session, message.data)
                    values = {
                        "pop": message.data,
                        "service_types": list(ServiceType),
                        **call_actions.form_context(ctx),
                    }
                    data = {
                        "summary": pop_summary(t, message.data),
                        "html": fragment(request, "_pop.html", session, **values),
                        # The page swaps the call's forms only for a new call, so what
                        # the agent is typing survives the call's next phase.
                        "uniqueid": message.data.get("uniqueid", ""),
                        "actions": fragment(request, "_call_actions.html", session, **values),
                    }
                elif message.event == threeway_news.EVENT:
                    data = {"text": threeway_news.text(t, message.data)}
                else:
                    shown = agents.AgentView(agent_id, "", (), **message.data)
                    text = t("state_changed", state=state_text(t, shown))
                    data = {"text": text}
                yield ServerSentEvent(data=json.dumps(data), event=message.event)
        # The page stops listening (no reconnect) and says so in its live region.
        ended = {"text": t("session_ended"), "link": t("signin_again"), "href": "/signin"}
        yield ServerSentEvent(data=json.dumps(ended), event="ended")

    return EventSourceResponse(stream(), ping=PING_S)
