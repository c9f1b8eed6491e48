"""`ivr call`, `ivr calls list|show`, `ivr transfer`: test calls and the call record."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from typing import Any

from ivr.cli.common import EXIT_FAIL, EXIT_OK, json_flag, load, print_json, unmask_args
from ivr.cli_types import positive


def register(sub: Any) -> None:
    call = sub.add_parser("call", help="place a real test call through Asterisk (Local channel)")
    call.add_argument("number", help="the number to call, e.g. 1999")
    call.add_argument("--dtmf", default="", help="digits the caller presses")
    call.add_argument("--caller", default="0912345678", help="caller number")
    call.add_argument("--wait", type=float, default=1.0, help="seconds before the digits")
    call.add_argument("--hold", type=float, default=4.0, help="seconds on the line after them")
    json_flag(call)
    call.set_defaults(func=cmd_call)

    calls = sub.add_parser("calls", help="read calls from the case store")
    csub = calls.add_subparsers(dest="calls_command", required=True)
    cl = csub.add_parser("list")
    cl.add_argument("--limit", type=positive, default=20)
    json_flag(cl)
    unmask_args(cl)
    cl.set_defaults(func=cmd_calls_list)
    cs = csub.add_parser("show")
    cs.add_argument("id", type=positive)
    json_flag(cs)
    unmask_args(cs)
    cs.set_defaults(func=cmd_calls_show)

    xfer = sub.add_parser("transfer", help="send a live call into the transfer engine")
    xfer.add_argument("channel", help="the caller's channel, e.g. PJSIP/carrier-00000012")
    xfer.add_argument("unit", help="unit id, dial code or extension")
    xfer.set_defaults(func=cmd_transfer)


def cmd_call(args: argparse.Namespace) -> int:
    from ivr.testcall import place_call

    cfg = load(args)
    result = asyncio.run(
        place_call(
            cfg,
            args.number,
            dtmf=args.dtmf,
            caller=args.caller,
            wait_s=args.wait,
            hold_s=args.hold,
            call_uid=uuid.uuid4().hex,
        )
    )
    if args.json:
        print_json(result)
    else:
        print(f"call {result['uniqueid']}: {result['summary']}")
        if result.get("call"):
            print_call(result["call"])
    return EXIT_OK if result["reached"] else EXIT_FAIL


def cmd_transfer(args: argparse.Namespace) -> int:
    from ivr.control import transfer

    code = asyncio.run(transfer(load(args), args.channel, args.unit))
    print(f"{args.channel} sent to the transfer engine for {args.unit} ({code})")
    return EXIT_OK


def cmd_calls_list(args: argparse.Namespace) -> int:
    from ivr.store_cli import list_calls

    rows = asyncio.run(list_calls(load(args), args.limit, unmask=args.unmask, reason=args.reason))
    if args.json:
        print_json(rows)
        return EXIT_OK
    print(f"{'id':>6}  {'started (UTC)':19}  {'caller':14}  {'outcome':9}  cause")
    for r in rows:
        started = str(r["started_at"])[:19]
        print(
            f"{r['id']:>6}  {started:19}  {r['caller_number'] or '-':14}  "
            f"{r['outcome'] or '-':9}  {r['hangup_cause_text'] or '-'}"
        )
    return EXIT_OK


def cmd_calls_show(args: argparse.Namespace) -> int:
    from ivr.store_cli import CallNotFound, show_call

    call = asyncio.run(show_call(load(args), args.id, unmask=args.unmask, reason=args.reason))
    if call is None:
        raise CallNotFound(f"no call {args.id}", details={"id": args.id})
    if args.json:
        print_json(call)
    else:
        print_call(call)
    return EXIT_OK


def print_call(call: dict[str, Any]) -> None:
    for key in (
        "id",
        "uniqueid",
        "linkedid",
        "channel",
        "caller_number",
        "started_at",
        "answered_at",
        "ended_at",
        "hangup_cause",
        "hangup_cause_text",
        "outcome",
    ):
        print(f"  {key:18} {call.get(key)}")
    print("  timeline:")
    for e in call.get("events", []):
        data = json.dumps(e["data"], ensure_ascii=False)
        print(f"    {e['seq']:>3}  {str(e['at'])[11:23]}  {e['kind']:18} {data}")
    for t in call.get("tickets", []):
        made = " (made after a store outage)" if t["after_outage"] else ""
        print(f"  ticket {t['ticket_number']}{made}: {t['reason']}, {t['status']}")
        print(f"    message: {t['message'] or '-'}")
