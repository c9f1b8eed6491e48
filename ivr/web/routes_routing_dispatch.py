"""The dispatch items editor (issue 17): a draft's dispatch catalogue, list, add,
change, remove (after "what refers to this"). Its pages, and the same in the JSON API
under /api/v1/routing/drafts/{id}/dispatch; the service is `ivr.web.routing_dispatch`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ivr.store.users import Session
from ivr.web import routes_routing_lists as shared
from ivr.web import routing_dispatch as dispatch
from ivr.web import routing_dispatch_radius as radius
from ivr.web.auth import console
from ivr.web.routes_routing import BASE, Reader, Writer, as_editor, client_address
from ivr.web.routes_routing_api import (
    _ERRORS,
    ApiReader,
    ApiWriter,
    DraftOut,
    Index,
    RowId,
    _answer,
    _draft_out,
    _removed,
)
from ivr.web.routes_routing_api import api as routing_api

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])
KEY = dispatch.SPEC.key
PART = "dispatch"


_page = shared.page_of("routing_dispatch.html", PART, radius.page)


async def _item_page(
    request: Request, session: Session, draft_id: int, index: int, **shown: Any
) -> Response:
    async def load() -> Any:
        return await dispatch.item_at(console(request), draft_id, index)

    return await shared.show(
        request,
        session,
        "routing_dispatch_item.html",
        load,
        action=shared.draft_url(draft_id, PART),
        spec=dispatch.SPEC,
        **shown,
    )


def _done(draft_id: int, anchor: str = KEY) -> str:
    return f"{shared.draft_url(draft_id, PART)}?notice=saved#{anchor}"


async def _typed(request: Request) -> dict[str, str]:
    """The item's fields as the form sent them (a checkbox left off is not sent)."""
    form = await request.form()
    return {
        f.name: str(form.get(f.name, ""))[: f.maxlength if f.kind != "checkbox" else 5]
        for f in dispatch.SPEC.typed
    }


@router.get(BASE + "/drafts/{draft_id}/dispatch")
async def dispatch_page(request: Request, session: Reader, draft_id: int) -> Response:
    return await _page(request, session, draft_id, notice=shared.notice_of(request, session))


@router.post(BASE + "/drafts/{draft_id}/dispatch/add")
async def add_form(
    request: Request, session: Writer, draft_id: int, revision: Annotated[int, Form()]
) -> Response:
    typed = await _typed(request)
    return await shared.form_change(
        as_editor(request, session, dispatch.add)(draft_id, revision=revision, typed=typed),
        lambda **shown: _page(request, session, draft_id, **shown),
        key=KEY,
        form=typed,
        done=_done(draft_id),
    )


@router.get(BASE + "/drafts/{draft_id}/dispatch/{index:int}")
async def item_page(request: Request, session: Reader, draft_id: int, index: int) -> Response:
    return await _item_page(request, session, draft_id, index)


@router.post(BASE + "/drafts/{draft_id}/dispatch/{index:int}")
async def change_form(
    request: Request,
    session: Writer,
    draft_id: int,
    index: int,
    revision: Annotated[int, Form()],
) -> Response:
    typed = await _typed(request)
    return await shared.form_change(
        as_editor(request, session, dispatch.change)(
            draft_id, revision=revision, index=index, typed=typed
        ),
        lambda **shown: _item_page(request, session, draft_id, index, **shown),
        key=KEY,
        form=typed,
        done=_done(draft_id, f"{KEY}-{index}"),
    )


@router.post(BASE + "/drafts/{draft_id}/dispatch/remove")
async def remove_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    index: Annotated[int, Form(ge=0)],
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    # What refers to the item, and the same button again to confirm.
    return await shared.removal(
        as_editor(request, session, dispatch.remove)(
            draft_id, revision=revision, index=index, confirm=confirm == "yes"
        ),
        request,
        session,
        draft_id,
        again=_page,
        refs_page="routing_dispatch_refs.html",
        row=lambda: dispatch.item_at(console(request), draft_id, index),
        done=f"{shared.draft_url(draft_id, PART)}?notice=saved#{KEY}",
        action=shared.draft_url(draft_id, PART),
    )


@router.post(BASE + "/drafts/{draft_id}/dispatch/radius")
async def radius_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    merge_radius_m: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    return await shared.form_change(
        radius.set_radius(
            console(request),
            session.user,
            draft_id,
            revision=revision,
            typed=merge_radius_m,
            address=client_address(request),
        ),
        lambda **shown: _page(request, session, draft_id, **shown),
        key="radius",
        form={"merge_radius_m": merge_radius_m},
        done=_done(draft_id, "radius"),
    )


# ---------------------------------------------------------------- JSON API


class ItemIn(BaseModel):
    """An item as the form takes it: each field as text, numbers written as numbers."""

    model_config = ConfigDict(extra="forbid")
    revision: int
    item: str = Field(max_length=3)
    name: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    agency: str = Field(max_length=64)
    unit: str = Field(max_length=64)
    stage1_hours: str = Field(default="", max_length=8)
    stage2_days: str = Field(default="", max_length=8)
    stage2_hours: str = Field(default="", max_length=8)
    stage2_variants: str = Field(default="", max_length=200, description="wiring=3, total=7")
    same_day_rule: bool = False
    contact_attempts: str = Field(default="", max_length=2)
    note: str = Field(default="", max_length=500)

    def typed(self) -> dict[str, str]:
        values = self.model_dump(exclude={"revision"})
        values["same_day_rule"] = "true" if self.same_day_rule else ""
        return {k: str(v) for k, v in values.items()}


class RemoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    confirm: bool = Field(default=False, description="remove even if something refers to it")


class ItemRefOut(BaseModel):
    where: str
    path: str
    what: str


@api.get("/drafts/{draft_id}/dispatch", response_model=list[shared.RowOut], responses=_ERRORS)
async def api_items(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    return await _answer(
        dispatch.page(console(request), draft_id),
        lambda seen: shared.rows_out(seen.rows(KEY), flat=False),
    )


@api.post("/drafts/{draft_id}/dispatch", response_model=DraftOut, responses=_ERRORS)
async def api_add(request: Request, session: ApiWriter, draft_id: RowId, body: ItemIn) -> Any:
    """Add an item; refused with 422 and `problems` at the item if the checker says so."""
    return await _answer(
        as_editor(request, session, dispatch.add)(
            draft_id, revision=body.revision, typed=body.typed()
        ),
        _draft_out,
    )


@api.put("/drafts/{draft_id}/dispatch/{index}", response_model=DraftOut, responses=_ERRORS)
async def api_change(
    request: Request, session: ApiWriter, draft_id: RowId, index: Index, body: ItemIn
) -> Any:
    return await _answer(
        as_editor(request, session, dispatch.change)(
            draft_id, revision=body.revision, index=index, typed=body.typed()
        ),
        _draft_out,
    )


@api.get(
    "/drafts/{draft_id}/dispatch/{index}/references",
    response_model=list[ItemRefOut],
    responses=_ERRORS,
)
async def api_references(
    request: Request, session: ApiReader, draft_id: RowId, index: Index
) -> Any:
    return await _answer(
        dispatch.references(console(request), draft_id, index),
        lambda found: [r.__dict__ for r in found],
    )


@api.post("/drafts/{draft_id}/dispatch/{index}/remove", response_model=DraftOut, responses=_ERRORS)
async def api_remove(
    request: Request, session: ApiWriter, draft_id: RowId, index: Index, body: RemoveIn
) -> Any:
    """Remove an item; 409 with `references` if something refers to it, unless `confirm`."""
    return await _removed(
        as_editor(request, session, dispatch.remove)(
            draft_id, revision=body.revision, index=index, confirm=body.confirm
        )
    )


class RadiusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=-(2**31), le=2**31 - 1)
    merge_radius_m: float = Field(description="metres, 0 to 5000", allow_inf_nan=False)


class RadiusOut(BaseModel):
    merge_radius_m: str
    problems: list[str]


@api.get(
    "/drafts/{draft_id}/dispatch/settings/merge_radius_m",
    response_model=RadiusOut,
    responses=_ERRORS,
)
async def api_radius(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    """The case-merge radius as the draft has it ("": the default, 30 m)."""
    return await _answer(
        radius.page(console(request), draft_id),
        lambda seen: {"merge_radius_m": seen.radius, "problems": seen.radius_errors},
    )


@api.put(
    "/drafts/{draft_id}/dispatch/settings/merge_radius_m",
    response_model=DraftOut,
    responses=_ERRORS,
)
async def api_set_radius(
    request: Request, session: ApiWriter, draft_id: RowId, body: RadiusIn
) -> Any:
    """Set the case-merge radius; 422 with `problems` if the checker refuses it."""
    value = body.merge_radius_m
    return await _answer(
        radius.set_radius(
            console(request),
            session.user,
            draft_id,
            revision=body.revision,
            typed=str(int(value)) if value.is_integer() else str(value),
            address=client_address(request),
        ),
        _draft_out,
    )
