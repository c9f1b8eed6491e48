"""Pausing with a reason from the console, on real parts: Asterisk's queue member is
paused with the reason (AMI QueuePause), the store has it as it has a phone's `*47`
and a digit, and the agent page and the supervisor's wallboard both show it. A pause
keyed on the phone shows on both pages the same way.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, async_playwright, expect

from ivr.asterisk import install, process
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.domain.vocabulary import Role, UiLanguage
from ivr.store import CaseStore
from ivr.store.users import UserStore
from tests.integration.calls import StartEngine, feature_code
from tests.integration.conftest import (  # noqa: F401 - fixtures used by name
    stack,
    start_engine,
    store,
    taipei_profile,
)
from tests.web.conftest import CHROMIUM, PASSWORD, TEST_HASHER
from tests.web.test_agent_call import tab_to

pytestmark = pytest.mark.asterisk


def queue_show(config: StackConfig, queue: str) -> str:
    return process.rx(install.ensure(), config, f"queue show {queue}")


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/signin")
    await tab_to(page, "username")
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_a_pause_from_the_console_carries_its_reason_into_asterisk_and_the_pages(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
) -> None:
    """Go ready, pause for a meal by keyboard: `queue show` says paused:meal, the store
    has (paused, meal), the page and the wallboard say Meal; then *475 on the phone
    (meeting) shows on both pages too."""
    from axe_playwright_python.async_playwright import Axe

    engine = await start_engine()
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    users = UserStore(store, TEST_HASHER)
    now = system_clock()
    en = UiLanguage.EN
    await users.add("agent7001", PASSWORD, role=Role.AGENT, at=now, agent_id="a01", language=en)
    await users.add("super7000", PASSWORD, role=Role.SUPERVISOR, at=now, language=en)
    base = engine.console.url.rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        board = await browser.new_page()
        try:
            await sign_in(page, base, "agent7001")
            await tab_to(page, "go-ready")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator("#state-text")).to_have_text("Ready")
            # The reasons are the phone's, in the order of their digits: 2 is a meal.
            await tab_to(page, "pause-reason")
            await page.keyboard.press("Home")
            await page.keyboard.press("ArrowDown")
            assert await page.locator("#pause-reason").input_value() == "meal"
            await tab_to(page, "pause")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator("#state-text")).to_have_text("Paused: Meal")
            assert (await Axe().run(page)).violations_count == 0

            shown = queue_show(stack, "hotline-general")
            assert "paused:meal" in shown.replace(" ", "").lower(), shown
            [latest] = await store.agent_states("a01", limit=1)
            assert (latest.state, latest.reason) == ("paused", "meal")

            await sign_in(board, base, "super7000")
            row = board.locator("#wallboard-body tbody tr", has=board.locator("th", has_text="a01"))
            await expect(row.locator("td").nth(0)).to_have_text("Paused")
            await expect(row.locator("td").nth(1)).to_have_text("Meal")
            results = await Axe().run(board)
            assert results.violations_count == 0, results.generate_report()

            # The phone's *475 (meeting) is live on the page and on the next refresh of
            # the wallboard, through the same reasons.
            await feature_code(stack, "7001", "*475")
            await expect(page.locator("#state-text")).to_contain_text("Meeting")
            await expect(row.locator("td").nth(1)).to_have_text("Meeting", timeout=30_000)
            [latest] = await store.agent_states("a01", limit=1)
            assert (latest.state, latest.reason) == ("paused", "meeting")
        finally:
            await browser.close()
            await feature_code(stack, "7001", "*46")
    assert "PJSIP/7001" not in queue_show(stack, "hotline-general")
