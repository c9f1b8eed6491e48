"""In-call tools on the agent page, by keyboard alone: the directory by name or by duty,
and the referral numbers (告知電話) from the profile's referrals.yaml."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from tests.web.conftest import HTTP_TIMEOUT, ConsoleServer, assert_accessible, sign_in_by_keyboard
from tests.web.test_console import client
from tests.web.test_console_streams import tab_to


def test_an_agent_finds_a_unit_by_duty_and_by_name_by_keyboard(
    console_server: ConsoleServer, page: Page
) -> None:
    """ "pothole" finds the unit that handles dispatch item 1, marked as a duty match;
    its name finds the same unit and number, marked as a name match (T4(3))."""
    console_server.user("agent-tools", Role.AGENT, agent_id="a01", language="en")
    sign_in_by_keyboard(page, console_server.url, "agent-tools")
    tab_to(page, "lookup-q")
    page.keyboard.type("pothole")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rows = page.locator("#lookup-results tbody tr")
    expect(rows.first.locator("th")).to_contain_text("New Construction Office")
    by_duty = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
    assert by_duty[1] == "2301"
    assert by_duty[2] == "Duty"
    assert "Pothole on city road" in by_duty[3]
    assert_accessible(page, "agent directory lookup")
    # The results come next in the focus order: Tab from the search box lands in them.
    assert page.url.endswith("#lookup-results")

    tab_to(page, "lookup-q")
    page.keyboard.press("Control+A")
    page.keyboard.type("新建工程處")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    by_name = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
    assert by_name[1:3] == ["2301", "Name"]
    assert rows.first.locator("th").inner_text().startswith("新建工程處")


def test_an_agent_gives_a_referral_number_found_by_topic_or_from_the_list(
    console_server: ConsoleServer, page: Page
) -> None:
    console_server.user("agent-tools3", Role.AGENT, agent_id="a03", language="en")
    sign_in_by_keyboard(page, console_server.url, "agent-tools3")
    tab_to(page, "lookup-q")
    page.keyboard.type("fraud")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    results = page.locator("#lookup-results")
    expect(results).to_contain_text("1 referral numbers match")
    row = results.locator("tbody tr").first
    expect(row.locator("th")).to_contain_text("Anti-fraud hotline")
    expect(row.locator("td").first).to_have_text("165")
    assert_accessible(page, "agent lookup with a referral")

    # The whole list is one disclosure: Tab to it, Enter opens it.
    listed = page.locator("#referrals tbody tr")
    expect(listed.first).to_be_hidden()
    summary = page.locator("#referrals summary")
    for _ in range(60):
        page.keyboard.press("Tab")
        if summary.evaluate("s => s === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(listed.first).to_be_visible()
    assert listed.count() == 5
    assert "0800030598" in page.locator("#referrals").inner_text()
    assert_accessible(page, "agent referral list open")


def test_a_lookup_without_a_match_says_so_and_escapes_the_query(
    console_server: ConsoleServer, page: Page
) -> None:
    console_server.user("agent-tools2", Role.AGENT, agent_id="a02", language="en")
    sign_in_by_keyboard(page, console_server.url, "agent-tools2")
    page.goto(f"{console_server.url}/agent?q=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E")
    expect(page.locator("#lookup-results")).to_contain_text("0 units found")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#lookup-results table").count() == 0
    assert_accessible(page, "agent directory lookup, nothing found")


def test_the_api_gives_the_same_lookup(console_server: ConsoleServer) -> None:
    console_server.user("agent-tools4", Role.AGENT, agent_id="a04")
    c = client(console_server, "agent-tools4")
    found = c.get("/api/v1/agent/lookup", params={"q": "pothole"}).json()
    assert [(u["unit"], u["number"], u["matched"]) for u in found["units"]] == [
        ("new-construction", "2301", "duty")
    ]
    assert found["referrals"] == []
    listed = c.get("/api/v1/agent/lookup").json()
    assert listed["units"] == []
    assert [r["phone"] for r in listed["referrals"]][:2] == ["165", "1955"]


def test_other_roles_cannot_use_the_agents_lookup(console_server: ConsoleServer) -> None:
    console_server.user("officer-tools", Role.OFFICER, agency_id="police")
    reply = httpx.get(f"{console_server.url}/agent?q=pothole", timeout=HTTP_TIMEOUT)
    assert reply.status_code == 303
    assert "2301" not in reply.text
    c = client(console_server, "officer-tools")
    for path in ("/agent?q=pothole", "/api/v1/agent/lookup?q=pothole"):
        refused = c.get(path)
        assert refused.status_code == 403
        assert "2301" not in refused.text
