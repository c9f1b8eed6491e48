"""The agent's actions on the call on screen, in a real browser over a real store:
open a petition or a dispatch case from the call (once, whatever is resubmitted), and
the transfer's refusals. No phone system here (the console's AMI is None); the pop is
fed through the handler AMI events reach. A real call's case and transfer are in
test_agent_call.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import CaseKind, Role, UiLanguage
from ivr.store import audit
from ivr.store.cases import CaseBook
from ivr.web import pop
from tests.web.conftest import ConsoleServer, assert_accessible, sign_in_by_keyboard
from tests.web.test_console import client, csrf_of

CALLER = "0912345678"


@pytest.fixture(scope="module")
def agent(console_server: ConsoleServer) -> str:
    console_server.user("agentcase", Role.AGENT, agent_id="a01", language=UiLanguage.EN)
    return "agentcase"


def a_call_on_screen(server: ConsoleServer, phase: str = "AgentConnect") -> tuple[str, int]:
    """A call in the store, and its pop on agent a01's page."""
    uniqueid = f"{uuid.uuid4().hex[:10]}.1"
    call_id = server.run(
        server.console.store.start_call(
            uniqueid=uniqueid,
            linkedid=uniqueid,
            channel=f"PJSIP/inbound-{uniqueid}",
            caller_number=CALLER,
            caller_name=None,
            dnid="1999",
            started_at=server.clock(),
        )
    )
    event = {
        "Event": phase,
        "Queue": "hotline-general",
        "Interface": "PJSIP/7001",
        "MemberName": "a01",
        "CallerIDNum": CALLER,
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
    }
    server.run(pop.on_queue_event(server.console, event))
    return uniqueid, call_id


def cases_of_call(server: ConsoleServer, call_id: int) -> list[Any]:
    store = server.console.store
    book = CaseBook.of(store, "taipei")

    async def linked() -> list[Any]:
        found = []
        for case in await book.search(limit=1000):
            if any(link.call_id == call_id for link in await book.links(case.id)):
                found.append(case)
        return found

    return server.run(linked())


def test_agent_opens_a_petition_from_the_call_on_screen(
    console_server: ConsoleServer, agent: str, page: Page
) -> None:
    """Form open, case created (number and password told once), linked to the call."""
    _, call_id = a_call_on_screen(console_server)
    sign_in_by_keyboard(page, console_server.url, agent)
    expect(page.locator("#case-form")).to_be_visible()
    assert_accessible(page, "agent, case form open")
    page.focus("#case-kind")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "case-summary"
    page.keyboard.type("路燈不亮 民眾要求改善")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "case-agency"
    page.select_option("#case-agency", "pwd")
    page.focus("#case-create")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    created = page.locator("#case-created")
    expect(created).to_contain_text("Case ")
    expect(created).to_contain_text("Password")
    # The answer takes the focus, so a screen reader reads it at once.
    assert page.evaluate("document.activeElement.id") == "case-created"
    assert_accessible(page, "agent, case created")
    number = re.search(r"Case (\d+)", created.inner_text())
    assert number is not None
    expect(page.locator("#pop-cases")).to_contain_text(number[1])
    cases = cases_of_call(console_server, call_id)
    assert [(c.number, c.kind, c.agency_id) for c in cases] == [
        (number[1], CaseKind.PETITION, "pwd")
    ]


def form(c: httpx.Client, uniqueid: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_of(c, "/agent"),
        "uniqueid": uniqueid,
        "key": uuid.uuid4().hex,
        "kind": "petition",
        "summary": "道路坑洞",
        "agency": "pwd",
        **fields,
    }


def test_a_double_submit_opens_one_case(console_server: ConsoleServer, agent: str) -> None:
    uniqueid, call_id = a_call_on_screen(console_server)
    c = client(console_server, agent)
    try:
        data = form(
            c, uniqueid, kind="dispatch", agency="", item="1", address="台北市中正區忠孝東路一段1號"
        )
        first = c.post("/agent/case", data=data)
        second = c.post("/agent/case", data=data)
    finally:
        c.close()
    assert first.status_code == 200, first.text
    assert "is opened" in first.text or "Merged into" in first.text
    assert second.status_code == 200
    assert "opened before" in second.text or "Merged into" in second.text
    assert len(cases_of_call(console_server, call_id)) == 1


def test_a_refused_case_keeps_what_was_typed(
    console_server: ConsoleServer, agent: str, page: Page
) -> None:
    """A dispatch order without its place: the error, the form as typed, nothing stored."""
    _, call_id = a_call_on_screen(console_server)
    sign_in_by_keyboard(page, console_server.url, agent)
    page.select_option("#case-kind", "dispatch")
    page.fill("#case-summary", "水溝堵塞")
    page.select_option("#case-item", "1")
    with page.expect_navigation():
        page.click("#case-create")
    expect(page.locator(".error-summary")).to_contain_text("place")
    expect(page.locator("#case-summary")).to_have_value("水溝堵塞")
    assert_accessible(page, "agent, case refused")
    assert cases_of_call(console_server, call_id) == []


def test_a_case_for_a_call_not_on_the_agents_screen_is_refused(
    console_server: ConsoleServer, agent: str
) -> None:
    a_call_on_screen(console_server)
    c = client(console_server, agent)
    try:
        reply = c.post("/agent/case", data=form(c, "9999999999.9"))
    finally:
        c.close()
    assert reply.status_code == 422
    assert "no longer on your screen" in reply.text


def test_transfer_of_a_call_that_ended_is_refused_and_not_audited(
    console_server: ConsoleServer, agent: str, page: Page
) -> None:
    uniqueid, _ = a_call_on_screen(console_server)
    console_server.run(
        console_server.console.store.end_call(
            uniqueid, ended_at=console_server.clock(), cause=16, cause_text="Normal Clearing"
        )
    )
    sign_in_by_keyboard(page, console_server.url, agent)
    page.select_option("#transfer-unit", "water-service")
    page.focus("#transfer-go")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_contain_text("hung up")
    assert_accessible(page, "agent, transfer refused")
    rows = console_server.run(
        audit.entries(console_server.console.store, subject=f"call:{uniqueid}")
    )
    assert [r for r in rows if r.action == "transfer"] == []
