"""The clock is a parameter: domain code never reads the time itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The only place the engine reads wall-clock time (aware, UTC)."""
    return datetime.now(UTC)
