"""The `ivr` command: run the stack, place test calls, read the case store.

One module per command group, each with `register(subparsers)`: the groups in this
package (`stack`, `calls`, `routing`, `tickets`, `calendar`, `store`) and the
`ivr/<area>_cli.py` modules (`phones_cli`, `privacy_cli`, …), named in
`COMMAND_MODULES`. A command raises a
`HotlineError` when it cannot do what was asked; `main` shows it in one place
(`ivr.cli.errors`) and returns its exit status. docs/cli.md says how to add a group.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ivr import config as stack_config
from ivr import logging as ivr_logging
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
    parser = _parser(json_errors="--json" in words, words=words)
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


# Which module registers each top-level command. `ivr X …` imports only X's module: the
# case service, the store and the routing tables take about a second each to import,
# and every command paid for all of them. `--help`, no command or an unknown word load
# every module, so argparse lists and refuses as before. A new command group is a
# module with `register(sub)` and its lines here; tests/unit/test_cli_commands.py
# checks this map against what the modules register.
COMMAND_MODULES: dict[str, str] = {
    **dict.fromkeys(
        ("asterisk", "init", "prompts", "run", "serve", "status", "supervise"), "ivr.cli.stack"
    ),
    **dict.fromkeys(("call", "calls", "transfer"), "ivr.cli.calls"),
    "routing": "ivr.cli.routing",
    **dict.fromkeys(("db", "mode"), "ivr.cli.store"),
    "calendar": "ivr.cli.calendar",
    **dict.fromkeys(("report", "tickets"), "ivr.cli.tickets"),
    "phones": "ivr.phones_cli",
    **dict.fromkeys(("audit", "retention"), "ivr.privacy_cli"),
    "outbox": "ivr.outbox_cli",
    "cases": "ivr.cases_cli",
    "users": "ivr.users_cli",
}
# Options of `ivr` itself that take a value, so the command is the word after it.
_VALUED_OPTIONS = frozenset({"--state-dir", "--log-level"})


def _modules_for(words: Sequence[str] | None) -> list[str]:
    """The modules to register for this command line, in the order `--help` lists."""
    every = list(dict.fromkeys(COMMAND_MODULES.values()))
    if words is None:
        return every
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _VALUED_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            module = COMMAND_MODULES.get(word)
            return [module] if module else every
        elif word in ("-h", "--help"):
            return every
    return every


def _parser(
    *, json_errors: bool = False, words: Sequence[str] | None = None
) -> argparse.ArgumentParser:
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

    for name in _modules_for(words):
        importlib.import_module(name).register(sub)
    return p


if __name__ == "__main__":
    raise SystemExit(main())
