"""Fixtures for every test."""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.suite_timeline import run_order
from ivr import logging as ivr_logging
from ivr.adapters import collector

# The garbage collector in a worker, as in an `ivr` process (ivr/adapters/collector.py
# says why): rare while the test modules are imported, then what collection built is
# frozen. A worker then allocates for minutes (stores, pages, examples), so its young
# generation is collected every 10,000 new objects, not 700. Measured on tests/store in
# one process: the collector took 3.9 CPU-s instead of 9.7, the whole run 69 CPU-s
# instead of 77.
WORKER_GC_THRESHOLDS = (10_000, 10, 10)


def pytest_configure(config: pytest.Config) -> None:
    collector.starting()


def pytest_collection_finish(session: pytest.Session) -> None:
    collector.started()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


@pytest.fixture(autouse=True)
def _logging_to_the_real_stderr() -> Iterator[None]:
    """After each test, log to the process's own stderr again.

    A test that runs the CLI or the engine in-process configures logging with the
    stderr it sees, which is pytest's capture of that one test and is closed after it.
    A later test in the same process (a worker runs many files) would then log into a
    closed file: its AMI and ARI supervisors die of ValueError and its calls fail.
    """
    yield
    ivr_logging.configure(stream=sys.__stderr__)


# The suite's timeline, for finding its critical path (bench/suite_timeline.py): with
# HOTLINE_TEST_TIMELINE=<file>, every worker appends one JSON line per test, with the
# wall-clock start and end of its whole run (setup, call and teardown together), and
# the CPU seconds it cost: the worker's own, and its children's (an engine, a CLI, a
# SIPp or a browser is counted when it is reaped, so a stack started for a whole
# session is counted in the test that stops it). On a 2-core machine the suite is
# bound by CPU, not by waits, once enough workers run.
_TIMELINE_ENV = "HOTLINE_TEST_TIMELINE"


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    target = os.environ.get(_TIMELINE_ENV)
    start = time.time()
    cpu, cpu_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    yield
    if not target:
        return
    line = {
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "file": item.nodeid.split("::", 1)[0],
        "test": item.nodeid,
        "start": start,
        "end": time.time(),
        "cpu": round(_cpu(resource.RUSAGE_SELF) - cpu, 3),
        "cpu_children": round(_cpu(resource.RUSAGE_CHILDREN) - cpu_children, 3),
    }
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


# The files in the order that ends the run soonest (bench.suite_timeline.run_order):
# the longest first, those that wait on calls alternating with those that compute.
# xdist hands a worker its next file in collection order when it is nearly done (the
# Makefile's `--no-loadscope-reorder` keeps that order; xdist's own puts the files with
# the most tests first, which left a real-call file running alone at the end). The
# figures come from a measured run (`python -m bench.suite_timeline --durations`).
DURATIONS = Path(__file__).with_name("durations.json")


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by fixture
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    try:
        measured = json.loads(DURATIONS.read_text(encoding="utf-8"))
        costs = {str(f): [float(c[0]), float(c[1])] for f, c in measured.items()}
    except (OSError, ValueError, AttributeError, TypeError, IndexError, KeyError):
        return
    files = list(dict.fromkeys(item.nodeid.split("::", 1)[0] for item in items))
    rank = {f: i for i, f in enumerate(run_order(files, costs))}
    # A stable sort: a file's tests stay together and in their order.
    items.sort(key=lambda item: rank[item.nodeid.split("::", 1)[0]])


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, handing a worker its next file one test later than xdist does.

    xdist gives a worker its next file once it has two tests left: the one it runs and
    the one it holds back (a worker runs a test only once it knows the next, for the
    teardown of fixtures). A file of two long tests thus took its next file at its
    start, and that file waited behind both: in one measured run, a 50 s file waited
    100 s on a worker while the others ran out of work, and the run ended 46 s after
    them. Here the next file goes out once only the held test is left. (xdist is
    pinned: this overrides its `_reschedule`, which `mark_test_complete` calls.)
    """
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NextFileLate(LoadFileScheduling):
        def _reschedule(self, node: Any) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return NextFileLate(config, log)
