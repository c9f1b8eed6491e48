"""Who is signed in, and what they may do: sessions, roles and CSRF, as dependencies.

- The session cookie holds a random token (HttpOnly, SameSite=Strict, Secure when the
  request came over TLS); the store keeps only its hash, with its CSRF token.
- Every state-changing request carries the session's CSRF token: a form's hidden
  `csrf_token` field, or the API's `X-CSRF-Token` header.
- A role that may not do something gets 403 and no data.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from fastapi import Request
from starlette.responses import Response

from ivr.domain.vocabulary import Role
from ivr.errors import ExitStatus, HotlineError
from ivr.store.users import Session
from ivr.web.context import Console

P = ParamSpec("P")
R = TypeVar("R")

SESSION_COOKIE = "hotline_session"
# Before sign-in there is no session: the sign-in form's token is a double-submit cookie.
SIGNIN_CSRF_COOKIE = "hotline_signin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

# Who may only read: the auditor sees what supervisors see and changes nothing.
READERS = frozenset(Role)
WORKERS = frozenset({Role.OFFICER, Role.LIAISON, Role.SUPERVISOR, Role.ADMIN})


class NotSignedIn(HotlineError):
    """No session, or it expired: a page goes to sign-in, the API answers 401."""

    code = "web.not_signed_in"
    exit_status = ExitStatus.REFUSED


class Forbidden(HotlineError):
    """The role may not do this: 403 and no data."""

    code = "web.forbidden"
    exit_status = ExitStatus.REFUSED


class CsrfRefused(HotlineError):
    """A state-changing request without the session's CSRF token."""

    code = "web.csrf_refused"
    exit_status = ExitStatus.REFUSED


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def as_agent(
    request: Request, session: Session, act: Callable[Concatenate[Console, str, str, P], R]
) -> Callable[P, R]:
    """A call action (`ivr.web.call_actions`, `ivr.web.threeway`) as the signed-in agent:
    the console, the agent's id ("" for an account with none: the action refuses it) and
    the username, then the action's own fields."""
    return functools.partial(
        act, console(request), session.user.agent_id or "", session.user.username
    )


async def signed_in(request: Request) -> Session:
    """The request's live session; NotSignedIn otherwise. Touches its idle clock."""
    cached: Session | None = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn
    ctx = console(request)
    found = await ctx.users.session(token, at=ctx.clock())
    if found is None:
        raise NotSignedIn
    request.state.session = found
    return found


def _gate(
    check: Callable[[Request], Awaitable[Session]], roles: tuple[Role, ...]
) -> Callable[[Request], Awaitable[Session]]:
    """A dependency: the session `check` gives, if its role is one of `roles`."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Session:
        session = await check(request)
        if session.user.role not in allowed:
            raise Forbidden
        return session

    return dependency


def role_in(*roles: Role) -> Callable[[Request], Awaitable[Session]]:
    """A dependency: the signed-in session, if its role is one of `roles`."""
    return _gate(signed_in, roles)


async def csrf_checked(request: Request) -> Session:
    """For every POST: a live session whose CSRF token the request carries."""
    session = await signed_in(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, session.csrf_token):
        raise CsrfRefused
    return session


def writer_in(*roles: Role) -> Callable[[Request], Awaitable[Session]]:
    """A dependency for changes: CSRF checked, and the role one of `roles`."""
    return _gate(csrf_checked, roles)


def is_tls(request: Request) -> bool:
    # uvicorn sets the scheme from X-Forwarded-Proto only for trusted proxies.
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_tls(request),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def signin_csrf(request: Request) -> str:
    """The sign-in form's token: the cookie's if the browser has one, else a new one."""
    return request.cookies.get(SIGNIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_signin_csrf(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_tls(request),
        path="/signin",
    )


def home_of(role: Role) -> str:
    """Where each role lands after sign-in."""
    return {
        Role.AGENT: "/agent",
        Role.OFFICER: "/work",
        Role.LIAISON: "/work",
    }.get(role, "/wallboard")


def nav_of(role: Role) -> list[tuple[str, str]]:
    """The pages in a role's menu: (path, word key)."""
    items: list[tuple[str, str]] = []
    if role is Role.AGENT:
        items.append(("/agent", "agent_page"))
    if role in (Role.OFFICER, Role.LIAISON, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        items.append(("/work", "work_page"))
    if role in (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        items.append(("/wallboard", "wallboard"))
        items.append(("/admin/routing", "routing_admin"))
    return items


def page_context(request: Request, session: Session | None) -> dict[str, Any]:
    """What every page template gets: the user, their words, the CSRF token, the menu."""
    from ivr.web.i18n import translator

    language = session.user.language if session else request.query_params.get("lang", "zh-TW")
    if language not in ("zh-TW", "en"):
        language = "zh-TW"
    return {
        "request": request,
        "session": session,
        "user": session.user if session else None,
        "lang": language,
        "t": translator(language),
        "csrf": session.csrf_token if session else "",
        "nav": nav_of(session.user.role) if session else [],
        "path": request.url.path,
    }
