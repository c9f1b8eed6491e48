"""Officers' and liaison windows' "My work": their tickets, and note/assign/close/callback."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ivr.domain.vocabulary import Role
from ivr.store.users import Session
from ivr.web import auth, work, work_cases
from ivr.web.auth import console
from ivr.web.i18n import translator
from ivr.web.pages import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[
    Session,
    Depends(auth.role_in(Role.OFFICER, Role.LIAISON, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)),
]
Writer = Annotated[Session, Depends(auth.writer_in(*auth.WORKERS))]
_NOTICES = ("done", "callback_done")


@router.get("/work")
async def work_page(request: Request, session: Reader) -> Response:
    items = await work.my_work(console(request), session.user)
    cases = await work_cases.my_cases(console(request), session.user)
    t = translator(session.user.language)
    shown = request.query_params.get("notice")
    return render(
        request,
        "work.html",
        session,
        items=items,
        cases=cases,
        can_act=session.user.role in auth.WORKERS,
        notice=t("done") if shown in _NOTICES else None,
    )


def _done(number: str) -> Response:
    return RedirectResponse(f"/work?notice=done#ticket-{number}", status_code=303)


async def _refused(request: Request, session: Session, exc: work.WorkError) -> Response:
    t = translator(session.user.language)
    items = await work.my_work(console(request), session.user)
    key = exc.key if exc.key in ("not_found",) else "error_summary"
    return render(
        request,
        "work.html",
        session,
        status_code=exc.status,
        items=items,
        can_act=True,
        errors=[f"{t(key)} ({t(exc.key) if exc.key in _FIELD_WORDS else exc.key})"],
    )


_FIELD_WORDS = ("note", "assignee", "outcome", "status", "callback")


async def _act(
    request: Request, session: Session, number: str, action: Awaitable[object]
) -> Response:
    """Run one change to a ticket: back to the list when done, the page with why when refused."""
    try:
        await action
    except work.WorkError as exc:
        return await _refused(request, session, exc)
    return _done(number)


@router.post("/work/tickets/{number}/note")
async def note(
    request: Request,
    session: Writer,
    number: str,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    return await _act(
        request, session, number, work.add_note(console(request), session.user, number, text)
    )


@router.post("/work/tickets/{number}/assign")
async def assign(
    request: Request,
    session: Writer,
    number: str,
    assignee: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return await _act(
        request, session, number, work.assign(console(request), session.user, number, assignee)
    )


@router.post("/work/tickets/{number}/close")
async def close(
    request: Request,
    session: Writer,
    number: str,
    outcome: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    return await _act(
        request, session, number, work.close(console(request), session.user, number, outcome)
    )


@router.post("/work/tickets/{number}/callback")
async def callback(request: Request, session: Writer, number: str) -> Response:
    return await _act(
        request, session, number, work.callback(console(request), session.user, number)
    )
