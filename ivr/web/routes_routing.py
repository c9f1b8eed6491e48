"""Routing versions in the console: the admin pages (issue 17); the JSON API is
`ivr.web.routes_routing_api`.

Admins make drafts, edit them (a unit's extension, the order of liaison deputies),
publish with a comment and roll back; supervisors approve drafts where the profile
has the two-person rule; auditors read. Other roles get 403 and no data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from ivr.domain.vocabulary import Role
from ivr.store.users import Session, User
from ivr.web import auth
from ivr.web import routing_admin as admin
from ivr.web.auth import console
from ivr.web.context import Console
from ivr.web.pages import render
from ivr.web.routing_words import routing_translator

router = APIRouter(include_in_schema=False)

Reader = Annotated[Session, Depends(auth.role_in(*admin.READERS))]
Writer = Annotated[Session, Depends(auth.writer_in(Role.ADMIN, Role.SUPERVISOR))]
BASE = "/admin/routing"
P = ParamSpec("P")
R = TypeVar("R")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def as_editor(
    request: Request, session: Session, edit: Callable[Concatenate[Console, User, P], R]
) -> Callable[P, R]:
    """A draft service's `edit` as the signed-in admin, from the request's address (what
    the audit records): called with the draft, the revision and the edit's own fields."""
    # Every such service takes `address=`; the callers' own fields stay checked by `P`.
    any_edit: Callable[..., R] = edit
    return functools.partial(
        any_edit, console(request), session.user, address=client_address(request)
    )


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
            address=client_address(request),
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
            address=client_address(request),
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
            address=client_address(request),
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
            address=client_address(request),
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
