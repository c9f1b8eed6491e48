"""The one place where `ivr` shows an error, and the exit statuses it returns.

Every command raises a `HotlineError` (`ivr.errors`) for a failure it expects. `shown`
turns it into what a person reads (lines on stderr, the last one prefixed `ivr:`), or,
with `--json`, into one JSON object on stderr, so that stdout only ever holds the
answer asked for:

    {"error": {"code": "ticket.not_found", "message": "...", "details": {...}}}

The process exits with the error's `exit_status`. A HotlineError never shows a
traceback; anything else is a defect and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ivr.errors import ExitStatus, HotlineError

# What `ivr --help` shows under the commands, and docs/cli.md explains.
EPILOG = """exit statuses:
  0  ok
  1  failed, or problems found (a refused routing table, a check that did not pass)
  2  usage: a wrong command line
  3  not found: no such ticket, call or extension
  4  refused: a rule forbids it, or it conflicts with the current state
  5  unavailable: the case store, Asterisk, AMI or ARI is down or unreachable

With --json an error is one JSON object on stderr:
  {"error": {"code": "...", "message": "...", "details": {...}}}"""


def adopt(exc: BaseException) -> HotlineError | None:
    """The store's errors, as HotlineErrors; None for anything else (a defect)."""
    # Looked up only once the store is loaded: `ivr --help` must not import it.
    store = sys.modules.get("ivr.store")
    if store is None:
        return None
    # getattr: the store is being split; a name it stops exporting adopts nothing.
    if isinstance(exc, getattr(store, "StoreUnavailable", ())):
        return _with(exc, "store.unavailable", ExitStatus.UNAVAILABLE)
    if isinstance(exc, getattr(store, "InvalidTransition", ())):
        return _with(exc, "ticket.invalid_transition", ExitStatus.REFUSED)
    return None


def _with(exc: BaseException, code: str, status: ExitStatus) -> HotlineError:
    # The store's classes cannot derive from HotlineError from here: a subclass made
    # on the spot, under the same name, carries their code and exit status.
    cls = type(type(exc).__name__, (HotlineError,), {"code": code, "exit_status": status})
    err: HotlineError = cls(str(exc))
    return err


def wants_json(args: argparse.Namespace | None, argv: list[str]) -> bool:
    """`ivr --json …`, or a command's own `--json` switch (not `report --json PATH`)."""
    if args is not None:
        return bool(getattr(args, "json_errors", False)) or getattr(args, "json", None) is True
    return "--json" in argv


def shown(exc: HotlineError, *, as_json: bool) -> int:
    """Print `exc` for a person or as JSON on stderr; return its exit status."""
    if as_json:
        print(
            json.dumps({"error": exc.as_dict()}, ensure_ascii=False, default=str), file=sys.stderr
        )
    else:
        *lines, last = exc.lines() or [type(exc).__name__]
        for line in lines:
            print(line, file=sys.stderr)
        print(f"ivr: {last}", file=sys.stderr)
    return int(exc.exit_status)


def usage_error(parser: argparse.ArgumentParser, message: str, *, as_json: bool) -> Any:
    """argparse's own refusal (exit 2), as JSON too when `--json` was given."""
    if as_json:
        body = {"code": "usage", "message": message, "details": {"usage": parser.format_usage()}}
        print(json.dumps({"error": body}, ensure_ascii=False), file=sys.stderr)
        raise SystemExit(int(ExitStatus.USAGE))
    parser.print_usage(sys.stderr)
    parser.exit(int(ExitStatus.USAGE), f"{parser.prog}: error: {message}\n")
