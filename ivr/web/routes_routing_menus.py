"""The menu editor (issue 17): a draft's menus, their keys, where each leads, their
prompts, tries and timeout. Its pages, and the same in the JSON API under
/api/v1/routing/drafts/{id}/menus; the service is `ivr.web.routing_menus`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from ivr.store.users import Session
from ivr.web import routing_admin as admin
from ivr.web import routing_menus as menus
from ivr.web.auth import console
from ivr.web.pages import render
from ivr.web.routes_routing import BASE, Reader, Writer, as_editor
from ivr.web.routes_routing_api import (
    _ERRORS,
    ApiReader,
    ApiWriter,
    DraftOut,
    RevisionIn,
    RowId,
    _answer,
    _draft_out,
)
from ivr.web.routes_routing_api import api as routing_api
from ivr.web.routing_menu_words import menu_translator
from ivr.web.routing_words import routing_translator

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])
Name = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
KeyParam = Annotated[str, PathParam(pattern=r"^([0-9*#]|on_exhausted)$")]
Short = Annotated[str, Form(max_length=64)]


def register(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(api)


async def _page(
    request: Request,
    session: Session,
    draft_id: int,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str | None = None,
) -> Response:
    w = routing_translator(session.user.language)
    try:
        seen = await menus.page(console(request), draft_id)
    except admin.AdminError as exc:
        return render(
            request, "routing.html", session, w=w, status_code=exc.status, errors=[exc.detail]
        )
    return render(
        request,
        "routing_menus.html",
        session,
        w=w,
        m=menu_translator(session.user.language),
        status_code=status_code,
        errors=errors,
        notice=notice,
        page=seen,
        kinds=list(menus.DEST_FIELDS),
        settings=menus.SETTINGS,
        can_edit=session.user.role in admin.EDITORS,
    )


async def _done(
    request: Request, session: Session, draft_id: int, change: Awaitable[Any], anchor: str
) -> Response:
    """After a form's change: back to the page at the menu, or the page with the refusal."""
    try:
        await change
    except admin.AdminError as exc:
        return await _page(request, session, draft_id, status_code=exc.status, errors=[exc.detail])
    return RedirectResponse(
        f"{BASE}/drafts/{draft_id}/menus?notice=saved#{anchor}", status_code=303
    )


@router.get(BASE + "/drafts/{draft_id}/menus")
async def menus_page(request: Request, session: Reader, draft_id: int) -> Response:
    w = routing_translator(session.user.language)
    notice = w("saved") if request.query_params.get("notice") == "saved" else None
    return await _page(request, session, draft_id, notice=notice)


@router.post(BASE + "/drafts/{draft_id}/menus/{menu}/route")
async def route_form(
    request: Request,
    session: Writer,
    draft_id: int,
    menu: str,
    revision: Annotated[int, Form()],
    key: Annotated[str, Form(max_length=16)],
    kind: Short,
    target: Short = "",
    then: Short = "",
) -> Response:
    change = as_editor(request, session, menus.set_route)(
        draft_id, menu, key.strip(), revision=revision, kind=kind, target=target, then=then
    )
    return await _done(request, session, draft_id, change, f"menu-{menu}")


@router.post(BASE + "/drafts/{draft_id}/menus/{menu}/route/remove")
async def remove_route_form(
    request: Request,
    session: Writer,
    draft_id: int,
    menu: str,
    revision: Annotated[int, Form()],
    key: Annotated[str, Form(max_length=16)],
) -> Response:
    change = as_editor(request, session, menus.remove_route)(draft_id, menu, key, revision=revision)
    return await _done(request, session, draft_id, change, f"menu-{menu}")


@router.post(BASE + "/drafts/{draft_id}/menus/{menu}/settings")
async def settings_form(
    request: Request,
    session: Writer,
    draft_id: int,
    menu: str,
    revision: Annotated[int, Form()],
    prompt: Short = "",
    retry_prompt: Short = "",
    timeout_s: Short = "",
    max_tries: Short = "",
) -> Response:
    values = {
        "prompt": prompt,
        "retry_prompt": retry_prompt,
        "timeout_s": timeout_s,
        "max_tries": max_tries,
    }
    change = as_editor(request, session, menus.set_settings)(
        draft_id, menu, revision=revision, values=values
    )
    return await _done(request, session, draft_id, change, f"menu-{menu}")


@router.post(BASE + "/drafts/{draft_id}/menus/add")
async def add_form(
    request: Request,
    session: Writer,
    draft_id: int,
    revision: Annotated[int, Form()],
    name: Short,
    prompt: Short,
    queue: Short,
) -> Response:
    change = as_editor(request, session, menus.new_menu)(
        draft_id, revision=revision, name=name, prompt=prompt, queue=queue
    )
    return await _done(request, session, draft_id, change, f"menu-{name.strip()}")


@router.post(BASE + "/drafts/{draft_id}/menus/{menu}/remove")
async def remove_form(
    request: Request,
    session: Writer,
    draft_id: int,
    menu: str,
    revision: Annotated[int, Form()],
) -> Response:
    change = as_editor(request, session, menus.remove_menu)(draft_id, menu, revision=revision)
    return await _done(request, session, draft_id, change, "menus-h")


# ---------------------------------------------------------------- JSON API


class RouteOut(BaseModel):
    key: str
    type: str
    target: str
    then: str
    problems: list[str]


class MenuOut(BaseModel):
    name: str
    settings: dict[str, str]
    routes: list[RouteOut]
    on_exhausted: RouteOut
    problems: list[str]
    referred_by: list[str]


class MenusOut(BaseModel):
    entry: str
    menus: list[MenuOut]
    choices: dict[str, list[str]]
    problems_elsewhere: list[str]


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    type: str = Field(max_length=32)
    target: str = Field(default="", max_length=64)
    then: str = Field(default="", max_length=64)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    prompt: str = Field(default="", max_length=64)
    retry_prompt: str = Field(default="", max_length=64)
    timeout_s: str = Field(default="", max_length=16)
    max_tries: str = Field(default="", max_length=16)


class NewMenuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int
    name: str = Field(max_length=64)
    prompt: str = Field(max_length=64)
    queue: str = Field(max_length=64)


def _route_out(r: menus.Route) -> dict[str, Any]:
    reasons = [x for rs in r.errors.values() for x in rs]
    return {"key": r.key, "type": r.kind, "target": r.target, "then": r.then, "problems": reasons}


def _menus_out(seen: menus.MenusPage) -> dict[str, Any]:
    return {
        "entry": seen.entry,
        "menus": [
            {
                "name": m.name,
                "settings": m.settings,
                "routes": [_route_out(r) for r in m.routes],
                "on_exhausted": _route_out(m.exhausted),
                "problems": [x for rs in m.errors.values() for x in rs],
                "referred_by": [f"{f}: {p}" for f, p, _ in m.refs],
            }
            for m in seen.menus
        ],
        "choices": seen.choices,
        "problems_elsewhere": [str(p) for p in seen.elsewhere],
    }


@api.get("/drafts/{draft_id}/menus", response_model=MenusOut, responses=_ERRORS)
async def api_menus(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    """Every menu of the draft, the checker's problems at each route, and what exists
    for each destination type to lead to."""
    return await _answer(menus.page(console(request), draft_id), _menus_out)


@api.post("/drafts/{draft_id}/menus", response_model=DraftOut, responses=_ERRORS)
async def api_new_menu(
    request: Request, session: ApiWriter, draft_id: RowId, body: NewMenuIn
) -> Any:
    return await _answer(
        as_editor(request, session, menus.new_menu)(
            draft_id, revision=body.revision, name=body.name, prompt=body.prompt, queue=body.queue
        ),
        _draft_out,
    )


@api.post(
    "/drafts/{draft_id}/menus/{menu}/routes/{key}", response_model=DraftOut, responses=_ERRORS
)
async def api_set_route(
    request: Request, session: ApiWriter, draft_id: RowId, menu: Name, key: KeyParam, body: RouteIn
) -> Any:
    """Where a key (or `on_exhausted`) leads; saved as chosen, the checker's problems
    then shown at the route (GET)."""
    return await _answer(
        as_editor(request, session, menus.set_route)(
            draft_id,
            menu,
            key,
            revision=body.revision,
            kind=body.type,
            target=body.target,
            then=body.then,
        ),
        _draft_out,
    )


@api.post(
    "/drafts/{draft_id}/menus/{menu}/routes/{key}/remove",
    response_model=DraftOut,
    responses=_ERRORS,
)
async def api_remove_route(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    menu: Name,
    key: KeyParam,
    body: RevisionIn,
) -> Any:
    return await _answer(
        as_editor(request, session, menus.remove_route)(
            draft_id, menu, key, revision=body.revision
        ),
        _draft_out,
    )


@api.post("/drafts/{draft_id}/menus/{menu}/settings", response_model=DraftOut, responses=_ERRORS)
async def api_settings(
    request: Request, session: ApiWriter, draft_id: RowId, menu: Name, body: SettingsIn
) -> Any:
    values = body.model_dump(exclude={"revision"})
    return await _answer(
        as_editor(request, session, menus.set_settings)(
            draft_id, menu, revision=body.revision, values=values
        ),
        _draft_out,
    )


@api.get(
    "/drafts/{draft_id}/menus/{menu}/references",
    response_model=list[str],
    responses=_ERRORS,
)
async def api_menu_refs(request: Request, session: ApiReader, draft_id: RowId, menu: Name) -> Any:
    """What leads to the menu: everything to change before it can be deleted."""
    return await _answer(
        menus.references(console(request), draft_id, menu),
        lambda refs: [f"{f}: {p}: {what}" for f, p, what in refs],
    )


@api.post("/drafts/{draft_id}/menus/{menu}/remove", response_model=DraftOut, responses=_ERRORS)
async def api_remove_menu(
    request: Request, session: ApiWriter, draft_id: RowId, menu: Name, body: RevisionIn
) -> Any:
    """Delete a menu; refused (409) while anything leads to it."""
    return await _answer(
        as_editor(request, session, menus.remove_menu)(draft_id, menu, revision=body.revision),
        _draft_out,
    )
