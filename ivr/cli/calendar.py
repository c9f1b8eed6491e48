"""`ivr calendar close|open|show`: the parser; the bodies are in `ivr.calendar_cli`."""

from __future__ import annotations

import argparse
from typing import Any

from ivr.cli.common import admin, state_dir


def register(sub: Any) -> None:
    """`ivr calendar close|open|show` on the `ivr` parser."""
    by = admin()
    cal = sub.add_parser("calendar", help="working calendar: show it, close typhoon days")
    calsub = cal.add_subparsers(dest="calendar_command", required=True)
    cc = calsub.add_parser("close", help="declare a day closed (typhoon day), audited")
    cc.add_argument("date", help="YYYY-MM-DD, in the profile's time zone")
    cc.add_argument("--reason", required=True, help="why, e.g. typhoon")
    cc.add_argument("--from", dest="closes_at", help="HH:MM: closed from then on (default all day)")
    cc.add_argument("--by", default=by, help="who declared it (audit trail)")
    cc.add_argument("--note", default=None)
    co = calsub.add_parser("open", help="lift a day's closure, audited")
    co.add_argument("date", help="YYYY-MM-DD")
    co.add_argument("--by", default=by, help="who lifted it (audit trail)")
    co.add_argument("--note", default=None)
    cw = calsub.add_parser("show", help="each day's working time and why")
    cw.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default today)")
    cw.add_argument("--days", type=int, default=14)
    cw.add_argument("--dir", help="a profile directory instead of the stack's (no closures)")
    cal.set_defaults(func=_cmd_calendar)


def _cmd_calendar(args: argparse.Namespace) -> int:
    from ivr import calendar_cli

    return calendar_cli.command(args, state_dir(args))
