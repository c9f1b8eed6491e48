"""`ivr cases import|sample|service|deidentify` and `ivr report cases`: the profile's
cases in bulk, rather than one case at a time.
"""

from __future__ import annotations

import argparse

from sqlalchemy.exc import IntegrityError

from ivr import cases_service as svc
from ivr.cases_cli_session import as_json, session, who_acts
from ivr.config import StackConfig
from ivr.domain.clock import Clock, system_clock


async def cmd_import(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.cases_import import import_file

    async with session(cfg, clock) as s:
        result = await import_file(s.ctx, args.file, who=who_acts(args), now=clock())
    if args.json:
        return as_json(result)
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
        return as_json({"month": args.month, "seed": seed, "cases": drawn})
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
        done = await svc.deidentify_replied(s.ctx, now=clock(), who=who_acts(args))
        if done:
            await audit.record(
                s.store,
                at=clock(),
                who=who_acts(args),
                action="deidentify",
                subject="cases",
                detail=",".join(done)[:256],
            )
    if args.json:
        return as_json({"deidentified": done})
    return f"de-identified {len(done)} case(s)" + (f": {', '.join(done)}" if done else "")


async def cmd_report(
    args: argparse.Namespace, cfg: StackConfig, clock: Clock = system_clock
) -> str:
    from ivr.cases_report import monthly_report

    async with session(cfg, clock) as s:
        return await monthly_report(s.ctx, args.month, csv_path=args.csv, json_path=args.json)
