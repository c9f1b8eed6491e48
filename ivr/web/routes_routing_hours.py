"""The weekly hours editor (issue 17): each day's ranges of hours.yaml's `weekly` and
`office_hours` in a draft. Its page, and the same in the JSON API under
/api/v1/routing/drafts/{id}/hours; the service is `ivr.web.routing_hours`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ivr.store import routing_versions as rv
from ivr.store.users import Session
from ivr.web import routes_routing_lists as shared
from ivr.web import routing_hours as hours
from ivr.web import routing_hours_closed as closed
from ivr.web.auth import console
from ivr.web.routes_routing import BASE, Reader, Writer, as_editor
from ivr.web.routes_routing_api import (
    _ERRORS,
    ApiReader,
    ApiWriter,
    DraftOut,
    FieldProblemOut,
    RowId,
    _answer,
    _draft_out,
)
from ivr.web.routes_routing_api import api as routing_api
from ivr.web.routing_menu_words import menu_translator

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])
TableKey = Literal["weekly", "office_hours"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _done(draft_id: int, anchor: str) -> str:
    return f"{shared.draft_url(draft_id, 'hours')}?notice=saved#{anchor}"


async def _page(request: Request, session: Session, draft_id: int, **shown: Any) -> Response:
    return await shared.show(
        request,
        session,
        "routing_hours.html",
        lambda: hours.page(console(request), draft_id),
        action=shared.draft_url(draft_id, "hours"),
        m=menu_translator(session.user.language),
        kinds=closed.KINDS,
        **shown,
    )


@router.get(BASE + "/drafts/{draft_id}/hours")
async def hours_page(request: Request, session: Reader, draft_id: int) -> Response:
    return await _page(request, session, draft_id, notice=shared.notice_of(request, session))


@router.post(BASE + "/drafts/{draft_id}/hours/{key}/{day}")
async def day_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: str,
    day: str,
    revision: Annotated[int, Form()],
    ranges: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    async def change() -> rv.DraftRecord:
        return await as_editor(request, session, hours.set_day)(
            draft_id, key, day, revision=revision, ranges=hours.parse_ranges(ranges)
        )

    return await shared.form_change(
        change(),
        lambda **shown: _page(request, session, draft_id, **shown),
        key=f"{key}-{day}",
        form={hours.FIELD: ranges},
        done=_done(draft_id, f"{key}-{day}"),
    )


@router.post(BASE + "/drafts/{draft_id}/hours/mode")
async def mode_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    always_open: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    return await shared.form_change(
        as_editor(request, session, hours.set_always_open)(
            draft_id, revision=revision, always_open=always_open == "true"
        ),
        lambda **shown: _page(request, session, draft_id, **shown),
        key="mode",
        form={"always_open": always_open},
        done=_done(draft_id, "mode"),
    )


@router.post(BASE + "/drafts/{draft_id}/hours/closed")
async def closed_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    kind: Annotated[str, Form(max_length=32)] = "",
    target: Annotated[str, Form(max_length=64)] = "",
    then: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return await shared.form_change(
        as_editor(request, session, closed.set_closed)(
            draft_id, revision=revision, kind=kind, target=target, then=then
        ),
        lambda **shown: _page(request, session, draft_id, **shown),
        key="closed",
        form={"kind": kind, "target": target, "then": then},
        done=_done(draft_id, "closed"),
    )


# ---------------------------------------------------------------- JSON API


class DayHoursOut(BaseModel):
    day: str
    ranges: list[list[str]]
    problems: list[str]


class WeekOut(BaseModel):
    present: bool
    days: list[DayHoursOut]
    problems: list[str]


class ClosedOut(BaseModel):
    kind: str
    target: str
    then: str
    problems: list[str]


class HoursOut(BaseModel):
    always_open: bool
    weekly: WeekOut
    office_hours: WeekOut
    closed: ClosedOut


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    ranges: list[
        tuple[Annotated[str, Field(max_length=16)], Annotated[str, Field(max_length=16)]]
    ] = Field(max_length=24, description='[["08:30", "12:30"], ...]; empty: closed all day')


class DaySavedOut(DraftOut):
    problems: list[FieldProblemOut]


@api.get("/drafts/{draft_id}/hours", response_model=HoursOut, responses=_ERRORS)
async def api_hours(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    def out(seen: hours.HoursPage) -> dict[str, Any]:
        c = seen.closed
        assert c is not None  # hours.page always places it
        return {
            "always_open": seen.always_open,
            "closed": {"kind": c.kind, "target": c.target, "then": c.then, "problems": c.errors},
            **{
                t.key: {
                    "present": t.present,
                    "days": [
                        {
                            "day": d.day,
                            "ranges": d.ranges,
                            "problems": [r for rs in d.errors.values() for r in rs],
                        }
                        for d in t.days
                    ],
                    "problems": t.errors,
                }
                for t in seen.tables
            },
        }

    return await _answer(hours.page(console(request), draft_id), out)


@api.put("/drafts/{draft_id}/hours/{key}/{day}", response_model=DaySavedOut, responses=_ERRORS)
async def api_set_day(
    request: Request, session: ApiWriter, draft_id: RowId, key: TableKey, day: Day, body: DayIn
) -> Any:
    """Save a day's ranges as given; the answer carries the checker's problems at the day
    (saved all the same: publishing refuses the draft until they are fixed)."""

    async def change() -> dict[str, Any]:
        c = console(request)
        saved = await as_editor(request, session, hours.set_day)(
            draft_id, key, day, revision=body.revision, ranges=body.ranges
        )
        found = await hours.day_problems(c, saved, key, day)
        return {**_draft_out(saved), "problems": [p.as_json() for p in found]}

    return await _answer(change(), lambda done: done)


class ModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=-(2**31), le=2**31 - 1)
    always_open: bool = Field(
        description="true: the weekly table goes; false: one is made from the office "
        "hours if there is none"
    )


@api.put("/drafts/{draft_id}/hours/always_open", response_model=DraftOut, responses=_ERRORS)
async def api_set_mode(request: Request, session: ApiWriter, draft_id: RowId, body: ModeIn) -> Any:
    """Answer always, or by the weekly table; saved as typed (the checker's problems are
    on GET .../hours and refuse a publish)."""
    return await _answer(
        as_editor(request, session, hours.set_always_open)(
            draft_id,
            revision=body.revision,
            always_open=body.always_open,
        ),
        _draft_out,
    )


class ClosedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=-(2**31), le=2**31 - 1)
    kind: Literal[
        "queue",
        "menu",
        "unit",
        "extension",
        "language",
        "case_check",
        "record",
        "announcement",
        "emergency",
    ]
    target: str = Field(default="", max_length=64, description="the queue, menu, unit, prompt")
    then: str = Field(
        default="", max_length=64, description="the menu after (language, case check)"
    )


@api.put("/drafts/{draft_id}/hours/closed", response_model=DraftOut, responses=_ERRORS)
async def api_set_closed(
    request: Request, session: ApiWriter, draft_id: RowId, body: ClosedIn
) -> Any:
    """Where callers go outside service hours; saved as chosen (the checker's problems
    are on GET .../hours and refuse a publish)."""
    return await _answer(
        as_editor(request, session, closed.set_closed)(
            draft_id,
            revision=body.revision,
            kind=body.kind,
            target=body.target,
            then=body.then,
        ),
        _draft_out,
    )
