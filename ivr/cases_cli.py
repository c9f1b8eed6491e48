"""`ivr cases …` and `ivr report cases`: petitions and dispatch orders from the command line.

Every command prints text, or JSON with `--json`, and turns every expected failure
(unknown case, a move the rules refuse, a bad file, an unreachable store) into one line
on stderr and exit status 1. Personal data is masked unless `--unmask --reason` is
given; every view writes an audit row first. A petition's password is printed once,
by the command that made it, and never again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from ivr import cases_service as svc
from ivr import config as stack_config
from ivr.cli_types import positive
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock
from ivr.domain.tickets import LOCAL_TZ
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState, values

EXIT_OK = 0
EXIT_FAIL = 1

Handler = Callable[[argparse.Namespace, StackConfig], Coroutine[Any, Any, str]]


def _config(args: argparse.Namespace) -> StackConfig:
    return stack_config.load(stack_config.resolve_state_dir(args.state_dir))


def _run(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from ivr.routing.replies import RepliesError
        from ivr.store import StoreUnavailable

        try:
            output = asyncio.run(handler(args, _config(args)))
        except (svc.CaseError, StoreUnavailable, RepliesError) as exc:
            print(f"ivr: {exc}", file=sys.stderr)
            return EXIT_FAIL
        if output:
            print(output)
        return EXIT_OK

    return run


def _by_default() -> str:
    from ivr.store.audit import os_user

    return os_user()


def _view_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--unmask", action="store_true", help="show personal data in clear (audited)")
    p.add_argument("--reason", default=None, help="why the data is needed in clear (required)")


def _act_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", metavar="NUMBER", help="the case number (digits, with check digit)")
    p.add_argument("--by", default=None, help="who acts (default: the OS user)")
    p.add_argument("--key", default=None, help="idempotency key: the same key acts once")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub: Any) -> None:  # noqa: PLR0915 - one flat table of commands
    """Register `ivr cases` on the `ivr` parser's subcommands."""
    cases = sub.add_parser("cases", help="petitions, dispatch orders and other cases")
    csub = cases.add_subparsers(dest="cases_command", required=True)

    new = csub.add_parser("new", help="open a case; a petition's password is shown once")
    new.add_argument("--kind", required=True, choices=values(CaseKind))
    new.add_argument("--summary", required=True, help="the matter, in the citizen's words")
    new.add_argument("--agency", help="responsible agency id (a dispatch item names its own)")
    new.add_argument("--unit", help="unit id")
    new.add_argument("--item", type=int, help="dispatch item (1-22)")
    new.add_argument("--variant", help="stage-2 variant of the item (item 6: wiring, total)")
    new.add_argument("--category", help="petition category")
    new.add_argument("--caller", help="the citizen's phone number")
    new.add_argument("--name", help="the citizen's name")
    new.add_argument("--email", help="the citizen's e-mail, for the reply")
    new.add_argument("--caller-address", help="the citizen's own address")
    new.add_argument("--language", help="the citizen's language (zh-TW, en, nan, hak)")
    new.add_argument("--address", help="where the work is (dispatch)")
    new.add_argument("--district", help="district of the address (dispatch)")
    new.add_argument("--lat", type=float)
    new.add_argument("--lon", type=float)
    new.add_argument("--officer", help="assign at once to this officer")
    new.add_argument("--call", type=int, help="id of the call the case came from")
    new.add_argument("--ticket", help="a callback ticket (number) this case absorbs")
    new.add_argument("--by", default=None, help="who opens it (default: the OS user)")
    new.add_argument("--key", default=None, help="idempotency key: the same key opens once")
    new.add_argument("--json", action="store_true")
    new.set_defaults(func=_run(cmd_new))

    ls = csub.add_parser("list", help="cases, newest first")
    ls.add_argument("--kind", choices=values(CaseKind))
    ls.add_argument("--state", choices=values(CaseState))
    ls.add_argument("--agency")
    ls.add_argument("--unit")
    ls.add_argument("--overdue", action="store_true", help="only cases with a clock past due")
    ls.add_argument("--limit", type=positive, default=50)
    _view_args(ls)
    ls.set_defaults(func=_run(cmd_list))

    show = csub.add_parser("show", help="a case with its clocks, links and history")
    show.add_argument("case", metavar="NUMBER")
    _view_args(show)
    show.set_defaults(func=_run(cmd_show))

    assign = csub.add_parser(
        "assign", help="give a case to an officer, or re-assign it to another agency or item"
    )
    _act_args(assign)
    assign.add_argument("officer", nargs="?", help="the case officer")
    assign.add_argument("--agency", help="re-assign to this agency (needs --reason)")
    assign.add_argument("--unit", help="re-assign to this unit")
    assign.add_argument("--item", type=int, help="re-assign a dispatch order to this item")
    assign.add_argument("--reason", help="why it moves (T6(4)): kept in the history")
    assign.set_defaults(func=_run(cmd_assign))

    note = csub.add_parser("note", help="add to a case's history")
    _act_args(note)
    note.add_argument("text")
    note.add_argument(
        "--as",
        dest="what",
        default="note",
        choices=[
            "note",
            "jurisdiction_query",
            "jurisdiction_answer",
            "stage1_done",
            "contact_attempt",
        ],
        help="what the entry records (a jurisdiction query starts its 4-hour clock)",
    )
    note.set_defaults(func=_run(cmd_note))

    reply = csub.add_parser("reply", help="reply to a petition: grade A closes it, B is a plan")
    _act_args(reply)
    reply.add_argument("--text", help="the reply")
    reply.add_argument("--template", help="a reply template of the profile (replies.yaml)")
    reply.add_argument("--grade", choices=values(CaseGrade), default=CaseGrade.A)
    for blank in ("matter", "agency-name", "officer-name", "phone", "signature", "findings"):
        reply.add_argument(f"--{blank}", help=f"fills the template's {{{blank.split('-')[0]}}}")
    reply.set_defaults(func=_run(cmd_reply))

    grade = csub.add_parser("grade", help="grade a petition B: reply with a plan (30 days)")
    _act_args(grade)
    grade.add_argument("grade", choices=[CaseGrade.B])
    grade.add_argument("--plan", required=True, help="the plan and its dates, told to the citizen")
    grade.set_defaults(func=_run(cmd_grade))

    close = csub.add_parser(
        "close", help="enter a dispatch result, finish a grade-B petition, or uphold a review"
    )
    _act_args(close)
    close.add_argument("--result", required=True, help="what was done; told to the citizen")
    close.add_argument(
        "--nothing-found", action="store_true", help="the crew found nothing (three strikes)"
    )
    close.set_defaults(func=_run(cmd_close))

    survey = csub.add_parser("survey", help="record the citizen's satisfaction, 1 to 5")
    _act_args(survey)
    survey.add_argument("score", type=int, choices=range(1, 6))
    survey.set_defaults(func=_run(cmd_survey))

    reopen = csub.add_parser("reopen", help="return a case for further work (6 working days)")
    _act_args(reopen)
    reopen.add_argument("--reason", required=True)
    reopen.set_defaults(func=_run(cmd_reopen))

    convert = csub.add_parser("convert", help="make a dispatch order a petition (T6(4))")
    _act_args(convert)
    convert.add_argument("--reason", required=True)
    convert.set_defaults(func=_run(cmd_convert))

    merge = csub.add_parser("merge", help="fold a dispatch order into another open one")
    _act_args(merge)
    merge.add_argument("into", metavar="INTO")
    merge.add_argument("--reason", default=None)
    merge.set_defaults(func=_run(cmd_merge))

    imp = csub.add_parser("import", help="back-fill cases from a paper log (CSV), all or none")
    imp.add_argument("file", type=Path)
    imp.add_argument("--by", default=None)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=_run(cmd_import))

    sample = csub.add_parser("sample", help="spot check: 5 closed orders per item per district")
    sample.add_argument("--month", required=True, help="YYYY-MM, in the profile's time")
    sample.add_argument("--seed", type=int, default=None, help="repeat an earlier draw")
    sample.add_argument("--per", type=positive, default=5, help="cases per item and district")
    sample.add_argument("--json", action="store_true")
    sample.set_defaults(func=_run(cmd_sample))

    service = csub.add_parser("service", help="log the service type of a call (T2(1))")
    service.add_argument("type", choices=values(CaseKind))
    service.add_argument("--call", type=int, help="the call's id (ivr calls list)")
    service.add_argument("--agency", help="the agency the matter belonged to")
    service.add_argument("--agent", help="the agent who took the call")
    service.add_argument("--key", default=None, help="idempotency key: the same key logs once")
    service.set_defaults(func=_run(cmd_service))

    deid = csub.add_parser("deidentify", help="mask cases replied before today (P7(3)), now")
    deid.add_argument("--json", action="store_true")
    deid.set_defaults(func=_run(cmd_deidentify))


def register_report(report_sub: Any) -> None:
    """Register `ivr report cases` on the `ivr report` subcommands."""
    rc = report_sub.add_parser("cases", help="cases per service type and agency (DOMAIN 8)")
    rc.add_argument("--month", required=True, help="YYYY-MM, in the profile's time")
    rc.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    rc.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    rc.set_defaults(func=_run(cmd_report))


# -- plumbing ---------------------------------------------------------------------------


@dataclass
class Session:
    ctx: svc.CaseContext
    store: Any


@asynccontextmanager
async def session(cfg: StackConfig, clock: Clock = system_clock) -> AsyncIterator[Session]:
    """The store (migrated), the profile's tables and the case context, for one command."""
    from ivr.adapters.mail import SmtpMailer
    from ivr.routing.loader import RoutingError, load_profile
    from ivr.routing.view import build_view
    from ivr.store import CaseStore
    from ivr.store.cases import CaseBook

    try:
        tables = load_profile(cfg.routing_dir)
    except RoutingError as exc:
        raise svc.CaseError(f"the routing tables were refused: {exc.problems[0]}") from exc
    store = await CaseStore.open(cfg.database_url)
    try:
        await store.migrate()
        view = build_view(tables)
        since = (clock() - svc.ONE_DAY * 400).astimezone(view.office.tz).date()
        closures = [c for c in (await store.closures(since)).values() if c.closed]
        ctx = svc.context_for(
            CaseBook.of(store, tables.profile.name),
            tables,
            view.office,
            cfg.routing_dir,
            closures,
            SmtpMailer.from_config(cfg),
        )
        yield Session(ctx, store)
    finally:
        await store.close()


def _json(value: Any) -> str:
    def default(obj: object) -> object:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(value, indent=2, ensure_ascii=False, default=default)


def _local(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def _who(args: argparse.Namespace) -> str:
    return str(getattr(args, "by", None) or _by_default())


# -- commands ---------------------------------------------------------------------------


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
            who=_who(args),
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
        return _json(out)
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
        lines.append(f"  {clock_.clock} due {_local(clock_.due_at)}")
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
        return _json([case_dict(c, unmask=args.unmask) for c in cases])
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
        due = "-" if nxt is None else f"{nxt.clock} {_local(nxt.due_at)}"
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
        return _json(case_dict(case, events, links, unmask=args.unmask))
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
            s.ctx, args.case, action, at=clock(), who=_who(args), key=args.key, **kwargs
        )
    case = done.case
    if args.json:
        out = case_dict(case, unmask=False)
        out.update(applied=done.applied, notices=[n.channel for n in done.notices])
        return _json(out)
    text = f"case {case.number}: {action}, now {case.state}"
    if not done.applied:
        text += " (already done with this key)"
    running = [k for k in case.clocks if k.stopped_at is None and k.clock != "deidentify"]
    for k in running:
        text += f"\n  {k.clock} due {_local(k.due_at)}"
    for n in done.notices:
        how = "sent" if done.sent else "queued"
        text += f"\n  citizen notified by {n.channel} ({how})"
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
        done = await svc.convert(s.ctx, args.case, at=clock(), who=_who(args), reason=args.reason)
    petition = done.extra["petition"]
    password = done.extra["password"]
    if args.json:
        return _json({"order": done.case.number, "petition": petition.number, "password": password})
    text = f"case {done.case.number}: converted to petition {petition.number}"
    if password:
        text += f"\n  password {password}: tell the citizen now; it is not shown again"
    return text


async def cmd_merge(args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock) -> str:
    async with session(cfg, clock) as s:
        done = await svc.merge(
            s.ctx, args.case, args.into, at=clock(), who=_who(args), reason=args.reason
        )
    if args.json:
        return _json(
            {"case": done.case.number, "into": done.extra["into"], "applied": done.applied}
        )
    return f"case {done.case.number}: merged into {done.extra['into']}"


async def cmd_import(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.cases_import import import_file

    async with session(cfg, clock) as s:
        result = await import_file(s.ctx, args.file, who=_who(args), now=clock())
    if args.json:
        return _json(result)
    lines = [
        f"imported {result['made']} case(s) from {args.file}; "
        f"{result['already']} were imported before"
    ]
    for row in result["cases"]:
        line = f"  line {row['line']}: case {row['number']} ({row['kind']})"
        if row.get("password"):
            line += f", password {row['password']}: tell the citizen; it is not shown again"
        lines.append(line)
    return "\n".join(lines)


async def cmd_sample(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.cases_report import draw_sample

    async with session(cfg, clock) as s:
        seed, drawn = await draw_sample(s.ctx, args.month, seed=args.seed, per=args.per)
    if args.json:
        return _json({"month": args.month, "seed": seed, "cases": drawn})
    lines = [f"spot check {args.month}, seed {seed} (repeat with --seed {seed})"]
    for row in drawn:
        lines.append(
            f"  item {row['item']:>2} {row['district'] or '-':6} {row['number']} "
            f"closed {row['closed_at'][:16]}"
        )
    if not drawn:
        lines.append("  no closed dispatch orders in that month")
    return "\n".join(lines)


async def cmd_service(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    async with session(cfg, clock) as s:
        if args.agency is not None and args.agency not in s.ctx.agency_ids():
            raise svc.CaseError(f"no agency {args.agency!r} in the directory")
        try:
            logged = await s.ctx.book.log_service(
                service=args.type,
                at=clock(),
                call_id=args.call,
                agency_id=args.agency,
                agent_id=args.agent,
                key=args.key,
            )
        except IntegrityError as exc:
            raise svc.CaseError(f"no call {args.call}") from exc
    call = f"call {args.call}" if args.call is not None else "a call"
    return f"{call}: {args.type}" + ("" if logged else " (logged before with this key)")


async def cmd_deidentify(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.store import audit

    async with session(cfg, clock) as s:
        done = await svc.deidentify_replied(s.ctx, now=clock(), who=_who(args))
        if done:
            await audit.record(
                s.store,
                at=clock(),
                who=_who(args),
                action="deidentify",
                subject="cases",
                detail=",".join(done)[:256],
            )
    if args.json:
        return _json({"deidentified": done})
    return f"de-identified {len(done)} case(s)" + (f": {', '.join(done)}" if done else "")


async def cmd_report(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.cases_report import monthly_report

    async with session(cfg, clock) as s:
        return await monthly_report(s.ctx, args.month, csv_path=args.csv, json_path=args.json)
