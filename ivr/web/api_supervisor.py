"""The supervisor's tools in the JSON API (issue 16): the service switches (disaster
mode, typhoon closures) and an agent's day, over the same services as their pages
(`ivr.service_switches` with `ivr.web.service_state`, `ivr.web.agent_days`).

Supervisors and admins switch; auditors may read; every other role gets 403 and no
data. Each switch is audited as the page audits it; a change carries the session's
CSRF token in X-CSRF-Token, as every change of the API does.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ivr import service_switches as switches
from ivr.domain.vocabulary import Role, ServiceAudit
from ivr.store.users import Session
from ivr.web import agent_days, auth, service_state
from ivr.web.api import _COMMON, NOT_BLANK, PREFIX, ApiError, Problem
from ivr.web.auth import console
from ivr.web.routes_service import SWITCHERS, audit_switch

api = APIRouter(prefix=PREFIX, tags=["supervisor"], responses=_COMMON)

Viewer = Annotated[Session, Depends(auth.role_in(*SWITCHERS, Role.AUDITOR))]
Switcher = Annotated[Session, Depends(auth.writer_in(*SWITCHERS))]

_REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the switch cannot be thrown as asked: why"},
}
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class ModeOut(BaseModel):
    active: bool
    changed_at: datetime
    changed_by: str
    note: str | None


class ClosureOut(BaseModel):
    day: date
    closed: bool
    reason: str | None
    closes_at: str | None = Field(description="HH:MM the day closes from; null: all day")
    changed_at: datetime
    changed_by: str
    note: str | None


class ServiceOut(BaseModel):
    disaster: bool
    modes: list[ModeOut] = Field(description="disaster switches, newest first")
    closed: list[ClosureOut] = Field(description="days closed from today on, soonest first")
    history: list[ClosureOut] = Field(description="recent closures and openings, newest first")


class DisasterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool
    note: str = Field(default="", max_length=switches.MAX_NOTE)


class ClosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    reason: str = Field(min_length=1, max_length=switches.MAX_REASON, pattern=NOT_BLANK)
    closes_at: str | None = Field(default=None, pattern=HHMM, description="HH:MM; null: all day")
    note: str = Field(default="", max_length=switches.MAX_NOTE)


class OpeningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    note: str = Field(default="", max_length=switches.MAX_NOTE)


class OpenedOut(BaseModel):
    day: date
    opened: bool = Field(description="false: the day was not closed, and nothing was written")


def _closure(c: Any) -> ClosureOut:
    return ClosureOut(
        day=c.day,
        closed=c.closed,
        reason=c.reason,
        closes_at=None if c.closes_at is None else f"{c.closes_at:%H:%M}",
        changed_at=c.changed_at,
        changed_by=c.changed_by,
        note=c.note,
    )


async def _state(request: Request) -> ServiceOut:
    state = await service_state.read(console(request))
    return ServiceOut(
        disaster=state.disaster,
        modes=[ModeOut.model_validate(m, from_attributes=True) for m in state.modes],
        closed=[_closure(c) for c in state.closed],
        history=[_closure(c) for c in state.history],
    )


@api.get("/supervisor/service", response_model=ServiceOut)
async def service_read(request: Request, session: Viewer) -> ServiceOut:
    """Disaster mode and the closed days, as the service page shows them."""
    return await _state(request)


@api.post("/supervisor/service/disaster", response_model=ServiceOut, responses=_REFUSED)
async def service_disaster(request: Request, session: Switcher, body: DisasterIn) -> ServiceOut:
    """Switch disaster mode on or off (audited); the next call follows it."""
    ctx = console(request)
    try:
        await switches.set_disaster(
            ctx.store, active=body.active, at=ctx.clock(), by=session.user.username, note=body.note
        )
    except switches.SwitchRefused as exc:
        raise ApiError(400, str(exc)) from exc
    state = "on" if body.active else "off"
    await audit_switch(request, session, ServiceAudit.DISASTER_MODE, "mode:disaster", state)
    return await _state(request)


@api.post("/supervisor/service/closures", response_model=ServiceOut, responses=_REFUSED)
async def service_close(request: Request, session: Switcher, body: ClosureIn) -> ServiceOut:
    """Declare a day closed (a typhoon day), all day or from `closes_at` (audited)."""
    ctx = console(request)
    start = None
    if body.closes_at is not None:
        hours, minutes = body.closes_at.split(":")
        start = time(int(hours), int(minutes))
    try:
        await switches.close_day(
            ctx.store,
            body.day,
            reason=body.reason,
            closes_at=start,
            at=ctx.clock(),
            by=session.user.username,
            note=body.note,
        )
    except switches.SwitchRefused as exc:
        raise ApiError(400, str(exc)) from exc
    span = "all day" if start is None else f"from {start:%H:%M}"
    detail = f"closed {span}: {body.reason.strip()}"
    await audit_switch(request, session, ServiceAudit.CLOSURE, f"day:{body.day}", detail)
    return await _state(request)


@api.post("/supervisor/service/openings", response_model=OpenedOut, responses=_REFUSED)
async def service_open(request: Request, session: Switcher, body: OpeningIn) -> OpenedOut:
    """Lift a day's closure (audited); `opened` is false when it was not closed."""
    ctx = console(request)
    try:
        opened = await switches.open_day(
            ctx.store, body.day, at=ctx.clock(), by=session.user.username, note=body.note
        )
    except switches.SwitchRefused as exc:
        raise ApiError(400, str(exc)) from exc
    if opened:
        await audit_switch(
            request, session, ServiceAudit.CLOSURE, f"day:{body.day}", "opened again"
        )
    return OpenedOut(day=body.day, opened=opened)


class DayEntryOut(BaseModel):
    at: datetime
    kind: str = Field(description="state (what: the state) or call (what: the queue)")
    what: str
    reason: str | None
    talk_s: float | None
    hold_s: float | None


class DayTotalsOut(BaseModel):
    signed_in_s: float
    paused_s: float
    paused_by_reason: dict[str, float] = Field(description='"" when no reason was given')
    calls: int
    talk_s: float


class AgentDayOut(BaseModel):
    agent_id: str
    name: str
    day: date
    entries: list[DayEntryOut]
    totals: DayTotalsOut


_NO_AGENT: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "a day out of the range a day can be read for"},
    404: {"model": Problem, "description": "no such agent in the tables"},
}


@api.get("/supervisor/agent-day", response_model=AgentDayOut, responses=_NO_AGENT)
async def agent_day_read(
    request: Request,
    session: Viewer,
    agent: Annotated[str, Query(min_length=1, max_length=32)],
    day: Annotated[date | None, Query(description="office date; today if left out")] = None,
) -> AgentDayOut:
    """One agent's state changes and answered calls on one office date (audited)."""
    ctx = console(request)
    try:
        found = await agent_days.read(
            ctx, session.user.username, agent, day or agent_days.today(ctx)
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    if found is None:
        raise ApiError(404, "no such agent in the tables")
    return AgentDayOut(
        agent_id=found.agent_id,
        name=found.name,
        day=found.day,
        entries=[DayEntryOut.model_validate(e, from_attributes=True) for e in found.entries],
        totals=DayTotalsOut.model_validate(found.totals, from_attributes=True),
    )
