"""Rendering a page: every template gets the user, their words, CSRF token and menu."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from ivr.store.users import Session
from ivr.web.auth import console, page_context
from ivr.web.i18n import reason_text

# Time zone of what pages show: the routing profile's (Taipei).


def render(
    request: Request,
    template: str,
    session: Session | None,
    *,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    ctx = console(request)
    context = page_context(request, session)
    t = context["t"]
    tz = ctx.routing_view().office.tz

    def local(at: datetime | None) -> str:
        return "-" if at is None else at.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def left(seconds: int) -> str:
        minutes = abs(seconds) // 60
        key = "overdue_by" if seconds < 0 else "hours_left"
        return str(t(key, h=minutes // 60, m=minutes % 60))

    context.update(
        local=local,
        left=left,
        reason_text=lambda reason: reason_text(t, reason),
        errors=values.pop("errors", None),
    )
    context.update(values)
    return ctx.templates.TemplateResponse(request, template, context, status_code=status_code)


def fragment(request: Request, template: str, session: Session | None, **values: Any) -> str:
    """A template rendered to a string (an SSE message's HTML), escaped as pages are."""
    ctx = console(request)
    context = page_context(request, session)
    context.update(values)
    return ctx.templates.get_template(template).render(context)
