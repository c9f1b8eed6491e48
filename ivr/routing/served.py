"""Which routing version served each call: noted as the call starts, never delaying it.

The engine swaps its tables in one assignment, and a call takes one snapshot of them
as it starts and keeps it to the end (`HotlineScript` reads the view once). The
snapshot carries the digest of the files it was loaded from; here each call's
channel is noted with that digest and the published version number that has it (None
when the files on disk were edited by hand). The note is written in the background:
a slow or absent database never holds a caller.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from ivr.domain.clock import Clock
from ivr.routing.versions import DocumentError, digest, read_document
from ivr.store import StoreUnavailable
from ivr.store import routing_versions as store_versions

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

log = structlog.get_logger()


def directory_digest(directory: Path) -> str | None:
    """The digest of a profile directory's table files; None if they cannot be read."""
    try:
        return digest(read_document(directory))
    except (DocumentError, OSError):
        return None


class ServedVersions:
    """Notes (uniqueid → profile, digest, version) for calls, in background tasks."""

    def __init__(self, store: CaseStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        # A published version's digest maps to its number for ever; cache the hits.
        self._numbers: dict[tuple[str, str], int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def note(self, uniqueid: str, profile: str, content: str | None) -> None:
        if content is None:
            return
        task = asyncio.create_task(self._write(uniqueid, profile, content))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, uniqueid: str, profile: str, content: str) -> None:
        try:
            number = self._numbers.get((profile, content))
            if number is None:
                number = await store_versions.number_for_digest(self._store, profile, content)
                if number is not None:
                    self._numbers[(profile, content)] = number
            await store_versions.record_call(
                self._store,
                uniqueid=uniqueid,
                profile=profile,
                content=content,
                number=number,
                at=self._clock(),
            )
        except StoreUnavailable as exc:
            # The call goes on; only this note is lost while the store is away.
            log.warning("routing_version_not_noted", uniqueid=uniqueid, error=str(exc))
        except Exception:  # a note must never end a call's task group with an error
            log.exception("routing_version_not_noted", uniqueid=uniqueid)

    async def flush(self) -> None:
        """Wait for the notes in flight (tests, and a clean stop)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
