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
import shutil
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from ivr.domain.vocabulary import DraftState, RoutingAudit
from ivr.routing.publish_types import (
    SYSTEM,
    Check,
    DueOutcome,
    FieldProblem,
    NeedsApproval,
    Published,
    PublishRefused,
    Reload,
    ReloadOutcome,
    Site,
)
from ivr.routing.staging import check_files, check_staged, publish_lock, stage, swap_in
from ivr.routing.versions import (
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

# Everything callers import from here, moved pieces included.
__all__ = [
    "SYSTEM",
    "Check",
    "DueOutcome",
    "FieldProblem",
    "NeedsApproval",
    "PublishRefused",
    "Published",
    "Reload",
    "ReloadOutcome",
    "Site",
    "check_files",
    "edit_draft",
    "ensure_imported",
    "export_files",
    "import_directory",
    "new_draft",
    "publish",
    "publish_due",
    "rollback",
    "swap_in",
]

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

log = structlog.get_logger()


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
    staging = stage(site, files)
    try:
        problems = await asyncio.to_thread(check_staged, site, staging)
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
    async with publish_lock(site):
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
    async with publish_lock(site):
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
