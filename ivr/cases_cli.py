"""`ivr cases …` and `ivr report cases`: petitions and dispatch orders from the command line.

Every command prints text, or JSON with `--json`, and turns every expected failure
(unknown case, a move the rules refuse, a bad file, an unreachable store) into one line
on stderr and exit status 1. Personal data is masked unless `--unmask --reason` is
given; every view writes an audit row first. A petition's password is printed once,
by the command that made it, and never again.

This module is the command table; the commands are in `ivr.cases_cli_commands` (one
case at a time) and `ivr.cases_cli_bulk` (the profile's cases in bulk), on the
session of `ivr.cases_cli_session`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ivr import cases_service as svc
from ivr import config as stack_config
from ivr.cases_cli_bulk import cmd_deidentify, cmd_import, cmd_report, cmd_sample, cmd_service
from ivr.cases_cli_commands import (
    cmd_assign,
    cmd_callback,
    cmd_close,
    cmd_convert,
    cmd_grade,
    cmd_list,
    cmd_merge,
    cmd_new,
    cmd_note,
    cmd_reopen,
    cmd_reply,
    cmd_show,
    cmd_survey,
)
from ivr.cli_types import positive
from ivr.config import StackConfig
from ivr.domain.vocabulary import CaseGrade, CaseKind, CaseState, values

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

    callback = csub.add_parser(
        "callback", help="open a callback ticket for the case's citizen, linked both ways"
    )
    _act_args(callback)
    callback.add_argument("--note", default=None, help="what the callback is about")
    callback.set_defaults(func=_run(cmd_callback))

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
