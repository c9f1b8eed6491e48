"""The console in a real browser over a real store: accessibility, roles, CSRF, expiry, XSS.

No phone system here (the console's AMI is None): agent state changes are refused with
a message; the screen pop is fed through the same handler AMI events reach
(`pop.on_queue_event`), with an AgentCalled event shaped as Asterisk sends it. The pop
from a real call is in test_agent_call.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from ivr.store import audit
from ivr.web import pop
from tests.web.conftest import (
    HTTP_TIMEOUT,
    PASSWORD,
    ConsoleServer,
    assert_accessible,
    screenshot,
    sign_in_by_keyboard,
)

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
CALLER = "0912345678"


@pytest.fixture(scope="module")
def people(console_server: ConsoleServer) -> dict[str, str]:
    """One user per role; the officer and liaison have their unit and agency."""
    s = console_server
    s.user("agent1", Role.AGENT, agent_id="a01")
    s.user("officer1", Role.OFFICER, agency_id="police", unit_id="zhongzheng-precinct")
    s.user("liaison1", Role.LIAISON, agency_id="police", extension="7101")
    s.user("liaison2", Role.LIAISON, agency_id="environment")
    s.user("super1", Role.SUPERVISOR)
    s.user("auditor1", Role.AUDITOR)
    return {r: f"{r}1" for r in ("agent", "officer", "liaison", "super", "auditor")}


@pytest.fixture(scope="module")
def tickets(console_server: ConsoleServer, people: dict[str, str]) -> list[str]:
    """Three open tickets of the police (one overdue) and one of another agency."""
    s = console_server
    store = s.console.store
    now = s.clock()
    numbers = []
    for hours, agency, unit in (
        (-2, "police", "zhongzheng-precinct"),
        (3, "police", "zhongzheng-precinct"),
        (30, "police", None),
        (5, "environment", None),
    ):
        ticket = s.run(
            store.create_ticket(
                call_id=None,
                transfer_id=None,
                caller_number=CALLER,
                agency_id=agency,
                unit_id=unit,
                reason="busy",
                created_at=now - timedelta(hours=4),
                due_at=now + timedelta(hours=hours),
            )
        )
        numbers.append(ticket.number)
    return numbers


def client(server: ConsoleServer, username: str | None = None) -> httpx.Client:
    """An HTTP client signed in as `username` (through the sign-in form)."""
    c = httpx.Client(base_url=server.url, follow_redirects=False, timeout=HTTP_TIMEOUT)
    if username is not None:
        form = c.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        reply = c.post(
            "/signin",
            data={"username": username, "password": PASSWORD, "csrf_token": token[1]},
        )
        assert reply.status_code == 303, reply.text
    return c


def csrf_of(c: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert found is not None
    return found[1]


def feed_pop(server: ConsoleServer, event_name: str, uniqueid: str = "1764500000.1") -> None:
    event = {
        "Event": event_name,
        "Queue": "hotline-general",
        "Interface": "PJSIP/7001",
        "MemberName": "a01",
        "CallerIDNum": CALLER,
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
    }
    server.run(pop.on_queue_event(server.console, event))


# -- accessibility, page by page and state by state ---------------------------------


def test_every_page_in_every_state_has_no_axe_violations(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str], page: Page
) -> None:
    """Sign-in (empty, error), agent (idle, phone down, screen pop, wrap-up), work, wallboard."""
    base = console_server.url
    page.goto(f"{base}/signin")
    assert_accessible(page, "sign-in")
    page.fill("#username", "nobody")
    page.fill("#password", "wrong-password-here")
    page.click("button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.title().startswith("錯誤")
    assert_accessible(page, "sign-in error")

    sign_in_by_keyboard(page, base, "agent1")
    expect(page.locator("h1")).to_contain_text("a01")
    assert_accessible(page, "agent idle")
    screenshot(page, "agent-idle")
    page.click("#go-ready")
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "agent, phone system down")

    feed_pop(console_server, "AgentCalled")
    page.goto(f"{base}/agent")
    expect(page.locator("#pop-detail")).to_contain_text("0912○○○678")
    assert_accessible(page, "agent screen pop")
    feed_pop(console_server, "AgentComplete")
    page.goto(f"{base}/agent")
    expect(page.locator("#wrap-up")).to_be_visible()
    assert_accessible(page, "agent wrap-up")

    for username, path, name in (
        ("officer1", "/work", "officer-work"),
        ("liaison2", "/work", None),
        # The wallboard's screenshot is taken with a real phone system (test_agent_call).
        ("super1", "/wallboard", None),
        ("auditor1", "/work", None),
    ):
        page.context.clear_cookies()
        sign_in_by_keyboard(page, base, username)
        page.goto(f"{base}{path}")
        assert page.locator("h1").count() == 1
        assert_accessible(page, f"{username} {path}")
        if name:
            screenshot(page, name)
    page.goto(f"{base}/work/nothing-here")
    assert_accessible(page, "not found")


def test_pages_work_at_200_percent_zoom(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str], page: Page
) -> None:
    """At 640 CSS px wide (1280 px at 200%), nothing scrolls sideways but the tables."""
    page.set_viewport_size({"width": 640, "height": 800})
    sign_in_by_keyboard(page, console_server.url, "officer1")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 640
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page, "officer at 200%")


# -- officers' work --------------------------------------------------------------------


def test_officer_sees_their_unit_soonest_due_first_with_overdue_marked(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str], page: Page
) -> None:
    """Their unit's two tickets, overdue first and marked in words; not other agencies'."""
    sign_in_by_keyboard(page, console_server.url, "officer1")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(tickets[0])
    expect(rows.nth(0).locator(".overdue")).to_contain_text("已逾期")
    expect(rows.nth(1)).to_contain_text(tickets[1])
    assert tickets[3] not in page.content()
    assert CALLER not in page.content()


def test_liaison_adds_a_note_and_it_is_shown(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str]
) -> None:
    """A liaison window's note on its agency's ticket is stored with its author."""
    c = client(console_server, "liaison1")
    reply = c.post(
        f"/work/tickets/{tickets[2]}/note",
        data={"text": "called, no answer", "csrf_token": csrf_of(c, "/work")},
    )
    assert reply.status_code == 303
    ticket = console_server.run(console_server.console.store.get_ticket_by_number(tickets[2]))
    assert ticket is not None
    assert [(n.author, n.text) for n in ticket.notes] == [("liaison1", "called, no answer")]


# -- roles: 403 and no data ------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("agent1", "/work"),
        ("agent1", "/wallboard"),
        ("officer1", "/wallboard"),
        ("officer1", "/agent"),
        ("super1", "/agent"),
        ("agent1", "/api/v1/work/tickets"),
        ("agent1", "/api/v1/wallboard"),
        ("officer1", "/api/v1/agent/pop"),
    ],
)
def test_a_role_is_refused_what_it_may_not_see(
    console_server: ConsoleServer,
    people: dict[str, str],
    tickets: list[str],
    username: str,
    path: str,
) -> None:
    """403, and not one ticket number or caller digit in the answer."""
    reply = client(console_server, username).get(path)
    assert reply.status_code == 403
    assert not any(number in reply.text for number in tickets)
    assert "0912" not in reply.text


def test_the_auditor_reads_but_cannot_change_anything(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str]
) -> None:
    """Every change the auditor tries is 403, and the ticket is as it was."""
    c = client(console_server, "auditor1")
    assert c.get("/work").status_code == 200
    assert c.get("/wallboard").status_code == 200
    csrf = csrf_of(c, "/work")
    before = console_server.run(console_server.console.store.get_ticket_by_number(tickets[1]))
    for action, data in (
        ("note", {"text": "auditor was here"}),
        ("assign", {"assignee": "auditor1"}),
        ("close", {"outcome": "closed by auditor"}),
        ("callback", {}),
    ):
        reply = c.post(f"/work/tickets/{tickets[1]}/{action}", data={**data, "csrf_token": csrf})
        assert reply.status_code == 403, action
    api = c.post(
        f"/api/v1/work/tickets/{tickets[1]}/notes",
        json={"text": "auditor"},
        headers={"X-CSRF-Token": csrf},
    )
    assert api.status_code == 403
    assert api.json() == {"detail": "forbidden"}
    after = console_server.run(console_server.console.store.get_ticket_by_number(tickets[1]))
    assert after == before


def test_another_agencys_ticket_is_not_found(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str]
) -> None:
    """liaison2 (environment) cannot note a police ticket: 404, nothing stored."""
    c = client(console_server, "liaison2")
    reply = c.post(
        f"/api/v1/work/tickets/{tickets[0]}/notes",
        json={"text": "not mine"},
        headers={"X-CSRF-Token": csrf_of(c, "/work")},
    )
    assert reply.status_code == 404
    ticket = console_server.run(console_server.console.store.get_ticket_by_number(tickets[0]))
    assert ticket is not None
    assert all(n.text != "not mine" for n in ticket.notes)


# -- CSRF, expiry, lockout -------------------------------------------------------------


def test_a_form_or_api_change_without_the_csrf_token_is_refused(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str]
) -> None:
    """No token, a wrong token, another session's token: 403 each, nothing stored."""
    c = client(console_server, "liaison1")
    other = csrf_of(client(console_server, "liaison1"), "/work")
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": other}):
        reply = c.post(f"/work/tickets/{tickets[1]}/note", data={"text": "forged", **data})
        assert reply.status_code == 403
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        reply = c.post(
            f"/api/v1/work/tickets/{tickets[1]}/notes", json={"text": "forged"}, headers=headers
        )
        assert reply.status_code == 403
    assert c.post("/signout", data={}).status_code == 403
    ticket = console_server.run(console_server.console.store.get_ticket_by_number(tickets[1]))
    assert ticket is not None
    assert all(n.text != "forged" for n in ticket.notes)
    # Signing in needs the form's own token too (no login CSRF).
    fresh = httpx.Client(base_url=console_server.url, timeout=HTTP_TIMEOUT)
    reply = fresh.post("/signin", data={"username": "liaison1", "password": PASSWORD})
    assert reply.status_code == 403


def test_session_cookie_is_httponly_and_samesite_strict(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    c = httpx.Client(base_url=console_server.url, timeout=HTTP_TIMEOUT)
    token = csrf_of(c, "/signin")
    reply = c.post(
        "/signin", data={"username": "agent1", "password": PASSWORD, "csrf_token": token}
    )
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    # Plain HTTP on loopback: Secure would stop the browser from sending it back.
    assert "secure" not in cookie.replace("samesite", "")


def test_a_session_expires_after_30_idle_minutes(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    """Idle past the limit: pages go to sign-in, the API answers 401."""
    c = client(console_server, "super1")
    assert c.get("/wallboard").status_code == 200
    console_server.clock.offset += timedelta(minutes=31)
    try:
        page = c.get("/wallboard")
        assert page.status_code == 303
        assert page.headers["location"] == "/signin"
        assert c.get("/api/v1/me").status_code == 401
    finally:
        console_server.clock.offset -= timedelta(minutes=31)
    # The expired session is gone for good, not revived by the clock going back.
    assert c.get("/api/v1/me").status_code == 401


def test_failed_sign_ins_lock_the_account_with_backoff(console_server: ConsoleServer) -> None:
    """Five wrong passwords lock the account: the right one is refused until it lifts."""
    console_server.user("locked1", Role.SUPERVISOR)
    c = httpx.Client(base_url=console_server.url, timeout=HTTP_TIMEOUT)
    for _ in range(5):
        token = csrf_of(c, "/signin")
        reply = c.post(
            "/signin",
            data={"username": "locked1", "password": "wrong-wrong-wrong", "csrf_token": token},
        )
        assert reply.status_code == 401
    token = csrf_of(c, "/signin")
    reply = c.post(
        "/signin", data={"username": "locked1", "password": PASSWORD, "csrf_token": token}
    )
    assert reply.status_code == 401
    assert "鎖" in reply.text or "請於" in reply.text
    console_server.clock.offset += timedelta(minutes=1)
    try:
        token = csrf_of(c, "/signin")
        reply = c.post(
            "/signin", data={"username": "locked1", "password": PASSWORD, "csrf_token": token}
        )
        assert reply.status_code == 303
    finally:
        console_server.clock.offset -= timedelta(minutes=1)


def test_every_sign_in_and_every_view_of_personal_data_is_audited(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str]
) -> None:
    """A sign-in, a work list and a screen pop each leave an audit row naming the user."""
    c = client(console_server, "officer1")
    c.get("/work")
    rows: list[Any] = console_server.run(
        audit.entries(console_server.console.store, who="officer1")
    )
    assert any(r.action == "signin" and r.detail.startswith("ok") for r in rows)
    assert any(r.action == "view" and r.subject == "work:officer1" for r in rows)
    broken = audit.verify_chain(console_server.run(audit.entries(console_server.console.store)))
    assert broken is None


# -- hostile input ---------------------------------------------------------------------


def test_script_payloads_in_stored_text_are_shown_escaped(
    console_server: ConsoleServer, people: dict[str, str], tickets: list[str], page: Page
) -> None:
    """A note, an assignee and a display name holding markup are shown as text, never run."""
    s = console_server
    ticket = s.run(s.console.store.get_ticket_by_number(tickets[1]))
    assert ticket is not None
    s.run(s.console.store.add_ticket_note(ticket.id, at=s.clock(), author="x", text=XSS))
    s.run(s.console.store.assign_ticket(ticket.id, XSS[:64], at=s.clock(), by="x"))
    s.user("xss1", Role.OFFICER, unit_id="zhongzheng-precinct")
    s.run(s.console.users._change("xss1", display_name=XSS[:128]))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in_by_keyboard(page, s.url, "xss1")
    expect(page.locator("main")).to_contain_text("<script>window.__xss=1</script>")
    expect(page.locator("header")).to_contain_text("<script>")
    assert page.evaluate("window.__xss") is None
    assert page.locator("main script, main img").count() == 0
    # The screen pop: a menu path written by a call carries the payload too.
    store = s.console.store
    call_id = s.run(
        store.start_call(
            uniqueid="xss.1",
            linkedid="xss.1",
            channel="PJSIP/carrier-1",
            caller_number=CALLER,
            caller_name=XSS[:64],
            dnid="1999",
            started_at=s.clock(),
        )
    )
    s.run(store.add_event(call_id, at=s.clock(), kind="menu", data={"menu": XSS, "entry": "1"}))
    feed_pop(s, "AgentCalled", uniqueid="xss.1")
    page.context.clear_cookies()
    sign_in_by_keyboard(page, s.url, "agent1")
    expect(page.locator("#pop-detail")).to_contain_text(XSS + " 1")
    assert page.evaluate("window.__xss") is None
    assert page.locator("main script, main img").count() == 0
    assert dialogs == []


def test_the_interface_language_is_chosen_per_user_by_keyboard(
    console_server: ConsoleServer, page: Page
) -> None:
    """A user switches to English from the footer; their pages stay English next time."""
    console_server.user("lang1", Role.SUPERVISOR)
    sign_in_by_keyboard(page, console_server.url, "lang1")
    expect(page.locator("h1")).to_have_text("即時看板")
    page.keyboard.press("End")
    page.locator("#ui-language").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Wallboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    user = console_server.run(console_server.console.users.get("lang1"))
    assert user is not None
    assert user.language == "en"
