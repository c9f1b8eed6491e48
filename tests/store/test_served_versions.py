"""The routing version a call records when it is served by the tables on disk before
any version was imported or published (issue 17): the files become version 1."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from ivr.routing.served import ServedVersions, directory_digest
from ivr.store import CaseStore
from ivr.store import routing_versions as rv

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def profile(tmp_path: Path) -> Path:
    where = tmp_path / "routing" / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", where)
    return where


async def test_a_call_on_the_initial_tables_records_version_1(
    store: CaseStore, tmp_path: Path
) -> None:
    where = profile(tmp_path)
    content = directory_digest(where)
    assert content is not None
    assert await rv.head(store, "taipei") is None
    served = ServedVersions(store, lambda: T0, where)
    for uniqueid in ("first", "second"):
        served.note(uniqueid, "taipei", content)
    await served.flush()
    for uniqueid in ("first", "second"):
        row = await rv.version_of_call(store, uniqueid)
        assert row is not None
        assert (row.version, row.digest) == (1, content)
    head = await rv.head(store, "taipei")
    assert head is not None
    assert (head.number, head.digest, head.published_by) == (1, content, "system")
    # Exactly one version, however many calls noted it at once.
    assert [v.number for v in await rv.versions(store, "taipei")] == [1]


async def test_tables_changed_by_hand_after_versions_began_record_none(
    store: CaseStore, tmp_path: Path
) -> None:
    where = profile(tmp_path)
    served = ServedVersions(store, lambda: T0, where)
    content = directory_digest(where)
    assert content is not None
    served.note("before", "taipei", content)
    await served.flush()
    menus = where / "menus.yaml"
    menus.write_text(menus.read_text(encoding="utf-8") + "\n# edited by hand\n", encoding="utf-8")
    edited = directory_digest(where)
    assert edited is not None
    assert edited != content
    served.note("after", "taipei", edited)
    await served.flush()
    row = await rv.version_of_call(store, "after")
    assert row is not None
    assert (row.version, row.digest) == (None, edited)
    assert [v.number for v in await rv.versions(store, "taipei")] == [1]


async def test_tables_changed_on_disk_since_the_call_loaded_them_are_not_imported(
    store: CaseStore, tmp_path: Path
) -> None:
    where = profile(tmp_path)
    served = ServedVersions(store, lambda: T0, where)
    served.note("old", "taipei", "0" * 64)  # a digest the files on disk no longer have
    await served.flush()
    row = await rv.version_of_call(store, "old")
    assert row is not None
    assert row.version is None
    assert await rv.head(store, "taipei") is None
