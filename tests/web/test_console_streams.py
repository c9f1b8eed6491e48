"""Live pages end with their session: an open screen-pop stream is closed when its user
signs out or the session expires, and the wallboard's refresh goes to sign-in.

A stream is one long request, checked when it opened; without this, a page left open
would keep receiving callers' numbers after sign-out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from tests.web.conftest import ConsoleServer, assert_accessible, sign_in_by_keyboard
from tests.web.test_console import client, feed_pop

MAX_TABS = 40


@pytest.fixture(scope="module")
def streams(console_server: ConsoleServer) -> ConsoleServer:
    console_server.user("agent1", Role.AGENT, agent_id="a01", language="en")
    console_server.user("super1", Role.SUPERVISOR, language="en")
    # Open streams look at their session often here, so expiry is seen without delay.
    console_server.console.session_check_s = 0.1
    return console_server


def wait_until(fact: Callable[[], bool], what: str) -> None:
    """Poll a fact of the server (a bound only against hanging, not a timed assert)."""
    for _ in range(600):
        if fact():
            return
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def tab_to(page: Page, element_id: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with {MAX_TABS} Tab presses")


def test_signing_out_ends_the_open_screen_pop_stream(streams: ConsoleServer, page: Page) -> None:
    """Two tabs of one session; signing out in one ends the other's stream and clears
    the caller from it; the page says so and leads back to sign-in, by keyboard."""
    hub = streams.console.hub
    sign_in_by_keyboard(page, streams.url, "agent1")
    # The first tab's stream is open: a pop reaches its live region.
    expect(page.locator("#pop-live")).to_be_attached()
    wait_until(lambda: hub.pages("a01") == 1, "the agent page's stream is open")
    feed_pop(streams, "AgentCalled", uniqueid="1764500100.1")
    expect(page.locator("#pop-live")).to_contain_text("0912○○○678")

    other = page.context.new_page()
    other.goto(f"{streams.url}/agent")
    wait_until(lambda: hub.pages("a01") == 2, "both tabs' streams are open")
    other.keyboard.press("Tab")  # the skip link
    signout = other.get_by_role("button", name="Sign out")
    for _ in range(MAX_TABS):
        other.keyboard.press("Tab")
        if signout.evaluate("b => b === document.activeElement"):
            break
    with other.expect_navigation():
        other.keyboard.press("Enter")
    assert other.url.endswith("/signin")

    wait_until(lambda: hub.pages("a01") == 0, "every stream of the session ended")
    live = page.locator("#pop-live")
    expect(live).to_contain_text("signed out")
    assert "status" in live.aria_snapshot()
    expect(page.locator("#pop-detail")).not_to_contain_text("0912")
    assert_accessible(page, "agent page after sign-out")
    tab_to(page, "signin-again")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/signin")
    feed_pop(streams, "AgentComplete", uniqueid="1764500100.1")


def test_an_expired_session_ends_the_open_stream(streams: ConsoleServer) -> None:
    """Idle past the limit while the stream is open: the stream says so and ends; an open
    stream does not keep its session alive."""
    c = client(streams, "agent1")
    seen: list[str] = []
    with c.stream("GET", "/agent/events", timeout=60) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        streams.clock.offset += timedelta(minutes=31)
        try:
            # Iteration ends only when the server closes the stream.
            seen.extend(reply.iter_lines())
        finally:
            streams.clock.offset -= timedelta(minutes=31)
    assert "event: ended" in seen
    assert streams.console.hub.pages("a01") == 0
    # The session is gone: the stream cannot be opened again with it.
    assert c.get("/agent/events").status_code == 401


def test_the_wallboard_goes_to_sign_in_when_the_session_expires(
    streams: ConsoleServer, page: Page
) -> None:
    """The wallboard refreshes its body; the first refresh after expiry loads sign-in as
    a page instead of swapping it into the table."""
    sign_in_by_keyboard(page, streams.url, "super1")
    expect(page.locator("#wallboard-body table").first).to_be_visible()
    streams.clock.offset += timedelta(minutes=31)
    try:
        page.wait_for_url("**/signin", timeout=60_000)
    finally:
        streams.clock.offset -= timedelta(minutes=31)
    assert page.locator("#wallboard-body").count() == 0
    assert page.locator("#username").is_visible()


def _first_pop(lines: Iterator[str]) -> str:
    """The data line of the first `pop` event a stream sends."""
    pop_next = False
    for line in lines:
        if line == "event: pop":
            pop_next = True
        elif pop_next and line.startswith("data: "):
            return line
    raise AssertionError("the stream ended without a pop")


def test_a_pop_that_moved_on_while_the_page_loaded_is_sent_when_its_stream_opens(
    streams: ConsoleServer,
) -> None:
    """The call ends while the agent's page is loading (after a form's post): the page
    was rendered with the answered pop, and its stream opens after the wrap-up was
    published. The stream sends the wrap-up at once; a pop the page already shows is
    not sent again, so the next pop is the next event's."""
    hub = streams.console.hub
    c = client(streams, "agent1")
    feed_pop(streams, "AgentCalled", uniqueid="1764500300.1")
    feed_pop(streams, "AgentConnect", uniqueid="1764500300.1")
    feed_pop(streams, "AgentComplete", uniqueid="1764500300.1")
    with c.stream("GET", "/agent/events?seen=1764500300.1:answered", timeout=60) as reply:
        assert '"uniqueid": "1764500300.1"' in _first_pop(reply.iter_lines())
        assert hub.last_pop["a01"]["phase"] == "wrap_up"
    wait_until(lambda: hub.pages("a01") == 0, "the first stream closed")
    with c.stream("GET", "/agent/events?seen=1764500300.1:wrap_up", timeout=60) as reply:
        wait_until(lambda: hub.pages("a01") == 1, "the stream is open")
        feed_pop(streams, "AgentCalled", uniqueid="1764500301.1")
        assert '"uniqueid": "1764500301.1"' in _first_pop(reply.iter_lines())
    feed_pop(streams, "AgentComplete", uniqueid="1764500301.1")
