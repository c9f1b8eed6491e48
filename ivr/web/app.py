"""The console's FastAPI application: pages, the JSON API, static files, error pages.

`create_app(console)` is all a caller needs: the engine builds a Console from its own
store, AMI link and tables (ivr/web/server.py), and tests build one on a test store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from ivr.web import (
    api,
    api_call,
    api_supervisor,
    auth,
    routes_agent,
    routes_agent_case,
    routes_agent_day,
    routes_auth,
    routes_faq,
    routes_routing,
    routes_routing_agents,
    routes_routing_api,
    routes_routing_blocklist,
    routes_routing_calendar,
    routes_routing_dispatch,
    routes_routing_hours,
    routes_routing_menus,
    routes_service,
    routes_wallboard,
    routes_work,
    routes_work_cases,
)
from ivr.web.context import STATIC_DIR, Console
from ivr.web.i18n import translator
from ivr.web.pages import render

# Scripts, styles and everything else from this origin only; no inline script, no
# framing: a stored `<script>` that escaped escaping would still not run.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(api.PREFIX)


def create_app(console: Console) -> FastAPI:
    app = FastAPI(
        title="hotline1999 console API",
        version="1",
        openapi_url=f"{api.PREFIX}/openapi.json",
        docs_url=f"{api.PREFIX}/docs",
        redoc_url=None,
    )
    app.state.console = console
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(routes_auth.router)
    app.include_router(routes_agent.router)
    app.include_router(routes_agent_case.router)
    app.include_router(routes_agent_case.api)
    app.include_router(routes_work.router)
    app.include_router(routes_wallboard.router)
    app.include_router(api.router)
    app.include_router(api_call.api)
    app.include_router(api_supervisor.api)
    app.include_router(routes_routing.router)
    app.include_router(routes_routing_blocklist.router)
    app.include_router(routes_routing_blocklist.api)
    app.include_router(routes_routing_calendar.router)
    app.include_router(routes_routing_calendar.api)
    app.include_router(routes_routing_hours.router)
    app.include_router(routes_routing_hours.api)
    app.include_router(routes_routing_dispatch.router)
    app.include_router(routes_routing_dispatch.api)
    app.include_router(routes_routing_agents.router)
    app.include_router(routes_routing_agents.api)
    app.include_router(routes_routing_api.api)
    app.include_router(routes_faq.router)
    app.include_router(routes_faq.api)
    app.include_router(routes_service.router)
    app.include_router(routes_work_cases.router)
    app.include_router(routes_agent_day.router)
    routes_routing_menus.register(app)
    _install_handlers(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.url.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        return response

    return app


def _error_page(request: Request, status: int, key: str) -> Response:
    session = getattr(request.state, "session", None)
    lang = session.user.language if session else "zh-TW"
    t = translator(lang)
    heading = {401: "signin", 403: "error", 404: "error"}.get(status, "error")
    return render(
        request,
        "error.html",
        session,
        status_code=status,
        heading=t(heading),
        message=t(key),
        home=auth.home_of(session.user.role) if session else "/signin",
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(auth.NotSignedIn)
    async def not_signed_in(request: Request, _exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not signed in"}, status_code=401)
        response: Response = RedirectResponse("/signin", status_code=303)
        if request.url.path.startswith("/agent/events"):
            response = Response(status_code=401)
        elif request.headers.get("HX-Request") == "true":
            # htmx would follow a redirect and swap the sign-in page into the part it
            # refreshes (the wallboard's body); this makes it load sign-in as a page.
            response = Response(status_code=401, headers={"HX-Redirect": "/signin"})
        auth.clear_session_cookie(response)
        return response

    @app.exception_handler(auth.Forbidden)
    async def forbidden(request: Request, _exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        return _error_page(request, 403, "forbidden")

    @app.exception_handler(auth.CsrfRefused)
    async def csrf_refused(request: Request, _exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
        return _error_page(request, 403, "csrf")

    @app.exception_handler(api.ApiError)
    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, api.ApiError)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_api(request) or exc.status_code not in (404, 405):
            return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)
        return _error_page(request, exc.status_code, "not_found")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _is_api(request):
            # FastAPI's ValidationError, as the OpenAPI document describes it (loc,
            # msg and type all required), without echoing the refused input back.
            errors = [
                {
                    "loc": [str(p) for p in e.get("loc", ())],
                    "msg": str(e.get("msg", "")),
                    "type": str(e.get("type", "")),
                }
                for e in exc.errors()
            ]
            return JSONResponse({"detail": errors}, status_code=422)
        return _error_page(request, 422, "error_summary")
