"""The `ivr` command: run the stack, place test calls, read the case store.

One module per command group, each with `register(subparsers)`: the groups in this
package (`stack`, `calls`, `routing`, `tickets`, `calendar`, `store`) and the
`ivr/<area>_cli.py` modules (`phones_cli`, `privacy_cli`, …). A command raises a
`HotlineError` when it cannot do what was asked; `main` shows it in one place
(`ivr.cli.errors`) and returns its exit status. docs/cli.md says how to add a group.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ivr import config as stack_config
from ivr import logging as ivr_logging
from ivr.cli import calendar, calls, routing, stack, store, tickets
from ivr.cli.common import EXIT_FAIL, EXIT_OK, load, state_dir
from ivr.cli.errors import EPILOG, adopt, shown, usage_error, wants_json
from ivr.cli.stack import cmd_init, render_all
from ivr.errors import HotlineError

# Names other modules and tests import from `ivr.cli`.
_load = load
_state_dir = state_dir
__all__ = ["EXIT_FAIL", "EXIT_OK", "_load", "_parser", "cmd_init", "main", "render_all"]


def main(argv: Sequence[str] | None = None) -> int:
    # Whatever the engine or the CLI writes (case store, logs, spool, recordings)
    # holds personal data or secrets: owner-only, whatever the caller's umask.
    os.umask(0o077)
    words = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(json_errors="--json" in words)
    args = parser.parse_args(words)
    ivr_logging.configure(level=args.log_level)
    as_json = wants_json(args, words)
    try:
        result: int = args.func(args)
    except HotlineError as exc:
        return shown(exc, as_json=as_json)
    except KeyboardInterrupt:
        return EXIT_FAIL
    except Exception as exc:
        known = adopt(exc)
        if known is None:
            raise  # a defect: its traceback is what a bug report needs
        return shown(known, as_json=as_json)
    return result


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors come as JSON too when `--json` is on the line."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        usage_error(self, message, as_json=self.json_errors)
        raise SystemExit(2)  # not reached: usage_error exits


def _parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    _Parser.json_errors = json_errors
    p = _Parser(
        prog="ivr",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--state-dir",
        help=f"the stack's state directory (default ${stack_config.STATE_DIR_ENV} "
        f"or {stack_config.DEFAULT_STATE_DIR})",
    )
    p.add_argument("--log-level", default="INFO")
    p.add_argument(
        "--json",
        dest="json_errors",
        action="store_true",
        help="show an error as JSON on stderr, for every command",
    )
    sub: Any = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    # One line per command group; a new group is a module with `register(sub)`.
    for group in (stack, calls, routing, store, calendar, tickets):
        group.register(sub)
    from ivr import phones_cli

    phones_cli.register(sub)
    from ivr import privacy_cli

    privacy_cli.register(sub)
    from ivr import outbox_cli

    outbox_cli.register(sub)
    from ivr import cases_cli

    cases_cli.register(sub)
    from ivr import users_cli

    users_cli.register(sub)
    return p


if __name__ == "__main__":
    raise SystemExit(main())
