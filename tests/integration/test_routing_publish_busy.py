"""Publishing while the line is busy (issue 17): on a real Asterisk, 20 calls are in
progress, 4 bridged to SIPp agents and 16 in the menus, when a version is published
that changes a menu, adds a queue and changes an agent. The config is applied with
module reloads (app_queue, res_pjsip, ...), never a restart: every call completes on
the version it started with, bridged calls stay bridged, and new calls use the new one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr.asterisk import install, process
from ivr.asterisk.generate import queue_name
from ivr.config import StackConfig
from ivr.routing.loader import load_profile
from ivr.store import CaseStore
from ivr.store import routing_versions as rv
from ivr.testcall import place_call
from tests.harness import free_port
from tests.integration.calls import (
    events,
    feature_code,
    greeting_s,
    pause,
    register_agent,
    secs,
)
from tests.integration.test_routing_publish_calls import _ivr, _served, own_stack, own_store
from tests.ports import sipp_media_port
from tests.sipp.scenarios import start_uas, uas_scenario

__all__ = ["own_stack", "own_store"]  # the fixtures, shared with the smaller case

AGENTS = ("7001", "7002", "7004", "7006")
IN_MENUS = 16
# Long enough that every call outlives the publish; the test asserts it did.
BRIDGED_HOLD_S = 40.0
MENU_HOLD_S = 30.0


async def _until(fact: Callable[[], Awaitable[bool]], timeout_s: float = 60.0) -> None:
    """Poll a fact of another process (Asterisk, the engine's store) until it holds."""
    async with asyncio.timeout(timeout_s):
        # Facts of another process: nothing to wait on but the fact itself.
        while not await fact():  # noqa: ASYNC110
            await asyncio.sleep(0.2)


def _in_call(cfg: StackConfig) -> int:
    """Members of the general queue talking to a caller now, as app_queue says."""
    shown = process.rx(install.ensure(), cfg, f"queue show {queue_name('general')}")
    return sum("(in call)" in line or "(In use)" in line for line in shown.splitlines())


def _draft_changes(cfg: StackConfig, work: Path) -> None:
    assert _ivr(cfg, "export", "1", str(work)).returncode == 0
    menus = work / "menus.yaml"
    text = menus.read_text(encoding="utf-8")
    changed = text.replace(
        '"2": {type: queue, queue: dispatch}', '"2": {type: queue, queue: parks}'
    )
    assert changed != text
    menus.write_text(changed, encoding="utf-8")
    agents = work / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    changed = text.replace("{id: a06, name: 王建民,", "{id: a06, name: 王建明,").replace(
        "queues:\n",
        "queues:\n  - {id: parks, name: 公園路燈, skills: [zh-TW], strategy: rrmemory,"
        " announce_position: true, max_wait_s: 600}\n",
        1,
    )
    assert changed.count("parks") == 1
    assert "王建明" in changed
    agents.write_text(changed, encoding="utf-8")
    imported = _ivr(cfg, "import", str(work), "--json")
    assert imported.returncode == 0, imported.stderr


async def test_twenty_calls_in_progress_survive_a_publish_that_changes_queues_and_agents(
    own_stack: StackConfig, own_store: CaseStore, tmp_path: Path
) -> None:
    cfg = own_stack
    store = own_store
    tables = load_profile(Path(cfg.routing_profile))
    ids = {a.extension: a.id for a in tables.agents.agents}
    # The running tables become version 1 in the store, as on any stack before its
    # first publish; calls then note the version that serves them.
    listed = _ivr(cfg, "versions")
    assert "version 1 is running" in listed.stdout, listed.stderr
    # The draft is made before the calls: only publishing happens while they are up.
    _draft_changes(cfg, tmp_path / "work")
    ports = [free_port() for _ in AGENTS]
    await asyncio.gather(*(register_agent(cfg, e, p) for e, p in zip(AGENTS, ports, strict=True)))
    phones = [
        start_uas(
            uas_scenario(200, answer_hold_ms=int(BRIDGED_HOLD_S * 1000)),
            port=port,
            media_port=sipp_media_port(),
            calls=1,
            workdir=tmp_path,
        )
        for port in ports
    ]
    await asyncio.gather(*(feature_code(cfg, e, "*45") for e in AGENTS))

    def start(dtmf: str, hold_s: float, n: int) -> tuple[str, asyncio.Task[dict[str, object]]]:
        uid = uuid.uuid4().hex
        task = asyncio.create_task(
            place_call(
                cfg,
                "1999",
                dtmf=dtmf,
                caller=f"09120{n:05d}",
                wait_s=greeting_s(cfg),
                hold_s=hold_s,
                call_uid=uid,
            )
        )
        return f"{uid}-hotline", task

    try:
        bridged = [start("9#ww1#", BRIDGED_HOLD_S, n) for n in range(len(AGENTS))]

        async def all_bridged() -> bool:
            return await asyncio.to_thread(_in_call, cfg) >= len(AGENTS)

        await _until(all_bridged)
        # Menu callers choose key 2 (dispatch in version 1): half at once, half during
        # the main menu's first wait for a key, after its prompt.
        late = pause(secs(cfg, "taipei-main-menu") + 2)
        in_menus = [
            start("9#" + (late if n % 2 else pause(1)) + "2#", MENU_HOLD_S, 100 + n)
            for n in range(IN_MENUS)
        ]
        calls = bridged + in_menus

        async def all_started() -> bool:
            return all([await rv.version_of_call(store, u) is not None for u, _ in calls])

        await _until(all_started)
        assert await asyncio.to_thread(_in_call, cfg) == len(AGENTS)

        published_run = await asyncio.to_thread(
            _ivr, cfg, "publish", "draft:1", "--comment", "key 2 to the new parks queue"
        )
        said = published_run.stdout + published_run.stderr
        assert published_run.returncode == 0, said
        assert "version 2 published" in said
        assert "app_queue.so" in said, said
        assert "res_pjsip.so" in said, said
        assert "restart" not in said, said
        published = await rv.version(store, cfg.routing_dir.name, 2)
        # The publish happened with every call still up: the agents are still talking.
        assert await asyncio.to_thread(_in_call, cfg) == len(AGENTS)

        after = await place_call(
            cfg,
            "1999",
            dtmf="9#ww2#",
            caller="0912999999",
            wait_s=greeting_s(cfg),
            hold_s=3,
            call_uid=uuid.uuid4().hex,
        )
        results = await asyncio.gather(*(t for _, t in calls))
    finally:
        for phone in phones:
            if phone.poll() is None:
                phone.kill()
        await asyncio.gather(*(feature_code(cfg, e, "*46") for e in AGENTS))

    new = await store.get_call_by_uniqueid(str(after["uniqueid"]))
    assert new is not None
    assert events(new, "queue_enter")[0]["queue"] == "parks"
    assert (await _served(store, new.uniqueid)).version == 2

    for (uniqueid, _), result in zip(calls, results, strict=True):
        assert result["reached"], result["summary"]
        assert result["fallback"] is None, result["summary"]
        record = await store.get_call_by_uniqueid(uniqueid)
        assert record is not None
        assert record.ended_at is not None
        assert record.ended_at > published.published_at, "the call ended before the publish"
        assert (await _served(store, uniqueid)).version == 1
    for uniqueid, _ in bridged:
        record = await store.get_call_by_uniqueid(uniqueid)
        assert record is not None
        leave = events(record, "queue_leave")
        assert leave, record.events
        assert leave[0]["agent"] in {ids[e] for e in AGENTS}, leave
    keyed_after = 0
    for uniqueid, _ in in_menus:
        record = await store.get_call_by_uniqueid(uniqueid)
        assert record is not None
        # Started on version 1, served by version 1: key 2 still meant dispatch.
        assert events(record, "queue_enter")[0]["queue"] == "dispatch"
        chose = next(e.at for e in record.events if e.kind == "queue_enter")
        keyed_after += chose > published.published_at
    # How many chose their key after the publish (a figure, not an assertion: it
    # depends on how long publishing takes on the machine).
    print(f"menu callers who chose after the publish: {keyed_after} of {IN_MENUS}")
    # Each agent's phone was hung up by its caller, not cut by a reload.
    for phone in phones:
        assert await asyncio.to_thread(phone.wait, 30) == 0
