"""End to end on real parts, through the JSON API alone: an agent signed in over HTTP
goes ready (AMI QueueAdd), a real caller reaches the agent's SIPp phone, the pop is
read from the API, and one POST moves the caller into the transfer engine to a unit
that answers; a second is refused (409) and moves nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.vocabulary import Role
from ivr.store import CaseStore, audit
from ivr.store.users import UserStore
from tests.harness import free_port
from tests.integration.calls import StartEngine, call, events, greeting_s, register_agent
from tests.integration.conftest import (  # noqa: F401 - fixtures used by name
    ProfileCopy,
    stack,
    start_engine,
    store,
    taipei_profile,
)
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas, uas_scenario
from tests.web.conftest import PASSWORD, TEST_HASHER

pytestmark = pytest.mark.asterisk


async def signed_in(c: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Sign in through the form; the API's CSRF header from the agent's page."""
    form = (await c.get("/signin")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    reply = await c.post(
        "/signin", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert reply.status_code == 303, reply.text
    page = (await c.get("/agent")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    return {"X-CSRF-Token": csrf[1]}


async def answered_pop(c: httpx.AsyncClient) -> dict[str, Any]:
    """Poll the API until the agent's pop says the call is answered."""

    async def poll() -> dict[str, Any]:
        while True:
            pop = (await c.get("/api/v1/agent/pop")).json()
            if pop is not None and pop["phase"] == "answered":
                return dict(pop)
            await asyncio.sleep(0.2)

    return await asyncio.wait_for(poll(), 60)


async def test_an_api_client_transfers_the_caller_with_one_post(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
    taipei_profile: ProfileCopy,  # noqa: F811
    tmp_path: Path,
) -> None:
    engine = await start_engine()
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    await UserStore(store, TEST_HASHER).add(
        "agent7001api", PASSWORD, role=Role.AGENT, at=system_clock(), agent_id="a01"
    )
    port = free_port()
    await register_agent(stack, "7001", port)
    phone = start_uas(
        answer_then_hang_up_scenario("7001", talk_ms=60_000),
        port=port,
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    unit = start_uas(
        uas_scenario(200),
        port=taipei_profile.trunk_ports["t-ring"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    base = engine.console.url.rstrip("/")
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            headers = await signed_in(c, "agent7001api")
            ready = await c.post("/api/v1/agent/state", json={"action": "ready"}, headers=headers)
            assert (ready.status_code, ready.json()["state"]) == (200, "ready"), ready.text
            placed = asyncio.create_task(
                call(stack, store, dtmf="9#ww1#", wait_s=greeting_s(stack), hold_s=40)
            )
            pop = await answered_pop(c)
            body = {"uniqueid": pop["uniqueid"], "unit": "test-ringing"}
            moved = await c.post("/api/v1/agent/call/transfer", json=body, headers=headers)
            assert moved.status_code == 200, moved.text
            assert moved.json() == {"unit": "test-ringing", "number": "69002"}
            again = await c.post("/api/v1/agent/call/transfer", json=body, headers=headers)
            assert again.status_code == 409
            assert again.json() == {"detail": "This call has already been transferred."}
            record = await placed
    finally:
        for proc in (phone, unit):
            if proc.poll() is None:
                proc.kill()
    assert events(record, "transfer_request") == [{"code": "69002", "by": "agent", "known": True}]
    assert [a["dialstatus"] for a in events(record, "dial_attempt")] == ["ANSWER"]
    rows = await audit.entries(store, subject=f"call:{record.uniqueid}")
    moves = [(r.who, r.action) for r in rows if r.action == "transfer"]
    assert moves == [("agent7001api", "transfer")]
