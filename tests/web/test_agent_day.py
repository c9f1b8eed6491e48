"""An agent's day for supervisors: one date's states and answered calls, from the
store, by keyboard alone; agents are refused."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from playwright.sync_api import Page, expect

from ivr.domain.vocabulary import Role
from ivr.store.queue_legs import QueueLegs
from tests.web.conftest import ConsoleServer, assert_accessible, screenshot, sign_in_by_keyboard
from tests.web.test_console import client
from tests.web.test_console_streams import tab_to


def _seed_day(server: ConsoleServer) -> str:
    """a06 on a past date: signed in 08:00, meal break 12:00-13:00, one call at 09:00."""
    store = server.console.store
    tz = server.console.routing_view().office.tz
    day = server.clock().astimezone(tz).date() - timedelta(days=3)

    def at(hour: int) -> datetime:
        return datetime.combine(day, time(hour), tz)

    async def seed() -> None:
        for state, hour, reason in (
            ("logged_in", 8, None),
            ("paused", 12, "meal"),
            ("unpaused", 13, None),
            ("logged_out", 17, None),
        ):
            await store.record_agent_state(
                "a06", state, at=at(hour), queues=["general"], reason=reason
            )
        legs = QueueLegs.of(store)
        await legs.joined(uniqueid="day-1", queue="general", language="zh-TW", at=at(9))
        await legs.answered(uniqueid="day-1", queue="general", agent="a06", hold_s=20.0, at=at(9))
        await legs.completed(
            uniqueid="day-1", queue="general", talk_s=300.0, transferred=False, at=at(10)
        )

    server.run(seed())
    return day.isoformat()


def test_a_supervisor_reads_an_agents_day_by_keyboard(
    console_server: ConsoleServer, page: Page
) -> None:
    day = _seed_day(console_server)
    console_server.user("sup-day", Role.SUPERVISOR, language="en")
    sign_in_by_keyboard(page, console_server.url, "sup-day")
    page.goto(f"{console_server.url}/wallboard")
    tab_to(page, "agent-day-link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page, "agent's day, nothing chosen")
    tab_to(page, "day-agent")
    page.keyboard.press("End")  # a06 is the last agent of the table (Taipei's)
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type(day)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "agent=a06" in page.url
    totals = page.locator("#day-totals")
    expect(totals).to_be_visible()
    lines = [" ".join(r.split()) for r in totals.locator("tr").all_inner_texts()]
    assert lines == [
        "Signed in 9:00:00",
        "Paused 1:00:00",
        "Paused: Meal 1:00:00",
        "Calls answered 1",
        "Talk time 0:05:00",
    ]
    rows = page.locator("#day-entries tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(1)).to_contain_text("Answered a call (general)")
    expect(rows.nth(2)).to_contain_text("Paused")
    expect(rows.nth(0)).to_contain_text("Signed in")
    assert_accessible(page, "agent's day shown")
    screenshot(page, "agent-day")


def test_agents_may_not_read_an_agents_day(console_server: ConsoleServer) -> None:
    console_server.user("agent-day", Role.AGENT, agent_id="a02", language="en")
    reply = client(console_server, "agent-day").get("/supervisor/agent-day?agent=a06")
    assert reply.status_code == 403
    assert "a06" not in reply.text
