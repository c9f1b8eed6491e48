"""Case actions on "My work": reply with a grade, and finish (close with the result).
The cases are listed by `work.html` (`_work_cases.html`); the service is
`ivr.web.work_cases`, over `ivr.cases_service` as the CLI is.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ivr import cases_service as svc
from ivr.domain.vocabulary import CaseGrade
from ivr.store.users import Session
from ivr.web import auth, work, work_cases
from ivr.web.auth import console
from ivr.web.i18n import translator
from ivr.web.pages import render
from ivr.web.refusals import refusal_text

router = APIRouter(include_in_schema=False)
Writer = Annotated[Session, Depends(auth.writer_in(*auth.WORKERS))]
Text = Annotated[str, Form(max_length=work_cases.MAX_TEXT)]


async def _act(request: Request, session: Session, number: str, action: Awaitable[str]) -> Response:
    """Back to the list at the case when done; the page with the rules' reason when refused."""
    try:
        await action
    except svc.CaseError as exc:
        ctx = console(request)
        t = translator(session.user.language)
        missing = isinstance(exc, work_cases.CaseNotYours)
        return render(
            request,
            "work.html",
            session,
            status_code=404 if missing else 409,
            items=await work.my_work(ctx, session.user),
            cases=await work_cases.my_cases(ctx, session.user),
            can_act=True,
            errors=[f"{t('case')} {number}: {refusal_text(session.user.language, exc)}"],
        )
    return RedirectResponse(f"/work?notice=done#case-{number}", status_code=303)


@router.post("/work/cases/{number}/reply")
async def reply(
    request: Request,
    session: Writer,
    number: str,
    grade: Annotated[CaseGrade, Form()],
    text: Text = "",
) -> Response:
    return await _act(
        request,
        session,
        number,
        work_cases.reply(console(request), session.user, number, text, grade),
    )


@router.post("/work/cases/{number}/finish")
async def finish(request: Request, session: Writer, number: str, result: Text = "") -> Response:
    return await _act(
        request,
        session,
        number,
        work_cases.finish(console(request), session.user, number, result),
    )
