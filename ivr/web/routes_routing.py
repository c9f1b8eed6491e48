"""Routing versions in the console: the admin pages and /api/v1/routing (issue 17).

Admins make drafts, edit them (a unit's extension, the order of liaison deputies),
publish with a comment and roll back; supervisors approve drafts where the profile
has the two-person rule; auditors read. Other roles get 403 and no data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Header, Query, Request
from fastapi import Path as PathParam
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from ivr.domain.vocabulary import Role
from ivr.routing import publish as pub
from ivr.store.users import Session
from ivr.web import auth
from ivr.web import routing_admin as admin
from ivr.web.api import PREFIX, Problem
from ivr.web.auth import console
from ivr.web.pages import render
from ivr.web.routing_words import routing_translator

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=f"{PREFIX}/routing", tags=["routing"])

Reader = Annotated[Session, Depends(auth.role_in(*admin.READERS))]
Writer = Annotated[Session, Depends(auth.writer_in(Role.ADMIN, Role.SUPERVISOR))]
BASE = "/admin/routing"
T = TypeVar("T")
# A draft's id or a version's number, and a place in a table's list, as the API takes them.
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
Index = Annotated[int, PathParam(ge=0, le=10_000)]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _page(request: Request, session: Session, template: str, **values: Any) -> Response:
    return render(request, template, session, w=routing_translator(session.user.language), **values)


# ---------------------------------------------------------------- pages


@router.get(BASE)
async def overview_page(request: Request, session: Reader) -> Response:
    try:
        seen = await admin.overview(console(request))
    except admin.AdminError as exc:
        return _page(
            request, session, "routing.html", status_code=exc.status, errors=[exc.detail], seen=None
        )
    notice = None
    w = routing_translator(session.user.language)
    if request.query_params.get("notice") == "saved":
        notice = w("saved")
    return _page(
        request,
        session,
        "routing.html",
        seen=seen,
        can_edit=session.user.role in admin.EDITORS,
        notice=notice,
    )


@router.post(f"{BASE}/drafts")
async def new_draft_form(request: Request, session: Writer) -> Response:
    try:
        made = await admin.new_draft(console(request), session.user)
    except admin.AdminError as exc:
        return await _overview_refused(request, session, exc)
    return RedirectResponse(f"{BASE}/drafts/{made.id}", status_code=303)


@router.post(f"{BASE}/rule")
async def rule_form(
    request: Request, session: Writer, state: Annotated[str, Form(pattern="^(on|off)$")]
) -> Response:
    try:
        await admin.set_rule(console(request), session.user, state == "on")
    except admin.AdminError as exc:
        return await _overview_refused(request, session, exc)
    return RedirectResponse(f"{BASE}?notice=saved", status_code=303)


async def _overview_refused(request: Request, session: Session, exc: admin.AdminError) -> Response:
    seen = await admin.overview(console(request))
    return _page(
        request,
        session,
        "routing.html",
        status_code=exc.status,
        errors=[exc.detail, *(str(p) for p in exc.problems)],
        seen=seen,
        can_edit=session.user.role in admin.EDITORS,
    )


async def _draft_page(
    request: Request,
    session: Session,
    draft_id: int,
    query: str,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str | None = None,
) -> Response:
    page = await admin.draft_page(console(request), draft_id, query)
    return _page(
        request,
        session,
        "routing_draft.html",
        status_code=status_code,
        errors=errors,
        notice=notice,
        page=page,
        extension_path=admin.extension_path,
        can_edit=session.user.role in admin.EDITORS,
        can_approve=session.user.role in admin.APPROVERS,
    )


@router.get(BASE + "/drafts/{draft_id}")
async def draft_page(
    request: Request, session: Reader, draft_id: int, q: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    w = routing_translator(session.user.language)
    notice = w("saved") if request.query_params.get("notice") == "saved" else None
    try:
        return await _draft_page(request, session, draft_id, q, notice=notice)
    except admin.AdminError as exc:
        return _page(
            request, session, "routing.html", status_code=exc.status, errors=[exc.detail], seen=None
        )


def _to_draft(draft_id: int, q: str, anchor: str = "") -> Response:
    from urllib.parse import urlencode

    query = urlencode({"q": q, "notice": "saved"})
    return RedirectResponse(f"{BASE}/drafts/{draft_id}?{query}{anchor}", status_code=303)


async def _draft_refused(
    request: Request, session: Session, draft_id: int, q: str, exc: admin.AdminError
) -> Response:
    errors = [exc.detail, *(str(p) for p in exc.problems)]
    try:
        return await _draft_page(
            request, session, draft_id, q, status_code=exc.status, errors=errors
        )
    except admin.AdminError as again:
        return _page(
            request,
            session,
            "routing.html",
            status_code=again.status,
            errors=[again.detail],
            seen=None,
        )


@router.post(BASE + "/drafts/{draft_id}/extension")
async def extension_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    agency: Annotated[int, Form(ge=0)],
    unit: Annotated[int, Form(ge=0)],
    number: Annotated[str, Form(max_length=32)] = "",
    q: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        await admin.set_extension(
            console(request),
            session.user,
            draft_id,
            revision=revision,
            agency_index=agency,
            unit_index=unit,
            number=number,
            address=_address(request),
        )
    except admin.AdminError as exc:
        return await _draft_refused(request, session, draft_id, q, exc)
    return _to_draft(draft_id, q, f"#unit-{agency}-{unit}")


@router.post(BASE + "/drafts/{draft_id}/deputy")
async def deputy_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    agency: Annotated[int, Form(ge=0)],
    deputy: Annotated[int, Form(ge=0)],
    direction: Annotated[str, Form(pattern="^(up|down)$")],
    q: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        await admin.move_deputy(
            console(request),
            session.user,
            draft_id,
            revision=revision,
            agency_index=agency,
            deputy_index=deputy,
            up=direction == "up",
            address=_address(request),
        )
    except admin.AdminError as exc:
        return await _draft_refused(request, session, draft_id, q, exc)
    return _to_draft(draft_id, q, f"#deputies-{agency}")


@router.post(BASE + "/drafts/{draft_id}/approve")
async def approve_form(
    request: Request, session: Writer, draft_id: int, revision: Annotated[int, Form()]
) -> Response:
    try:
        await admin.approve(console(request), session.user, draft_id, revision)
    except admin.AdminError as exc:
        return await _draft_refused(request, session, draft_id, "", exc)
    return _to_draft(draft_id, "")


@router.post(BASE + "/drafts/{draft_id}/publish")
async def publish_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=500)] = "",
    q: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        done = await admin.publish(
            console(request),
            session.user,
            draft_id,
            revision=revision,
            comment=comment,
            address=_address(request),
        )
    except admin.AdminError as exc:
        return await _draft_refused(request, session, draft_id, q, exc)
    n = done.version.number
    return RedirectResponse(f"{BASE}/diff?a={n - 1}&b={n}&published=1", status_code=303)


@router.post(BASE + "/drafts/{draft_id}/schedule")
async def schedule_form(
    request: Request,
    session: Writer,
    draft_id: int,
    at: Annotated[str, Form(max_length=32)] = "",
    comment: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    tz = console(request).routing_view().office.tz
    try:
        when = datetime.fromisoformat(at).replace(tzinfo=tz) if at.strip() else None
    except ValueError:
        when = None
        exc = admin.AdminError(422, f"{at!r} is not a date and time (YYYY-MM-DDTHH:MM)")
        return await _draft_refused(request, session, draft_id, "", exc)
    try:
        await admin.schedule(console(request), session.user, draft_id, when=when, comment=comment)
    except admin.AdminError as exc:
        return await _draft_refused(request, session, draft_id, "", exc)
    return RedirectResponse(f"{BASE}?notice=saved", status_code=303)


@router.post(BASE + "/versions/{number}/rollback")
async def rollback_form(
    request: Request,
    session: Writer,
    number: int,
    expected: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        done = await admin.rollback(
            console(request),
            session.user,
            number,
            expected_head=expected,
            comment=comment,
            address=_address(request),
        )
    except admin.AdminError as exc:
        return await _overview_refused(request, session, exc)
    n = done.version.number
    return RedirectResponse(f"{BASE}/diff?a={n - 1}&b={n}&published=1", status_code=303)


@router.get(BASE + "/diff")
async def diff_page(
    request: Request,
    session: Reader,
    a: Annotated[int, Query(ge=1)],
    b: Annotated[int, Query(ge=1)],
) -> Response:
    w = routing_translator(session.user.language)
    try:
        changes = await admin.changes(console(request), a, b)
    except admin.AdminError as exc:
        return _page(
            request, session, "routing.html", status_code=exc.status, errors=[exc.detail], seen=None
        )
    notice = w("published", n=b) if request.query_params.get("published") else None
    return _page(request, session, "routing_diff.html", a=a, b=b, changes=changes, notice=notice)


@router.get(BASE + "/drafts/{draft_id}/references")
async def references_page(
    request: Request,
    session: Reader,
    draft_id: int,
    kind: Annotated[str, Query(max_length=16)] = "unit",
    name: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    try:
        found = await admin.refs(console(request), draft_id, kind, name)
    except admin.AdminError as exc:
        return _page(
            request, session, "routing.html", status_code=exc.status, errors=[exc.detail], seen=None
        )
    return _page(request, session, "routing_refs.html", draft_id=draft_id, name=name, found=found)


# ---------------------------------------------------------------- the JSON API

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
            address=_address(request),
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
            address=_address(request),
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
            address=_address(request),
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
            address=_address(request),
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
