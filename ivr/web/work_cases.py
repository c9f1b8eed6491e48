"""Cases on "My work" (issues 15 and 16): an officer's or liaison window's petitions and
dispatch orders, soonest due first, and the case actions they take from the page:
reply with a grade (A done, B a plan, P8), and finish a grade-B petition or an order.

The moves are `ivr.cases_service.act`, the code of `ivr cases reply|grade|close`:
the same rules (`ivr.domain.cases.workflow`), clocks, history rows and citizen notices
(queued in the outbox with the move). Who sees which cases is as for tickets: an
officer their unit's and their own, a liaison window their agency's, supervisors,
admins and auditors all (auditors only read). Texts are shown masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr import cases_service as svc
from ivr.cases_context import CaseNeedsResult, CaseNeedsText
from ivr.cases_view import masked_text
from ivr.domain.vocabulary import CaseAction, CaseClock, CaseGrade, CaseState, Role
from ivr.store import audit
from ivr.store.cases import CaseBook, CaseRecord
from ivr.store.users import User
from ivr.web.context import Console


class CaseNotYours(svc.CaseError):
    """No such case, or another unit's: the two are told apart to no one."""

    code = "case.not_yours"


# States in which a case still has work: the page lists these.
LISTED = (CaseState.OPEN, CaseState.ASSIGNED, CaseState.REPLIED)
MAX_CASES = 200
MAX_TEXT = 4000


@dataclass(frozen=True)
class CaseItem:
    number: str
    kind: str
    state: str
    grade: str | None
    agency_id: str
    unit_id: str | None
    officer: str | None
    summary: str
    reply: str | None
    due_at: datetime | None
    # Negative once overdue; None without a running clock.
    seconds_left: int | None
    # What the page offers: "reply" (with a grade) for a petition being worked,
    # "finish" (with its result) for a grade-B petition or a dispatch order.
    action: str


def may_see(user: User, case: CaseRecord) -> bool:
    if user.role in (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        return True
    if user.role is Role.OFFICER:
        return case.officer == user.username or (
            user.unit_id is not None
            and case.unit_id == user.unit_id
            and (user.agency_id is None or case.agency_id == user.agency_id)
        )
    if user.role is Role.LIAISON:
        return user.agency_id is not None and case.agency_id == user.agency_id
    return False


def _book(ctx: Console) -> CaseBook:
    return CaseBook.of(ctx.store, ctx.tables().profile.name)


def _due(case: CaseRecord) -> datetime | None:
    dues = [
        c.due_at for c in case.clocks if c.stopped_at is None and c.clock != CaseClock.DEIDENTIFY
    ]
    return min(dues, default=None)


def _item(case: CaseRecord, now: datetime) -> CaseItem:
    due = _due(case)
    petition = case.kind == "petition"
    working = case.state in (CaseState.OPEN, CaseState.ASSIGNED)
    return CaseItem(
        number=case.number,
        kind=case.kind,
        state=case.state,
        grade=case.grade,
        agency_id=case.agency_id,
        unit_id=case.unit_id,
        officer=case.officer,
        summary=masked_text(case, case.summary) or "",
        reply=masked_text(case, case.reply),
        due_at=due,
        seconds_left=None if due is None else int((due - now).total_seconds()),
        action="reply" if petition and working else "finish",
    )


async def my_cases(ctx: Console, user: User) -> list[CaseItem]:
    """The user's cases with work left, soonest due first; the view is audited."""
    book = _book(ctx)
    # An officer or liaison window reads their agency's cases only; may_see narrows them.
    agency = user.agency_id if user.role in (Role.OFFICER, Role.LIAISON) else None
    found: list[CaseRecord] = []
    for state in LISTED:
        found += await book.search(state=state, agency_id=agency, limit=MAX_CASES)
    cases = [c for c in found if may_see(user, c)]
    now = ctx.clock()
    if cases:
        await audit.record(
            ctx.store,
            at=now,
            who=user.username,
            action="view",
            subject=f"work-cases:{user.username}",
            detail=f"{len(cases)} cases, personal data masked",
        )
    far = now + timedelta(days=3650)
    items = [_item(c, now) for c in cases]
    return sorted(items, key=lambda i: (i.due_at or far, i.number))


async def case_context(ctx: Console) -> svc.CaseContext:
    tables = ctx.tables()
    view = ctx.routing_view()
    since = (ctx.clock() - svc.ONE_DAY * 400).astimezone(view.office.tz).date()
    closures = list((await ctx.store.closures(since)).values())
    return svc.context_for(_book(ctx), tables, view.office, tables.source, closures)


async def _case_for(ctx: Console, cases: svc.CaseContext, user: User, number: str) -> CaseRecord:
    try:
        case = await svc.find(cases, number)
    except svc.CaseError:
        case = None
    # Another unit's case is as absent as a case that does not exist.
    if case is None or not may_see(user, case):
        raise CaseNotYours(f"no case {number} for you", details={"number": number})
    return case


async def reply(ctx: Console, user: User, number: str, text: str, grade: CaseGrade) -> str:
    """Reply to a petition with its grade: A done (closes it), B a plan (30 days)."""
    text = text.strip()
    if not text:
        raise CaseNeedsText("a reply needs its text")
    cases = await case_context(ctx)
    case = await _case_for(ctx, cases, user, number)
    done = await svc.act(
        cases,
        case.number,
        CaseAction.REPLIED,
        at=ctx.clock(),
        who=user.username,
        text=text[:MAX_TEXT],
        grade=grade,
    )
    return done.case.state


async def finish(ctx: Console, user: User, number: str, result: str) -> str:
    """Close a grade-B petition or a dispatch order with its result."""
    result = result.strip()
    if not result:
        raise CaseNeedsResult("closing needs the result")
    cases = await case_context(ctx)
    case = await _case_for(ctx, cases, user, number)
    done = await svc.act(
        cases,
        case.number,
        CaseAction.CLOSED,
        at=ctx.clock(),
        who=user.username,
        text=result[:MAX_TEXT],
    )
    return done.case.state
