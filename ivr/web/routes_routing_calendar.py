"""The calendar overrides editor (issue 17): local days off, half days and make-up
working days of a draft's hours.yaml. Its pages, and the same in the JSON API under
/api/v1/routing/drafts/{id}/calendar; the service is `ivr.web.routing_calendar`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ivr.web import routes_routing_lists as shared
from ivr.web import routing_calendar as calendar
from ivr.web.auth import console
from ivr.web.routes_routing import BASE, Reader, Writer, as_editor
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

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])
ListKey = Literal["holidays", "half_days", "makeup_workdays"]


_page = shared.page_of("routing_calendar.html", "calendar", calendar.page)


def _done(draft_id: int, key: str) -> str:
    return f"{shared.draft_url(draft_id, 'calendar')}?notice=saved#{key}"


@router.get(BASE + "/drafts/{draft_id}/calendar")
async def calendar_page(request: Request, session: Reader, draft_id: int) -> Response:
    return await _page(request, session, draft_id, notice=shared.notice_of(request, session))


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
    change = as_editor(request, session, calendar.add)(
        draft_id, key, revision=revision, values=form
    )
    return await shared.form_change(
        change,
        lambda **shown: _page(request, session, draft_id, **shown),
        key=key,
        form=form,
        done=_done(draft_id, key),
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
    change = as_editor(request, session, calendar.remove_day)(
        draft_id, key, revision=revision, index=index
    )
    return await shared.form_change(
        change,
        lambda **shown: _page(request, session, draft_id, **shown),
        key="",
        form={},
        done=_done(draft_id, key),
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
    return await _answer(
        calendar.page(console(request), draft_id),
        lambda seen: {rl.spec.key: shared.rows_out(rl.rows) for rl in seen.lists},
    )


@api.post("/drafts/{draft_id}/calendar/{key}", response_model=DraftOut, responses=_ERRORS)
async def api_add_day(
    request: Request, session: ApiWriter, draft_id: RowId, key: ListKey, body: DayIn
) -> Any:
    """Add a day; refused with 422 and `problems` at the day if the checker says so."""
    return await _answer(
        as_editor(request, session, calendar.add)(
            draft_id,
            key,
            revision=body.revision,
            values={"date": body.date, "name": body.name, "closes_at": body.closes_at},
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
        as_editor(request, session, calendar.remove_day)(
            draft_id, key, revision=body.revision, index=index
        ),
        _draft_out,
    )
