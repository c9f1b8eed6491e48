"""The service page (issue 16): supervisors switch disaster mode and declare typhoon
days closed or open again, linked from the wallboard.

The switches are `ivr.service_switches`, the code of `ivr mode` and `ivr calendar`;
each one is also audited with who, when and the address it came from. Supervisors and
admins may switch; auditors may look; every other role gets 403. Forms carry the
session's CSRF token.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ivr import service_switches as switches
from ivr.domain.vocabulary import Role, ServiceAudit
from ivr.store import audit
from ivr.store.users import Session
from ivr.web import auth, service_state
from ivr.web.auth import console
from ivr.web.pages import render
from ivr.web.service_words import service_translator

router = APIRouter(include_in_schema=False)
PAGE = "/supervisor/service"
SWITCHERS = (Role.SUPERVISOR, Role.ADMIN)
Viewer = Annotated[Session, Depends(auth.role_in(*SWITCHERS, Role.AUDITOR))]
Switcher = Annotated[Session, Depends(auth.writer_in(*SWITCHERS))]
Note = Annotated[str, Form(max_length=switches.MAX_NOTE)]


async def _page(
    request: Request,
    session: Session,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    ctx = console(request)
    s = service_translator(session.user.language)
    state = await service_state.read(ctx)
    notice = None
    done = request.query_params.get("done", "")
    if done in ("disaster_on", "disaster_off"):
        notice = s(f"done_{done}")
    elif done in ("closed", "opened", "not_closed"):
        day = _day(request.query_params.get("day", ""))
        notice = s(done if done == "not_closed" else f"done_{done}", day=day) if day else None
    values: dict[str, Any] = {
        "s": s,
        "disaster": state.disaster,
        "modes": state.modes,
        "closed": state.closed,
        "closure_history": state.history,
        "may_switch": session.user.role in SWITCHERS,
        "typed": typed or {},
        "notice": notice,
    }
    return render(
        request, "service.html", session, status_code=status_code, errors=errors, **values
    )


def _day(text: str) -> date | None:
    try:
        return (
            date.fromisoformat(text.strip()) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
        )
    except ValueError:
        return None


def _time(text: str) -> time | None:
    m = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", text.strip())
    return time(int(m[1]), int(m[2])) if m else None


def _done(**query: str) -> Response:
    return RedirectResponse(f"{PAGE}?{urlencode(query)}", status_code=303)


async def audit_switch(
    request: Request, session: Session, action: ServiceAudit, subject: str, detail: str
) -> None:
    ctx = console(request)
    address = request.client.host if request.client else "?"
    await audit.record(
        ctx.store,
        at=ctx.clock(),
        who=session.user.username,
        action=action,
        subject=subject,
        detail=f"{detail}; from {address}",
    )


@router.get(PAGE)
async def service_page(request: Request, session: Viewer) -> Response:
    return await _page(request, session)


@router.post(f"{PAGE}/disaster")
async def switch_disaster(
    request: Request,
    session: Switcher,
    active: Annotated[bool, Form()],
    note: Note = "",
) -> Response:
    ctx = console(request)
    try:
        await switches.set_disaster(
            ctx.store, active=active, at=ctx.clock(), by=session.user.username, note=note
        )
    except switches.SwitchRefused as exc:
        return await _page(request, session, status_code=422, errors=[str(exc)])
    state = "on" if active else "off"
    await audit_switch(request, session, ServiceAudit.DISASTER_MODE, "mode:disaster", state)
    return _done(done=f"disaster_{state}")


@router.post(f"{PAGE}/close")
async def close_day(
    request: Request,
    session: Switcher,
    day: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=switches.MAX_REASON)],
    closes_at: Annotated[str, Form(max_length=5)] = "",
    note: Note = "",
) -> Response:
    ctx = console(request)
    s = service_translator(session.user.language)
    typed = {"day": day, "reason": reason, "closes_at": closes_at, "note": note}
    when = _day(day)
    start = _time(closes_at) if closes_at.strip() else None
    errors = [s("bad_day")] if when is None else []
    if closes_at.strip() and start is None:
        errors.append(s("bad_time"))
    if when is None or errors:
        return await _page(request, session, status_code=422, errors=errors, typed=typed)
    try:
        await switches.close_day(
            ctx.store,
            when,
            reason=reason,
            closes_at=start,
            at=ctx.clock(),
            by=session.user.username,
            note=note,
        )
    except switches.SwitchRefused as exc:
        return await _page(request, session, status_code=422, errors=[str(exc)], typed=typed)
    span = "all day" if start is None else f"from {start:%H:%M}"
    detail = f"closed {span}: {reason.strip()}"
    await audit_switch(request, session, ServiceAudit.CLOSURE, f"day:{when}", detail)
    return _done(done="closed", day=when.isoformat())


@router.post(f"{PAGE}/open")
async def open_day(
    request: Request,
    session: Switcher,
    day: Annotated[str, Form(max_length=10)],
    note: Note = "",
) -> Response:
    ctx = console(request)
    when = _day(day)
    if when is None:
        s = service_translator(session.user.language)
        return await _page(request, session, status_code=422, errors=[s("bad_day")])
    try:
        opened = await switches.open_day(
            ctx.store, when, at=ctx.clock(), by=session.user.username, note=note
        )
    except switches.SwitchRefused as exc:
        return await _page(request, session, status_code=422, errors=[str(exc)])
    if not opened:
        return _done(done="not_closed", day=when.isoformat())
    await audit_switch(request, session, ServiceAudit.CLOSURE, f"day:{when}", "opened again")
    return _done(done="opened", day=when.isoformat())
