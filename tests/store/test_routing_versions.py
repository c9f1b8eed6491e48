"""Routing versions on a real store (SQLite and PostgreSQL) and a real profile directory.

The check is the one `ivr routing check` runs; the reload is the one edge replaced (it
counts), since these tests run no Asterisk and no engine.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ivr.cli.routing import routing_problems as _routing_problems
from ivr.domain.vocabulary import DraftState
from ivr.routing.publish import (
    NeedsApproval,
    PublishRefused,
    ReloadOutcome,
    Site,
    edit_draft,
    ensure_imported,
    new_draft,
    publish,
    publish_due,
    rollback,
)
from ivr.routing.versions import diff, read_document
from ivr.store import CaseStore
from ivr.store import routing_versions as rv
from ivr.store.audit import entries, verify_chain
from ivr.store.repo import MIGRATIONS_DIR
from ivr.store.routing_versions import StaleVersion, VersionError

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@dataclass
class Reloads:
    count: int = 0
    seen: list[str] = field(default_factory=list)


@pytest.fixture
def reloads() -> Reloads:
    return Reloads()


@pytest.fixture
def site(tmp_path: Path, reloads: Reloads) -> Site:
    profile = tmp_path / "routing" / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)

    def check(directory: Path) -> list:  # type: ignore[type-arg]
        return _routing_problems(directory, REPO / "recordings")

    async def reload() -> ReloadOutcome:
        reloads.count += 1
        reloads.seen.append(read_document(profile)["directory.yaml"])
        return ReloadOutcome(True, ("reloaded",))

    return Site("taipei", profile, tmp_path / "run", check, reload)


def with_extension(files: dict[str, str] | object, old: str, new: str) -> dict[str, str]:
    assert isinstance(files, dict)
    return dict(
        files, **{"directory.yaml": files["directory.yaml"].replace(f'"{old}"', f'"{new}"')}
    )


async def test_the_profile_on_disk_becomes_version_1(store: CaseStore, site: Site) -> None:
    first = await ensure_imported(store, site, by="admin1", now=T0)
    again = await ensure_imported(store, site, by="admin2", now=T0)
    assert (first.number, again.number, again.published_by) == (1, 1, "admin1")
    assert first.files == read_document(site.routing_dir)


async def test_publish_checks_writes_reloads_and_audits_with_the_diff(
    store: CaseStore, site: Site, reloads: Reloads
) -> None:
    draft = await new_draft(store, site, by="admin1", now=T0)
    edited = await edit_draft(
        store,
        draft.id,
        with_extension(dict(draft.files), "2501", "2509"),
        revision=draft.revision,
        by="admin1",
        now=T0,
    )
    done = await publish(store, site, draft.id, by="admin1", comment="hydraulic moved", now=T0)
    assert done.version.number == 2
    assert [str(c) for c in done.changes] == [
        'directory.yaml: agencies[pwd].units[hydraulic].primary.number: "2501" → "2509"'
    ]
    assert read_document(site.routing_dir) == edited.files
    assert reloads.count == 1
    assert '"2509"' in reloads.seen[0]
    assert (await rv.draft(store, draft.id)).state == DraftState.PUBLISHED
    rows = await entries(store, subject="routing:")
    assert [r.action for r in rows] == [
        "routing_publish",
        "routing_draft",
        "routing_edit",
        "routing_publish",
    ]
    assert "2501" in (rows[-1].detail or "")
    assert "2509" in (rows[-1].detail or "")
    assert rows[-1].reason == "hydraulic moved"
    assert verify_chain(await entries(store)) is None


async def test_a_draft_with_a_duplicate_extension_is_refused_at_the_field(
    store: CaseStore, site: Site, reloads: Reloads
) -> None:
    before = read_document(site.routing_dir)
    draft = await new_draft(store, site, by="admin1", now=T0)
    # 2502 is the hydraulic unit's adjacent line already.
    bad = with_extension(dict(draft.files), "2501", "2502")
    await edit_draft(store, draft.id, bad, revision=1, by="admin1", now=T0)
    with pytest.raises(PublishRefused) as refused:
        await publish(store, site, draft.id, by="admin1", comment="typo", now=T0)
    [problem] = refused.value.problems
    assert problem.file == "directory.yaml"
    assert problem.path.endswith(".number")
    assert "extension 2502 is already unit hydraulic's" in problem.reason
    assert read_document(site.routing_dir) == before
    assert reloads.count == 0
    kept = await rv.draft(store, draft.id)
    assert kept.state == DraftState.OPEN
    assert kept.refusal is not None
    assert "2502" in kept.refusal
    head = await rv.head(store, "taipei")
    assert head is not None
    assert head.number == 1


async def test_two_publishes_racing_one_wins_the_other_is_stale(
    store: CaseStore, site: Site
) -> None:
    a = await new_draft(store, site, by="admin1", now=T0)
    b = await new_draft(store, site, by="admin2", now=T0)
    await edit_draft(
        store, a.id, with_extension(dict(a.files), "2501", "2509"), revision=1, by="admin1", now=T0
    )
    await edit_draft(
        store, b.id, with_extension(dict(b.files), "2401", "2409"), revision=1, by="admin2", now=T0
    )
    results = await asyncio.gather(
        publish(store, site, a.id, by="admin1", comment="a", now=T0),
        publish(store, site, b.id, by="admin2", comment="b", now=T0),
        return_exceptions=True,
    )
    stale = [r for r in results if isinstance(r, StaleVersion)]
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(stale) == 1
    assert len(won) == 1
    assert "version 2 is running now" in str(stale[0])
    head = await rv.head(store, "taipei")
    assert head is not None
    assert head.number == 2
    assert read_document(site.routing_dir) == dict(head.files)


async def test_the_store_lets_in_one_version_per_number(store: CaseStore, site: Site) -> None:
    """Without the lock (two machines), the database itself refuses the second."""
    first = await ensure_imported(store, site, by="admin1", now=T0)
    results = await asyncio.gather(
        *(
            rv.import_version(store, "taipei", first.files, base=1, by=f"a{i}", at=T0, comment="x")
            for i in range(3)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StaleVersion) for r in results) == 2
    assert [v.number for v in await rv.versions(store, "taipei")] == [2, 1]


async def test_rollback_publishes_an_earlier_version_again_as_a_new_one(
    store: CaseStore, site: Site, reloads: Reloads
) -> None:
    original = read_document(site.routing_dir)
    draft = await new_draft(store, site, by="admin1", now=T0)
    await edit_draft(
        store,
        draft.id,
        with_extension(dict(draft.files), "2501", "2509"),
        revision=1,
        by="admin1",
        now=T0,
    )
    await publish(store, site, draft.id, by="admin1", comment="move", now=T0)
    with pytest.raises(StaleVersion):
        await rollback(store, site, 1, by="admin1", comment="undo", now=T0, expected_head=1)
    back = await rollback(
        store, site, 1, by="admin1", comment="wrong number", now=T0, expected_head=2
    )
    assert (back.version.number, back.version.rollback_of) == (3, 1)
    assert read_document(site.routing_dir) == original
    assert [str(c) for c in back.changes] == [
        'directory.yaml: agencies[pwd].units[hydraulic].primary.number: "2509" → "2501"'
    ]
    assert [v.number for v in await rv.versions(store, "taipei")] == [3, 2, 1]
    assert reloads.count == 2
    [row] = [r for r in await entries(store, subject="routing:") if r.action == "routing_rollback"]
    assert "rollback to v1" in (row.detail or "")


async def test_two_person_rule_needs_another_persons_approval_of_the_draft_as_it_is(
    store: CaseStore, site: Site
) -> None:
    await rv.set_two_person_rule(store, "taipei", on=True, by="head", at=T0)
    draft = await new_draft(store, site, by="admin1", now=T0)
    files = with_extension(dict(draft.files), "2501", "2509")
    draft = await edit_draft(store, draft.id, files, revision=1, by="admin1", now=T0)
    with pytest.raises(NeedsApproval):
        await publish(store, site, draft.id, by="admin1", comment="x", now=T0)
    with pytest.raises(VersionError, match="another person"):
        await rv.approve(store, draft.id, revision=draft.revision, by="admin1", at=T0)
    approved = await rv.approve(store, draft.id, revision=draft.revision, by="super1", at=T0)
    assert approved.approved
    # An edit after the approval needs a new one.
    changed = await edit_draft(
        store,
        draft.id,
        with_extension(files, "2401", "2409"),
        revision=approved.revision,
        by="admin1",
        now=T0,
    )
    assert not changed.approved
    with pytest.raises(NeedsApproval):
        await publish(store, site, draft.id, by="admin1", comment="x", now=T0)
    await rv.approve(store, draft.id, revision=changed.revision, by="super1", at=T0)
    done = await publish(store, site, draft.id, by="admin1", comment="x", now=T0)
    assert done.version.approved_by == "super1"


async def test_a_stale_edit_is_refused(store: CaseStore, site: Site) -> None:
    draft = await new_draft(store, site, by="admin1", now=T0)
    await edit_draft(store, draft.id, dict(draft.files), revision=1, by="admin1", now=T0)
    with pytest.raises(StaleVersion):
        await edit_draft(store, draft.id, dict(draft.files), revision=1, by="admin2", now=T0)


async def test_scheduled_publish_is_checked_again_and_a_refusal_is_kept(
    store: CaseStore, site: Site, reloads: Reloads
) -> None:
    bad = await new_draft(store, site, by="admin1", now=T0)
    await edit_draft(
        store,
        bad.id,
        with_extension(dict(bad.files), "2501", "2502"),
        revision=1,
        by="admin1",
        now=T0,
    )
    good = await new_draft(store, site, by="admin1", now=T0)
    await edit_draft(
        store,
        good.id,
        with_extension(dict(good.files), "2401", "2409"),
        revision=1,
        by="admin1",
        now=T0,
    )
    later = T0 + timedelta(hours=6)
    await rv.schedule(store, bad.id, when=later, comment="holiday", by="admin1", at=T0)
    await rv.schedule(
        store, good.id, when=later + timedelta(minutes=1), comment="lights", by="admin1", at=T0
    )
    assert await publish_due(store, site, T0) == []
    outcomes = await publish_due(store, site, later + timedelta(minutes=5))
    assert [o.draft_id for o in outcomes] == [bad.id, good.id]
    assert outcomes[0].published is None
    assert outcomes[0].problems
    kept = await rv.draft(store, bad.id)
    assert kept.scheduled_at is None
    assert kept.refusal is not None
    assert "2502" in kept.refusal
    published = outcomes[1].published
    assert published is not None
    assert (published.version.number, published.version.comment) == (2, "lights")
    assert reloads.count == 1
    assert await publish_due(store, site, later + timedelta(hours=1)) == []
    actions = [r.action for r in await entries(store, subject="routing:draft:")]
    assert "routing_refused" in actions


async def test_a_hand_edit_on_disk_is_never_overwritten(store: CaseStore, site: Site) -> None:
    draft = await new_draft(store, site, by="admin1", now=T0)
    hours = site.routing_dir / "hours.yaml"
    hours.write_text(hours.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    with pytest.raises(VersionError, match="changed outside versions"):
        await publish(store, site, draft.id, by="admin1", comment="x", now=T0)
    assert "edited by hand" in hours.read_text(encoding="utf-8")


async def test_a_draft_may_be_saved_invalid(store: CaseStore, site: Site) -> None:
    draft = await new_draft(store, site, by="admin1", now=T0)
    broken = dict(draft.files, **{"menus.yaml": "entry: [unclosed\n"})
    saved = await edit_draft(store, draft.id, broken, revision=1, by="admin1", now=T0)
    assert saved.files["menus.yaml"] == "entry: [unclosed\n"
    assert diff(draft.files, saved.files)


async def test_the_version_serving_a_call_is_noted_once(store: CaseStore) -> None:
    for number in (4, 5):
        await rv.record_call(
            store, uniqueid="u1", profile="taipei", content="d" * 64, number=number, at=T0
        )
    row = await rv.version_of_call(store, "u1")
    assert row is not None
    assert (row.profile, row.version) == ("taipei", 4)


async def test_upgrade_from_0007_keeps_calls_and_adds_versions(db_url: str, site: Site) -> None:
    store = await CaseStore.open(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def to_0007(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")

    try:
        async with store._engine.begin() as conn:
            await conn.run_sync(to_0007)
            await conn.execute(
                text(
                    "INSERT INTO calls (uniqueid, linkedid, channel, started_at) "
                    "VALUES ('u-old', 'u-old', 'Local/1999', :t)"
                ),
                {"t": T0},
            )
        await store.migrate()
        call = await store.get_call_by_uniqueid("u-old")
        assert call is not None
        first = await ensure_imported(store, site, by="admin1", now=T0)
        assert first.number == 1
    finally:
        await store.close()
