"""Disaster mode and typhoon closures switched by a supervisor from the console
(issue 16), by keyboard alone: the store's rows are the ones `ivr mode` and `ivr
calendar` write (the running engine reads them per call), and each switch is audited
with who, when and from where. Agents are refused; forms need the CSRF token."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from ivr.store import audit
from tests.web.conftest import ConsoleServer, assert_accessible, screenshot, sign_in_by_keyboard
from tests.web.test_console import client, csrf_of
from tests.web.test_console_streams import tab_to

PAGE = "/supervisor/service"


def store_day(text: str) -> date:
    return date.fromisoformat(text)


def _local_day(server: ConsoleServer, days: int) -> str:
    tz = server.console.routing_view().office.tz
    return (server.clock().astimezone(tz).date() + timedelta(days=days)).isoformat()


def test_a_supervisor_switches_disaster_mode_and_closes_a_typhoon_day_by_keyboard(
    console_server: ConsoleServer, page: Page
) -> None:
    store = console_server.console.store
    console_server.user("sup-switch", Role.SUPERVISOR, language="en")
    sign_in_by_keyboard(page, console_server.url, "sup-switch")
    page.goto(f"{console_server.url}/wallboard")
    tab_to(page, "service-link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#disaster-state")).to_contain_text("Disaster mode: off")
    expect(page.get_by_text("No day is closed from today on.")).to_be_visible()
    assert_accessible(page, "service page, nothing switched")

    tab_to(page, "disaster-note")
    page.keyboard.type("Typhoon Krathon: centre at level 1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "disaster-switch"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Disaster mode is on.")
    expect(page.locator("#disaster-state")).to_contain_text("Disaster mode: ON")
    assert console_server.run(store.current_mode(console_server.clock())) == "disaster"
    [change] = console_server.run(store.mode_history(1))
    assert (change.changed_by, change.note) == ("sup-switch", "Typhoon Krathon: centre at level 1")

    day = _local_day(console_server, 1)
    tab_to(page, "close-day")
    page.keyboard.type(day)
    page.keyboard.press("Tab")
    page.keyboard.type("typhoon")
    page.keyboard.press("Tab")
    page.keyboard.type("12:00")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"{day} is declared closed.")
    row = page.locator(f"#closed-{day}")
    expect(row).to_contain_text("12:00")
    expect(row).to_contain_text("typhoon")
    closed = console_server.run(store.closures(store_day(day)))
    assert closed[store_day(day)].changed_by == "sup-switch"
    assert closed[store_day(day)].closes_at is not None
    assert_accessible(page, "service page, disaster mode on and a day closed")
    screenshot(page, "service")

    tab_to(page, f"reopen-{day}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"{day} is open again.")
    assert console_server.run(store.closures(store_day(day))) == {}

    rows = console_server.run(audit.entries(store, who="sup-switch"))
    switched = [(r.action, r.subject, r.detail) for r in rows if r.action != "signin"]
    assert switched == [
        ("disaster_mode", "mode:disaster", "on; from 127.0.0.1"),
        ("calendar_closure", f"day:{day}", "closed from 12:00: typhoon; from 127.0.0.1"),
        ("calendar_closure", f"day:{day}", "opened again; from 127.0.0.1"),
    ]

    tab_to(page, "disaster-switch")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Disaster mode is off.")
    assert console_server.run(store.current_mode(console_server.clock())) == "normal"


def test_agents_are_refused_and_forms_need_the_csrf_token(console_server: ConsoleServer) -> None:
    store = console_server.console.store
    console_server.user("agent-switch", Role.AGENT, agent_id="a05", language="en")
    console_server.user("sup-csrf", Role.SUPERVISOR, language="en")
    console_server.user("auditor-switch", Role.AUDITOR, language="en")
    before = console_server.run(store.mode_history(50))

    agent = client(console_server, "agent-switch")
    assert agent.get(PAGE).status_code == 403
    token = csrf_of(agent, "/agent")
    refused = agent.post(f"{PAGE}/disaster", data={"active": "true", "csrf_token": token})
    assert refused.status_code == 403

    supervisor = client(console_server, "sup-csrf")
    assert supervisor.post(f"{PAGE}/disaster", data={"active": "true"}).status_code == 403

    auditor = client(console_server, "auditor-switch")
    page = auditor.get(PAGE)
    assert page.status_code == 200
    assert 'id="disaster-switch"' not in page.text
    token = csrf_of(auditor, PAGE)
    assert (
        auditor.post(f"{PAGE}/disaster", data={"active": "true", "csrf_token": token}).status_code
        == 403
    )
    assert console_server.run(store.mode_history(50)) == before


def test_a_bad_day_or_time_is_refused_at_the_form_and_nothing_is_written(
    console_server: ConsoleServer,
) -> None:
    store = console_server.console.store
    console_server.user("sup-bad", Role.SUPERVISOR, language="en")
    c = client(console_server, "sup-bad")
    token = csrf_of(c, PAGE)
    since = store_day(_local_day(console_server, -1))
    before = console_server.run(store.closure_history(since))
    for day, start in (
        ("2026-02-30", ""),
        ("tomorrow", ""),
        (_local_day(console_server, 2), "25:00"),
    ):
        reply = c.post(
            f"{PAGE}/close",
            data={"day": day, "reason": "typhoon", "closes_at": start, "csrf_token": token},
        )
        assert reply.status_code == 422
        assert "There is a problem" in reply.text
    blank = c.post(
        f"{PAGE}/close",
        data={"day": _local_day(console_server, 2), "reason": "  ", "csrf_token": token},
    )
    assert blank.status_code == 422
    assert "needs a reason" in blank.text
    assert console_server.run(store.closure_history(since)) == before
