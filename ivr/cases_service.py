"""Cases as the CLI (and later the web console) use them: read, decide, write, notify.

Each operation reads the case, asks the pure rules (`ivr.domain.cases`) what the action
does, and hands the result to the store (`ivr.store.cases`) in one transaction. The
clock is a parameter; so are the routing tables (items, merge radius, calendar) and the
mailer.

This module acts on cases that exist. The context and `find` are in `ivr.cases_context`,
notices in `ivr.cases_notify` and opening a case in `ivr.cases_opening`; their names
are re-exported here, so callers keep importing the service alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ivr.cases_context import (
    CaseContext,
    CaseError,
    CaseNeedsOfficer,
    CaseNeedsResult,
    CaseNeedsText,
    CaseUnknownAgency,
    CaseUnknownItem,
    CaseUnknownUnit,
    ConvertDispatchOnly,
    Mailer,
    MergeDispatchOnly,
    MergeIntoClosed,
    MergeIntoItself,
    ReassignNeedsAgency,
    ReassignNeedsReason,
    allowed_move,
    case_facts,
    context_for,
    find,
)
from ivr.cases_notify import Notice, citizen_notice, outbox_rows
from ivr.cases_opening import CaseInput, Opened, import_key, open_case, prepare, seal
from ivr.domain.calendar import Calendar
from ivr.domain.cases.deadlines import DispatchItem
from ivr.domain.cases.deidentify import deidentify
from ivr.domain.cases.move_refusals import CaseMoveRefused
from ivr.domain.cases.workflow import decide
from ivr.domain.masking import mask_number
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState
from ivr.store.cases import CaseChanged, CaseRecord

__all__ = [
    "ONE_DAY",
    "CaseContext",
    "CaseError",
    "CaseInput",
    "Done",
    "Mailer",
    "Notice",
    "Opened",
    "act",
    "context_for",
    "convert",
    "day_start",
    "deidentify_replied",
    "find",
    "import_key",
    "merge",
    "open_case",
    "prepare",
    "seal",
]


@dataclass(frozen=True)
class Done:
    case: CaseRecord
    applied: bool
    notices: tuple[Notice, ...] = ()
    # Notices queued in the outbox with the move (the outbox's sender sends them).
    sent: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _changes(
    ctx: CaseContext,
    case: CaseRecord,
    action: CaseAction,
    at: datetime,
    text: str | None,
    score: int | None,
    agency_id: str | None,
    unit_id: str | None,
    officer: str | None,
    item: int | None,
    nothing_found: bool | None,
) -> tuple[dict[str, Any], DispatchItem | None]:
    """What the action writes on the case besides its state, checked against the tables."""
    changes: dict[str, Any] = {}
    new_item = None
    if action is CaseAction.ASSIGNED:
        if not officer:
            raise CaseNeedsOfficer("assign needs the officer")
        changes["officer"] = officer
    elif action is CaseAction.REASSIGNED:
        changes, new_item = _reassign_changes(ctx, text, agency_id, unit_id, officer, item)
    elif action in (CaseAction.REPLIED, CaseAction.GRADED) or (
        action is CaseAction.CLOSED and case.kind != CaseKind.PETITION
    ):
        if not text:
            raise CaseNeedsText("a reply or a result needs its text (--text, --template, --result)")
        changes["reply"] = text
        if case.first_reply_at is None:
            changes["first_reply_at"] = at
    elif action is CaseAction.CLOSED and not text:
        raise CaseNeedsResult("closing needs the result: --result")
    if action is CaseAction.CLOSED and nothing_found is not None:
        changes["nothing_found"] = nothing_found
    if action is CaseAction.SURVEY and score is not None:
        changes["satisfaction"] = score
    return changes, new_item


def _reassign_changes(
    ctx: CaseContext,
    reason: str | None,
    agency_id: str | None,
    unit_id: str | None,
    officer: str | None,
    item: int | None,
) -> tuple[dict[str, Any], DispatchItem | None]:
    changes: dict[str, Any] = {}
    new_item = None
    if item is not None:
        new_item = ctx.items.get(item)
        if new_item is None:
            raise CaseUnknownItem(
                f"no dispatch item {item} in this profile's tables", details={"item": item}
            )
        changes["item"] = item
        agency_id = agency_id or new_item.agency_id
        unit_id = unit_id or new_item.unit
    if agency_id is None:
        raise ReassignNeedsAgency("re-assignment needs --agency (or --item for a dispatch order)")
    if agency_id not in ctx.agency_ids():
        raise CaseUnknownAgency(
            f"no agency {agency_id!r} in the directory", details={"agency": agency_id}
        )
    if unit_id is not None and unit_id not in ctx.units_of(agency_id):
        raise CaseUnknownUnit(
            f"agency {agency_id!r} has no unit {unit_id!r}",
            details={"agency": agency_id, "unit": unit_id},
        )
    if not reason:
        raise ReassignNeedsReason("re-assignment needs its reason (T6(4)): --reason")
    changes.update(agency_id=agency_id, unit_id=unit_id, officer=officer)
    return changes, new_item


async def act(
    ctx: CaseContext,
    ref: str,
    action: CaseAction,
    *,
    at: datetime,
    who: str,
    text: str | None = None,
    grade: CaseGrade | None = None,
    score: int | None = None,
    agency_id: str | None = None,
    unit_id: str | None = None,
    officer: str | None = None,
    item: int | None = None,
    nothing_found: bool | None = None,
    key: str | None = None,
) -> Done:
    """Apply one action to the case `ref`; CaseError for anything the rules refuse."""
    case = await find(ctx, ref)
    changes, new_item = _changes(
        ctx, case, action, at, text, score, agency_id, unit_id, officer, item, nothing_found
    )
    try:
        move = decide(
            case_facts(ctx, case),
            action,
            at,
            # The calendar of the agency responsible after the action (a re-assignment's
            # new agency): its days off move the deadlines it starts.
            ctx.calendar_for(changes.get("agency_id", case.agency_id)),
            grade=grade,
            score=score,
            new_item=new_item,
        )
    except (CaseMoveRefused, ValueError) as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
    if move.grade is not None:
        changes["grade"] = move.grade
    if move.state is CaseState.CLOSED and case.state != CaseState.CLOSED:
        changes["closed_at"] = at
    if move.state is CaseState.ASSIGNED and case.state in (CaseState.CLOSED, CaseState.REVIEW):
        changes["closed_at"] = None
    notice = None
    if move.notify_citizen:
        subject = f"1999 case {case.number}: {move.state}"
        body = text or ""
        if move.survey:
            body += (
                "\n\nHow satisfied are you with this reply? Answer 1 (very dissatisfied) "
                f"to 5 (very satisfied), quoting case {case.number}."
            )
        notice = citizen_notice(case, subject, body, action=action, at=at, key=key)
    rows = outbox_rows(notice, at)
    try:
        after, applied = await ctx.book.apply(
            case,
            action,
            move,
            at=at,
            who=who,
            text=text,
            changes=changes,
            key=key,
            messages=rows,
        )
    except CaseChanged as exc:
        raise CaseError(f"{exc}; try again") from exc
    except ValueError as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
    notices = (notice,) if applied and notice is not None else ()
    # Queued with the move (the outbox's sender delivers them), counted once.
    return Done(after, applied, notices, len(rows) if applied else 0)


async def convert(ctx: CaseContext, ref: str, *, at: datetime, who: str, reason: str) -> Done:
    """A dispatch order becomes a petition (T6(4)): the new petition, then the old marked.

    Both steps are keyed by the order's id, so a convert interrupted between them and
    run again makes the petition once and finishes the marking.
    """
    order = await find(ctx, ref)
    if order.kind != CaseKind.DISPATCH:
        raise ConvertDispatchOnly(
            f"case {order.number} is a {order.kind}; only a dispatch order converts",
            details={"number": order.number},
        )
    data = CaseInput(
        kind=CaseKind.PETITION,
        summary=order.summary,
        agency_id=order.agency_id,
        unit_id=order.unit_id,
        category=f"dispatch item {order.item}",
        caller_number=order.caller_number,
        caller_name=order.caller_name,
        caller_email=order.caller_email,
        caller_address=order.caller_address,
        language=order.language,
        address=order.address,
        district=order.district,
        lat=order.lat,
        lon=order.lon,
    )
    move = allowed_move(ctx, order, CaseAction.CONVERTED, at)
    new, clocks, password = prepare(ctx, data, at)
    new = await seal(replace(new, idempotency_key=f"convert:{order.profile}:{order.id}"), password)
    petition, made = await ctx.book.create(
        new, clocks, who=who, data={"converted_from": order.number}
    )
    after, applied = await ctx.book.apply(
        order,
        CaseAction.CONVERTED,
        move,
        at=at,
        who=who,
        text=reason,
        changes={"converted_to_id": petition.id, "closed_at": at},
        data={"petition": petition.number},
        key=f"convert-mark:{order.profile}:{order.id}",
    )
    return Done(
        after,
        applied,
        extra={"petition": petition, "password": password if made else None},
    )


async def merge(
    ctx: CaseContext, ref: str, into_ref: str, *, at: datetime, who: str, reason: str | None
) -> Done:
    """Fold one open order into another of the same item (T6(6)1), by hand."""
    case = await find(ctx, ref)
    into = await find(ctx, into_ref)
    if case.id == into.id:
        raise MergeIntoItself("a case cannot merge into itself")
    if case.kind != CaseKind.DISPATCH or into.kind != CaseKind.DISPATCH:
        raise MergeDispatchOnly("only dispatch orders merge")
    if into.state not in (CaseState.OPEN, CaseState.ASSIGNED):
        raise MergeIntoClosed(
            f"case {into.number} is {into.state}: merge into an open order",
            details={"number": into.number, "state": into.state},
        )
    move = allowed_move(ctx, case, CaseAction.MERGED, at)
    after, applied = await ctx.book.apply(
        case,
        CaseAction.MERGED,
        move,
        at=at,
        who=who,
        text=reason,
        changes={"merged_into_id": into.id, "closed_at": at},
        data={"into": into.number},
        key=f"merge:{case.profile}:{case.id}",
    )
    if applied:
        target_move = decide(case_facts(ctx, into), CaseAction.ABSORBED, at, ctx.office)
        await ctx.book.apply(
            into,
            CaseAction.ABSORBED,
            target_move,
            at=at,
            who=who,
            text=f"case {case.number} merged into this order",
            data={"from": case.number},
            key=f"absorb:{case.profile}:{case.id}",
        )
    return Done(after, applied, extra={"into": into.number})


# -- de-identification ------------------------------------------------------------------


async def deidentify_replied(ctx: CaseContext, *, now: datetime, who: str) -> list[str]:
    """Mask every case replied before today's local midnight (P7(3)); their numbers.

    Run at the daily round (08:00), this de-identifies a case the morning after its
    reply, within "the next working day" whatever the calendar.
    """
    local = now.astimezone(ctx.office.tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    done = []
    for case in await ctx.book.to_deidentify(midnight):
        names = [case.caller_name or ""]
        addresses = [case.caller_address or ""]
        changes: dict[str, Any] = {
            "summary": deidentify(case.summary, names, addresses),
            "reply": deidentify(case.reply, names, addresses) if case.reply else None,
            "caller_name": deidentify(case.caller_name or "", names) or None,
            "caller_address": deidentify(case.caller_address or "", [], addresses) or None,
            "caller_email": None if case.caller_email is None else "○",
            "caller_number": mask_number(case.caller_number) or None,
            "deidentified_at": now,
        }
        events = await ctx.book.events(case.id)
        masked = {
            e.id: deidentify(e.text, names, addresses)
            for e in events
            if e.text and deidentify(e.text, names, addresses) != e.text
        }
        await ctx.book.mask_events(case.id, masked)
        move = decide(case_facts(ctx, case), CaseAction.DEIDENTIFIED, now, ctx.office)
        try:
            await ctx.book.apply(
                case,
                CaseAction.DEIDENTIFIED,
                move,
                at=now,
                who=who,
                changes=changes,
                key=f"deidentify:{case.profile}:{case.id}",
            )
        except CaseChanged:
            continue  # moved meanwhile: the next round masks it
        done.append(case.number)
    return done


def day_start(moment: datetime, cal: Calendar) -> datetime:
    local = moment.astimezone(cal.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


ONE_DAY = timedelta(days=1)
