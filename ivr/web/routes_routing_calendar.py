"""The calendar overrides editor (issue 17): local days off, half days and make-up
working days of a draft's hours.yaml. Its pages, and the same in the JSON API under
/api/v1/routing/drafts/{id}/calendar; the service is `ivr.web.routing_calendar`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from ivr.store.users import Session
from ivr.web import routing_admin as admin
from ivr.web import routing_calendar as calendar
from ivr.web.auth import console
from ivr.web.pages import render
from ivr.web.routes_routing import BASE, Reader, Writer, client_address
from ivr.web.routes_routing_api import (
    _ERRORS,
    ApiReader,
    ApiWriter,
    DraftOut,
    Index,
    RevisionIn,
    RowId,
    _answer,
    _draft_out,
)
from ivr.web.routes_routing_api import api as routing_api
from ivr.web.routing_blocklist import FormRefused
from ivr.web.routing_words import routing_translator

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])
ListKey = Literal["holidays", "half_days", "makeup_workdays"]
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


# ---------------------------------------------------------------- JSON API


class DayOut(BaseModel):
    index: int
    date: str
    name: str
    closes_at: str | None = None
    problems: list[str]


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    date: str = Field(max_length=32)
    name: str = Field(max_length=200)
    closes_at: str = Field(default="", max_length=16)


@api.get("/drafts/{draft_id}/calendar", response_model=dict[str, list[DayOut]], responses=_ERRORS)
async def api_calendar(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    def out(seen: calendar.CalendarPage) -> dict[str, list[dict[str, Any]]]:
        return {
            day_list.key: [
                {
                    "index": day.index,
                    **day.values,
                    "problems": [r for rs in day.errors.values() for r in rs],
                }
                for day in day_list.days
            ]
            for day_list in seen.lists
        }

    return await _answer(calendar.page(console(request), draft_id), out)


@api.post("/drafts/{draft_id}/calendar/{key}", response_model=DraftOut, responses=_ERRORS)
async def api_add_day(
    request: Request, session: ApiWriter, draft_id: RowId, key: ListKey, body: DayIn
) -> Any:
    """Add a day; refused with 422 and `problems` at the day if the checker says so."""
    return await _answer(
        calendar.add(
            console(request),
            session.user,
            draft_id,
            key,
            revision=body.revision,
            values={"date": body.date, "name": body.name, "closes_at": body.closes_at},
            address=client_address(request),
        ),
        _draft_out,
    )


@api.post(
    "/drafts/{draft_id}/calendar/{key}/{index}/remove", response_model=DraftOut, responses=_ERRORS
)
async def api_remove_day(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    key: ListKey,
    index: Index,
    body: RevisionIn,
) -> Any:
    return await _answer(
        calendar.remove_day(
            console(request),
            session.user,
            draft_id,
            key,
            revision=body.revision,
            index=index,
            address=client_address(request),
        ),
        _draft_out,
    )
