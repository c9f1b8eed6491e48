"""The agent's actions on the call on screen: open a case from it, transfer the caller.

Both answer with the agent's page itself (not a redirect): a petition's password is
told to the caller once, now, and a reload resubmits the same idempotency key, which
opens nothing twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from ivr.web import call_actions
from ivr.web.auth import console
from ivr.web.call_actions import CallActionError, CaseForm
from ivr.web.i18n import translator
from ivr.web.refusals import refusal_text
from ivr.web.routes_agent import AgentWriter, show

router = APIRouter(include_in_schema=False)

Key = Annotated[str, Form(min_length=8, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Text = Annotated[str, Form(max_length=200)]


def _refused(request: Request, session: AgentWriter, exc: CallActionError) -> str:
    language = session.user.language
    t = translator(language)
    # The case service's own refusal, in the user's words (its code), not the CLI's line.
    why = refusal_text(language, exc.__cause__) if exc.__cause__ is not None else exc.detail
    return t(exc.key, why=why)


@router.post("/agent/case")
async def create_case(
    request: Request,
    session: AgentWriter,
    uniqueid: Annotated[str, Form(max_length=64)],
    key: Key,
    kind: Annotated[str, Form(max_length=20)],
    summary: Annotated[str, Form(max_length=call_actions.MAX_SUMMARY)] = "",
    agency: Annotated[str, Form(max_length=64)] = "",
    item: Annotated[str, Form(max_length=4)] = "",
    address: Text = "",
    district: Text = "",
    caller_name: Text = "",
) -> Response:
    who = session.user.username
    form = CaseForm(kind, summary, agency, item, address, district, caller_name)
    try:
        opened = await call_actions.open_from_call(
            console(request), session.user.agent_id or "", who, uniqueid, key, form
        )
    except CallActionError as exc:
        # The form comes back with what was typed, and the same key.
        return await show(
            request,
            session,
            errors=[_refused(request, session, exc)],
            status_code=422,
            case_form=form,
            case_key=key,
        )
    # The case's own history says who opened it from which call, and when.
    return await show(request, session, opened=opened)


@router.post("/agent/transfer")
async def transfer_call(
    request: Request,
    session: AgentWriter,
    uniqueid: Annotated[str, Form(max_length=64)],
    unit: Annotated[str, Form(max_length=64)],
) -> Response:
    ctx = console(request)
    try:
        await call_actions.transfer(
            ctx, session.user.agent_id or "", session.user.username, uniqueid, unit
        )
    except CallActionError as exc:
        return await show(
            request, session, errors=[_refused(request, session, exc)], status_code=409
        )
    return await show(request, session, transferred=unit)
