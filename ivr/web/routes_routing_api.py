"""Routing versions in the JSON API: /api/v1/routing (issue 17).

The same changes as the admin pages in `ivr.web.routes_routing`, through the same
`ivr.web.routing_admin` calls, and the same roles: admins make, edit, publish and roll
back; supervisors approve; auditors read; other roles get 403 and no data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as PathParam
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from ivr.domain.vocabulary import Role
from ivr.routing import publish as pub
from ivr.store.users import Session
from ivr.web import auth
from ivr.web import routing_admin as admin
from ivr.web.api import PREFIX, Problem
from ivr.web.auth import console
from ivr.web.routes_routing import client_address
from ivr.web.routing_lists import Referred

api = APIRouter(prefix=f"{PREFIX}/routing", tags=["routing"])

T = TypeVar("T")
# A draft's id or a version's number, and a place in a table's list, as the API takes them.
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
Index = Annotated[int, PathParam(ge=0, le=10_000)]


ApiReader = Annotated[Session, Depends(auth.role_in(*admin.READERS))]
ApiWriter = Annotated[Session, Depends(auth.writer_in(Role.ADMIN, Role.SUPERVISOR))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "not signed in"},
    403: {"model": Problem, "description": "the role may not, no CSRF token, or not approved"},
    404: {"model": Problem, "description": "no such draft or version"},
    409: {"model": Problem, "description": "stale: someone changed it first"},
    422: {"description": "refused: the checker's problems, or a bad value"},
    503: {"model": Problem, "description": "routing versions are not available here"},
}


def _refused(exc: admin.AdminError) -> JSONResponse:
    body: dict[str, Any] = {"detail": exc.detail}
    if exc.problems:
        body["problems"] = [p.as_json() for p in exc.problems]
    return JSONResponse(body, status_code=exc.status)


async def _answer(change: Awaitable[T], out: Callable[[T], Any]) -> Any:
    """The API's answer to one change: `out` of its result, or the refusal as JSON."""
    try:
        done = await change
    except admin.AdminError as exc:
        return _refused(exc)
    return out(done)


class VersionOut(BaseModel):
    number: int
    digest: str
    published_by: str
    published_at: str
    comment: str
    draft_id: int | None
    rollback_of: int | None
    approved_by: str | None


class DraftOut(BaseModel):
    id: int
    base: int
    revision: int
    state: str
    updated_by: str
    approved_by: str | None
    scheduled_at: str | None
    refusal: str | None


class OverviewOut(BaseModel):
    profile: str
    running: int
    two_person_rule: bool
    versions: list[VersionOut]
    drafts: list[DraftOut]


class FieldProblemOut(BaseModel):
    file: str
    path: str
    reason: str
    text: str


class ChangeOut(BaseModel):
    file: str
    path: str
    kind: str
    before: Any = None
    after: Any = None
    text: str


class DraftDetailOut(DraftOut):
    problems: list[FieldProblemOut]
    changes: list[ChangeOut]


class ExtensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    number: str = Field(max_length=32)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    up: bool


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    comment: str = Field(max_length=500)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_head: int
    comment: str = Field(max_length=500)


class PublishedOut(BaseModel):
    version: VersionOut
    changes: list[ChangeOut]
    reload_ok: bool
    reload: list[str]


class ReferenceOut(BaseModel):
    file: str
    path: str
    what: str


def _draft_out(d: Any) -> dict[str, Any]:
    s = d.summary()
    return {k: s[k] for k in DraftOut.model_fields}


async def _removed(removal: Awaitable[Any]) -> Any:
    """A removal's answer: the draft, or 409 with the `references` to the row (removed
    only with `confirm`), or the refusal."""
    try:
        done = await removal
    except Referred as exc:
        found = [r.__dict__ for r in exc.refs]
        return JSONResponse({"detail": exc.detail, "references": found}, status_code=exc.status)
    except admin.AdminError as exc:
        return _refused(exc)
    return _draft_out(done)


def _version_out(v: Any) -> dict[str, Any]:
    s = v.summary()
    return {k: s[k] for k in VersionOut.model_fields}


def _published_out(done: pub.Published) -> dict[str, Any]:
    return {
        "version": _version_out(done.version),
        "changes": [c.as_json() for c in done.changes],
        "reload_ok": done.reload.ok,
        "reload": list(done.reload.lines),
    }


@api.get("", response_model=OverviewOut, responses=_ERRORS)
async def api_overview(request: Request, session: ApiReader) -> Any:
    try:
        seen = await admin.overview(console(request))
    except admin.AdminError as exc:
        return _refused(exc)
    return {
        "profile": seen.profile,
        "running": seen.running.number,
        "two_person_rule": seen.two_person_rule,
        "versions": [_version_out(v) for v in seen.versions],
        "drafts": [_draft_out(d) for d in seen.drafts],
    }


@api.get("/diff", response_model=list[ChangeOut], responses=_ERRORS)
async def api_diff(
    request: Request,
    session: ApiReader,
    a: Annotated[int, Query(ge=1, le=2**31 - 1)],
    b: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> Any:
    try:
        return [c.as_json() for c in await admin.changes(console(request), a, b)]
    except admin.AdminError as exc:
        return _refused(exc)


@api.post("/drafts", response_model=DraftOut, status_code=201, responses=_ERRORS)
async def api_new_draft(
    request: Request,
    session: ApiWriter,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> Any:
    try:
        return _draft_out(await admin.new_draft(console(request), session.user, idempotency_key))
    except admin.AdminError as exc:
        return _refused(exc)


@api.get("/drafts/{draft_id}", response_model=DraftDetailOut, responses=_ERRORS)
async def api_draft(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    try:
        page = await admin.draft_page(console(request), draft_id, "")
    except admin.AdminError as exc:
        return _refused(exc)
    from ivr.routing.versions import diff

    return {
        **_draft_out(page.draft),
        "problems": [p.as_json() for p in page.problems],
        "changes": [c.as_json() for c in diff(page.running.files, page.draft.files)],
    }


@api.put(
    "/drafts/{draft_id}/agencies/{agency}/units/{unit}/primary",
    response_model=DraftOut,
    responses=_ERRORS,
)
async def api_extension(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    agency: Index,
    unit: Index,
    body: ExtensionIn,
) -> Any:
    return await _answer(
        admin.set_extension(
            console(request),
            session.user,
            draft_id,
            revision=body.revision,
            agency_index=agency,
            unit_index=unit,
            number=body.number,
            address=client_address(request),
        ),
        _draft_out,
    )


@api.post(
    "/drafts/{draft_id}/agencies/{agency}/deputies/{deputy}/move",
    response_model=DraftOut,
    responses=_ERRORS,
)
async def api_move(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    agency: Index,
    deputy: Index,
    body: MoveIn,
) -> Any:
    return await _answer(
        admin.move_deputy(
            console(request),
            session.user,
            draft_id,
            revision=body.revision,
            agency_index=agency,
            deputy_index=deputy,
            up=body.up,
            address=client_address(request),
        ),
        _draft_out,
    )


@api.post("/drafts/{draft_id}/approve", response_model=DraftOut, responses=_ERRORS)
async def api_approve(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    body: RevisionIn,
) -> Any:
    return await _answer(
        admin.approve(console(request), session.user, draft_id, body.revision), _draft_out
    )


@api.post("/drafts/{draft_id}/publish", response_model=PublishedOut, responses=_ERRORS)
async def api_publish(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    body: PublishIn,
) -> Any:
    return await _answer(
        admin.publish(
            console(request),
            session.user,
            draft_id,
            revision=body.revision,
            comment=body.comment,
            address=client_address(request),
        ),
        _published_out,
    )


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime | None = Field(description="when to publish; null cancels")
    comment: str = Field(default="", max_length=500)


@api.post("/drafts/{draft_id}/schedule", response_model=DraftOut, responses=_ERRORS)
async def api_schedule(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    body: ScheduleIn,
) -> Any:
    return await _answer(
        admin.schedule(
            console(request), session.user, draft_id, when=body.at, comment=body.comment
        ),
        _draft_out,
    )


@api.post("/versions/{number}/rollback", response_model=PublishedOut, responses=_ERRORS)
async def api_rollback(
    request: Request,
    session: ApiWriter,
    number: RowId,
    body: RollbackIn,
) -> Any:
    return await _answer(
        admin.rollback(
            console(request),
            session.user,
            number,
            expected_head=body.expected_head,
            comment=body.comment,
            address=client_address(request),
        ),
        _published_out,
    )


@api.get("/drafts/{draft_id}/references", response_model=list[ReferenceOut], responses=_ERRORS)
async def api_references(
    request: Request,
    session: ApiReader,
    draft_id: RowId,
    kind: Annotated[str, Query(max_length=16)],
    name: Annotated[str, Query(max_length=100)],
) -> Any:
    try:
        found = await admin.refs(console(request), draft_id, kind, name)
    except admin.AdminError as exc:
        return _refused(exc)
    return [{"file": r.file, "path": r.path, "what": r.what} for r in found]
