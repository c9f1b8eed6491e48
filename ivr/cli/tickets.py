"""`ivr tickets …` and `ivr report transfers`: the parser; the bodies are in `ivr.tickets_cli`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ivr.cli import agents_report
from ivr.cli import pauses as pause_report
from ivr.cli import queues as queue_report
from ivr.cli.common import EXIT_FAIL, EXIT_OK, admin, json_flag, load, unmask_args
from ivr.cli_types import positive
from ivr.domain.vocabulary import TicketStatus, values


def register(sub: Any) -> None:
    by = admin()
    tickets = sub.add_parser("tickets", help="callback tickets: list, show, assign, note, close")
    tsub = tickets.add_subparsers(dest="tickets_command", required=True)
    tl = tsub.add_parser("list", help="tickets by due time, soonest first")
    tl.add_argument("--status", choices=values(TicketStatus))
    tl.add_argument("--unit", help="unit id, e.g. new-construction")
    tl.add_argument("--agency", help="agency id, e.g. pwd (hotline: the call centre's own)")
    tl.add_argument("--overdue", action="store_true", help="only tickets flagged overdue")
    tl.add_argument("--limit", type=positive, default=100)
    json_flag(tl)
    unmask_args(tl)
    tl.set_defaults(func=cmd_tickets_list)
    ts = tsub.add_parser("show", help="a ticket with its attempts, notes and events")
    ts.add_argument("ticket", metavar="NUMBER_OR_ID")
    json_flag(ts)
    unmask_args(ts)
    ts.set_defaults(func=cmd_tickets_show)
    ta = tsub.add_parser("assign", help="give a ticket to a case officer")
    ta.add_argument("ticket", metavar="NUMBER")
    ta.add_argument("assignee")
    ta.add_argument("--by", default=by, help="who made the change (audit trail)")
    ta.set_defaults(func=cmd_tickets_assign)
    tn = tsub.add_parser("note", help="add a note to a ticket")
    tn.add_argument("ticket", metavar="NUMBER")
    tn.add_argument("text")
    tn.add_argument("--by", default=by, help="the note's author")
    tn.set_defaults(func=cmd_tickets_note)
    tt = tsub.add_parser("status", help="move a ticket along open → in_progress → called_back")
    tt.add_argument("ticket", metavar="NUMBER")
    # Any status but open: no ticket moves back to open.
    tt.add_argument("status", choices=[s for s in values(TicketStatus) if s != TicketStatus.OPEN])
    tt.add_argument("--outcome", default=None, help="what came of the callback")
    tt.add_argument("--by", default=by, help="who made the change (audit trail)")
    tt.set_defaults(func=cmd_tickets_status)
    tc = tsub.add_parser("close", help="close a ticket with its outcome")
    tc.add_argument("ticket", metavar="NUMBER")
    tc.add_argument("--outcome", required=True, help="what came of the callback")
    tc.add_argument("--by", default=by, help="who made the change (audit trail)")
    tc.set_defaults(func=cmd_tickets_close)
    tb = tsub.add_parser("callback", help="click-to-callback: ring the officer, then the citizen")
    tb.add_argument("ticket", metavar="NUMBER")
    tb.add_argument("--from", dest="officer", required=True, help="the officer's extension")
    tb.set_defaults(func=cmd_tickets_callback)
    _register_reports(sub)


def _register_reports(sub: Any) -> None:
    report = sub.add_parser("report", help="monthly management reports (DOMAIN 8)")
    rsub = report.add_subparsers(dest="report_command", required=True)
    rt = rsub.add_parser("transfers", help="transfers and callbacks per agency and unit")
    rt.add_argument("--month", required=True, help="YYYY-MM, in Asia/Taipei time")
    rt.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    # A path here, not a switch: errors print as JSON with `ivr --json report …`.
    rt.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    rt.set_defaults(func=cmd_report_transfers)
    # Every monthly report is a subcommand of `ivr report`; each area adds its own here.
    from ivr import cases_cli

    cases_cli.register_report(rsub)
    queue_report.register(rsub, load)
    pause_report.register(rsub, load)
    agents_report.register(rsub, load)


def cmd_tickets_list(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.list_tickets(
            load(args),
            status=args.status,
            unit=args.unit,
            agency=args.agency,
            overdue=args.overdue,
            limit=args.limit,
            as_json=args.json,
            unmask=args.unmask,
            reason=args.reason,
        )
    )


def cmd_tickets_show(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.show_ticket(
            load(args), args.ticket, as_json=args.json, unmask=args.unmask, reason=args.reason
        )
    )


def cmd_tickets_assign(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.assign_ticket(load(args), args.ticket, args.assignee, by=args.by)
    )


def cmd_tickets_note(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(tickets_cli.note_ticket(load(args), args.ticket, args.text, by=args.by))


def cmd_tickets_status(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.set_status(
            load(args), args.ticket, args.status, outcome=args.outcome, by=args.by
        )
    )


def cmd_tickets_close(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.set_status(load(args), args.ticket, "closed", outcome=args.outcome, by=args.by)
    )


def cmd_tickets_callback(args: argparse.Namespace) -> int:
    from ivr.control import click_to_callback

    result = asyncio.run(click_to_callback(load(args), args.ticket, args.officer))
    print(f"ticket {result.ticket}: callback attempt {result.attempt}: {result.dialstatus}")
    return EXIT_OK if result.dialstatus == "ANSWER" else EXIT_FAIL


def cmd_report_transfers(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.transfer_report(load(args), args.month, csv_path=args.csv, json_path=args.json)
    )
