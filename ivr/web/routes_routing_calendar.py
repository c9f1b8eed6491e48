"""The calendar overrides editor's pages (issue 17): local days off, half days and
make-up working days of a draft's hours.yaml; the service is `ivr.web.routing_calendar`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from ivr.store.users import Session
from ivr.web import routing_admin as admin
from ivr.web import routing_calendar as calendar
from ivr.web.auth import console
from ivr.web.pages import render
from ivr.web.routes_routing import BASE, Reader, Writer, client_address
from ivr.web.routing_blocklist import FormRefused
from ivr.web.routing_words import routing_translator

router = APIRouter(include_in_schema=False)
# Which list a refused form belongs to, and what was typed in it.
Typed = tuple[str, dict[str, str], dict[str, list[str]]]


async def _page(
    request: Request,
    session: Session,
    draft_id: int,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str | None = None,
    typed: Typed | None = None,
) -> Response:
    w = routing_translator(session.user.language)
    try:
        seen = await calendar.page(console(request), draft_id)
    except admin.AdminError as exc:
        return render(
            request, "routing.html", session, w=w, status_code=exc.status, errors=[exc.detail]
        )
    key, form, form_errors = typed or ("", {}, {})
    values: dict[str, Any] = {
        "page": seen,
        "can_edit": session.user.role in admin.EDITORS,
        "typed_key": key,
        "word": lambda prefix, name: prefix + name,
        "form": form,
        "form_errors": {k: "; ".join(v) for k, v in form_errors.items()},
    }
    return render(
        request,
        "routing_calendar.html",
        session,
        w=w,
        status_code=status_code,
        errors=errors,
        notice=notice,
        **values,
    )


@router.get(BASE + "/drafts/{draft_id}/calendar")
async def calendar_page(request: Request, session: Reader, draft_id: int) -> Response:
    w = routing_translator(session.user.language)
    notice = w("saved") if request.query_params.get("notice") == "saved" else None
    return await _page(request, session, draft_id, notice=notice)


@router.post(BASE + "/drafts/{draft_id}/calendar/{key}/add")
async def add_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: str,
    revision: Annotated[int, Form()],
    date: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    closes_at: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    form = {"date": date, "name": name, "closes_at": closes_at}
    try:
        await calendar.add(
            console(request),
            session.user,
            draft_id,
            key,
            revision=revision,
            values=form,
            address=client_address(request),
        )
    except FormRefused as exc:
        reasons = [r for rs in exc.at_field.values() for r in rs]
        return await _page(
            request,
            session,
            draft_id,
            status_code=exc.status,
            errors=[exc.detail, *reasons],
            typed=(key, form, exc.at_field),
        )
    except admin.AdminError as exc:
        return await _page(
            request,
            session,
            draft_id,
            status_code=exc.status,
            errors=[exc.detail],
            typed=(key, form, {}),
        )
    return RedirectResponse(
        f"{BASE}/drafts/{draft_id}/calendar?notice=saved#{key}", status_code=303
    )


@router.post(BASE + "/drafts/{draft_id}/calendar/{key}/remove")
async def remove_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: str,
    revision: Annotated[int, Form()],
    index: Annotated[int, Form(ge=0)],
) -> Response:
    try:
        await calendar.remove_day(
            console(request),
            session.user,
            draft_id,
            key,
            revision=revision,
            index=index,
            address=client_address(request),
        )
    except admin.AdminError as exc:
        return await _page(request, session, draft_id, status_code=exc.status, errors=[exc.detail])
    return RedirectResponse(
        f"{BASE}/drafts/{draft_id}/calendar?notice=saved#{key}", status_code=303
    )
