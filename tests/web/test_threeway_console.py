"""The three-way call's action on the page and in the API, without a phone system:
reachable by keyboard with its names, offered only from the tables' lines, refused
with a reason (never a traceback), agents only, and in the OpenAPI document."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from tests.web.conftest import HTTP_TIMEOUT, ConsoleServer, assert_accessible, sign_in_by_keyboard
from tests.web.test_console import client, csrf_of, feed_pop

UNIQUEID = "1764500999.7"


def test_the_action_is_on_the_live_call_panel_by_keyboard_with_its_names(
    console_server: ConsoleServer, page: Page
) -> None:
    console_server.user("tw-agent", Role.AGENT, agent_id="a01")
    feed_pop(console_server, "AgentConnect", UNIQUEID)
    sign_in_by_keyboard(page, console_server.url, "tw-agent")
    form = page.locator("#threeway-form")
    expect(form).to_be_visible()
    # Its accessible names: the form by its heading, the select by its label.
    expect(page.get_by_role("form", name="緊急三方通話")).to_be_visible()
    expect(page.get_by_label("緊急電話")).to_have_value("police")
    options = page.locator("#threeway-service option")
    expect(options).to_have_text(["110 警察", "119 消防、救護"])
    expect(page.get_by_role("button", name="開始三方通話")).to_be_visible()
    assert_accessible(page, "agent pop with the three-way call")
    # By keyboard: to the button, Enter. No phone system here: refused with its reason.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "threeway-go":
            break
    assert page.evaluate("document.activeElement.id") == "threeway-go"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "three-way call refused")


def test_the_api_refuses_what_is_not_the_agents_live_call_and_other_roles(
    console_server: ConsoleServer,
) -> None:
    console_server.user("tw-agent2", Role.AGENT, agent_id="a02")
    console_server.user("tw-super", Role.SUPERVISOR)
    agent = client(console_server, "tw-agent2")
    csrf = csrf_of(agent, "/agent")
    body = {"uniqueid": UNIQUEID, "service": "fire"}
    # a01's call is on a01's screen, not on a02's.
    reply = agent.post("/api/v1/agent/threeway", json=body, headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 409
    assert reply.json() == {"detail": "This call is no longer on your screen."}
    # A service the vocabulary does not know never reaches the phone system.
    odd = agent.post(
        "/api/v1/agent/threeway",
        json={"uniqueid": UNIQUEID, "service": "coastguard"},
        headers={"X-CSRF-Token": csrf},
    )
    assert odd.status_code == 422
    boss = client(console_server, "tw-super")
    refused = boss.post(
        "/api/v1/agent/threeway", json=body, headers={"X-CSRF-Token": csrf_of(boss, "/wallboard")}
    )
    assert refused.status_code == 403
    document = httpx.get(f"{console_server.url}/api/v1/openapi.json", timeout=HTTP_TIMEOUT).json()
    operation = document["paths"]["/api/v1/agent/threeway"]["post"]
    assert {"200", "403", "409", "503"} <= set(operation["responses"])
