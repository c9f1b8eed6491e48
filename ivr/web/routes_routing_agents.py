"""The agents and queues editor (issue 17): agents' skills and language, queues'
skills, strategy and longest wait in a draft's agents.yaml. Its page, and the same in
the JSON API under /api/v1/routing/drafts/{id}/agents; the service is
`ivr.web.routing_agents`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ivr.store.users import Session
from ivr.web import routes_routing_lists as shared
from ivr.web import routing_agents as agents
from ivr.web.auth import console
from ivr.web.routes_routing import BASE, Reader, Writer, client_address
from ivr.web.routes_routing_api import (
    _ERRORS,
    ApiReader,
    ApiWriter,
    DraftOut,
    Index,
    RowId,
    _answer,
    _draft_out,
)
from ivr.web.routes_routing_api import api as routing_api

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=routing_api.prefix, tags=["routing"])
PART = "agents"
ListKey = Literal["agents", "queues"]


async def _page(request: Request, session: Session, draft_id: int, **shown: Any) -> Response:
    return await shared.show(
        request,
        session,
        "routing_agents.html",
        lambda: agents.page(console(request), draft_id),
        action=shared.draft_url(draft_id, PART),
        **shown,
    )


@router.get(BASE + "/drafts/{draft_id}/agents")
async def agents_page(request: Request, session: Reader, draft_id: int) -> Response:
    return await _page(request, session, draft_id, notice=shared.notice_of(request, session))


@router.post(BASE + "/drafts/{draft_id}/agents/{key}/{index}")
async def change_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: str,
    index: int,
    revision: Annotated[int, Form()],
    skills: Annotated[str, Form(max_length=200)] = "",
    language: Annotated[str, Form(max_length=32)] = "",
    strategy: Annotated[str, Form(max_length=16)] = "",
    max_wait_s: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    typed = {"skills": skills, "language": language, "strategy": strategy}
    typed["max_wait_s"] = max_wait_s
    return await shared.form_change(
        agents.change(
            console(request),
            session.user,
            draft_id,
            key,
            revision=revision,
            index=index,
            typed=typed,
            address=client_address(request),
        ),
        lambda **shown: _page(request, session, draft_id, **shown),
        key=f"{key}-{index}",
        form=typed,
        done=f"{shared.draft_url(draft_id, PART)}?notice=saved#{key}-{index}-row",
    )


# ---------------------------------------------------------------- JSON API


class AgentsOut(BaseModel):
    agents: list[shared.RowOut]
    queues: list[shared.RowOut]


class ChangeIn(BaseModel):
    """The fields to write: skills for both; language for an agent; strategy and
    max_wait_s for a queue (the others are ignored)."""

    model_config = ConfigDict(extra="forbid")
    revision: int
    skills: list[Annotated[str, Field(max_length=32)]] = Field(max_length=16)
    language: str = Field(default="", max_length=32)
    strategy: str = Field(default="rrmemory", max_length=16)
    max_wait_s: int = Field(default=600, ge=-(2**31), le=2**31 - 1)


@api.get("/drafts/{draft_id}/agents", response_model=AgentsOut, responses=_ERRORS)
async def api_agents(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    return await _answer(
        agents.page(console(request), draft_id),
        lambda seen: {rl.spec.key: shared.rows_out(rl.rows, flat=False) for rl in seen.lists},
    )


@api.put("/drafts/{draft_id}/agents/{key}/{index}", response_model=DraftOut, responses=_ERRORS)
async def api_change(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    key: ListKey,
    index: Index,
    body: ChangeIn,
) -> Any:
    """Change an agent or a queue; refused with 422 and `problems` at it if the checker
    says so (nothing saved)."""
    typed = {
        "skills": ", ".join(body.skills),
        "language": body.language,
        "strategy": body.strategy,
        "max_wait_s": str(body.max_wait_s),
    }
    return await _answer(
        agents.change(
            console(request),
            session.user,
            draft_id,
            key,
            revision=body.revision,
            index=index,
            typed=typed,
            address=client_address(request),
        ),
        _draft_out,
    )
