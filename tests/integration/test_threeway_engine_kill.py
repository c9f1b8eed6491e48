"""The engine killed (SIGKILL) during an emergency three-way call: the callers are not
dropped. Asterisk keeps our app's bridge and its channels while no engine runs; the
restarted engine takes the bridge back and applies the rules to who is still there.

Each test runs `ivr serve` as a child process (as the supervisor does), asks for the
three-way call through the console's API, kills the engine, and looks at Asterisk's
bridges over ARI's REST side only: the test never opens the app's event socket,
which is the engine's. Every wait is for a fact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from ivr.adapters import ari_bridges
from ivr.adapters.ari import AriClient, AriNotFound
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.vocabulary import Role
from ivr.store import CaseStore
from ivr.store.users import UserStore
from tests.harness import EngineProcess, free_port
from tests.integration.calls import call, events, greeting_s, register_agent
from tests.integration.conftest import (  # noqa: F401 - fixtures used by name
    ProfileCopy,
    stack,
    store,
    taipei_profile,
)
from tests.ports import sipp_media_port
from tests.sipp.scenarios import start_uas, uas_scenario
from tests.web.conftest import HTTP_TIMEOUT, PASSWORD, TEST_HASHER
from tests.web.test_threeway_call import api_session

pytestmark = pytest.mark.asterisk

T = TypeVar("T")
WAIT_S = 90.0
# The citizen's call outlasts the test; the test hangs it up when it chooses (ARI).
CITIZEN_HOLD_S = 240


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    async def poll() -> T:
        while True:
            found = await probe()
            if found is not None:
                return found
            await asyncio.sleep(0.2)

    try:
        return await asyncio.wait_for(poll(), WAIT_S)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


@pytest.fixture
async def rest(stack: StackConfig) -> AsyncIterator[AriClient]:  # noqa: F811
    """ARI's REST side; never started, so the app's events stay the engine's."""
    client = AriClient(stack.ari_base_url, stack.ari_user, stack.ari_password, stack.ari_app)
    yield client
    await client.stop()


async def threeway_bridge(ari: AriClient) -> ari_bridges.BridgeInfo | None:
    found = [b for b in await ari_bridges.list_bridges(ari) if b.id.startswith("tw-")]
    return found[0] if found else None


async def channel_gone(ari: AriClient, channel_id: str) -> bool | None:
    try:
        await ari.get_channel(channel_id)
    except AriNotFound:
        return True
    return None


@pytest.mark.parametrize("citizen_leaves_while_down", [False, True], ids=["stays", "leaves"])
async def test_engine_killed_in_a_threeway_call_leaves_the_callers_talking_and_takes_it_back(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    taipei_profile: ProfileCopy,  # noqa: F811
    rest: AriClient,
    tmp_path: Path,
    citizen_leaves_while_down: bool,
) -> None:
    """119 is busy, so the citizen and the agent are the bridge's two. The engine is
    killed: both stay bridged. `stays`: the engine restarts, takes the bridge back,
    and when the citizen hangs up it lets the agent go, as it would have. `leaves`:
    the citizen hangs up while no engine runs, the agent is left alone in the bridge,
    and the restarted engine lets the agent go and destroys the bridge."""
    username = f"agent7001k{int(citizen_leaves_while_down)}"
    await UserStore(store, TEST_HASHER).add(
        username, PASSWORD, role=Role.AGENT, at=system_clock(), agent_id="a01"
    )
    engine = EngineProcess(stack)
    engine.start()
    port = free_port()
    await register_agent(stack, "7001", port)
    phone = start_uas(
        uas_scenario(200), port=port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    busy = start_uas(
        uas_scenario(486),
        port=taipei_profile.trunk_ports["emergency-pstn"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    placed: asyncio.Task[object] | None = None
    try:
        async with httpx.AsyncClient(
            base_url=stack.web_url.rstrip("/"), follow_redirects=False, timeout=HTTP_TIMEOUT
        ) as web:
            headers = await api_session(web, username)
            ready = await web.post("/api/v1/agent/state", json={"action": "ready"}, headers=headers)
            assert ready.status_code == 200, ready.text
            placed = asyncio.create_task(
                call(stack, store, dtmf="9#ww1#", wait_s=greeting_s(stack), hold_s=CITIZEN_HOLD_S)
            )

            async def answered() -> str | None:
                pop = (await web.get("/api/v1/agent/pop")).json()
                return str(pop["uniqueid"]) if pop and pop.get("phase") == "answered" else None

            uniqueid = await until(answered, "the agent answered")
            asked = await web.post(
                "/api/v1/agent/threeway",
                json={"uniqueid": uniqueid, "service": "fire"},
                headers=headers,
            )
            assert asked.status_code == 200, asked.text

        async def busy_told() -> list[dict[str, object]] | None:
            record = await store.get_call_by_uniqueid(uniqueid)
            found = events(record, "threeway_dial") if record else []
            return found or None

        assert [e["outcome"] for e in await until(busy_told, "119's busy")] == ["busy"]
        before = await threeway_bridge(rest)
        assert before is not None
        assert uniqueid in before.channels
        assert len(before.channels) == 2
        agent_leg = next(c for c in before.channels if c != uniqueid)

        engine.kill()
        # No engine: Asterisk keeps the bridge, and the two in it keep talking.
        kept = await threeway_bridge(rest)
        assert kept is not None
        assert set(kept.channels) == {uniqueid, agent_leg}
        assert (await rest.get_channel(agent_leg)).state == "Up"
        if citizen_leaves_while_down:
            await rest.hangup(uniqueid)

            async def agent_alone() -> bool | None:
                now = await threeway_bridge(rest)
                return True if now is not None and now.channels == (agent_leg,) else None

            # Nobody ends the agent's leg while no engine runs.
            await until(agent_alone, "the agent alone in the bridge")

        engine.start()
        # The restarted engine took the killed one's console port again.
        signin = await asyncio.to_thread(httpx.get, f"{stack.web_url}signin", timeout=HTTP_TIMEOUT)
        assert signin.status_code == 200

        async def resumed() -> list[dict[str, object]] | None:
            record = await store.get_call_by_uniqueid(uniqueid)
            found = events(record, "threeway_resumed") if record else []
            return found or None

        taken = await until(resumed, "the bridge taken back")
        if citizen_leaves_while_down:
            assert taken == [{"present": ["agent"], "ringing": False, "ended": ["agent"]}]
        else:
            assert taken == [{"present": ["agent", "citizen"], "ringing": False, "ended": []}]
            still = await threeway_bridge(rest)
            assert still is not None
            assert set(still.channels) == {uniqueid, agent_leg}
            # The citizen hangs up now: the restarted engine hears it and ends the rest.
            await rest.hangup(uniqueid)

        async def bridge_gone() -> bool | None:
            return True if await threeway_bridge(rest) is None else None

        await until(bridge_gone, "the bridge destroyed")
        await until(lambda: channel_gone(rest, agent_leg), "the agent's leg ended")
        await asyncio.wait_for(placed, WAIT_S)
        fresh = await store.get_call_by_uniqueid(uniqueid)
        assert fresh is not None
        if not citizen_leaves_while_down:
            assert events(fresh, "threeway_left") == [{"party": "citizen", "ended": ["agent"]}]
    finally:
        if placed is not None and not placed.done():
            placed.cancel()
        engine.stop()
        for proc in (phone, busy):
            if proc.poll() is None:
                proc.kill()
