"""`ivr cases new|list|show` and the actions on one case (assign … merge)."""

from __future__ import annotations

import argparse
from typing import Any

from ivr import cases_service as svc
from ivr.cases_cli_session import as_json, local_time, session, who_acts
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.domain.tickets import LOCAL_TZ
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState


async def cmd_new(args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock) -> str:
    from ivr.cases_view import case_dict

    data = svc.CaseInput(
        kind=CaseKind(args.kind),
        summary=args.summary,
        agency_id=args.agency,
        unit_id=args.unit,
        item=args.item,
        variant=args.variant,
        category=args.category,
        caller_number=args.caller,
        caller_name=args.name,
        caller_email=args.email,
        caller_address=args.caller_address,
        language=args.language,
        address=args.address,
        district=args.district,
        lat=args.lat,
        lon=args.lon,
        officer=args.officer,
    )
    async with session(cfg, clock) as s:
        ticket_id = None
        if args.ticket:
            ticket = await s.store.get_ticket_by_number(args.ticket)
            if ticket is None:
                raise svc.CaseError(f"no ticket {args.ticket}")
            ticket_id = ticket.id
        opened = await svc.open_case(
            s.ctx,
            data,
            at=clock(),
            who=who_acts(args),
            key=args.key,
            call_id=args.call,
            ticket_id=ticket_id,
        )
    case = opened.case
    if args.json:
        out = case_dict(case, unmask=False)
        out.update(
            made=opened.made,
            merged=opened.merged,
            became_petition=opened.became_petition,
            password=opened.password,
        )
        return as_json(out)
    if opened.merged:
        return (
            f"merged into open order {case.number} at the same place (T6(6)1): "
            "tell the caller this number"
        )
    lines = [f"case {case.number}: {case.kind}, {case.state}, agency {case.agency_id}"]
    if not opened.made:
        lines[0] += " (made before with this key)"
    if opened.became_petition:
        lines.append(
            "  three reports of this matter by this citizen found nothing: "
            "filed as a petition (T6(6)2)"
        )
    for clock_ in case.clocks:
        lines.append(f"  {clock_.clock} due {local_time(clock_.due_at)}")
    if opened.password:
        lines.append(f"  password {opened.password}: tell the citizen now; it is not shown again")
    return "\n".join(lines)


async def cmd_list(args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock) -> str:
    from ivr.cases_view import audit_view, case_dict, require_reason

    require_reason(args.unmask, args.reason)
    async with session(cfg, clock) as s:
        cases = await s.ctx.book.search(
            kind=args.kind,
            state=args.state,
            agency_id=args.agency,
            unit_id=args.unit,
            overdue_at=clock() if args.overdue else None,
            limit=args.limit,
        )
        await audit_view(
            s.store,
            "cases",
            unmask=args.unmask,
            reason=args.reason,
            detail=f"list of {len(cases)}: {','.join(c.number for c in cases)}",
            at=clock(),
        )
    if args.json:
        return as_json([case_dict(c, unmask=args.unmask) for c in cases])
    if not cases:
        return "no cases match"
    now = clock()
    lines = [
        f"{'number':9} {'kind':12} {'state':9} {'agency/unit':28} {'item':>4} "
        f"{'next due (' + LOCAL_TZ.key + ')':24} officer"
    ]
    for c in cases:
        running = [k for k in c.clocks if k.stopped_at is None and k.clock != "deidentify"]
        nxt = min(running, key=lambda k: k.due_at) if running else None
        due = "-" if nxt is None else f"{nxt.clock} {local_time(nxt.due_at)}"
        late = " OVERDUE" if nxt is not None and nxt.due_at < now else ""
        lines.append(
            f"{c.number:9} {c.kind:12} {c.state:9} {c.agency_id + '/' + (c.unit_id or '-'):28} "
            f"{c.item or '-':>4} {due:24} {c.officer or '-'}{late}"
        )
    return "\n".join(lines)


async def cmd_show(args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock) -> str:
    from ivr.cases_view import audit_view, case_dict, format_case, require_reason

    require_reason(args.unmask, args.reason)
    async with session(cfg, clock) as s:
        case = await svc.find(s.ctx, args.case)
        events = await s.ctx.book.events(case.id)
        links = await s.ctx.book.links(case.id)
        # Written before anything is shown: a view that cannot be audited is not made.
        await audit_view(
            s.store,
            f"case:{case.number}",
            unmask=args.unmask,
            reason=args.reason,
            detail="json" if args.json else "text",
            at=clock(),
        )
    if args.json:
        return as_json(case_dict(case, events, links, unmask=args.unmask))
    return format_case(case, events, links, unmask=args.unmask, now=clock())


async def _act(
    args: argparse.Namespace,
    cfg: StackConfig,
    action: CaseAction,
    clock: Clock = system_clock,
    **kwargs: Any,
) -> str:
    from ivr.cases_view import case_dict

    async with session(cfg, clock) as s:
        done = await svc.act(
            s.ctx, args.case, action, at=clock(), who=who_acts(args), key=args.key, **kwargs
        )
    case = done.case
    if args.json:
        out = case_dict(case, unmask=False)
        out.update(applied=done.applied, notices=[n.channel for n in done.notices])
        return as_json(out)
    text = f"case {case.number}: {action}, now {case.state}"
    if not done.applied:
        text += " (already done with this key)"
    running = [k for k in case.clocks if k.stopped_at is None and k.clock != "deidentify"]
    for k in running:
        text += f"\n  {k.clock} due {local_time(k.due_at)}"
    for n in done.notices:
        how = "queued in the outbox" if done.sent else "not queued (no address)"
        text += f"\n  citizen notice by {n.channel}: {how}"
    return text


async def cmd_assign(args: argparse.Namespace, cfg: StackConfig) -> str:
    if args.agency or args.unit or args.item is not None:
        return await _act(
            args,
            cfg,
            CaseAction.REASSIGNED,
            text=args.reason,
            agency_id=args.agency,
            unit_id=args.unit,
            officer=args.officer,
            item=args.item,
        )
    return await _act(args, cfg, CaseAction.ASSIGNED, officer=args.officer, text=args.reason)


async def cmd_note(args: argparse.Namespace, cfg: StackConfig) -> str:
    if not args.text.strip():
        raise svc.CaseError("a note needs some text")
    actions = {
        "note": CaseAction.NOTE,
        "jurisdiction_query": CaseAction.JURISDICTION_QUERY,
        "jurisdiction_answer": CaseAction.JURISDICTION_ANSWER,
        "stage1_done": CaseAction.STAGE1_DONE,
        "contact_attempt": CaseAction.CONTACT_ATTEMPT,
    }
    return await _act(args, cfg, actions[args.what], text=args.text)


async def cmd_reply(args: argparse.Namespace, cfg: StackConfig) -> str:
    text = args.text
    if args.template:
        from ivr.routing.replies import fill, load_replies

        try:
            template = load_replies(cfg.routing_dir).get(args.template)
        except KeyError as exc:
            raise svc.CaseError(str(exc.args[0])) from exc
        text = fill(
            template,
            matter=args.matter or "",
            agency=args.agency_name or "",
            officer=args.officer_name or "",
            phone=args.phone or "",
            signature=args.signature or "",
            findings=args.findings or "",
        )
    if not text:
        raise svc.CaseError("a reply needs --text or --template")
    return await _act(args, cfg, CaseAction.REPLIED, text=text, grade=CaseGrade(args.grade))


async def cmd_grade(args: argparse.Namespace, cfg: StackConfig) -> str:
    return await _act(args, cfg, CaseAction.GRADED, text=args.plan, grade=CaseGrade.B)


async def cmd_close(args: argparse.Namespace, cfg: StackConfig) -> str:
    async with session(cfg) as s:
        case = await svc.find(s.ctx, args.case)
    action = CaseAction.REVIEW_UPHELD if case.state == CaseState.REVIEW else CaseAction.CLOSED
    return await _act(args, cfg, action, text=args.result, nothing_found=args.nothing_found or None)


async def cmd_survey(args: argparse.Namespace, cfg: StackConfig) -> str:
    return await _act(args, cfg, CaseAction.SURVEY, score=args.score)


async def cmd_reopen(args: argparse.Namespace, cfg: StackConfig) -> str:
    return await _act(args, cfg, CaseAction.REOPENED, text=args.reason)


async def cmd_convert(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    async with session(cfg, clock) as s:
        done = await svc.convert(
            s.ctx, args.case, at=clock(), who=who_acts(args), reason=args.reason
        )
    petition = done.extra["petition"]
    password = done.extra["password"]
    if args.json:
        return as_json(
            {"order": done.case.number, "petition": petition.number, "password": password}
        )
    text = f"case {done.case.number}: converted to petition {petition.number}"
    if password:
        text += f"\n  password {password}: tell the citizen now; it is not shown again"
    return text


async def cmd_merge(args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock) -> str:
    async with session(cfg, clock) as s:
        done = await svc.merge(
            s.ctx, args.case, args.into, at=clock(), who=who_acts(args), reason=args.reason
        )
    if args.json:
        return as_json(
            {"case": done.case.number, "into": done.extra["into"], "applied": done.applied}
        )
    return f"case {done.case.number}: merged into {done.extra['into']}"


async def cmd_callback(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.cases_callback import spawn_callback

    async with session(cfg, clock) as s:
        case, ticket, made = await spawn_callback(
            s.ctx, s.store, args.case, at=clock(), who=who_acts(args), note=args.note, key=args.key
        )
    if args.json:
        return as_json(
            {
                "case": case.number,
                "ticket": ticket.number,
                "due_at": ticket.due_at,
                "made": made,
            }
        )
    again = "" if made else " (made before)"
    return (
        f"case {case.number}: callback ticket {ticket.number}{again}, "
        f"due {local_time(ticket.due_at)}"
    )
