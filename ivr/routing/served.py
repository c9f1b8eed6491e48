"""Which routing version served each call: noted as the call starts, never delaying it.

The engine swaps its tables in one assignment, and a call takes one snapshot of them
as it starts and keeps it to the end (`HotlineScript` reads the view once). The
snapshot carries the digest of the files it was loaded from; here each call's
channel is noted with that digest and the published version number that has it (None
when the files on disk were edited by hand). The note is written in the background:
a slow or absent database never holds a caller.

Before the first version exists (a new stack, before any `ivr routing` command or
admin page imported the profile), the first call's note imports the profile's files
as version 1, exactly as `ivr routing versions` would, when they are still the files
that served it: that call and every one after it name the version that served them,
never None for tables that were never edited by hand.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from ivr.domain.clock import Clock
from ivr.routing.publish_types import SYSTEM
from ivr.routing.versions import DocumentError, digest, read_document
from ivr.store import StoreUnavailable
from ivr.store import routing_versions as store_versions
from ivr.store.routing_versions_records import StaleVersion

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

    def __init__(self, store: CaseStore, clock: Clock, directory: Path | None = None) -> None:
        self._store = store
        self._clock = clock
        # The profile's directory: its files become version 1 if there is none yet.
        self._directory = directory
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
                if number is None:
                    number = await self._first_version(profile, content)
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

    async def _first_version(self, profile: str, content: str) -> int | None:
        """Version 1 made of the files on disk, if there is no version yet and they are
        the files that served the call (same digest); else None."""
        if self._directory is None:
            return None
        if await store_versions.head(self._store, profile) is not None:
            # Versions exist: another call may have just made version 1 of these very
            # files (after this one looked them up), so look again; None means none has
            # these files: edited by hand.
            return await store_versions.number_for_digest(self._store, profile, content)
        try:
            files = read_document(self._directory)
        except (DocumentError, OSError):
            return None
        if digest(files) != content:
            return None  # changed on disk since the call's tables were loaded
        try:
            made = await store_versions.import_version(
                self._store,
                profile,
                files,
                base=0,
                by=SYSTEM,
                at=self._clock(),
                comment=(
                    f"the profile as it was on disk when versions began ({self._directory.name})"
                ),
            )
        except StaleVersion:
            # Another call (or an admin) made version 1 first: it has these files or not.
            return await store_versions.number_for_digest(self._store, profile, content)
        log.info("routing_version_imported_at_first_call", profile=profile, version=made.number)
        return made.number

    async def flush(self) -> None:
        """Wait for the notes in flight (tests, and a clean stop)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
