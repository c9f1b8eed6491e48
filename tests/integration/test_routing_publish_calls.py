"""A published version reaches a real engine and Asterisk, and each call keeps its version.

The stack is the test's own (publishing rewrites its profile), with `ivr serve` as a
real process: `ivr routing publish` checks the draft, swaps the profile directory,
and reloads exactly as `ivr routing reload` does.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ivr.config import StackConfig
from ivr.store import CaseStore
from ivr.store import routing_versions as rv
from ivr.store.routing_versions_models import CallRoutingVersion
from tests.harness import EngineProcess, asterisk_stack
from tests.integration.calls import call, events, greeting_s
from tests.integration.conftest import copy_profile

pytestmark = pytest.mark.asterisk


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[StackConfig]:
    profile = copy_profile("taipei", tmp_path / "taipei")
    with asterisk_stack(tmp_path / "stack", profile=profile.directory) as cfg:
        engine = EngineProcess(cfg, console=False)
        engine.start()
        try:
            yield cfg
        finally:
            engine.stop()


@pytest.fixture
async def own_store(own_stack: StackConfig) -> AsyncIterator[CaseStore]:
    store = await CaseStore.open(own_stack.database_url)
    await store.migrate()
    yield store
    await store.close()


def _ivr(cfg: StackConfig, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr", "--state-dir", str(cfg.state_dir), "routing", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


async def _served(store: CaseStore, uniqueid: str) -> CallRoutingVersion:
    """The call's note is written in the background: wait for the fact."""
    async with asyncio.timeout(30):
        # A row in another process's database: nothing to wait on but the row itself.
        while (row := await rv.version_of_call(store, uniqueid)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    return row


async def test_publish_reaches_new_calls_and_each_call_records_its_version(
    own_stack: StackConfig, own_store: CaseStore, tmp_path: Path
) -> None:
    cfg = own_stack
    # No version exists yet: the first call, on the tables as shipped, makes them
    # version 1 and records it.
    assert await rv.head(own_store, cfg.routing_dir.name) is None
    before = await call(cfg, own_store, dtmf="9#ww2#", wait_s=greeting_s(cfg), hold_s=3)
    assert events(before, "queue_enter")[0]["queue"] == "dispatch"
    assert (await _served(own_store, before.uniqueid)).version == 1
    listed = _ivr(cfg, "versions")
    assert listed.returncode == 0, listed.stderr
    assert "version 1 is running" in listed.stdout

    work = tmp_path / "work"
    assert _ivr(cfg, "export", "1", str(work)).returncode == 0
    menus = work / "menus.yaml"
    text = menus.read_text(encoding="utf-8")
    changed = text.replace(
        '"2": {type: queue, queue: dispatch}', '"2": {type: queue, queue: petition}'
    )
    assert changed != text
    menus.write_text(changed, encoding="utf-8")
    imported = _ivr(cfg, "import", str(work), "--json")
    assert imported.returncode == 0, imported.stderr
    published = _ivr(cfg, "publish", "draft:1", "--comment", "key 2 goes to petitions")
    assert published.returncode == 0, published.stdout + published.stderr
    assert "version 2 published" in published.stdout
    assert 'menus.yaml: menus.main.options["2"].queue: "dispatch" → "petition"' in published.stdout
    assert "routing tables reloaded" in published.stdout

    after = await call(cfg, own_store, dtmf="9#ww2#", wait_s=greeting_s(cfg), hold_s=3)
    assert events(after, "queue_enter")[0]["queue"] == "petition"
    assert (await _served(own_store, after.uniqueid)).version == 2
    # The earlier call's record still names the version that served it.
    assert (await _served(own_store, before.uniqueid)).version == 1
