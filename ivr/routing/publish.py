"""Publishing a routing version: check it, make it the running version, keep it whole.

One publish, in order, under a per-profile file lock (so two publishers on one
machine take turns, and what is on disk is always the version the store says):

1. the draft must be open, based on the running version (else `StaleVersion`), and,
   under the profile's two-person rule, approved as it now stands by someone else;
2. the profile on disk must be the running version (a hand edit is never overwritten);
3. the draft is written into a staging directory next to the profile and checked
   there with the same code as `ivr routing check` (`Site.check`); any problem
   refuses it whole, is kept on the draft, and is raised with file, field and reason;
4. the store inserts version `base + 1` (the database refuses a second one: stale);
5. the staged directory is swapped with the profile's in one rename;
6. the running stack reloads as `ivr routing reload` does (`Site.reload`).

A rollback publishes an earlier version's files again, as a new version, through the
same steps. A scheduled draft is published the same way when its time comes; if it is
refused then, why is kept on the draft, audited and logged, and the schedule cleared.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import fcntl
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from ivr.domain.vocabulary import DraftState, RoutingAudit
from ivr.errors import ExitStatus
from ivr.routing.loader import Problem
from ivr.routing.versions import (
    TABLE_FILES,
    Change,
    DocumentError,
    diff,
    digest,
    read_document,
    write_document,
)
from ivr.store import routing_versions as store_versions
from ivr.store.routing_versions import (
    DraftRecord,
    StaleVersion,
    VersionError,
    VersionRecord,
)

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

log = structlog.get_logger()

SYSTEM = "system"


@dataclass(frozen=True)
class FieldProblem:
    """A checker problem placed in a draft: table file name, field path, reason."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.reason}"
            if self.path
            else f"{self.file}: {self.reason}"
        )

    def as_json(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "reason": self.reason, "text": str(self)}


@dataclass(frozen=True)
class ReloadOutcome:
    """What reloading the running stack said: ok, and its lines for the admin."""

    ok: bool
    lines: tuple[str, ...] = ()


# The `ivr routing check` code, run on a profile directory.
Check = Callable[[Path], list[Problem]]
# The `ivr routing reload` code path, run once the new files are in place.
Reload = Callable[[], Awaitable[ReloadOutcome]]


@dataclass(frozen=True)
class Site:
    """Where a profile runs: its directory, how it is checked and how it is reloaded."""

    profile: str
    routing_dir: Path
    lock_dir: Path
    check: Check
    reload: Reload


class PublishRefused(VersionError):
    """The checker found problems: nothing was published."""

    code = "routing.publish_refused"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__(f"refused: {len(self.problems)} problem(s) in the draft")


class NeedsApproval(VersionError):
    """The profile's two-person rule: a supervisor approves the draft first."""

    code = "routing.needs_approval"
    exit_status = ExitStatus.REFUSED


@dataclass(frozen=True)
class Published:
    version: VersionRecord
    changes: list[Change]
    reload: ReloadOutcome

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version.summary(),
            "changes": [c.as_json() for c in self.changes],
            "reload": {"ok": self.reload.ok, "lines": list(self.reload.lines)},
        }


@dataclass(frozen=True)
class DueOutcome:
    draft_id: int
    published: Published | None = None
    refused: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)


# ---------------------------------------------------------------- the lock


@asynccontextmanager
async def _publish_lock(site: Site) -> AsyncIterator[None]:
    """One publisher per profile on this machine, across processes (flock)."""
    site.lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(
        site.lock_dir / f"routing-publish-{site.profile}.lock", os.O_CREAT | os.O_RDWR, 0o600
    )
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# ---------------------------------------------------------------- staging and swapping


def _stage(site: Site, files: Mapping[str, str]) -> Path:
    """The files in a new directory beside the profile's, with the profile's modes."""
    parent = site.routing_dir.parent
    staging = Path(tempfile.mkdtemp(prefix=f".{site.routing_dir.name}.publish-", dir=parent))
    try:
        write_document(files, staging)
        old = site.routing_dir
        for name in files:
            previous = old / name
            mode = previous.stat().st_mode & 0o777 if previous.is_file() else 0o600
            (staging / name).chmod(mode)
        if old.is_dir():
            # Anything else kept in the profile directory (a README, a .gitkeep) stays.
            for extra in old.iterdir():
                if extra.is_file() and extra.name not in TABLE_FILES:
                    shutil.copy2(extra, staging / extra.name)
            staging.chmod(old.stat().st_mode & 0o777)
    except (OSError, DocumentError):
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        err = ctypes.get_errno()
        if err in {22, 38, 95}:  # EINVAL, ENOSYS, EOPNOTSUPP: this filesystem cannot
            return False
        raise OSError(err, os.strerror(err), str(b))
    return True


def swap_in(staging: Path, target: Path) -> None:
    """Make `staging` the profile directory; a reader sees the old files or the new."""
    if target.is_dir() and _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it holds the old files now
        return
    # Fallback: two renames; a reader in between finds no directory and is refused,
    # which a reload survives (the running table keeps serving).
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- checking


def _placed(problem: Problem, staging: Path) -> FieldProblem:
    path = Path(problem.file)
    file = path.name if staging in (path.parent, path) else problem.file
    return FieldProblem(file, problem.path, problem.reason)


def _check_staged(site: Site, staging: Path) -> list[FieldProblem]:
    return [_placed(p, staging) for p in site.check(staging)]


def check_files(site: Site, files: Mapping[str, str]) -> list[FieldProblem]:
    """Every problem `ivr routing check` finds in these files; empty: publishable."""
    staging = _stage(site, files)
    try:
        return _check_staged(site, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- versions and drafts


async def ensure_imported(store: CaseStore, site: Site, *, by: str, now: datetime) -> VersionRecord:
    """The running version; before the first, the profile on disk becomes version 1."""
    current = await store_versions.head(store, site.profile)
    if current is not None:
        return current
    files = read_document(site.routing_dir)
    try:
        return await store_versions.import_version(
            store,
            site.profile,
            files,
            base=0,
            by=by,
            at=now,
            comment=f"the profile as it was on disk when versions began ({site.routing_dir.name})",
        )
    except StaleVersion:
        made = await store_versions.head(store, site.profile)
        assert made is not None
        return made


async def new_draft(
    store: CaseStore,
    site: Site,
    *,
    by: str,
    now: datetime,
    files: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    note: str | None = None,
) -> DraftRecord:
    """A draft of the running version (or of `files`, an import), based on it."""
    current = await ensure_imported(store, site, by=by, now=now)
    return await store_versions.create_draft(
        store,
        site.profile,
        files if files is not None else current.files,
        base=current.number,
        by=by,
        at=now,
        idempotency_key=idempotency_key,
        note=note,
    )


async def edit_draft(
    store: CaseStore,
    draft_id: int,
    files: Mapping[str, str],
    *,
    revision: int,
    by: str,
    now: datetime,
    address: str | None = None,
) -> DraftRecord:
    """Save the draft's new files (valid or not: only publishing needs that), audited."""
    before = await store_versions.draft(store, draft_id)
    return await store_versions.update_draft(
        store,
        draft_id,
        files,
        revision=revision,
        by=by,
        at=now,
        changes=diff(before.files, files),
        address=address,
    )


def _disk_matches(site: Site, running: VersionRecord) -> None:
    try:
        on_disk = digest(read_document(site.routing_dir))
    except DocumentError as exc:
        raise VersionError(str(exc)) from exc
    if on_disk != running.digest:
        raise VersionError(
            f"{site.routing_dir} was changed outside versions since version {running.number} "
            "was published; import it first (`ivr routing import DIR` makes it a draft) so "
            "that nothing typed there is lost"
        )


async def _go_live(
    store: CaseStore,
    site: Site,
    files: Mapping[str, str],
    running: VersionRecord,
    *,
    by: str,
    now: datetime,
    comment: str,
    on_refused: Callable[[list[FieldProblem]], Awaitable[None]],
    draft_id: int | None = None,
    rollback_of: int | None = None,
    approved_by: str | None = None,
    address: str | None = None,
) -> Published:
    _disk_matches(site, running)
    staging = _stage(site, files)
    try:
        problems = await asyncio.to_thread(_check_staged, site, staging)
        if problems:
            await on_refused(problems)
            raise PublishRefused(problems)
        changes = diff(running.files, files)
        made = await store_versions.import_version(
            store,
            site.profile,
            files,
            base=running.number,
            by=by,
            at=now,
            comment=comment,
            draft_id=draft_id,
            rollback_of=rollback_of,
            approved_by=approved_by,
            changes=changes,
            action=RoutingAudit.ROLLBACK if rollback_of else RoutingAudit.PUBLISH,
            address=address,
        )
        try:
            swap_in(staging, site.routing_dir)
        except OSError as exc:
            # The version is kept; only the files did not reach the profile directory.
            log.exception("routing_version_not_written", version=made.number)
            raise VersionError(
                f"version {made.number} is stored, but {site.routing_dir} could not be "
                f"written ({exc}); fix that, then `ivr routing export {made.number} DIR` and "
                "copy the files into the profile directory"
            ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("routing_version_published", profile=site.profile, version=made.number, by=by)
    outcome = await site.reload()
    if not outcome.ok:
        log.error("routing_version_reload_incomplete", version=made.number, lines=outcome.lines)
    return Published(made, changes, outcome)


async def publish(
    store: CaseStore,
    site: Site,
    draft_id: int,
    *,
    by: str,
    comment: str,
    now: datetime,
    revision: int | None = None,
    address: str | None = None,
    unschedule_on_refusal: bool = False,
) -> Published:
    """Check the draft and make it the running version; see the module's steps."""
    async with _publish_lock(site):
        current = await store_versions.draft(store, draft_id)
        if current.profile != site.profile:
            raise VersionError(
                f"draft {draft_id} is of profile {current.profile}, not {site.profile}"
            )
        if current.state != DraftState.OPEN:
            raise VersionError(f"draft {draft_id} is {current.state}, not open")
        if revision is not None and revision != current.revision:
            raise StaleVersion(
                f"draft {draft_id} changed since revision {revision} (now {current.revision}): "
                "look at it again before publishing"
            )
        running = await ensure_imported(store, site, by=by, now=now)
        if current.base != running.number:
            raise StaleVersion(
                f"draft {draft_id} was made from version {current.base}, but version "
                f"{running.number} is running now (published by {running.published_by}): "
                "make a new draft from it"
            )
        if await store_versions.two_person_rule(store, site.profile) and not current.approved:
            raise NeedsApproval(
                f"{site.profile} has the two-person rule: a supervisor other than "
                f"{current.updated_by} approves draft {draft_id} before it is published"
            )

        async def refused(problems: list[FieldProblem]) -> None:
            await store_versions.refuse(
                store,
                draft_id,
                reason="\n".join(str(p) for p in problems),
                by=by,
                at=now,
                unschedule=unschedule_on_refusal,
            )

        return await _go_live(
            store,
            site,
            current.files,
            running,
            by=by,
            now=now,
            comment=comment,
            on_refused=refused,
            draft_id=draft_id,
            approved_by=current.approved_by if current.approved else None,
            address=address,
        )


async def rollback(
    store: CaseStore,
    site: Site,
    number: int,
    *,
    by: str,
    comment: str,
    now: datetime,
    expected_head: int | None = None,
    address: str | None = None,
) -> Published:
    """Publish version `number`'s files again, as a new version, checked as any other.

    It restores a version that was already published (and approved, where the rule
    applied), so it needs no second approval: a bad version must come off quickly.
    """
    async with _publish_lock(site):
        running = await ensure_imported(store, site, by=by, now=now)
        if expected_head is not None and expected_head != running.number:
            raise StaleVersion(
                f"version {running.number} is running now, not {expected_head} "
                f"(published by {running.published_by}): look at it before rolling back"
            )
        earlier = await store_versions.version(store, site.profile, number)

        async def refused(problems: list[FieldProblem]) -> None:
            log.error(
                "routing_rollback_refused", version=number, problems=[str(p) for p in problems]
            )

        return await _go_live(
            store,
            site,
            earlier.files,
            running,
            by=by,
            now=now,
            comment=comment,
            on_refused=refused,
            rollback_of=number,
            address=address,
        )


async def publish_due(store: CaseStore, site: Site, now: datetime) -> list[DueOutcome]:
    """Publish every draft of the profile whose scheduled time has come, checked again now."""
    outcomes: list[DueOutcome] = []
    for due in await store_versions.due(store, now):
        if due.profile != site.profile:
            continue
        by = due.scheduled_by or SYSTEM
        try:
            done = await publish(
                store,
                site,
                due.id,
                by=by,
                comment=due.scheduled_comment or f"scheduled publish of draft {due.id}",
                now=now,
                unschedule_on_refusal=True,
            )
        except PublishRefused as exc:
            log.error(  # noqa: TRY400 - a refusal is reasons, not a crash trace
                "routing_scheduled_publish_refused",
                draft=due.id,
                problems=[str(p) for p in exc.problems],
            )
            outcomes.append(DueOutcome(due.id, refused=str(exc), problems=exc.problems))
        except VersionError as exc:
            # Stale, not approved, or changed on disk: the admin is told on the draft.
            log.error("routing_scheduled_publish_refused", draft=due.id, reason=str(exc))  # noqa: TRY400
            await store_versions.refuse(
                store, due.id, reason=str(exc), by=by, at=now, unschedule=True
            )
            outcomes.append(DueOutcome(due.id, refused=str(exc)))
        else:
            outcomes.append(DueOutcome(due.id, published=done))
    return outcomes


async def import_directory(
    store: CaseStore, site: Site, directory: Path, *, by: str, now: datetime
) -> DraftRecord:
    """`ivr routing import DIR`: the directory's table files as a new draft."""
    return await new_draft(
        store,
        site,
        by=by,
        now=now,
        files=read_document(directory),
        note=f"imported from {directory}",
    )


def export_files(files: Mapping[str, str], directory: Path) -> list[Path]:
    """`ivr routing export VERSION DIR`: write a version's files into DIR (made if need be)."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = [n for n in files if (directory / n).exists()]
    if existing:
        raise DocumentError(
            f"{directory} already holds {', '.join(sorted(existing))}; export into an empty "
            "directory"
        )
    write_document(files, directory)
    return [directory / n for n in sorted(files)]
