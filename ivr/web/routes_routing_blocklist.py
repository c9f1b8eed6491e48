"""The block list editor (issue 17): a draft's suspended callers, add, remove.

Its pages, and the same in the JSON API under /api/v1/routing/drafts/{id}/blocklist;
the service both call is `ivr.web.routing_blocklist`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from ivr.store.users import Session
from ivr.web import routing_admin as admin
from ivr.web import routing_blocklist as blocklist
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
from ivr.web.routing_words import routing_translator

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])


async def _page(
    request: Request,
    session: Session,
    draft_id: int,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    form_errors: dict[str, list[str]] | None = None,
) -> Response:
    w = routing_translator(session.user.language)
    try:
        seen = await blocklist.page(console(request), draft_id)
    except admin.AdminError as exc:
        return render(
            request,
            "routing.html",
            session,
            w=w,
            status_code=exc.status,
            errors=[exc.detail],
            seen=None,
        )
    values: dict[str, Any] = {
        "page": seen,
        "can_edit": session.user.role in admin.EDITORS,
        "form": form or {},
        "form_errors": {k: "; ".join(v) for k, v in (form_errors or {}).items()},
    }
    return render(
        request,
        "routing_blocklist.html",
        session,
        w=w,
        status_code=status_code,
        errors=errors,
        notice=notice,
        **values,
    )


@router.get(BASE + "/drafts/{draft_id}/blocklist")
async def blocklist_page(request: Request, session: Reader, draft_id: int) -> Response:
    w = routing_translator(session.user.language)
    notice = w("saved") if request.query_params.get("notice") == "saved" else None
    return await _page(request, session, draft_id, notice=notice)


def _saved(draft_id: int, anchor: str = "") -> Response:
    return RedirectResponse(
        f"{BASE}/drafts/{draft_id}/blocklist?notice=saved{anchor}", status_code=303
    )


@router.post(BASE + "/drafts/{draft_id}/blocklist/add")
async def add_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    pattern: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    expires_at: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    form = {"pattern": pattern, "reason": reason, "expires_at": expires_at}
    try:
        await blocklist.add(
            console(request),
            session.user,
            draft_id,
            revision=revision,
            pattern=pattern,
            reason=reason,
            expires_at=expires_at,
            address=client_address(request),
        )
    except blocklist.FormRefused as exc:
        return await _page(
            request,
            session,
            draft_id,
            status_code=exc.status,
            errors=[exc.detail, *(r for rs in exc.at_field.values() for r in rs)],
            form=form,
            form_errors=exc.at_field,
        )
    except admin.AdminError as exc:
        return await _page(
            request, session, draft_id, status_code=exc.status, errors=[exc.detail], form=form
        )
    return _saved(draft_id, "#entries")


@router.post(BASE + "/drafts/{draft_id}/blocklist/remove")
async def remove_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    index: Annotated[int, Form(ge=0)],
) -> Response:
    try:
        await blocklist.remove_entry(
            console(request),
            session.user,
            draft_id,
            revision=revision,
            index=index,
            address=client_address(request),
        )
    except admin.AdminError as exc:
        return await _page(request, session, draft_id, status_code=exc.status, errors=[exc.detail])
    return _saved(draft_id, "#entries")


# ---------------------------------------------------------------- JSON API


class EntryOut(BaseModel):
    index: int
    pattern: str
    reason: str
    added_by: str
    added_at: str
    expires_at: str
    problems: list[str]


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    pattern: str = Field(max_length=32)
    reason: str = Field(max_length=500)
    expires_at: str = Field(default="", max_length=32)


@api.get("/drafts/{draft_id}/blocklist", response_model=list[EntryOut], responses=_ERRORS)
async def api_blocklist(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    async def entries() -> list[blocklist.Entry]:
        return (await blocklist.page(console(request), draft_id)).entries

    return await _answer(
        entries(),
        lambda found: [
            {**e.__dict__, "problems": [r for rs in e.errors.values() for r in rs]} for e in found
        ],
    )


@api.post("/drafts/{draft_id}/blocklist", response_model=DraftOut, responses=_ERRORS)
async def api_block(request: Request, session: ApiWriter, draft_id: RowId, body: BlockIn) -> Any:
    """Add an entry; refused with 422 and `problems` at the entry if the checker says so."""
    return await _answer(
        blocklist.add(
            console(request),
            session.user,
            draft_id,
            revision=body.revision,
            pattern=body.pattern,
            reason=body.reason,
            expires_at=body.expires_at,
            address=client_address(request),
        ),
        _draft_out,
    )


@api.post("/drafts/{draft_id}/blocklist/{index}/remove", response_model=DraftOut, responses=_ERRORS)
async def api_unblock(
    request: Request, session: ApiWriter, draft_id: RowId, index: Index, body: RevisionIn
) -> Any:
    return await _answer(
        blocklist.remove_entry(
            console(request),
            session.user,
            draft_id,
            revision=body.revision,
            index=index,
            address=client_address(request),
        ),
        _draft_out,
    )
