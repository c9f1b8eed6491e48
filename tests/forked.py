"""Processes forked from a fork server that imported the product once, per test worker.

A new interpreter spends 1.2 to 2 CPU-s importing the case store and the CLI before it
does anything. The tests that start and kill many short-lived processes of the product
(the exact-replay test, the sender-crash test) fork them from a server instead. What
they test is the same: a process of its own, with its own connections and files, that
SIGKILL can stop anywhere.

`multiprocessing` keeps one fork server per process, and imports the preload list as it
stands when the server first starts. Each forking test module adds itself here at
import, which pytest does for every module before the first test runs.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

PROCESSES: ForkServerContext = multiprocessing.get_context("forkserver")
_PRELOAD = ["ivr.cli", "ivr.outbox_cli", "ivr.store"]


def forking(module: str) -> ForkServerContext:
    """The shared fork server, with `module` (whose functions the children run) preloaded."""
    if module not in _PRELOAD:
        _PRELOAD.append(module)
    PROCESSES.set_forkserver_preload(list(_PRELOAD))
    return PROCESSES
