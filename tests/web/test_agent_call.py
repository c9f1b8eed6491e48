"""End to end on real parts: Asterisk, the engine with its console, a SIPp agent phone,
a real call, and the agent's page in Debian's chromium, driven by the keyboard alone.

The agent signs in and goes ready from the page (AMI QueueAdd into Asterisk's queues);
a caller with an earlier ticket dials 1999 and reaches the general queue, which (in
this test's copy of the tables) asks for the wrap-up form; the SIPp phone rings and
answers; the page's live region announces the caller; the queue holds the agent
(paused, after-call work); the agent opens a petition from the page, linked to the
call; after the call the agent completes the wrap-up form, the service type is on the
call's record and the queue offers the agent calls again. Another test transfers a
caller from the screen pop into the transfer engine, to a unit that answers.
"""

from __future__ import annotations

import asyncio
import re
import shutil
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
from ivr.store import CaseStore, audit
from ivr.store.cases import CaseBook
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
from tests.web.conftest import CHROMIUM, PASSWORD, SCREENSHOTS, TEST_HASHER

pytestmark = pytest.mark.asterisk

CALLER = "0912345678"
# Tab presses allowed to reach a control; a page needing more has a focus-order problem.
MAX_TABS = 40


async def tab_to(page: Page, element_id: str, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the element has focus: reachable by keyboard."""
    for _ in range(MAX_TABS):
        await page.keyboard.press(key)
        if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with {MAX_TABS} Tab presses")


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def choose(page: Page, element_id: str, options: list[str], value: str) -> None:
    """Pick an option of the focused select with the arrow keys alone."""
    assert await focused(page) == element_id
    await page.keyboard.press("Home")
    for _ in range(options.index(value)):
        await page.keyboard.press("ArrowDown")
    await expect(page.locator(f"#{element_id}")).to_have_value(value)


async def member_line(cfg: StackConfig, extension: str) -> str:
    shown = await asyncio.to_thread(process.rx, install.ensure(), cfg, "queue show hotline-general")
    return next((line for line in shown.splitlines() if f"PJSIP/{extension}" in line), "")


async def until_member(cfg: StackConfig, extension: str, *, paused: bool) -> str:
    """Poll Asterisk's queue until the member is (or is no longer) paused."""

    async def poll() -> str:
        while True:
            line = await member_line(cfg, extension)
            if line and ("paused" in line) == paused:
                return line
            await asyncio.sleep(0.2)

    return await asyncio.wait_for(poll(), 60)


def with_wrapup_form(profile: Path, target: Path) -> Path:
    """A copy of the tables whose general queue holds agents for the wrap-up form."""
    shutil.copytree(profile, target)
    agents = target / "agents.yaml"
    text = agents.read_text(encoding="utf-8")
    general = re.compile(r"^(  - \{id: general, .*)\}$", re.MULTILINE)
    edited, found = general.subn(r"\1, wrapup_form: true}", text)
    assert found == 1
    agents.write_text(edited, encoding="utf-8")
    return target


async def sign_in_ready(page: Page, base: str, username: str) -> None:
    """Sign in and go ready, by keyboard alone."""
    await page.goto(f"{base}/signin?lang=en")
    await tab_to(page, "username")
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await tab_to(page, "go-ready")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator("#state-text")).to_have_text("可接聽")


# How long the agent's phone talks before it hangs up.
TALK_MS = 20_000


async def test_agent_takes_a_real_call_by_keyboard_alone(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Sign in, go ready, screen pop (with the earlier ticket), a petition, wrap up."""
    profile = with_wrapup_form(Path(stack.routing_profile), tmp_path / "taipei")
    engine = await start_engine(profile=profile)
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    users = UserStore(store, TEST_HASHER)
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
        # The call stays answered long enough for the page's checks on a loaded machine
        # (the pop, axe, the queue's hold); the steps after it hold in either phase.
        answer_then_hang_up_scenario(agent.extension, talk_ms=TALK_MS),
        port=port,
        media_port=sipp_media_port(),
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
                call(
                    stack,
                    store,
                    dtmf="9#ww1#",
                    wait_s=greeting_s(stack),
                    hold_s=TALK_MS / 1000 + 20,
                )
            )
            live = page.locator("#pop-live")
            await expect(live).to_contain_text("0912○○○678", timeout=60_000)
            # Answered (通話中): the live region's last word until the call ends.
            await expect(live).to_contain_text("通話中", timeout=60_000)
            snapshot = await live.aria_snapshot()
            assert "status" in snapshot
            assert "0912○○○678" in snapshot
            await expect(page.locator("#pop-detail")).to_contain_text(earlier.number)
            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            # Playwright makes the directory if it is missing.
            await page.screenshot(path=str(SCREENSHOTS / "agent-screen-pop.png"), full_page=True)
            # From the answer on, the queue holds the agent for the wrap-up form.
            held = await until_member(stack, "7001", paused=True)
            assert "after_call_work" in held
            # A petition from the page: kind (petition first), summary, agency, open.
            await tab_to(page, "case-kind")
            await expect(page.locator("#case-kind")).to_have_value("petition")
            await page.keyboard.press("Tab")
            assert await focused(page) == "case-summary"
            await page.keyboard.type("巷口路燈不亮")
            await page.keyboard.press("Tab")
            agencies = ["", *(a.id for a in tables.directory.agencies)]
            await choose(page, "case-agency", agencies, "pwd")
            await tab_to(page, "case-create")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            created = page.locator("#case-created")
            await expect(created).to_contain_text("陳情案件")
            await expect(created).to_contain_text("查詢密碼")
            assert await focused(page) == "case-created"
            number = re.search(r"\d{6,}", await created.locator("p").first.inner_text())
            assert number is not None
            await expect(page.locator("#pop-cases")).to_contain_text(number[0])
            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            # The agent's phone hangs up after TALK_MS: AgentComplete brings the wrap-up form,
            # which comes before the call's forms on the page.
            await expect(page.locator("#wrap-up")).to_be_visible(timeout=60_000)
            await expect(page.locator("#wrapup-required")).to_be_visible()
            await tab_to(page, "service-type", "Shift+Tab")
            await page.keyboard.press("End")
            await tab_to(page, "wrap-up")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator("#pop-detail")).to_contain_text("目前沒有來電")
            # The form done, the queue offers the agent calls again.
            await expect(page.locator("#state-text")).to_have_text("可接聽")
            await until_member(stack, "7001", paused=False)
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
    book = CaseBook.of(store, tables.profile.name)
    case = await book.by_number(number[0])
    assert case is not None
    assert (case.kind, case.agency_id, case.caller_number) == ("petition", "pwd", CALLER)
    assert [link.call_id for link in await book.links(case.id)] == [fresh.id]
    assert "PJSIP/7001" not in process.rx(install.ensure(), stack, "queue show hotline-general")


async def test_agent_transfers_the_caller_from_the_screen_pop(
    stack: StackConfig,  # noqa: F811
    store: CaseStore,  # noqa: F811
    start_engine: StartEngine,  # noqa: F811
    taipei_profile: ProfileCopy,  # noqa: F811
    tmp_path: Path,
) -> None:
    """One select and one button: the caller goes to the unit, audited; not twice."""
    engine = await start_engine()
    assert engine.console is not None
    await engine.ami.wait_connected(20)
    users = UserStore(store, TEST_HASHER)
    await users.add("agent7001x", PASSWORD, role=Role.AGENT, at=system_clock(), agent_id="a01")
    tables = load_profile(Path(stack.routing_profile))
    units = [u.id for a in tables.directory.agencies for u in a.units]
    port = free_port()
    await register_agent(stack, "7001", port)
    # The agent stays on the call until the transfer takes the caller away.
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
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        try:
            await sign_in_ready(page, base, "agent7001x")
            await page.wait_for_function("document.getElementById('pop-live') !== null")
            placed = asyncio.create_task(
                call(stack, store, dtmf="9#ww1#", wait_s=greeting_s(stack), hold_s=40)
            )
            # Answered: the live region says so (通話中) once the SIPp phone picks up.
            await expect(page.locator("#pop-live")).to_contain_text("通話中", timeout=60_000)
            await tab_to(page, "transfer-unit")
            await choose(page, "transfer-unit", units, "test-ringing")
            await page.keyboard.press("Tab")
            assert await focused(page) == "transfer-go"
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            done = page.locator("#transfer-done")
            await expect(done).to_contain_text("test-ringing")
            assert await focused(page) == "transfer-done"
            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            # A second press (or a reload) does not move the caller again.
            await tab_to(page, "transfer-go")
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            await expect(page.locator(".error-summary")).to_contain_text("已轉接")
            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            record = await placed
        finally:
            await browser.close()
            for proc in (phone, unit):
                if proc.poll() is None:
                    proc.kill()
    assert events(record, "transfer_request") == [{"code": "69002", "by": "agent", "known": True}]
    assert [a["dialstatus"] for a in events(record, "dial_attempt")] == ["ANSWER"]
    rows = await audit.entries(store, subject=f"call:{record.uniqueid}")
    moves = [(r.who, r.action) for r in rows if r.action == "transfer"]
    assert moves == [("agent7001x", "transfer")]
