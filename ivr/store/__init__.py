"""Case store: every call the hotline handles, with its timeline of events."""

from pathlib import Path

from ivr.store.repo import CallEventRecord, CallRecord, CaseStore, StoreUnavailable

__all__ = [
    "CallEventRecord",
    "CallRecord",
    "CaseStore",
    "StoreUnavailable",
    "default_sqlite_url",
]


def default_sqlite_url(path: Path) -> str:
    """URL of the embedded SQLite case store at `path` (made absolute)."""
    return "sqlite+aiosqlite:///" + str(path.resolve())
