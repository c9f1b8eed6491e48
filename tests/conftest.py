"""Fixtures for every test."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator

import pytest

from ivr import logging as ivr_logging


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
# wall-clock start and end of its whole run (setup, call and teardown together).
_TIMELINE_ENV = "HOTLINE_TEST_TIMELINE"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    target = os.environ.get(_TIMELINE_ENV)
    start = time.time()
    yield
    if not target:
        return
    line = {
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "file": item.nodeid.split("::", 1)[0],
        "test": item.nodeid,
        "start": start,
        "end": time.time(),
    }
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
