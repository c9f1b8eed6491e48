"""The agent's actions on the call on screen: open a case from it, transfer the caller,
conference in 110 or 119 (the emergency three-way call).

Both answer with the agent's page itself (not a redirect): a petition's password is
told to the caller once, now, and a reload resubmits the same idempotency key, which
opens nothing twice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ivr.domain.vocabulary import EmergencyService
from ivr.web import call_actions, threeway
from ivr.web.api import _COMMON as COMMON_RESPONSES
from ivr.web.api import PREFIX, ApiError, Problem
from ivr.web.api import AgentWriter as ApiAgentWriter
from ivr.web.auth import as_agent
from ivr.web.call_actions import CallActionError, CaseForm
from ivr.web.i18n import translator
from ivr.web.refusals import refusal_text
from ivr.web.routes_agent import AgentWriter, show

router = APIRouter(include_in_schema=False)
# The same action in the JSON API (in the OpenAPI document).
api = APIRouter(prefix=PREFIX, tags=["console"], responses=COMMON_RESPONSES)

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
    form = CaseForm(kind, summary, agency, item, address, district, caller_name)
    try:
        opened = await as_agent(request, session, call_actions.open_from_call)(uniqueid, key, form)
    except CallActionError as exc:
        # The form comes back with what was typed, and the same key; a key another
        # call's case took gets a new one, so the next submit opens this call's case.
        reused = exc.key == "case_key_reused"
        return await show(
            request,
            session,
            errors=[_refused(request, session, exc)],
            status_code=409 if reused else 422,
            case_form=form,
            case_key=call_actions.new_form_key() if reused else key,
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
    try:
        await as_agent(request, session, call_actions.transfer)(uniqueid, unit)
    except CallActionError as exc:
        return await show(
            request, session, errors=[_refused(request, session, exc)], status_code=409
        )
    return await show(request, session, transferred=unit)


@router.post("/agent/threeway")
async def threeway_call(
    request: Request,
    session: AgentWriter,
    uniqueid: Annotated[str, Form(max_length=64)],
    service: Annotated[EmergencyService, Form()],
) -> Response:
    """110 or 119 into the call on screen; the agent stays on it (K2(1), K4(1))."""
    try:
        started = await as_agent(request, session, threeway.start)(uniqueid, service)
    except CallActionError as exc:
        return await show(
            request, session, errors=[_refused(request, session, exc)], status_code=409
        )
    return await show(request, session, threeway_started=started)


class ThreewayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uniqueid: str = Field(max_length=64, description="the call on the agent's screen")
    service: EmergencyService


class ThreewayOut(BaseModel):
    service: EmergencyService
    number: str
    id: str


_THREEWAY_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "not the agent's live call, or done before"},
    503: {"model": Problem, "description": "the phone system is not reachable"},
}


@api.post("/agent/threeway", response_model=ThreewayOut, responses=_THREEWAY_ERRORS)
async def api_threeway(request: Request, session: ApiAgentWriter, body: ThreewayIn) -> ThreewayOut:
    """Conference 110 or 119 into the agent's own live call; the agent stays on it.

    Answers once the caller and the agent are bridged and the line is being dialled;
    how the emergency line went is on the call's record.
    """
    try:
        started = await as_agent(request, session, threeway.start)(body.uniqueid, body.service)
    except CallActionError as exc:
        if exc.key == "phone_down":
            raise ApiError(503, "the phone system is not reachable") from exc
        raise ApiError(409, translator("en")(exc.key)) from exc
    return ThreewayOut(service=started.service, number=started.number, id=started.session)
