"""The FAQ search (T2(1)): its page and the agent page's panel (`_faq.html`), and
`GET /api/v1/agent/faq` in the JSON API. Agents search it during a call; supervisors
may read it too. The service is `ivr.web.faq`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import HTMLResponse, Response

from ivr.domain.vocabulary import Role
from ivr.store.users import Session
from ivr.web import auth, faq
from ivr.web.api import PREFIX
from ivr.web.auth import console
from ivr.web.i18n import translator
from ivr.web.pages import fragment, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix=PREFIX, tags=["console"])

Searcher = Annotated[Session, Depends(auth.role_in(Role.AGENT, Role.SUPERVISOR))]
Q = Annotated[str, Query(max_length=faq.MAX_QUERY)]


@router.get("/agent/faq")
async def faq_page(request: Request, session: Searcher, q: Q = "") -> Response:
    """The whole page, or only the results when htmx asks from the agent page."""
    ctx = console(request)
    t = translator(session.user.language)
    q = q.strip()
    hits = faq.search(ctx, q)
    values: dict[str, Any] = {
        "faq_q": q,
        "faq_hits": hits,
        "faq_agencies": faq.agency_names(ctx),
        "faq_status": t("faq_found", n=len(hits), q=q) if hits else t("faq_none", q=q),
    }
    if request.headers.get("HX-Request") == "true":
        html = fragment(request, "_faq_results.html", session, faq_oob=True, **values)
        return HTMLResponse(html)
    return render(request, "faq.html", session, **values)


class FaqOut(BaseModel):
    id: str
    question: str
    answer: str
    question_en: str | None
    answer_en: str | None
    agency: str | None
    keywords: list[str]
    reviewed: date | None


@api.get("/agent/faq", response_model=list[FaqOut])
async def faq_search(request: Request, session: Searcher, q: Q = "") -> list[FaqOut]:
    """FAQ entries that answer `q`, best first (at most 10); none without `q`.
    Chinese is matched by character pairs, other text by words."""
    return [FaqOut.model_validate(e, from_attributes=True) for e in faq.search(console(request), q)]
