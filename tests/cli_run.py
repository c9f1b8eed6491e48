"""`ivr …` run inside the test's process, for tests of what a command prints and returns.

It is the same `ivr.cli.main` that `python -m ivr` runs, given the same words; only the
new interpreter is left out. A new one spends about 2 s of CPU importing the store
before the command starts, and a file of CLI tests ran some 75 of them: on a 2-core
machine that was a tenth of the suite's CPU. A test about the process itself (its
environment, its user, its exit through the interpreter) still runs `python -m ivr`.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from ivr import cli
from ivr import logging as ivr_logging


def run_ivr(*argv: str) -> subprocess.CompletedProcess[str]:
    """`ivr ARGV`: its exit status and what it wrote to stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(list(argv))
        except SystemExit as exc:  # argparse's usage errors and --help exit
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            # The command logged to the captured stderr; later code logs to the real one.
            ivr_logging.configure(stream=sys.__stderr__)
    return subprocess.CompletedProcess(["ivr", *argv], status, out.getvalue(), err.getvalue())
