"""`ivr db upgrade` and `ivr mode`: the case store's schema, and the service mode in it."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ivr.cli.common import EXIT_OK, admin, load
from ivr.errors import HotlineError


class ModeNotGiven(HotlineError):
    """`ivr mode disaster` without `on` or `off`."""

    code = "mode.state_missing"


def register(sub: Any) -> None:
    mode = sub.add_parser("mode", help="service mode: disaster mode on or off")
    mode.add_argument("mode", choices=["disaster", "show"])
    mode.add_argument("state", nargs="?", choices=["on", "off"])
    mode.add_argument("--by", default=admin(), help="who switched the mode (audit trail)")
    mode.add_argument("--note", default=None)
    mode.set_defaults(func=cmd_mode)

    db = sub.add_parser("db", help="case-store maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)


def cmd_mode(args: argparse.Namespace) -> int:
    from ivr.store_cli import set_mode, show_mode

    cfg = load(args)
    if args.mode == "show":
        print(asyncio.run(show_mode(cfg)))
        return EXIT_OK
    if args.state is None:
        raise ModeNotGiven("say `ivr mode disaster on` or `ivr mode disaster off`")
    print(asyncio.run(set_mode(cfg, active=args.state == "on", by=args.by, note=args.note)))
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from ivr.store_cli import upgrade

    asyncio.run(upgrade(load(args)))
    print("case store at the newest schema")
    return EXIT_OK
