"""The block list editor (issue 17): a draft's suspended callers, add, remove.

Its pages, and the same in the JSON API under /api/v1/routing/drafts/{id}/blocklist;
the service both call is `ivr.web.routing_blocklist`, a list of `routing_lists`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ivr.web import routes_routing_lists as shared
from ivr.web import routing_blocklist as blocklist
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
KEY = blocklist.SPEC.key


_page = shared.page_of("routing_blocklist.html", "blocklist", blocklist.page)


@router.get(BASE + "/drafts/{draft_id}/blocklist")
async def blocklist_page(request: Request, session: Reader, draft_id: int) -> Response:
    return await _page(request, session, draft_id, notice=shared.notice_of(request, session))


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
    change = as_editor(request, session, blocklist.add)(
        draft_id, revision=revision, pattern=pattern, reason=reason, expires_at=expires_at
    )
    return await shared.form_change(
        change,
        lambda **shown: _page(request, session, draft_id, **shown),
        key=KEY,
        form={"pattern": pattern, "reason": reason, "expires_at": expires_at},
        done=f"{shared.draft_url(draft_id, 'blocklist')}?notice=saved#{KEY}",
    )


@router.post(BASE + "/drafts/{draft_id}/blocklist/remove")
async def remove_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    index: Annotated[int, Form(ge=0)],
) -> Response:
    change = as_editor(request, session, blocklist.remove_entry)(
        draft_id, revision=revision, index=index
    )
    return await shared.form_change(
        change,
        lambda **shown: _page(request, session, draft_id, **shown),
        key="",
        form={},
        done=f"{shared.draft_url(draft_id, 'blocklist')}?notice=saved#{KEY}",
    )


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
    return await _answer(
        blocklist.page(console(request), draft_id), lambda seen: shared.rows_out(seen.rows(KEY))
    )


@api.post("/drafts/{draft_id}/blocklist", response_model=DraftOut, responses=_ERRORS)
async def api_block(request: Request, session: ApiWriter, draft_id: RowId, body: BlockIn) -> Any:
    """Add an entry; refused with 422 and `problems` at the entry if the checker says so."""
    return await _answer(
        as_editor(request, session, blocklist.add)(
            draft_id,
            revision=body.revision,
            pattern=body.pattern,
            reason=body.reason,
            expires_at=body.expires_at,
        ),
        _draft_out,
    )


@api.post("/drafts/{draft_id}/blocklist/{index}/remove", response_model=DraftOut, responses=_ERRORS)
async def api_unblock(
    request: Request, session: ApiWriter, draft_id: RowId, index: Index, body: RevisionIn
) -> Any:
    return await _answer(
        as_editor(request, session, blocklist.remove_entry)(
            draft_id, revision=body.revision, index=index
        ),
        _draft_out,
    )
