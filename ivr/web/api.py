"""The JSON API under /api/v1, over the same services as the pages.

Signed in by the same session cookie; every change carries the session's CSRF token
in the X-CSRF-Token header. Errors are {"detail": ...} with 401, 403, 404, 409, 422
or 503, as the OpenAPI document says.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ivr.domain.vocabulary import PauseReason, Role, UiLanguage
from ivr.errors import ExitStatus, HotlineError
from ivr.store.users import Session
from ivr.web import agents, auth, lookup, wallboard, work
from ivr.web.agents import AgentAction, AgentError
from ivr.web.auth import console

PREFIX = "/api/v1"


class Problem(BaseModel):
    detail: str


class ApiError(HotlineError):
    code = "web.api_refused"
    exit_status = ExitStatus.REFUSED

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


_COMMON: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "not signed in, or the session expired"},
    403: {"model": Problem, "description": "the role may not, or no CSRF token"},
}
_CHANGE: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    404: {"model": Problem, "description": "no such ticket for this user"},
    409: {"model": Problem, "description": "not possible in the ticket's state"},
}

router = APIRouter(prefix=PREFIX, tags=["console"], responses=_COMMON)


class Me(BaseModel):
    username: str
    display_name: str
    role: Role
    language: UiLanguage
    agent_id: str | None
    agency_id: str | None
    unit_id: str | None


class AgentOut(BaseModel):
    agent_id: str
    extension: str
    queues: list[str]
    state: str = Field(description="logged_out, ready or paused")
    reason: str | None


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: AgentAction
    reason: PauseReason | None = None


class UnitFoundOut(BaseModel):
    unit: str
    name: str
    name_en: str
    agency: str
    agency_name: str
    number: str
    dial_code: str | None
    matched: str = Field(description="name or duty: how the query matched")
    duties: list[str]


class ReferralOut(BaseModel):
    id: str
    name: str
    name_en: str
    phone: str
    topics: list[str]
    note: str | None


class LookupOut(BaseModel):
    units: list[UnitFoundOut]
    referrals: list[ReferralOut]


class TicketLineOut(BaseModel):
    number: str
    status: str
    due_at: str
    agency_id: str


class PopOut(BaseModel):
    uniqueid: str
    queue: str
    phase: str
    number: str = Field(description="masked as policy says")
    language: str
    menu_path: list[str]
    calls_90_days: int
    open_tickets: list[TicketLineOut]
    blocked: str | None
    cases: list[dict[str, Any]]


class WorkItemOut(BaseModel):
    number: str
    agency_id: str
    unit_id: str | None
    status: str
    reason: str
    due_at: datetime
    seconds_left: int
    overdue: bool
    assignee: str | None
    caller: str = Field(description="masked")
    notes: list[tuple[str, str]]


# Not blank: the services refuse what str.strip() leaves empty, so the schema says so
# and such a body gets the documented validation error, not a bare refusal. \x1c-\x1f
# are spelled out: Python strips them, but they are not Unicode white space, which is
# what \s means to the validator.
NOT_BLANK = r"^[\s\x1c-\x1f]*[^\s\x1c-\x1f]"


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, pattern=NOT_BLANK)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=64, pattern=NOT_BLANK)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=256, pattern=NOT_BLANK)


class Done(BaseModel):
    ok: bool = True


class QueueOut(BaseModel):
    id: str
    name: str
    waiting: int
    longest_wait_s: int
    ready: int
    busy: int
    paused: int
    answered: int
    abandoned: int


class DeadlineOut(BaseModel):
    agency_id: str
    count: int
    overdue: int
    soonest_ticket: str
    soonest_due: datetime


class BoardAgentOut(BaseModel):
    agent_id: str
    state: str = Field(description="ready, busy or paused")
    reason: str | None = Field(description="the pause reason, as Asterisk holds it")
    queues: list[str]


class BoardOut(BaseModel):
    queues: list[QueueOut]
    deadlines: list[DeadlineOut]
    phone_down: bool
    agents: list[BoardAgentOut]


Any_ = Annotated[Session, Depends(auth.signed_in)]
Agent = Annotated[Session, Depends(auth.role_in(Role.AGENT))]
AgentWriter = Annotated[Session, Depends(auth.writer_in(Role.AGENT))]
Reader = Annotated[
    Session,
    Depends(auth.role_in(Role.OFFICER, Role.LIAISON, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)),
]
Writer = Annotated[Session, Depends(auth.writer_in(*auth.WORKERS))]
Watcher = Annotated[Session, Depends(auth.role_in(Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR))]


@router.get("/me", response_model=Me)
async def me(session: Any_) -> Me:
    u = session.user
    return Me(
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        language=u.language,
        agent_id=u.agent_id,
        agency_id=u.agency_id,
        unit_id=u.unit_id,
    )


def _agent_out(view: agents.AgentView) -> AgentOut:
    return AgentOut(
        agent_id=view.agent_id,
        extension=view.extension,
        queues=list(view.queues),
        state=view.state,
        reason=view.reason,
    )


_AGENT_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "the user is not linked to an agent"},
    503: {"model": Problem, "description": "the phone system is not reachable"},
}


def _agent_error(exc: AgentError) -> ApiError:
    if exc.key == "phone_down":
        return ApiError(503, "the phone system is not reachable")
    return ApiError(409, "this user is not linked to an agent in the tables")


@router.get("/agent", response_model=AgentOut, responses=_AGENT_ERRORS)
async def agent_state(request: Request, session: Agent) -> AgentOut:
    try:
        return _agent_out(await agents.view(console(request), session.user.agent_id))
    except AgentError as exc:
        raise _agent_error(exc) from exc


@router.post("/agent/state", response_model=AgentOut, responses=_AGENT_ERRORS)
async def change_agent_state(request: Request, session: AgentWriter, body: StateChange) -> AgentOut:
    try:
        view = await agents.change(
            console(request), session.user.agent_id, body.action, body.reason
        )
    except AgentError as exc:
        raise _agent_error(exc) from exc
    return _agent_out(view)


@router.get("/agent/lookup", response_model=LookupOut)
async def agent_lookup(
    request: Request,
    session: Agent,
    q: Annotated[str, Query(max_length=lookup.MAX_QUERY)] = "",
) -> LookupOut:
    """Units by name or duty, and referral numbers (告知電話); without `q`, every
    referral number and no unit."""
    ctx = console(request)
    return LookupOut(
        units=[
            UnitFoundOut.model_validate(f, from_attributes=True) for f in lookup.directory(ctx, q)
        ],
        referrals=[
            ReferralOut.model_validate(r, from_attributes=True) for r in lookup.referrals(ctx, q)
        ],
    )


@router.get("/agent/pop", response_model=PopOut | None)
async def agent_pop(request: Request, session: Agent) -> PopOut | None:
    """The newest screen pop of the agent's phone, or null."""
    pop = console(request).hub.last_pop.get(session.user.agent_id or "")
    if pop is None:
        return None
    from ivr.web.routes_agent import _audit_pop

    await _audit_pop(request, session, pop)
    return PopOut.model_validate(pop)


@router.get("/work/tickets", response_model=list[WorkItemOut])
async def work_tickets(request: Request, session: Reader) -> list[WorkItemOut]:
    items = await work.my_work(console(request), session.user)
    return [WorkItemOut.model_validate(i, from_attributes=True) for i in items]


def _work_error(exc: work.WorkError) -> ApiError:
    return ApiError(exc.status, exc.key)


async def _work_done(action: Awaitable[object]) -> Done:
    """Run one change to a ticket; a refusal becomes the API's error."""
    try:
        await action
    except work.WorkError as exc:
        raise _work_error(exc) from exc
    return Done()


@router.post("/work/tickets/{number}/notes", response_model=Done, responses=_CHANGE)
async def ticket_note(request: Request, session: Writer, number: str, body: NoteIn) -> Done:
    return await _work_done(work.add_note(console(request), session.user, number, body.text))


@router.post("/work/tickets/{number}/assign", response_model=Done, responses=_CHANGE)
async def ticket_assign(request: Request, session: Writer, number: str, body: AssignIn) -> Done:
    return await _work_done(work.assign(console(request), session.user, number, body.assignee))


@router.post("/work/tickets/{number}/close", response_model=Done, responses=_CHANGE)
async def ticket_close(request: Request, session: Writer, number: str, body: CloseIn) -> Done:
    return await _work_done(work.close(console(request), session.user, number, body.outcome))


@router.get("/wallboard", response_model=BoardOut)
async def wallboard_data(request: Request, session: Watcher) -> BoardOut:
    board = await wallboard.board(console(request))
    return BoardOut.model_validate(board, from_attributes=True)
