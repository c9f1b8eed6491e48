"""An agent's day for supervisors (issue 16): one agent's state changes (sign-in,
pauses with reasons, ready, sign-out) and the calls they answered on one local date,
from the store, with the day's totals (`ivr.domain.agent_day`). Reading it is audited.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ivr.domain.agent_day import agent_day
from ivr.domain.vocabulary import Role
from ivr.store import audit
from ivr.store.agent_day_reads import AgentDayReads
from ivr.store.users import Session
from ivr.web import auth
from ivr.web.auth import console
from ivr.web.pages import render
from ivr.web.service_words import service_translator

router = APIRouter(include_in_schema=False)
PAGE = "/supervisor/agent-day"
Watcher = Annotated[Session, Depends(auth.role_in(Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR))]


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@router.get(PAGE)
async def agent_day_page(
    request: Request,
    session: Watcher,
    agent: Annotated[str, Query(max_length=32)] = "",
    day: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    ctx = console(request)
    s = service_translator(session.user.language)
    tz = ctx.routing_view().office.tz
    now = ctx.clock()
    agents = [(a.id, a.name) for a in ctx.tables().agents.agents]
    try:
        when = date.fromisoformat(day) if day else now.astimezone(tz).date()
    except ValueError:
        when = None
    values: dict[str, Any] = {
        "s": s,
        "agents": agents,
        "agent": agent,
        "day": day or "",
        "hms": _hms,
    }
    if when is None:
        return render(
            request, "agent_day.html", session, status_code=422, errors=[s("bad_day")], **values
        )
    values["day"] = when.isoformat()
    if agent not in dict(agents):
        return render(request, "agent_day.html", session, shown=False, **values)
    start = datetime.combine(when, time(0), tz)
    end = datetime.combine(when + timedelta(days=1), time(0), tz)
    reads = AgentDayReads.of(ctx.store)
    states = await reads.states(agent, start, end)
    calls = await reads.answered(agent, start, end)
    entries, totals = agent_day(states, calls, start, end, now)
    await audit.record(
        ctx.store,
        at=now,
        who=session.user.username,
        action="view",
        subject=f"agent-day:{agent}",
        detail=f"{when}: {len(entries)} entries",
    )
    return render(
        request,
        "agent_day.html",
        session,
        shown=True,
        name=dict(agents)[agent],
        entries=entries,
        totals=totals,
        **values,
    )
