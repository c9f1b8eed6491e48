"""Fixtures for every test."""

from __future__ import annotations

import sys
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
