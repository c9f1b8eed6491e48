"""The running routing table, swapped whole: a call sees the old table or the new one.

A reload validates the new profile completely before it touches anything; a refused
reload leaves the running table (and its version) exactly as it was, so a typo in a
table an admin is editing can never take the hotline down.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ivr.domain.clock import Clock, system_clock
from ivr.routing.loader import load_profile
from ivr.routing.tables import RoutingTables

Validate = Callable[[Path], RoutingTables]


@dataclass(frozen=True)
class Loaded:
    """One table with when and in what order it was loaded: read it as one snapshot."""

    tables: RoutingTables
    version: int
    loaded_at: datetime


class TableHolder:
    """Keeps the running table; `reload` swaps in a new one in a single assignment.

    `validate` turns a profile directory into tables or raises `RoutingError`; it
    defaults to `load_profile`. Pass `functools.partial(load_checked, catalogue=…,
    available=…)` from `ivr.routing.check` to refuse tables whose prompts are missing.
    """

    def __init__(
        self,
        tables: RoutingTables,
        *,
        validate: Validate = load_profile,
        clock: Clock = system_clock,
    ) -> None:
        self._validate = validate
        self._clock = clock
        # Reloads may come from a signal, the CLI and a file watcher at once; the lock
        # keeps versions strictly increasing. Readers never take it.
        self._lock = threading.Lock()
        self._loaded = Loaded(tables, 1, clock())

    @classmethod
    def load(
        cls, directory: Path, *, validate: Validate = load_profile, clock: Clock = system_clock
    ) -> TableHolder:
        return cls(validate(directory), validate=validate, clock=clock)

    @property
    def loaded(self) -> Loaded:
        return self._loaded

    @property
    def current(self) -> RoutingTables:
        return self._loaded.tables

    @property
    def version(self) -> int:
        return self._loaded.version

    @property
    def loaded_at(self) -> datetime:
        return self._loaded.loaded_at

    def reload(self, directory: Path) -> Loaded:
        """Validate `directory` fully, then swap it in; on `RoutingError` keep the old one."""
        tables = self._validate(directory)  # raises before anything changes
        with self._lock:
            self._loaded = Loaded(tables, self._loaded.version + 1, self._clock())
            return self._loaded
