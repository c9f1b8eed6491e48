"""Cases as the CLI (and later the web console) use them: read, decide, write, notify.

Each operation reads the case, asks the pure rules (`ivr.domain.cases`) what the action
does, and hands the result to the store (`ivr.store.cases`) in one transaction. The
clock is a parameter; so are the routing tables (items, merge radius, calendar) and the
mailer.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog

from ivr.domain.calendar import Calendar, with_days_off
from ivr.domain.cases.deadlines import DispatchItem
from ivr.domain.cases.deidentify import deidentify
from ivr.domain.cases.merge import Location, OpenOrder, PastReport, becomes_petition, merge_target
from ivr.domain.cases.numbers import BadCaseNumber, new_password, parse_case_number
from ivr.domain.cases.secret import caller_key, hash_password
from ivr.domain.cases.workflow import (
    CaseFacts,
    CaseMoveRefused,
    ClockStart,
    Move,
    decide,
    opening_clocks,
)
from ivr.domain.masking import mask_number
from ivr.domain.tickets import Mail, MailNotSent
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState
from ivr.domain.workdays import closure_days
from ivr.errors import ExitStatus, HotlineError
from ivr.routing.replies import ReplyTemplates, load_replies
from ivr.routing.tables import RoutingTables
from ivr.store.cases import CaseBook, CaseChanged, CaseRecord, NewCase

log = structlog.get_logger(__name__)


class CaseError(HotlineError):
    """A case command cannot do what was asked; the message says why, in one line."""

    code = "case.refused"
    exit_status = ExitStatus.REFUSED


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


@dataclass
class CaseContext:
    """What case operations need besides the store: the profile's tables and a mailer."""

    book: CaseBook
    tables: RoutingTables
    office: Calendar
    replies: ReplyTemplates = field(default_factory=ReplyTemplates)
    mailer: Mailer | None = None

    @property
    def items(self) -> dict[int, DispatchItem]:
        return self.tables.dispatch.domain_items()

    @property
    def merge_radius_m(self) -> float:
        return self.tables.dispatch.merge_radius_m

    def agency_ids(self) -> set[str]:
        return {a.id for a in self.tables.directory.agencies}

    def units_of(self, agency_id: str) -> set[str]:
        for a in self.tables.directory.agencies:
            if a.id == agency_id:
                return {u.id for u in a.units}
        return set()


def context_for(
    book: CaseBook,
    tables: RoutingTables,
    office: Calendar,
    profile_dir: Path | None = None,
    closures: Sequence[Any] = (),
    mailer: Mailer | None = None,
) -> CaseContext:
    """A context whose calendar also knows the declared closures (typhoon days)."""
    cal = with_days_off(office, closure_days(closures)) if closures else office
    replies = load_replies(profile_dir) if profile_dir is not None else ReplyTemplates()
    return CaseContext(book, tables, cal, replies, mailer)


# -- notifications ----------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One message a case owes someone: to whom (role and address), subject, text."""

    case_number: str
    to: str
    role: str  # "citizen", "supervisor" or "head"
    channel: str  # "email", "sms" or "phone"
    subject: str
    body: str


async def queue_notification(ctx: CaseContext, notice: Notice) -> bool:
    """Send one message a case owes: the single place every case notification goes.

    E-mail goes out now through the stack's SMTP mailer, as the ticket digest does. A
    notice by SMS or phone, or one with no mailer configured, is logged as waiting, with
    the number masked, and returns False: the notifications outbox delivers those, with
    retries, from this same call site. Returns True once the mail server accepted it.
    """
    if notice.channel == "email" and ctx.mailer is not None and "@" in notice.to:
        try:
            await ctx.mailer.send(Mail((notice.to,), notice.subject, notice.body))
        except MailNotSent as exc:
            log.warning("case_notice_not_sent", case=notice.case_number, error=str(exc))
            return False
        log.info("case_notice_sent", case=notice.case_number, role=notice.role)
        return True
    shown = notice.to if "@" in notice.to else mask_number(notice.to)
    log.info(
        "case_notice_waiting",
        case=notice.case_number,
        role=notice.role,
        channel=notice.channel,
        to=shown,
    )
    return False


def _citizen_notice(case: CaseRecord, subject: str, body: str) -> Notice | None:
    if case.caller_email:
        return Notice(case.number, case.caller_email, "citizen", "email", subject, body)
    if case.caller_number:
        # T6(2): the citizen hears by SMS (a mobile) or by a phone call (a landline).
        channel = (
            "sms"
            if case.caller_number.lstrip("+").removeprefix("886").lstrip("0")[:1] == "9"
            else "phone"
        )
        return Notice(case.number, case.caller_number, "citizen", channel, subject, body)
    return None


async def seal(new: NewCase, password: str | None) -> NewCase:
    """`new` with its password's argon2 hash, computed in a worker thread.

    Hashing takes a fraction of a second of CPU on purpose; on the event loop it would
    stall every call the engine is handling meanwhile.
    """
    if password is None:
        return new
    return replace(new, password_hash=await asyncio.to_thread(hash_password, password))


# -- opening a case ---------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    case: CaseRecord
    made: bool
    # Told to the citizen once, now; None for a case that has none or was made before.
    password: str | None = None
    # The report merged into this open order instead of making a new one (T6(6)1).
    merged: bool = False
    # Three strikes turned the report into a petition (T6(6)2).
    became_petition: bool = False


@dataclass(frozen=True)
class CaseInput:
    kind: CaseKind
    summary: str
    agency_id: str | None = None
    unit_id: str | None = None
    item: int | None = None
    variant: str | None = None
    category: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    caller_email: str | None = None
    caller_address: str | None = None
    language: str | None = None
    address: str | None = None
    district: str | None = None
    lat: float | None = None
    lon: float | None = None
    officer: str | None = None


def prepare(
    ctx: CaseContext, data: CaseInput, at: datetime
) -> tuple[NewCase, tuple[ClockStart, ...], str | None]:
    """The row and clocks of a new case, and its password in clear (petitions only).

    Pure but for the password's randomness; refuses an unknown item, agency or unit.
    The row has no password hash yet: `seal` adds it, off the event loop.
    """
    item = None
    agency_id, unit_id = data.agency_id, data.unit_id
    if data.kind is CaseKind.DISPATCH:
        if data.item is None:
            raise CaseError("a dispatch order needs --item (1-22, see dispatch_items.yaml)")
        item = ctx.items.get(data.item)
        if item is None:
            raise CaseError(f"no dispatch item {data.item} in this profile's tables")
        agency_id = agency_id or item.agency_id
        unit_id = unit_id or item.unit
        if not data.address:
            raise CaseError("a dispatch order needs the place: --address")
    if agency_id is None:
        raise CaseError("a case needs its responsible agency: --agency")
    if agency_id not in ctx.agency_ids():
        raise CaseError(f"no agency {agency_id!r} in the directory")
    if unit_id is not None and unit_id not in ctx.units_of(agency_id):
        raise CaseError(f"agency {agency_id!r} has no unit {unit_id!r}")
    try:
        clocks = opening_clocks(data.kind, at, ctx.office, item, data.variant)
    except (CaseMoveRefused, ValueError) as exc:
        raise CaseError(str(exc)) from exc
    password = new_password() if data.kind is CaseKind.PETITION else None
    new = NewCase(
        kind=data.kind,
        agency_id=agency_id,
        unit_id=unit_id,
        summary=data.summary,
        created_at=at,
        caller_number=data.caller_number,
        caller_key=caller_key(data.caller_number),
        caller_name=data.caller_name,
        caller_email=data.caller_email,
        caller_address=data.caller_address,
        language=data.language,
        address=data.address,
        district=data.district,
        lat=data.lat,
        lon=data.lon,
        item=data.item if data.kind is CaseKind.DISPATCH else None,
        variant=data.variant,
        category=data.category,
        officer=data.officer,
        state=CaseState.ASSIGNED if data.officer else CaseState.OPEN,
    )
    return new, clocks, password


async def open_case(
    ctx: CaseContext,
    data: CaseInput,
    *,
    at: datetime,
    who: str,
    key: str | None = None,
    call_id: int | None = None,
    ticket_id: int | None = None,
) -> Opened:
    """Open a case, or merge a dispatch report into an open order at the same place."""
    became_petition = False
    if data.kind is CaseKind.DISPATCH and data.item is not None and data.address:
        here = Location(data.address, data.district, data.lat, data.lon)
        orders = await ctx.book.open_orders(data.item)
        target = merge_target(
            data.item,
            here,
            [OpenOrder(o.id, data.item, _location(o)) for o in orders],
            ctx.merge_radius_m,
        )
        if target is not None:
            into = next(o for o in orders if o.id == target.case_id)
            return await _merge_report(ctx, into, data, at=at, who=who, key=key, call_id=call_id)
        ckey = caller_key(data.caller_number)
        if ckey is not None:
            past = [
                PastReport(ckey, data.item, _location(r), r.nothing_found)
                for r in await ctx.book.reports_by(ckey, data.item)
            ]
            if becomes_petition(ckey, data.item, here, past, ctx.merge_radius_m):
                item = ctx.items.get(data.item)
                data = replace(
                    data,
                    kind=CaseKind.PETITION,
                    agency_id=data.agency_id or (item.agency_id if item else None),
                    unit_id=data.unit_id or (item.unit if item else None),
                    category=data.category or (f"dispatch item {data.item}"),
                )
                became_petition = True
    new, clocks, password = prepare(ctx, data, at)
    new = await seal(replace(new, idempotency_key=key), password)
    extra = {"three_strikes": True, "item": data.item} if became_petition else {}
    try:
        case, made = await ctx.book.create(
            new, clocks, who=who, call_id=call_id, ticket_id=ticket_id, data=extra
        )
    except (ValueError, LookupError) as exc:
        raise CaseError(str(exc)) from exc
    if call_id is not None:
        # The call's service type (T2(1)) is the case's kind; logged once per call and case.
        await ctx.book.log_service(
            service=case.kind,
            at=at,
            call_id=call_id,
            agency_id=case.agency_id,
            case_id=case.id,
            key=f"case:{case.id}:call:{call_id}",
        )
    return Opened(case, made, password if made else None, became_petition=became_petition)


def _location(case: CaseRecord) -> Location:
    return Location(case.address or "", case.district, case.lat, case.lon)


async def _merge_report(
    ctx: CaseContext,
    into: CaseRecord,
    data: CaseInput,
    *,
    at: datetime,
    who: str,
    key: str | None,
    call_id: int | None,
) -> Opened:
    facts = _facts(ctx, into)
    move = decide(facts, CaseAction.ABSORBED, at, ctx.office)
    note = f"another report at {data.address}: {data.summary}"
    case, _ = await ctx.book.apply(
        into,
        CaseAction.ABSORBED,
        move,
        at=at,
        who=who,
        text=note[:8000],
        data={"merged_report": True, "caller": mask_number(data.caller_number)},
        key=key,
    )
    if call_id is not None:
        await ctx.book.link(case.id, at=at, call_id=call_id)
    return Opened(case, made=False, merged=True)


# -- acting on a case -------------------------------------------------------------------


async def find(ctx: CaseContext, ref: str) -> CaseRecord:
    """A case by its number (checked digit by digit), or else by its id."""
    case = None
    try:
        parse_case_number(ref)
        case = await ctx.book.by_number(ref.strip().replace(" ", "").replace("-", ""))
    except BadCaseNumber as exc:
        if ref.startswith("id:") and ref[3:].isdigit():
            case = await ctx.book.get(int(ref[3:]))
        elif not ref.isdigit():
            raise CaseError(f"{ref!r}: {exc}") from exc
        else:
            raise CaseError(f"no case {ref}: {exc}") from exc
    if case is None:
        raise CaseError(f"no case {ref} in profile {ctx.book.profile}")
    return case


def _facts(ctx: CaseContext, case: CaseRecord) -> CaseFacts:
    item = ctx.items.get(case.item) if case.item is not None else None
    return CaseFacts(
        kind=CaseKind(case.kind),
        state=CaseState(case.state),
        received_at=case.created_at,
        item=item,
        running=frozenset(case.running),  # type: ignore[arg-type]
        grade=CaseGrade(case.grade) if case.grade else None,
    )


@dataclass(frozen=True)
class Done:
    case: CaseRecord
    applied: bool
    notices: tuple[Notice, ...] = ()
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
            raise CaseError("assign needs the officer")
        changes["officer"] = officer
    elif action is CaseAction.REASSIGNED:
        changes, new_item = _reassign_changes(ctx, text, agency_id, unit_id, officer, item)
    elif action in (CaseAction.REPLIED, CaseAction.GRADED) or (
        action is CaseAction.CLOSED and case.kind != CaseKind.PETITION
    ):
        if not text:
            raise CaseError("a reply or a result needs its text (--text, --template, --result)")
        changes["reply"] = text
        if case.first_reply_at is None:
            changes["first_reply_at"] = at
    elif action is CaseAction.CLOSED and not text:
        raise CaseError("closing needs the result: --result")
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
            raise CaseError(f"no dispatch item {item} in this profile's tables")
        changes["item"] = item
        agency_id = agency_id or new_item.agency_id
        unit_id = unit_id or new_item.unit
    if agency_id is None:
        raise CaseError("re-assignment needs --agency (or --item for a dispatch order)")
    if agency_id not in ctx.agency_ids():
        raise CaseError(f"no agency {agency_id!r} in the directory")
    if unit_id is not None and unit_id not in ctx.units_of(agency_id):
        raise CaseError(f"agency {agency_id!r} has no unit {unit_id!r}")
    if not reason:
        raise CaseError("re-assignment needs its reason (T6(4)): --reason")
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
            _facts(ctx, case), action, at, ctx.office, grade=grade, score=score, new_item=new_item
        )
    except (CaseMoveRefused, ValueError) as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
    if move.grade is not None:
        changes["grade"] = move.grade
    if move.state is CaseState.CLOSED and case.state != CaseState.CLOSED:
        changes["closed_at"] = at
    if move.state is CaseState.ASSIGNED and case.state in (CaseState.CLOSED, CaseState.REVIEW):
        changes["closed_at"] = None
    try:
        after, applied = await ctx.book.apply(
            case, action, move, at=at, who=who, text=text, changes=changes, key=key
        )
    except CaseChanged as exc:
        raise CaseError(f"{exc}; try again") from exc
    except ValueError as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
    notices: list[Notice] = []
    if applied and move.notify_citizen:
        subject = f"1999 case {after.number}: {after.state}"
        body = text or ""
        if move.survey:
            body += (
                "\n\nHow satisfied are you with this reply? Answer 1 (very dissatisfied) "
                f"to 5 (very satisfied), quoting case {after.number}."
            )
        notice = _citizen_notice(after, subject, body)
        if notice is not None:
            notices.append(notice)
    sent = 0
    for notice in notices:
        sent += await queue_notification(ctx, notice)
    return Done(after, applied, tuple(notices), sent)


async def convert(ctx: CaseContext, ref: str, *, at: datetime, who: str, reason: str) -> Done:
    """A dispatch order becomes a petition (T6(4)): the new petition, then the old marked.

    Both steps are keyed by the order's id, so a convert interrupted between them and
    run again makes the petition once and finishes the marking.
    """
    order = await find(ctx, ref)
    if order.kind != CaseKind.DISPATCH:
        raise CaseError(f"case {order.number} is a {order.kind}; only a dispatch order converts")
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
    move = _allowed_move(ctx, order, CaseAction.CONVERTED, at)
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


def _allowed_move(ctx: CaseContext, case: CaseRecord, action: CaseAction, at: datetime) -> Move:
    """The rules' move for `action` on the case, or CaseError naming the case."""
    try:
        return decide(_facts(ctx, case), action, at, ctx.office)
    except CaseMoveRefused as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc


async def merge(
    ctx: CaseContext, ref: str, into_ref: str, *, at: datetime, who: str, reason: str | None
) -> Done:
    """Fold one open order into another of the same item (T6(6)1), by hand."""
    case = await find(ctx, ref)
    into = await find(ctx, into_ref)
    if case.id == into.id:
        raise CaseError("a case cannot merge into itself")
    if case.kind != CaseKind.DISPATCH or into.kind != CaseKind.DISPATCH:
        raise CaseError("only dispatch orders merge")
    if into.state not in (CaseState.OPEN, CaseState.ASSIGNED):
        raise CaseError(f"case {into.number} is {into.state}: merge into an open order")
    move = _allowed_move(ctx, case, CaseAction.MERGED, at)
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
        target_move = decide(_facts(ctx, into), CaseAction.ABSORBED, at, ctx.office)
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
        move = decide(_facts(ctx, case), CaseAction.DEIDENTIFIED, now, ctx.office)
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


def import_key(profile: str, line: str) -> str:
    """The idempotency key of one imported row: the same row imported twice is one case."""
    digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:40]
    return f"paper:{profile}:{digest}"[:64]


def day_start(moment: datetime, cal: Calendar) -> datetime:
    local = moment.astimezone(cal.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


ONE_DAY = timedelta(days=1)
