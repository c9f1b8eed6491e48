"""Sign-in, sign-out and the interface language. Every sign-in is audited."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ivr.domain.vocabulary import UiLanguage
from ivr.store import audit
from ivr.store.users import Session, token_hash
from ivr.web import auth
from ivr.web.auth import console
from ivr.web.i18n import translator
from ivr.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root(request: Request) -> Response:
    try:
        session = await auth.signed_in(request)
    except auth.NotSignedIn:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(auth.home_of(session.user.role), status_code=303)


@router.get("/signin")
async def signin_form(request: Request) -> Response:
    token = auth.signin_csrf(request)
    response = render(request, "signin.html", None, signin_csrf=token)
    auth.set_signin_csrf(response, request, token)
    return response


@router.post("/signin")
async def signin(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    lang: Annotated[str, Form(max_length=8)] = "zh-TW",
) -> Response:
    ctx = console(request)
    t = translator(lang if lang in ("zh-TW", "en") else "zh-TW")
    cookie = request.cookies.get(auth.SIGNIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        raise auth.CsrfRefused
    address = request.client.host if request.client else None
    now = ctx.clock()
    outcome = await ctx.users.sign_in(username, password, at=now, address=address)
    await audit.record(
        ctx.store,
        at=now,
        who=username or "?",
        action="signin",
        subject=f"user:{username}",
        detail=f"{outcome.refused or 'ok'} from {address or '?'}",
    )
    if outcome.token is None or outcome.user is None:
        if outcome.refused == "locked" and outcome.locked_until is not None:
            tz = ctx.routing_view().office.tz
            until = outcome.locked_until.astimezone(tz).strftime("%H:%M:%S")
            message = t("locked", until=until)
        else:
            # A disabled account hears the same as a wrong password until its password
            # is right: the name alone tells nobody that it exists.
            message = t(outcome.refused or "bad_credentials")
        token = auth.signin_csrf(request)
        page = render(
            request,
            "signin.html",
            None,
            status_code=401,
            errors=[message],
            signin_csrf=token,
            username=username,
        )
        auth.set_signin_csrf(page, request, token)
        return page
    response = RedirectResponse(auth.home_of(outcome.user.role), status_code=303)
    auth.set_session_cookie(response, request, outcome.token)
    return response


@router.post("/signout")
async def signout(
    request: Request, session: Annotated[Session, Depends(auth.csrf_checked)]
) -> Response:
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    await console(request).users.sign_out(token)
    # Open event streams of this session (screen pops) end now, not at their next look.
    console(request).hub.end_session(token_hash(token))
    response = RedirectResponse("/signin", status_code=303)
    auth.clear_session_cookie(response)
    return response


@router.post("/me/language")
async def set_language(
    request: Request,
    session: Annotated[Session, Depends(auth.csrf_checked)],
    language: Annotated[UiLanguage, Form()],
) -> Response:
    await console(request).users.set_language(session.user.id, language)
    return RedirectResponse(auth.home_of(session.user.role), status_code=303)
