"""End to end on real parts: Asterisk, the engine with its console, a SIPp agent phone,
a real call, and the agent's page in Debian's chromium, driven by the keyboard alone.

The agent signs in and goes ready from the page (AMI QueueAdd into Asterisk's queues);
a caller with an earlier ticket dials 1999 and reaches the general queue; the SIPp
phone rings and answers; the page's live region announces the caller; after the call
the agent completes the wrap-up form, and the service type is on the call's record.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, async_playwright, expect

from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.vocabulary import Role
from ivr.routing.loader import load_profile
from ivr.store import CaseStore
from ivr.store.users import UserStore
from tests.harness import free_port
from tests.integration.calls import StartEngine, call, events, greeting_s, register_agent
from tests.integration.conftest import (  # noqa: F401 - fixtures used by name
    stack,
    start_engine,
    store,
    taipei_profile,
)
from tests.sipp.scenarios import answer_then_hang_up_scenario, start_uas
from tests.web.conftest import CHROMIUM, PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.asterisk

CALLER = "0912345678"
# Tab presses allowed to reach a control; a page needing more has a focus-order problem.
MAX_TABS = 40


async def tab_to(page: Page, element_id: str) -> None:
    """Press Tab until the element has focus: reachable by keyboard, in order."""
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with {MAX_TABS} Tab presses")


async def test_agent_takes_a_real_call_by_keyboard_alone(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Sign in, go ready, screen pop in the live region (with the earlier ticket), wrap up."""
    engine = await start_engine()
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    users = UserStore(store)
    await users.add("agent7001", PASSWORD, role=Role.AGENT, at=system_clock(), agent_id="a01")
    await users.add("super7000", PASSWORD, role=Role.SUPERVISOR, at=system_clock())
    now = system_clock()
    earlier = await store.create_ticket(
        call_id=None,
        transfer_id=None,
        caller_number=CALLER,
        agency_id="police",
        unit_id=None,
        reason="busy",
        created_at=now - timedelta(days=2),
        due_at=now + timedelta(days=1),
    )
    tables = load_profile(Path(stack.routing_profile))
    agent = next(a for a in tables.agents.agents if a.extension == "7001")
    port = free_port()
    await register_agent(stack, agent.extension, port)
    uas = start_uas(
        answer_then_hang_up_scenario(agent.extension, talk_ms=3000),
        port=port,
        media_port=free_port(),
        calls=1,
        workdir=tmp_path,
    )
    base = engine.console.url.rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        try:
            await page.goto(f"{base}/signin?lang=en")
            await tab_to(page, "username")
            await page.keyboard.type("agent7001")
            await page.keyboard.press("Tab")
            await page.keyboard.type(PASSWORD)
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await tab_to(page, "go-ready")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator("#state-text")).to_have_text("可接聽")
            shown = process.rx(install.ensure(), stack, "queue show hotline-general")
            assert "PJSIP/7001" in shown
            # A supervisor's wallboard reads Asterisk's queues (AMI QueueStatus).
            board = await browser.new_page()
            await board.goto(f"{base}/signin")
            await board.fill("#username", "super7000")
            await board.fill("#password", PASSWORD)
            async with board.expect_navigation():
                await board.keyboard.press("Enter")
            general = board.locator("tbody tr", has_text="(general)")
            await expect(general.locator("td").nth(2)).to_have_text("1")
            assert await board.locator(".notice").count() == 0
            await board.screenshot(path=str(SCREENSHOTS / "wallboard.png"), full_page=True)
            await board.close()
            # The page is live (SSE) before the call rings.
            await page.wait_for_function("document.getElementById('pop-live') !== null")
            placed = asyncio.create_task(
                call(stack, store, dtmf="9#ww1#", wait_s=greeting_s(stack), hold_s=10)
            )
            live = page.locator("#pop-live")
            await expect(live).to_contain_text("0912○○○678", timeout=60_000)
            snapshot = await live.aria_snapshot()
            assert "status" in snapshot
            assert "0912○○○678" in snapshot
            await expect(page.locator("#pop-detail")).to_contain_text(earlier.number)
            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            # Playwright makes the directory if it is missing.
            await page.screenshot(path=str(SCREENSHOTS / "agent-screen-pop.png"), full_page=True)
            # The agent's phone hangs up after 3 s: AgentComplete brings the wrap-up form.
            await expect(page.locator("#wrap-up")).to_be_visible(timeout=60_000)
            await tab_to(page, "service-type")
            await page.keyboard.press("End")
            await tab_to(page, "wrap-up")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator("#pop-detail")).to_contain_text("目前沒有來電")
            record = await placed
            await tab_to(page, "leave")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
        finally:
            await browser.close()
            if uas.poll() is None:
                uas.kill()
    fresh = await store.get_call_by_uniqueid(record.uniqueid)
    assert fresh is not None
    assert events(fresh, "wrapup") == [{"service_type": "other", "agent": "a01"}]
    assert "PJSIP/7001" not in process.rx(install.ensure(), stack, "queue show hotline-general")
