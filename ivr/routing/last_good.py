"""The last routing table the engine ran with, kept so a bad file cannot stop a restart.

A reload validates before it swaps, so a typo never reaches a running engine. A
restart is different: the engine has no running table to keep, and the file on disk
is all it has. Every table the engine accepts (at start or on reload) is copied here,
into `<state dir>/routing-last-good/` (0700, files 0600: a demo profile's agents.yaml
holds secrets). At start, if the profile directory is refused, the engine logs every
problem (file, field, reason) and serves this copy instead, so callers still get the
menus, hours and queues they had. Only with no copy at all (the first start ever) does
a refused table stop the engine; Asterisk's dialplan fallback then answers callers
and puts them in the agents' queue.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from ivr.routing.loader import FILES, Problem, RoutingError
from ivr.routing.tables import RoutingTables

log = structlog.get_logger()

LAST_GOOD_DIR = "routing-last-good"

Validate = Callable[[Path], RoutingTables]


@dataclass(frozen=True)
class Started:
    """The table an engine starts with, and what was refused on the way (if anything)."""

    tables: RoutingTables
    # Empty when the profile directory itself loaded; else why it was refused.
    refused: tuple[Problem, ...] = ()

    @property
    def from_last_good(self) -> bool:
        return bool(self.refused)


def last_good_dir(state_dir: Path) -> Path:
    return state_dir / LAST_GOOD_DIR


def remember(tables: RoutingTables, state_dir: Path) -> None:
    """Copy the files `tables` was loaded from, replacing the previous copy whole."""
    target = last_good_dir(state_dir)
    if tables.source.resolve() == target.resolve():
        return  # serving the copy already
    state_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{LAST_GOOD_DIR}-", dir=state_dir))
    try:
        for name in FILES:
            dest = staging / name
            shutil.copyfile(tables.source / name, dest)
            dest.chmod(0o600)
        staging.chmod(0o700)
        old = state_dir / f".{LAST_GOOD_DIR}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError:
        # The copy is a safety net: failing to update it must not refuse a good table.
        log.exception("routing_last_good_not_saved", directory=str(target))
        shutil.rmtree(staging, ignore_errors=True)


def start_tables(directory: Path, state_dir: Path, validate: Validate) -> Started:
    """The profile in `directory`, or the last good copy if it is refused.

    Raises `RoutingError` (the profile's own problems) only when there is no usable copy.
    """
    try:
        tables = validate(directory)
    except RoutingError as exc:
        refused = exc
    else:
        remember(tables, state_dir)
        return Started(tables)
    copy = last_good_dir(state_dir)
    problems = [str(p) for p in refused.problems]
    if not copy.is_dir():
        log.error("routing_refused_at_start", directory=str(directory), problems=problems)
        raise refused
    try:
        tables = validate(copy)
    except RoutingError as also:
        # Refused tables are reasons, not crash traces.
        log.error(  # noqa: TRY400
            "routing_refused_at_start",
            directory=str(directory),
            problems=problems,
            last_good_problems=[str(p) for p in also.problems],
        )
        raise refused from None
    log.error(
        "routing_refused_at_start_serving_last_good",
        directory=str(directory),
        last_good=str(copy),
        last_good_modified=os.path.getmtime(copy),
        problems=problems,
    )
    return Started(tables, tuple(refused.problems))
