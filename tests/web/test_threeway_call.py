"""The emergency three-way call on real parts (K2(1), K4(1)): a citizen reaches a SIPp
agent phone through the queue; the agent, on the page, by keyboard, asks for 119; a
SIPp UAS on the carrier trunk stands in for 119 and answers; all three are in one ARI
bridge; 119 hangs up and the citizen and the agent are still bridged; the citizen
hangs up and the agent is let go, the bridge destroyed. The call's record tells it.
A busy 119 is told on the agent's open page, live, and the wrap-up waits for the end.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, async_playwright, expect

from ivr.adapters import ari_bridges
from ivr.app import Engine
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.vocabulary import Role
from ivr.store import CaseStore, audit
from ivr.store.users import UserStore
from ivr.web.i18n import translator
from ivr.web.threeway_news import text as news_text
from tests.harness import free_port
from tests.integration.calls import StartEngine, events, register_agent
from tests.integration.conftest import (  # noqa: F401 - fixtures used by name
    ProfileCopy,
    stack,
    start_engine,
    store,
    taipei_profile,
)
from tests.integration.driven import Driver, key
from tests.ports import sipp_media_port
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas, uas_scenario
from tests.web.conftest import CHROMIUM, HTTP_TIMEOUT, PASSWORD, TEST_HASHER
from tests.web.test_agent_call import choose, sign_in_ready, tab_to

pytestmark = pytest.mark.asterisk

T = TypeVar("T")
# How long 119 talks before it hangs up: the bridge's three are checked meanwhile.
EMERGENCY_TALK_MS = 20_000
# The citizen keys Mandarin, then the service desk's queue, and stays until hung up.
TO_QUEUE = [key("taipei-language-menu", "9"), key("taipei-main-menu", "1")]
WAIT_S = 90.0


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `probe` until it answers something; the fact, not a sleep, ends the wait."""

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


async def threeway_bridge(engine: Engine) -> ari_bridges.BridgeInfo | None:
    found = [b for b in await ari_bridges.list_bridges(engine.ari) if b.id.startswith("tw-")]
    return found[0] if found else None


async def test_agent_conferences_119_and_stays_with_the_citizen(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
    taipei_profile: ProfileCopy,  # noqa: F811
    tmp_path: Path,
) -> None:
    engine = await start_engine()
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    await engine.ari.wait_connected(20)
    users = UserStore(store, TEST_HASHER)
    await users.add("agent7001t", PASSWORD, role=Role.AGENT, at=system_clock(), agent_id="a01")
    port = free_port()
    await register_agent(stack, "7001", port)
    # The agent's phone answers and stays until Asterisk ends its leg.
    phone = start_uas(
        uas_scenario(200), port=port, media_port=sipp_media_port(), calls=1, workdir=tmp_path
    )
    # 119, on the carrier trunk the tables name for it: answers, talks, hangs up first.
    emergency = start_uas(
        answer_then_hang_up_scenario("119", talk_ms=EMERGENCY_TALK_MS),
        port=taipei_profile.trunk_ports["emergency-pstn"],
        media_port=sipp_media_port(),
        calls=1,
        workdir=tmp_path,
    )
    base = engine.console.url.rstrip("/")
    async with async_playwright() as p, Driver(stack, store) as driver:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        try:
            await sign_in_ready(page, base, "agent7001t")
            await page.wait_for_function("document.getElementById('pop-live') !== null")
            # The citizen stays on until the test hangs up, however long the steps
            # take on a loaded machine.
            placed = await driver.place(TO_QUEUE)
            await expect(page.locator("#pop-live")).to_contain_text("通話中", timeout=60_000)
            uniqueid = engine.console.console.hub.last_pop["a01"]["uniqueid"]
            # By keyboard alone: the service, then the button, each with its name.
            await tab_to(page, "threeway-service")
            await choose(page, "threeway-service", ["police", "fire"], "fire")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "threeway-go"
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            done = page.locator("#threeway-done")
            await expect(done).to_contain_text("119")
            assert await page.evaluate("document.activeElement.id") == "threeway-done"
            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()

            # 119 answered: the citizen, the agent and 119 in one mixing bridge.
            async def three() -> ari_bridges.BridgeInfo | None:
                bridge = await threeway_bridge(engine)
                return bridge if bridge is not None and len(bridge.channels) == 3 else None

            bridge = await until(three, "three in the three-way bridge")
            assert bridge.bridge_type == "mixing"
            # The page is told, live, in the agent's language.
            zh = translator("zh-TW")
            fire = {"number": "119", "service": "fire"}
            await expect(page.locator("#threeway-status")).to_have_text(
                news_text(zh, {"key": "answered", **fire})
            )
            assert uniqueid in bridge.channels
            assert f"{bridge.id}-e" in bridge.channels
            agent_leg = next(c for c in bridge.channels if c not in (uniqueid, f"{bridge.id}-e"))
            assert (await engine.ari.get_channel(agent_leg)).name.startswith("PJSIP/7001-")

            # 119 hangs up: the citizen and the agent are still bridged together.
            async def two() -> ari_bridges.BridgeInfo | None:
                now = await threeway_bridge(engine)
                return now if now is not None and len(now.channels) == 2 else None

            after = await until(two, "119 left the bridge")
            assert set(after.channels) == {uniqueid, agent_leg}
            await expect(page.locator("#threeway-status")).to_have_text(
                news_text(zh, {"key": "emergency_left", **fire})
            )
            # A second press does not dial 119 again.
            await tab_to(page, "threeway-go")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator(".error-summary")).to_contain_text("三方通話")
            await driver.hang_up(placed)
            record = await driver.ended(placed, timeout_s=WAIT_S)
        finally:
            await browser.close()
            for proc in (phone, emergency):
                if proc.poll() is None:
                    proc.kill()

    # The citizen hung up: the agent, left alone, is let go and the bridge is gone.
    async def gone() -> bool | None:
        return True if await threeway_bridge(engine) is None else None

    await until(gone, "the bridge destroyed")

    async def left_twice() -> list[dict[str, object]] | None:
        fresh = await store.get_call_by_uniqueid(record.uniqueid)
        assert fresh is not None
        found = events(fresh, "threeway_left")
        return found if len(found) >= 2 else None

    left = await until(left_twice, "both leaves on the call's record")
    assert left == [
        {"party": "emergency", "ended": []},
        {"party": "citizen", "ended": ["agent"]},
    ]
    fresh = await store.get_call_by_uniqueid(record.uniqueid)
    assert fresh is not None
    asked = events(fresh, "threeway")
    assert [(e["service"], e["number"], e["by"]) for e in asked] == [("fire", "119", "agent7001t")]
    assert events(fresh, "threeway_dial") == [{"service": "fire", "outcome": "answered"}]
    rows = await audit.entries(store, subject=f"call:{record.uniqueid}")
    assert [(r.who, r.action) for r in rows if r.action == "threeway"] == [
        ("agent7001t", "threeway")
    ]


async def sign_in(page: Page, base: str, username: str) -> None:
    """Sign in on the page, by keyboard."""
    await page.goto(f"{base}/signin?lang=en")
    await tab_to(page, "username")
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator("#agent-page")).to_be_visible()


async def api_session(web: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Sign `username` in over HTTP; the CSRF header its API calls carry."""
    form = await web.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = await web.post(
        "/signin", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert signed.status_code == 303
    page = await web.get("/agent")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return {"X-CSRF-Token": csrf[1]}


async def test_a_busy_119_is_told_on_the_agents_page_and_the_wrapup_waits_for_the_end(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
    taipei_profile: ProfileCopy,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Asked through the JSON API this time, while the agent's page is open; 119
    answers 486 Busy Here. The page says so in its polite live region without a
    reload, and the wrap-up form comes when the call ends, not when the queue call
    was moved into the bridge."""
    engine = await start_engine()
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    await engine.ari.wait_connected(20)
    users = UserStore(store, TEST_HASHER)
    await users.add("agent7001b", PASSWORD, role=Role.AGENT, at=system_clock(), agent_id="a01")
    # The queue's word that the agent's call is complete (AgentComplete).
    completed = asyncio.Event()
    engine.ami.on("AgentComplete", lambda event: completed.set())
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
    base = engine.console.url.rstrip("/")
    try:
        async with (
            async_playwright() as p,
            httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=HTTP_TIMEOUT) as web,
            Driver(stack, store) as driver,
        ):
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page()
            try:
                # Ready over the API: an earlier test may have left the agent in the
                # queues, where the page offers no "go ready".
                headers = await api_session(web, "agent7001b")
                ready = await web.post(
                    "/api/v1/agent/state", json={"action": "ready"}, headers=headers
                )
                assert ready.status_code == 200, ready.text
                await sign_in(page, base, "agent7001b")
                placed = await driver.place(TO_QUEUE)
                await expect(page.locator("#pop-live")).to_contain_text("通話中", timeout=60_000)
                status = page.locator("#threeway-status")
                await expect(status).to_have_attribute("role", "status")
                await expect(status).to_have_attribute("aria-live", "polite")
                await expect(status).to_have_text("")
                # A mark that a reload would wipe: the news must come without one.
                await page.evaluate("window.notReloaded = true")
                uniqueid = str(engine.console.console.hub.last_pop["a01"]["uniqueid"])
                asked = await web.post(
                    "/api/v1/agent/threeway",
                    json={"uniqueid": uniqueid, "service": "fire"},
                    headers=headers,
                )
                assert asked.status_code == 200, asked.text
                assert asked.json()["number"] == "119"
                # The page hears it, in the agent's language, from the live region.
                said = news_text(
                    translator("zh-TW"), {"key": "busy", "number": "119", "service": "fire"}
                )
                assert "忙線" in said
                await expect(status).to_have_text(said, timeout=60_000)
                assert await page.evaluate("window.notReloaded === true")
                # Through the accessibility tree: a status with those words.
                await expect(page.get_by_role("status").filter(has_text=said)).to_have_count(1)
                results = await Axe().run(page)
                assert results.violations_count == 0, results.generate_report()

                async def outcome() -> list[dict[str, object]] | None:
                    record = await store.get_call_by_uniqueid(uniqueid)
                    found = events(record, "threeway_dial") if record else []
                    return found or None

                told = await until(outcome, "the dial's outcome")
                assert [(e["service"], e["outcome"]) for e in told] == [("fire", "busy")]
                bridge = await threeway_bridge(engine)
                assert bridge is not None
                assert len(bridge.channels) == 2
                assert uniqueid in bridge.channels
                # The agent still talks to the caller: no wrap-up yet.
                assert engine.console.console.hub.last_pop["a01"]["phase"] == "answered"
                await expect(page.locator("#pop-live")).to_contain_text("通話中")
                assert await page.locator("#wrap-up").count() == 0
                await driver.hang_up(placed)
                record = await driver.ended(placed, timeout_s=WAIT_S)
                # Asterisk's queue says the call is complete when the caller hangs up
                # (queue_log COMPLETECALLER), not when the call moved into the bridge.
                await asyncio.wait_for(completed.wait(), WAIT_S)
                # The caller hung up, the agent was let go: now the wrap-up form.
                await expect(page.locator("#wrap-up")).to_be_visible(timeout=60_000)
                await expect(status).to_have_text("三方通話已結束。")
                results = await Axe().run(page)
                assert results.violations_count == 0, results.generate_report()
            finally:
                await browser.close()
    finally:
        for proc in (phone, busy):
            if proc.poll() is None:
                proc.kill()

    async def gone() -> bool | None:
        return True if await threeway_bridge(engine) is None else None

    await until(gone, "the bridge destroyed")
    fresh = await store.get_call_by_uniqueid(record.uniqueid)
    assert fresh is not None
    assert events(fresh, "threeway_left") == [{"party": "citizen", "ended": ["agent"]}]
