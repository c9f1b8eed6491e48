"""The agents and queues editor (issue 17): every field of an agent or a queue in a
draft's agents.yaml, changed, added, removed (a queue after "what refers to this").
Its pages, and the same in the JSON API under /api/v1/routing/drafts/{id}/agents; the
service is `ivr.web.routing_agents`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from ivr.store.users import Session
from ivr.web import routes_routing_lists as shared
from ivr.web import routing_admin as admin
from ivr.web import routing_agents as agents
from ivr.web import routing_rename as rename
from ivr.web.auth import console
from ivr.web.routes_routing import BASE, Reader, Writer, as_editor, client_address
from ivr.web.routes_routing_api import (
    _ERRORS,
    ApiReader,
    ApiWriter,
    DraftOut,
    Index,
    ReferenceOut,
    RowId,
    _answer,
    _draft_out,
    _refused,
    _removed,
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
        defaults={key: agents.defaults(key) for key in agents.SPECS},
        **shown,
    )


async def _typed(request: Request, key: str) -> dict[str, str]:
    """The row's fields as the form sent them (a checkbox left off is not sent)."""
    form = await request.form()
    return {
        f.name: str(form.get(f.name, ""))[: f.maxlength if f.kind != "checkbox" else 5]
        for f in agents.spec_of(key).fields
    }


def _done(draft_id: int, anchor: str) -> str:
    return f"{shared.draft_url(draft_id, PART)}?notice=saved#{anchor}"


@router.get(BASE + "/drafts/{draft_id}/agents")
async def agents_page(request: Request, session: Reader, draft_id: int) -> Response:
    return await _page(request, session, draft_id, notice=shared.notice_of(request, session))


@router.post(BASE + "/drafts/{draft_id}/agents/{key}/add")
async def add_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: ListKey,
    revision: Annotated[int, Form()],
) -> Response:
    typed = await _typed(request, key)
    return await shared.form_change(
        as_editor(request, session, agents.add)(draft_id, key, revision=revision, typed=typed),
        lambda **shown: _page(request, session, draft_id, **shown),
        key=key,
        form=typed,
        done=_done(draft_id, key),
    )


@router.post(BASE + "/drafts/{draft_id}/agents/{key}/{index:int}")
async def change_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: ListKey,
    index: int,
    revision: Annotated[int, Form()],
) -> Response:
    typed = await _typed(request, key)
    return await shared.form_change(
        as_editor(request, session, agents.change)(
            draft_id, key, revision=revision, index=index, typed=typed
        ),
        lambda **shown: _page(request, session, draft_id, **shown),
        key=f"{key}-{index}",
        form=typed,
        done=_done(draft_id, f"{key}-{index}-row"),
    )


@router.post(BASE + "/drafts/{draft_id}/agents/{key}/{index:int}/remove")
async def remove_form(
    request: Request,
    session: Writer,
    draft_id: int,
    key: ListKey,
    index: int,
    revision: Annotated[int, Form()],
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    # What refers to the queue, and the same button again to confirm.
    return await shared.removal(
        as_editor(request, session, agents.remove)(
            draft_id, key, revision=revision, index=index, confirm=confirm == "yes"
        ),
        request,
        session,
        draft_id,
        again=_page,
        refs_page="routing_agents_refs.html",
        row=lambda: agents.row_at(console(request), draft_id, key, index),
        done=f"{shared.draft_url(draft_id, PART)}?notice=saved#{key}",
        key=key,
        action=shared.draft_url(draft_id, PART),
    )


# ---------------------------------------------------------------- JSON API

Text = Annotated[str, Field(max_length=100)]
Word = Annotated[str, Field(max_length=64)]
Whole = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class _RowIn(BaseModel):
    """The fields sent are written; those not sent are kept (on a change) or left to
    the table's default (on an add); null leaves a field out of the table."""

    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=-(2**31), le=2**31 - 1)

    def typed(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self.model_fields_set - {"revision"}:
            value = getattr(self, name)
            if value is None:
                out[name] = ""
            elif isinstance(value, bool):
                out[name] = "true" if value else ""
            elif isinstance(value, list):
                out[name] = ", ".join(str(v) for v in value)
            else:
                out[name] = str(value)
        return out


class AgentIn(_RowIn):
    id: Word | None = None
    name: Text | None = None
    extension: Annotated[str, Field(max_length=16)] | None = None
    skills: list[Word] | None = Field(default=None, max_length=16)
    language: Word | None = None
    phone_networks: list[Annotated[str, Field(max_length=50)]] | None = Field(
        default=None, max_length=100
    )


class QueueIn(_RowIn):
    id: Word | None = None
    name: Text | None = None
    skills: list[Word] | None = Field(default=None, max_length=16)
    strategy: Word | None = None
    announce_position: bool | None = None
    max_wait_s: Whole | None = None
    offer_after_s: Whole | None = None
    other_language_queue: Word | None = None
    whisper: Word | None = None
    wrapup_s: Whole | None = None
    wrapup_form: bool | None = None
    announce_every_s: Whole | None = None
    offer_when_estimate_over_s: Whole | None = None
    callback_attempts: Whole | None = None
    callback_retry_s: Whole | None = None
    callback_hold_s: Whole | None = None
    video_codecs: list[Word] | None = Field(default=None, max_length=4)


class RemoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: int = Field(ge=-(2**31), le=2**31 - 1)
    confirm: bool = Field(default=False, description="remove even if something refers to it")


class AgentsOut(BaseModel):
    agents: list[shared.RowOut]
    queues: list[shared.RowOut]


@api.get("/drafts/{draft_id}/agents", response_model=AgentsOut, responses=_ERRORS)
async def api_agents(request: Request, session: ApiReader, draft_id: RowId) -> Any:
    """Agents and queues with every field (the table's default where the file has
    none), never a secret, and the checker's problems at each."""
    return await _answer(
        agents.page(console(request), draft_id),
        lambda seen: {rl.spec.key: shared.rows_out(rl.rows, flat=False) for rl in seen.lists},
    )


async def _change(
    request: Request, session: Session, draft_id: int, key: str, index: int, body: _RowIn
) -> Any:
    try:
        done = await agents.change(
            console(request),
            session.user,
            draft_id,
            key,
            revision=body.revision,
            index=index,
            typed=body.typed(),
            address=client_address(request),
        )
    except rename.RenameRefused as exc:
        # A renamed id that something refers to: 422, the checker's problems and what
        # refers to it, as a removal's 409 lists them.
        body_out = {
            "detail": exc.detail,
            "problems": [p.as_json() for p in exc.problems],
            "references": [r.__dict__ for r in exc.refs],
        }
        return JSONResponse(body_out, status_code=exc.status)
    except admin.AdminError as exc:
        return _refused(exc)
    return _draft_out(done)


async def _add(request: Request, session: Session, draft_id: int, key: str, body: _RowIn) -> Any:
    return await _answer(
        agents.add(
            console(request),
            session.user,
            draft_id,
            key,
            revision=body.revision,
            typed=body.typed(),
            address=client_address(request),
        ),
        _draft_out,
    )


@api.put("/drafts/{draft_id}/agents/agents/{index}", response_model=DraftOut, responses=_ERRORS)
async def api_change_agent(
    request: Request, session: ApiWriter, draft_id: RowId, index: Index, body: AgentIn
) -> Any:
    """Change an agent's fields sent; 422 with `problems` at it if the checker refuses.
    A new `id` for an agent a console account signs in as: 422 with `references`."""
    return await _change(request, session, draft_id, "agents", index, body)


@api.put("/drafts/{draft_id}/agents/queues/{index}", response_model=DraftOut, responses=_ERRORS)
async def api_change_queue(
    request: Request, session: ApiWriter, draft_id: RowId, index: Index, body: QueueIn
) -> Any:
    """Change a queue's fields sent; 422 with `problems` at it if the checker refuses.
    A new `id` for a queue something sends callers to: 422 with `problems` (what the
    checker would say of each place) and `references`; nothing is saved."""
    return await _change(request, session, draft_id, "queues", index, body)


@api.post("/drafts/{draft_id}/agents/agents", response_model=DraftOut, responses=_ERRORS)
async def api_add_agent(
    request: Request, session: ApiWriter, draft_id: RowId, body: AgentIn
) -> Any:
    """Add an agent; 422 with `problems` at it if the checker refuses (nothing saved)."""
    return await _add(request, session, draft_id, "agents", body)


@api.post("/drafts/{draft_id}/agents/queues", response_model=DraftOut, responses=_ERRORS)
async def api_add_queue(
    request: Request, session: ApiWriter, draft_id: RowId, body: QueueIn
) -> Any:
    """Add a queue; 422 with `problems` at it if the checker refuses (nothing saved)."""
    return await _add(request, session, draft_id, "queues", body)


@api.get(
    "/drafts/{draft_id}/agents/{key}/{index}/references",
    response_model=list[ReferenceOut],
    responses=_ERRORS,
)
async def api_references(
    request: Request, session: ApiReader, draft_id: RowId, key: ListKey, index: Index
) -> Any:
    """What refers to a queue (menus, other queues) or an agent (console accounts)."""
    return await _answer(
        agents.refs(console(request), draft_id, key, index),
        lambda found: [r.__dict__ for r in found],
    )


@api.post(
    "/drafts/{draft_id}/agents/{key}/{index}/remove", response_model=DraftOut, responses=_ERRORS
)
async def api_remove(
    request: Request,
    session: ApiWriter,
    draft_id: RowId,
    key: ListKey,
    index: Index,
    body: RemoveIn,
) -> Any:
    """Remove an agent or a queue; one something refers to (a menu, another queue, a
    console account): 409 with `references`, unless `confirm`."""
    return await _removed(
        as_editor(request, session, agents.remove)(
            draft_id, key, revision=body.revision, index=index, confirm=body.confirm
        )
    )
