"""`ivr audit …` and `ivr retention run`: who saw personal data, and its de-identification."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ivr.cli_types import positive
from ivr.config import StackConfig

if TYPE_CHECKING:
    from ivr.store import CaseStore

# The store is imported per command, as the rest of the CLI does, so `ivr --help` stays
# fast.
LOCAL_TZ = ZoneInfo("Asia/Taipei")

EXIT_OK = 0
EXIT_FAIL = 1

Loader = Callable[[argparse.Namespace], StackConfig]


def _since(text: str) -> datetime:
    """An argparse type: YYYY-MM-DD or an ISO time; without an offset, Taipei time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time: give e.g. 2026-03-01 or 2026-03-01T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def register(sub: Any) -> None:
    """`ivr audit list|verify` and `ivr retention run` on the `ivr` parser."""
    from ivr.cli.common import load

    add_commands(sub, load)


def add_commands(sub: Any, load: Loader) -> None:
    """Register `audit` and `retention` on the `ivr` parser's subcommands."""
    au = sub.add_parser("audit", help="the audit log of personal-data views")
    asub = au.add_subparsers(dest="audit_command", required=True)
    al = asub.add_parser("list", help="audit rows, oldest first")
    al.add_argument("--who", help="only this OS user")
    al.add_argument("--since", type=_since, help="from this date or time (Taipei if no offset)")
    al.add_argument("--subject", help="subject or its prefix, e.g. ticket:25030042 or call:")
    al.add_argument("--limit", type=positive, default=None, help="only the newest N rows")
    al.add_argument("--json", action="store_true")
    al.set_defaults(func=lambda a: _run(audit_list(load(a), a)))
    av = asub.add_parser("verify", help="check the audit log's hash chain")
    av.set_defaults(func=lambda a: _run(audit_verify(load(a))))

    re_ = sub.add_parser("retention", help="de-identify closed cases, delete old recordings")
    rsub = re_.add_subparsers(dest="retention_command", required=True)
    rr = rsub.add_parser("run", help="run the retention job once, now")
    rr.set_defaults(func=lambda a: _run(retention_run(load(a))))


def _run(command: Any) -> int:
    # The store being down propagates to the CLI's one error handler.
    ok, output = asyncio.run(command)
    print(output, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_FAIL


async def _open(cfg: StackConfig) -> CaseStore:
    from ivr.store import CaseStore

    store = await CaseStore.open(cfg.database_url)
    await store.migrate()
    return store


async def audit_list(cfg: StackConfig, args: argparse.Namespace) -> tuple[bool, str]:
    from ivr.store import audit

    store = await _open(cfg)
    try:
        rows = await audit.entries(
            store, who=args.who, since=args.since, subject=args.subject, limit=args.limit
        )
    finally:
        await store.close()
    if args.json:
        data = [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "who": r.who,
                "action": r.action,
                "subject": r.subject,
                "detail": r.detail,
                "reason": r.reason,
            }
            for r in rows
        ]
        return True, json.dumps(data, indent=2, ensure_ascii=False)
    if not rows:
        return True, "no audit rows match"
    lines = [f"{'id':>6}  {'at (' + LOCAL_TZ.key + ')':19}  {'who':12} {'action':10} subject"]
    for r in rows:
        why = f"  reason: {r.reason}" if r.reason else ""
        lines.append(
            f"{r.id:>6}  {r.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S}  {r.who:12} "
            f"{r.action:10} {r.subject}  {r.detail or ''}{why}"
        )
    return True, "\n".join(lines)


async def audit_verify(cfg: StackConfig) -> tuple[bool, str]:
    from ivr.store import audit

    store = await _open(cfg)
    try:
        rows = await audit.entries(store)
    finally:
        await store.close()
    broken = audit.verify_chain(rows)
    if broken is not None:
        return False, f"ivr: audit log broken at row {broken.id}: {broken.problem}"
    return True, f"audit log intact: {len(rows)} rows"


async def retention_run(cfg: StackConfig) -> tuple[bool, str]:
    from ivr.retention import run_retention

    report = await run_retention(cfg)
    return True, report.summary()
