"""`ivr users add|list|passwd|disable`: the web console's users.

Passwords are never taken from the command line (it shows in `ps` and shell history):
they are asked for twice on a terminal, or read from one line of standard input with
`--password-stdin`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ivr import config as stack_config
from ivr.domain.clock import system_clock
from ivr.domain.vocabulary import Role, UiLanguage, values
from ivr.store import CaseStore
from ivr.store.users import User, UserError, UserStore

T = TypeVar("T")


def register(sub: Any) -> None:
    """Add `ivr users …` to the CLI's subcommands."""
    users = sub.add_parser("users", help="web console users: add, list, passwd, disable")
    usub = users.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="add a user with a role")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=values(Role))
    add.add_argument("--name", default=None, help="the name shown on pages")
    add.add_argument("--language", default=UiLanguage.ZH_TW, choices=values(UiLanguage))
    add.add_argument("--agent", default=None, help="agent id in agents.yaml (role agent)")
    add.add_argument("--extension", default=None, help="own phone, rung first by callbacks")
    add.add_argument("--agency", default=None, help="agency id (liaison, officer)")
    add.add_argument("--unit", default=None, help="unit id (officer)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_add)
    ls = usub.add_parser("list", help="every user, with role and state")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    pw = usub.add_parser("passwd", help="set a user's password; their sessions end")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    pw.add_argument("--json", action="store_true")
    pw.set_defaults(func=cmd_passwd)
    dis = usub.add_parser("disable", help="a disabled user cannot sign in; sessions end")
    dis.add_argument("username")
    dis.add_argument("--json", action="store_true")
    dis.set_defaults(func=cmd_disable)


def _run(args: argparse.Namespace, op: Callable[[UserStore], Awaitable[T]]) -> T:
    cfg = stack_config.load(stack_config.resolve_state_dir(args.state_dir))

    async def main() -> T:
        store = await CaseStore.open(cfg.database_url)
        try:
            await store.migrate()
            return await op(UserStore(store))
        finally:
            await store.close()

    return asyncio.run(main())


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("the two passwords differ")
    return first


def _as_dict(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.display_name,
        "role": str(user.role),
        "language": str(user.language),
        "agent": user.agent_id,
        "extension": user.extension,
        "agency": user.agency_id,
        "unit": user.unit_id,
        "disabled": user.disabled,
    }


def _fail(exc: Exception) -> int:
    print(f"ivr: {exc}", file=sys.stderr)
    return 1


def cmd_add(args: argparse.Namespace) -> int:
    if args.role == Role.AGENT and not args.agent:
        return _fail(UserError("an agent needs --agent, their id in agents.yaml"))
    try:
        password = _password(args)
        user = _run(
            args,
            lambda users: users.add(
                args.username,
                password,
                role=Role(args.role),
                at=system_clock(),
                display_name=args.name,
                language=UiLanguage(args.language),
                agent_id=args.agent,
                extension=args.extension,
                agency_id=args.agency,
                unit_id=args.unit,
            ),
        )
    except UserError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(_as_dict(user), ensure_ascii=False))
    else:
        print(f"user {user.username} added ({user.role})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    users = _run(args, lambda store: store.list())
    if args.json:
        print(json.dumps([_as_dict(u) for u in users], ensure_ascii=False))
        return 0
    for u in users:
        state = "disabled" if u.disabled else "active"
        extra = " ".join(
            f"{k}={v}"
            for k, v in (("agent", u.agent_id), ("agency", u.agency_id), ("unit", u.unit_id))
            if v
        )
        print(f"{u.username:<16} {u.role:<10} {u.language:<5} {state:<8} {u.display_name} {extra}")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    try:
        password = _password(args)
        _run(args, lambda users: users.set_password(args.username, password, at=system_clock()))
    except UserError as exc:
        return _fail(exc)
    print(json.dumps({"username": args.username, "ok": True}) if args.json else "password set")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    try:
        _run(args, lambda users: users.disable(args.username))
    except UserError as exc:
        return _fail(exc)
    print(json.dumps({"username": args.username, "disabled": True}) if args.json else "disabled")
    return 0
