"""`ivr outbox list|show|retry|run`: the messages to citizens and officials, and the sender.

Recipients (and numbers in a message's text) are masked unless `--unmask` is given
with a `--reason`; showing a message, and any unmasking, writes an audit row.
`ivr outbox run` runs the sender on its own, outside the engine (the engine runs one
itself): `--once` handles what is due and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ivr.adapters import collector
from ivr.cli_types import positive
from ivr.domain.masking import MASK, mask_number, mask_numbers_in
from ivr.domain.vocabulary import OutboxState
from ivr.errors import ExitStatus, HotlineError

if TYPE_CHECKING:
    from ivr.config import StackConfig
    from ivr.store import CaseStore
    from ivr.store.outbox import MessageRecord

LOCAL_TZ = ZoneInfo("Asia/Taipei")
EXIT_OK = 0
EXIT_FAIL = 1


class OutboxCommandError(HotlineError):
    """A command that cannot be done; the message says why, in one line."""

    code = "outbox.refused"
    exit_status = ExitStatus.REFUSED


def register(subparsers: Any) -> None:
    """Add `ivr outbox …` to the `ivr` parser's subcommands."""
    p = subparsers.add_parser("outbox", help="messages to citizens and officials, and the sender")
    sub = p.add_subparsers(dest="outbox_command", required=True)
    ls = sub.add_parser("list", help="messages, newest first")
    ls.add_argument("--state", choices=[s.value for s in OutboxState])
    ls.add_argument("--ref", help="only messages about this ticket or case, e.g. case:2511000123")
    ls.add_argument("--limit", type=positive, default=50)
    _common(ls)
    ls.set_defaults(func=lambda a: _run(outbox_list(_cfg(a), a)))
    sh = sub.add_parser("show", help="one message and every attempt to deliver it")
    sh.add_argument("message", help="the message's id or idempotency key")
    _common(sh)
    sh.set_defaults(func=lambda a: _run(outbox_show(_cfg(a), a)))
    rt = sub.add_parser("retry", help="send a dead or unknown message again, now")
    rt.add_argument("message", help="the message's id or idempotency key")
    rt.add_argument("--json", action="store_true")
    rt.set_defaults(func=lambda a: _run(outbox_retry(_cfg(a), a)))
    rn = sub.add_parser("run", help="run the sender outside the engine")
    rn.add_argument("--once", action="store_true", help="handle what is due now, then exit")
    rn.set_defaults(func=lambda a: _run(outbox_run(_cfg(a), once=a.once)))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    p.add_argument("--unmask", action="store_true", help="show recipients in clear (audited)")
    p.add_argument("--reason", default=None, help="why the data is needed in clear (required)")


def _cfg(args: argparse.Namespace) -> StackConfig:
    from ivr import config as stack_config

    return stack_config.load(stack_config.resolve_state_dir(args.state_dir))


def _run(command: Coroutine[Any, Any, str]) -> int:
    from ivr.notify.config import NotifyConfigError
    from ivr.store import StoreUnavailable
    from ivr.store.outbox import OutboxError

    try:
        output = asyncio.run(command)
    except (OutboxCommandError, OutboxError, NotifyConfigError, StoreUnavailable) as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if output:
        print(output)
    return EXIT_OK


def mask_recipient(recipient: str) -> str:
    """A number as `0912○○○678`; an address as `c○○○@example.com`."""
    local, at, domain = recipient.partition("@")
    if not at:
        return mask_number(recipient)
    return (local[:1] + MASK * 3 if local else "") + "@" + domain


def as_dict(m: MessageRecord, *, unmask: bool, history: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": m.id,
        "key": m.key,
        "channel": m.channel.value,
        "recipient": m.recipient if unmask else mask_recipient(m.recipient),
        "purpose": m.purpose,
        "ref": m.ref,
        "state": m.state.value,
        "attempts": m.attempts,
        "created_at": m.created_at.isoformat(),
        "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
        "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None,
        "last_error": m.last_error,
    }
    if history:
        data["subject"] = m.subject if unmask else mask_numbers_in(m.subject)
        data["body"] = m.body if unmask else mask_numbers_in(m.body)
        data["lease_owner"] = m.lease_owner
        data["lease_until"] = m.lease_until.isoformat() if m.lease_until else None
        data["history"] = [
            {
                "seq": a.seq,
                "sender": a.sender,
                "started_at": a.started_at.isoformat(),
                "finished_at": a.finished_at.isoformat() if a.finished_at else None,
                "outcome": a.outcome,
                "detail": a.detail if unmask or a.detail is None else mask_numbers_in(a.detail),
            }
            for a in m.history
        ]
    return data


def _require_reason(args: argparse.Namespace) -> None:
    if args.unmask and not (args.reason and args.reason.strip()):
        raise OutboxCommandError(
            "--unmask needs --reason: say why you need the recipients in clear; "
            "it is written to the audit log"
        )


async def _open(cfg: StackConfig) -> CaseStore:
    from ivr.store import CaseStore

    store = await CaseStore.open(cfg.database_url)
    await store.migrate()
    return store


async def _audit(store: CaseStore, args: argparse.Namespace, subject: str) -> None:
    from ivr.domain.clock import system_clock
    from ivr.store import audit

    await audit.record(
        store,
        at=system_clock(),
        who=audit.os_user(),
        action="unmask" if args.unmask else "view",
        subject=subject,
        reason=args.reason if args.unmask else None,
    )


def _when(value: str | None) -> str:
    from datetime import datetime

    if value is None:
        return "-"
    return f"{datetime.fromisoformat(value).astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S}"


async def outbox_list(cfg: StackConfig, args: argparse.Namespace) -> str:
    from ivr.store import outbox

    _require_reason(args)
    store = await _open(cfg)
    try:
        state = OutboxState(args.state) if args.state else None
        rows = await outbox.list_messages(store, state=state, ref=args.ref, limit=args.limit)
        if args.unmask:
            await _audit(store, args, "outbox:list")
    finally:
        await store.close()
    data = [as_dict(m, unmask=args.unmask) for m in rows]
    if args.json:
        return json.dumps(data, indent=2, ensure_ascii=False)
    if not data:
        return "no messages"
    lines = [f"{'id':>6}  {'state':9} {'channel':7} {'tries':>5}  {'recipient':24} purpose / ref"]
    for d in data:
        lines.append(
            f"{d['id']:>6}  {d['state']:9} {d['channel']:7} {d['attempts']:>5}  "
            f"{d['recipient']:24} {d['purpose']} {d['ref']}".rstrip()
        )
    return "\n".join(lines)


async def outbox_show(cfg: StackConfig, args: argparse.Namespace) -> str:
    from ivr.store import outbox

    _require_reason(args)
    store = await _open(cfg)
    try:
        found = await outbox.get(store, args.message)
        if found is None:
            raise OutboxCommandError(f"no message {args.message}")
        await _audit(store, args, f"outbox:{found.id}")
    finally:
        await store.close()
    d = as_dict(found, unmask=args.unmask, history=True)
    if args.json:
        return json.dumps(d, indent=2, ensure_ascii=False)
    lines = [
        f"message {d['id']}  {d['state']}  ({d['channel']} to {d['recipient']})",
        f"  key:      {d['key']}",
        f"  purpose:  {d['purpose']}  {d['ref']}".rstrip(),
        f"  created:  {_when(d['created_at'])}",
        f"  next:     {_when(d['next_attempt_at'])}",
        f"  delivered: {_when(d['delivered_at'])}",
    ]
    if d["subject"]:
        lines.append(f"  subject:  {d['subject']}")
    lines.append(f"  body:     {d['body']}")
    for a in d["history"]:
        lines.append(
            f"  attempt {a['seq']}: {_when(a['started_at'])} {a['outcome']} "
            f"by {a['sender']}  {a['detail'] or ''}".rstrip()
        )
    return "\n".join(lines)


async def outbox_retry(cfg: StackConfig, args: argparse.Namespace) -> str:
    from ivr.domain.clock import system_clock
    from ivr.store import outbox

    store = await _open(cfg)
    try:
        again = await outbox.retry(store, args.message, now=system_clock())
    finally:
        await store.close()
    if args.json:
        return json.dumps(as_dict(again, unmask=False), indent=2, ensure_ascii=False)
    return f"message {again.id} is pending again; the sender takes it on its next round"


async def outbox_run(cfg: StackConfig, *, once: bool) -> str:
    from ivr.adapters.ami import AmiClient
    from ivr.domain.clock import system_clock
    from ivr.notify.service import build_sender
    from ivr.routing.loader import load_profile

    def trunk() -> str | None:
        return load_profile(cfg.routing_dir).directory.outbound_trunk

    store = await _open(cfg)
    ami = AmiClient(cfg.host, cfg.ports.ami, cfg.ami_user, cfg.ami_secret)
    await ami.start()
    sender = None
    try:
        sender = build_sender(cfg, store, ami, system_clock, trunk)
        if once:
            handled = await sender.run_once()
            t = sender.tally
            return (
                f"{handled} handled: {len(t.delivered)} delivered, {len(t.retrying)} to retry, "
                f"{len(t.dead)} dead, {len(t.unknown)} unknown"
            )
        collector.started()  # a long-running sender from here
        await sender.run_forever()
        return ""
    finally:
        if sender is not None:
            await sender.close()
        await ami.stop()
        await store.close()
