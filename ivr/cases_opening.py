"""Opening a case: checking what was given, numbering, sealing the password, merging.

A dispatch report at the place of an open order of the same item merges into it
(T6(6)1); a citizen's third report of a matter where crews found nothing becomes a
petition (T6(6)2). Everything else opens a new case with its clocks.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from ivr.cases_context import (
    CaseContext,
    CaseError,
    CaseKeyReused,
    CaseNeedsAgency,
    CaseNeedsItem,
    CaseNeedsPlace,
    CaseUnknownAgency,
    CaseUnknownItem,
    CaseUnknownUnit,
    case_facts,
)
from ivr.domain.cases.merge import Location, OpenOrder, PastReport, becomes_petition, merge_target
from ivr.domain.cases.move_refusals import CaseMoveRefused
from ivr.domain.cases.numbers import new_password
from ivr.domain.cases.secret import caller_key, hash_password
from ivr.domain.cases.workflow import ClockStart, decide, opening_clocks
from ivr.domain.masking import mask_number
from ivr.domain.vocabulary import CaseAction, CaseKind, CaseState
from ivr.store.cases import CaseRecord, KeyUse, NewCase


async def seal(new: NewCase, password: str | None) -> NewCase:
    """`new` with its password's argon2 hash, computed in a worker thread.

    Hashing takes a fraction of a second of CPU on purpose; on the event loop it would
    stall every call the engine is handling meanwhile.
    """
    if password is None:
        return new
    return replace(new, password_hash=await asyncio.to_thread(hash_password, password))


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
            raise CaseNeedsItem("a dispatch order needs --item (1-22, see dispatch_items.yaml)")
        item = ctx.items.get(data.item)
        if item is None:
            raise CaseUnknownItem(
                f"no dispatch item {data.item} in this profile's tables",
                details={"item": data.item},
            )
        agency_id = agency_id or item.agency_id
        unit_id = unit_id or item.unit
        if not data.address:
            raise CaseNeedsPlace("a dispatch order needs the place: --address")
    if agency_id is None:
        raise CaseNeedsAgency("a case needs its responsible agency: --agency")
    if agency_id not in ctx.agency_ids():
        raise CaseUnknownAgency(
            f"no agency {agency_id!r} in the directory", details={"agency": agency_id}
        )
    if unit_id is not None and unit_id not in ctx.units_of(agency_id):
        raise CaseUnknownUnit(
            f"agency {agency_id!r} has no unit {unit_id!r}",
            details={"agency": agency_id, "unit": unit_id},
        )
    try:
        cal = ctx.calendar_for(agency_id)
        clocks = opening_clocks(data.kind, at, cal, item, data.variant)
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
    """Open a case, or merge a dispatch report into an open order at the same place.

    A `key` used before answers with what it did then and writes nothing new; used
    before for another call's case, it is refused (CaseKeyReused) and writes nothing.
    """
    if key is not None:
        earlier = await ctx.book.key_use(key)
        if earlier is not None:
            return await _made_before(ctx, earlier, at=at, call_id=call_id)
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
    extra: dict[str, object] = {"three_strikes": True, "item": data.item} if became_petition else {}
    if key is not None:
        # The history row names the call, so a repeat of the key knows whose it was.
        extra["call_id"] = call_id
    try:
        case, made = await ctx.book.create(
            new, clocks, who=who, call_id=call_id, ticket_id=ticket_id, data=extra
        )
    except (ValueError, LookupError) as exc:
        raise CaseError(str(exc)) from exc
    if not made and key is not None:
        # Another request with this key made the case meanwhile: the same answer as
        # when it is found first, above.
        earlier = await ctx.book.key_use(key)
        if earlier is None or not earlier.on_call(call_id):
            raise _reused(case)
    if call_id is not None:
        await _log_service(ctx, case, at=at, call_id=call_id)
    return Opened(case, made, password if made else None, became_petition=became_petition)


def _reused(case: CaseRecord) -> CaseKeyReused:
    return CaseKeyReused(
        f"this key was used for case {case.number}, not from this call; nothing was written",
        details={"number": case.number},
    )


async def _made_before(
    ctx: CaseContext, earlier: KeyUse, *, at: datetime, call_id: int | None
) -> Opened:
    """The answer to a key used before: its case, and nothing new in the store.

    Only what the first request may have left undone (its link to the call, its
    service log, each idempotent by its own key) is written again.
    """
    if not earlier.on_call(call_id):
        raise _reused(earlier.case)
    case = earlier.case
    if call_id is not None and earlier.merged:
        await ctx.book.link(case.id, at=at, call_id=call_id)
    elif call_id is not None:
        await _log_service(ctx, case, at=at, call_id=call_id)
    return Opened(case, made=False, merged=earlier.merged)


async def _log_service(ctx: CaseContext, case: CaseRecord, *, at: datetime, call_id: int) -> None:
    # The call's service type (T2(1)) is the case's kind; logged once per call and case.
    await ctx.book.log_service(
        service=case.kind,
        at=at,
        call_id=call_id,
        agency_id=case.agency_id,
        case_id=case.id,
        key=f"case:{case.id}:call:{call_id}",
    )


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
    facts = case_facts(ctx, into)
    move = decide(facts, CaseAction.ABSORBED, at, ctx.office)
    note = f"another report at {data.address}: {data.summary}"
    case, _ = await ctx.book.apply(
        into,
        CaseAction.ABSORBED,
        move,
        at=at,
        who=who,
        text=note[:8000],
        # The history row names the call, so a repeat of the key knows whose it was.
        data={"merged_report": True, "caller": mask_number(data.caller_number), "call_id": call_id},
        key=key,
    )
    if key is not None:
        # Another request with this key may have merged meanwhile, for another call.
        earlier = await ctx.book.key_use(key)
        if earlier is None or not earlier.on_call(call_id):
            raise _reused(case)
    if call_id is not None:
        await ctx.book.link(case.id, at=at, call_id=call_id)
    return Opened(case, made=False, merged=True)


def import_key(profile: str, line: str) -> str:
    """The idempotency key of one imported row: the same row imported twice is one case."""
    digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:40]
    return f"paper:{profile}:{digest}"[:64]
