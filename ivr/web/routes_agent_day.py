"""An agent's day for supervisors (issue 16): one agent's state changes (sign-in,
pauses with reasons, ready, sign-out) and the calls they answered on one local date,
from the store, with the day's totals (`ivr.web.agent_days`, which the JSON API also
reads through). Reading it is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ivr.domain.vocabulary import Role
from ivr.store.users import Session
from ivr.web import agent_days, auth
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
    agents = agent_days.agents(ctx)
    try:
        when = date.fromisoformat(day) if day else agent_days.today(ctx)
    except ValueError:
        when = None
    if when is not None and not agent_days.FIRST_DAY <= when <= agent_days.LAST_DAY:
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
    found = await agent_days.read(ctx, session.user.username, agent, when)
    if found is None:
        return render(request, "agent_day.html", session, shown=False, **values)
    return render(
        request,
        "agent_day.html",
        session,
        shown=True,
        name=found.name,
        entries=found.entries,
        totals=found.totals,
        **values,
    )
