# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The FAQ search on the agent page (T2(1)), by keyboard alone; its page without
JavaScript, its API, and a stored `<script>` shown as text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from ivr.routing.loader import load_profile
from tests.web.conftest import (
    REPO,
    ConsoleServer,
    assert_accessible,
    screenshot,
    sign_in_by_keyboard,
)
from tests.web.test_console import client
from tests.web.test_console_streams import tab_to


def test_an_agent_searches_the_faq_by_keyboard_and_hears_how_many_match(
    console_server: ConsoleServer, page: Page
) -> None:
    console_server.user("faq-agent", Role.AGENT, agent_id="a01", language="en")
    sign_in_by_keyboard(page, console_server.url, "faq-agent")
    assert_accessible(page, "agent page with the FAQ search, empty")
    tab_to(page, "faq-q")
    page.keyboard.type("路燈不亮")
    page.keyboard.press("Enter")
    status = page.locator("#faq-status")
    expect(status).to_have_text('1 FAQ answers match "路燈不亮".')
    # The results come into the page; the focus stays in the search box.
    assert page.evaluate("document.activeElement.id") == "faq-q"
    assert page.url.rstrip("/").endswith("/agent")
    first = page.locator("#faq-results li").first
    expect(first.get_by_role("heading")).to_have_text("A streetlight is out. Who fixes it?")
    expect(first).to_contain_text("Parks and Street Lights Office")
    expect(first).to_contain_text("Kept by: 臺北市政府工務局")
    # The status line is a polite live region the accessibility tree exposes as such.
    snapshot = page.locator("section[aria-labelledby=faq-h]").aria_snapshot()
    assert 'search "FAQ"' in snapshot
    assert 'status: 1 FAQ answers match "路燈不亮".' in snapshot
    assert status.get_attribute("aria-live") == "polite"
    assert_accessible(page, "agent page with FAQ answers")

    # A second search replaces the answers and the status; nothing matching says so.
    page.keyboard.press("Control+A")
    page.keyboard.type("xylophone")
    page.keyboard.press("Enter")
    expect(status).to_have_text('No FAQ answer matches "xylophone".')
    expect(page.locator("#faq-results li")).to_have_count(0)


def test_the_faq_page_works_without_javascript(console_server: ConsoleServer, page: Page) -> None:
    console_server.user("faq-agent2", Role.AGENT, agent_id="a02", language="zh-TW")
    c = client(console_server, "faq-agent2")
    reply = c.get("/agent/faq", params={"q": "垃圾車時間"})
    assert reply.status_code == 200
    assert "垃圾車的時間和路線在哪裡查？" in reply.text
    assert 'role="search"' in reply.text
    # htmx asks for the answers and the status line only.
    part = c.get("/agent/faq", params={"q": "垃圾車時間"}, headers={"HX-Request": "true"})
    assert "<html" not in part.text
    assert 'hx-swap-oob="innerHTML"' in part.text
    assert "常見問答相符「垃圾車時間」" in part.text

    sign_in_by_keyboard(page, console_server.url, "faq-agent2")
    page.goto(f"{console_server.url}/agent/faq?q=颱風天有服務嗎")
    expect(page.locator("#faq-results li").first).to_contain_text("颱風天 1999 還有服務嗎？")
    assert_accessible(page, "FAQ page with answers")
    screenshot(page, "faq")


def test_the_faq_api_answers_agents_and_refuses_officers(console_server: ConsoleServer) -> None:
    console_server.user("faq-agent3", Role.AGENT, agent_id="a03", language="en")
    console_server.user("faq-officer", Role.OFFICER, agency_id="pwd", language="en")
    reply = client(console_server, "faq-agent3").get("/api/v1/agent/faq", params={"q": "pothole"})
    assert reply.status_code == 200
    assert reply.json()[0]["id"] == "pothole"
    assert reply.json()[0]["agency"] == "pwd"
    refused = client(console_server, "faq-officer").get("/api/v1/agent/faq", params={"q": "x"})
    assert refused.status_code == 403
    assert "pothole" not in refused.text
    spec = client(console_server, "faq-agent3").get("/api/v1/openapi.json").json()
    assert "q" in [p["name"] for p in spec["paths"]["/api/v1/agent/faq"]["get"]["parameters"]]


def test_a_script_in_a_faq_entry_is_shown_as_text(
    console_server: ConsoleServer, page: Page, tmp_path: Path
) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    payload = "<script>window.hacked=1</script><img src=x onerror=window.hacked=2>"
    with (profile / "faq.yaml").open("a", encoding="utf-8") as f:
        question = json.dumps(f"惡意問題 {payload}")
        f.write(f"  - id: xss\n    question: {question}\n    answer: {json.dumps(payload)}\n")
    hostile = load_profile(profile)
    console = console_server.console
    running = console.tables
    console.tables = lambda: hostile
    try:
        console_server.user("faq-agent4", Role.AGENT, agent_id="a04", language="zh-TW")
        html = client(console_server, "faq-agent4").get("/agent/faq", params={"q": "惡意問題"})
        assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in html.text
        assert "<script>window.hacked" not in html.text
        assert "<img src=x" not in html.text
        sign_in_by_keyboard(page, console_server.url, "faq-agent4")
        tab_to(page, "faq-q")
        page.keyboard.type("惡意問題")
        page.keyboard.press("Enter")
        answer = page.locator("#faq-xss p").first
        expect(answer).to_have_text(payload)
        assert page.evaluate("window.hacked === undefined")
    finally:
        console.tables = running
