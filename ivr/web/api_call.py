"""The agent's actions on the call on screen, in the JSON API (issue 16): open a case
from it and transfer the caller with one action. The same service as the agent page's
forms (`ivr.web.call_actions`): the call must be the one on the agent's screen pop, a
case is linked to the call and committed before the answer, a transfer is audited.

A case carries the client's idempotency key, as the page's form does: the same key
again answers with the case made the first time and opens nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ivr.web import call_actions
from ivr.web.api import _COMMON, NOT_BLANK, PREFIX, AgentWriter, ApiError, Problem
from ivr.web.auth import as_agent
from ivr.web.call_actions import CallActionError, CaseForm
from ivr.web.i18n import translator
from ivr.web.refusals import refusal_text

api = APIRouter(prefix=PREFIX, tags=["console"], responses=_COMMON)

# Which status each refusal of the call actions answers with.
_STATUS = {
    "call_not_on_screen": 409,
    "call_gone": 409,
    "transfer_done_before": 409,
    "case_key_reused": 409,
    "call_not_found": 404,
    "transfer_no_unit": 404,
    "phone_down": 503,
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the case was refused: the reason"},
    404: {"model": Problem, "description": "no record of the call, or no such unit"},
    409: {
        "model": Problem,
        "description": "the call is not on the agent's screen, or is over, or the case's key "
        "was used for another call's case (nothing is written)",
    },
    503: {"model": Problem, "description": "the phone system is not reachable"},
}
UNIQUEID = Field(min_length=1, max_length=64, description="the call's id, as its screen pop has it")


def _refusal(exc: CallActionError) -> ApiError:
    why = refusal_text("en", exc.__cause__) if exc.__cause__ is not None else exc.detail
    # The page's words for a reused key add that its form is renewed; not the API's.
    key = "case_refused" if exc.key == "case_key_reused" else exc.key
    text = translator("en")(key, why=why)
    if exc.key == "phone_down":
        text = "the phone system is not reachable"
    return ApiError(_STATUS.get(exc.key, 400), text)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uniqueid: str = UNIQUEID
    key: str = Field(
        min_length=8,
        max_length=40,
        pattern=r"^[A-Za-z0-9-]+$",
        description="the client's idempotency key: the same key opens the case once",
    )
    kind: Literal["petition", "dispatch"] = Field(description="the kinds opened from a call")
    summary: str = Field(min_length=1, max_length=call_actions.MAX_SUMMARY, pattern=NOT_BLANK)
    agency: str = Field(default="", max_length=64, description="needed for a petition")
    item: int | None = Field(default=None, ge=1, le=999, description="a dispatch order's item")
    address: str = Field(default="", max_length=200, description="needed for a dispatch order")
    district: str = Field(default="", max_length=200)
    caller_name: str = Field(default="", max_length=200)


class CaseOpenedOut(BaseModel):
    number: str
    kind: str
    state: str
    agency_id: str
    made: bool = Field(description="false: the key was used before, or the report merged")
    merged: bool = Field(description="merged into an open dispatch order at the same place")
    became_petition: bool = Field(description="a third report: opened as a petition")
    password: str | None = Field(description="the petition's password, told to the caller now")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uniqueid: str = UNIQUEID
    unit: str = Field(min_length=1, max_length=64, description="a unit of the directory")


class TransferOut(BaseModel):
    unit: str
    number: str = Field(description="the unit's number the transfer engine rings")


@api.post("/agent/call/case", response_model=CaseOpenedOut, responses=_ERRORS)
async def call_case(request: Request, session: AgentWriter, body: CaseIn) -> CaseOpenedOut:
    """Open a petition or a dispatch case from the call on the agent's screen."""
    form = CaseForm(
        body.kind,
        body.summary,
        body.agency,
        "" if body.item is None else str(body.item),
        body.address,
        body.district,
        body.caller_name,
    )
    try:
        opened = await as_agent(request, session, call_actions.open_from_call)(
            body.uniqueid, body.key, form
        )
    except CallActionError as exc:
        raise _refusal(exc) from exc
    case = opened.case
    return CaseOpenedOut(
        number=case.number,
        kind=str(case.kind),
        state=str(case.state),
        agency_id=case.agency_id,
        made=opened.made,
        merged=opened.merged,
        became_petition=opened.became_petition,
        password=opened.password,
    )


@api.post("/agent/call/transfer", response_model=TransferOut, responses=_ERRORS)
async def call_transfer(request: Request, session: AgentWriter, body: TransferIn) -> TransferOut:
    """Send the caller of the call on screen into the transfer engine, to `unit`."""
    try:
        code = await as_agent(request, session, call_actions.transfer)(body.uniqueid, body.unit)
    except CallActionError as exc:
        raise _refusal(exc) from exc
    return TransferOut(unit=body.unit, number=code)
