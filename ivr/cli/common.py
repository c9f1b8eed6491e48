"""What every command group shares: the stack a command works on, options, output.

A command group's module (here, or an `ivr/<area>_cli.py`) reads the stack with
`load(args)` and raises a `HotlineError` when it cannot do what was asked; it never
prints an error itself (`ivr.cli.errors` does, once, for every command).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ivr import config as stack_config
from ivr.config import StackConfig
from ivr.errors import ExitStatus

EXIT_OK = int(ExitStatus.OK)
EXIT_FAIL = int(ExitStatus.FAILURE)


def state_dir(args: argparse.Namespace) -> Path:
    return stack_config.resolve_state_dir(args.state_dir)


def load(args: argparse.Namespace) -> StackConfig:
    """The stack named by `--state-dir` (or its default); `ConfigError` if there is none."""
    return stack_config.load(state_dir(args))


def admin() -> str:
    """Who runs the command, for audit trails' `--by` default."""
    return os.environ.get("SUDO_USER") or os.environ.get("USER", "admin")


def json_flag(p: argparse.ArgumentParser) -> None:
    """`--json`: the answer as JSON on stdout, and an error as JSON on stderr."""
    p.add_argument("--json", action="store_true", help="JSON output (errors too)")


def unmask_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--unmask", action="store_true", help="show caller numbers in clear (audited)")
    p.add_argument("--reason", default=None, help="why the data is needed in clear (required)")


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def columns(table: Sequence[Sequence[str]]) -> str:
    """A report's rows as left-aligned columns, two spaces apart (the first row heads)."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table
    )
