"""The supervisors' live wallboard (htmx refreshes its body; without JavaScript, reload)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ivr.domain.vocabulary import Role
from ivr.store.users import Session
from ivr.web import auth, wallboard
from ivr.web.auth import console
from ivr.web.pages import render

router = APIRouter(include_in_schema=False)

Watcher = Annotated[Session, Depends(auth.role_in(Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR))]


@router.get("/wallboard")
async def wallboard_page(request: Request, session: Watcher) -> Response:
    board = await wallboard.board(console(request))
    return render(request, "wallboard.html", session, board=board)


@router.get("/wallboard/body")
async def wallboard_body(request: Request, session: Watcher) -> Response:
    board = await wallboard.board(console(request))
    return render(request, "_wallboard_body.html", session, board=board)
