"""What the routing editor's list pages share (issue 17): showing a list page with what
was typed and refused, running a form's change, answering the API with a list's rows.

The block list, calendar, weekly hours and dispatch items routers are each a few
routes over these; their pages build on templates/_list_editor.html.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from ivr.store.users import Session
from ivr.web import routing_admin as admin
from ivr.web import routing_lists as lists
from ivr.web.auth import console
from ivr.web.context import Console
from ivr.web.pages import render
from ivr.web.routes_routing import BASE
from ivr.web.routing_words import routing_translator

# Which list a refused form belongs to, what was typed in it, and the reasons by field.
Typed = tuple[str, dict[str, str], dict[str, list[str]]]


def draft_url(draft_id: int, part: str) -> str:
    return f"{BASE}/drafts/{draft_id}/{part}"


async def show(
    request: Request,
    session: Session,
    template: str,
    load: Callable[[], Awaitable[Any]],
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    notice: str | None = None,
    typed: Typed | None = None,
    **values: Any,
) -> Response:
    """A list page: what `load` read, and the form the admin typed, refused, if any."""
    w = routing_translator(session.user.language)
    try:
        seen = await load()
    except admin.AdminError as exc:
        return render(
            request,
            "routing.html",
            session,
            w=w,
            status_code=exc.status,
            errors=[exc.detail],
            seen=None,
        )
    key, form, form_errors = typed or ("", {}, {})
    return render(
        request,
        template,
        session,
        w=w,
        status_code=status_code,
        errors=errors,
        notice=notice,
        page=seen,
        can_edit=session.user.role in admin.EDITORS,
        typed_key=key,
        form=form,
        form_errors={k: "; ".join(v) for k, v in form_errors.items()},
        **values,
    )


class ShownPage(Protocol):
    def __call__(
        self, request: Request, session: Session, draft_id: int, **shown: Any
    ) -> Awaitable[Response]: ...


def page_of(template: str, part: str, load: Callable[[Console, int], Awaitable[Any]]) -> ShownPage:
    """A table's list page (`show`, with its forms sent to the table's own URL): what
    its routes answer, plain or with a form the admin typed and saw refused."""

    async def page(request: Request, session: Session, draft_id: int, **shown: Any) -> Response:
        return await show(
            request,
            session,
            template,
            lambda: load(console(request), draft_id),
            action=draft_url(draft_id, part),
            **shown,
        )

    return page


def notice_of(request: Request, session: Session) -> str | None:
    w = routing_translator(session.user.language)
    return w("saved") if request.query_params.get("notice") == "saved" else None


def saved(url: str, anchor: str = "") -> Response:
    return RedirectResponse(f"{url}?notice=saved{anchor}", status_code=303)


async def form_change(
    change: Awaitable[Any],
    again: Callable[..., Awaitable[Response]],
    *,
    key: str,
    form: dict[str, str],
    done: str,
) -> Response:
    """Run a form's change: to `done` when saved; else the page `again`, with the
    refusal's reasons at the fields the admin typed and at the top."""
    try:
        await change
    except lists.FormRefused as exc:
        reasons = [r for rs in exc.at_field.values() for r in rs]
        return await again(
            status_code=exc.status,
            errors=[exc.detail, *reasons],
            typed=(key, form, exc.at_field),
        )
    except admin.AdminError as exc:
        return await again(
            status_code=exc.status,
            errors=[exc.detail, *(str(p) for p in exc.problems)],
            typed=(key, form, {}),
        )
    return RedirectResponse(done, status_code=303)


async def removal(
    removed: Awaitable[Any],
    request: Request,
    session: Session,
    draft_id: int,
    *,
    again: ShownPage,
    refs_page: str,
    row: Callable[[], Awaitable[Any]],
    done: str,
    **values: Any,
) -> Response:
    """Run a form's removal: to `done` when removed; when something refers to the row,
    what does, on `refs_page` with the same button again to confirm; else the list page
    `again` with the refusal."""
    try:
        await removed
    except lists.Referred as exc:
        return await show(
            request, session, refs_page, row, status_code=exc.status, refs=exc.refs, **values
        )
    except admin.AdminError as exc:
        return await again(request, session, draft_id, status_code=exc.status, errors=[exc.detail])
    return RedirectResponse(done, status_code=303)


class RowOut(BaseModel):
    """A row of a list: its place, its values as the page shows them, its problems."""

    index: int
    values: dict[str, str]
    problems: list[str]


def rows_out(rows: list[lists.Row], *, flat: bool = True) -> list[dict[str, Any]]:
    """A list's rows for the API: the values beside the index (`flat`), or under `values`."""
    if flat:
        return [{"index": r.index, **r.values, "problems": r.problems()} for r in rows]
    return [{"index": r.index, "values": r.values, "problems": r.problems()} for r in rows]
