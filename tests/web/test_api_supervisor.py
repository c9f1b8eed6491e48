"""The supervisor's tools in the JSON API, over a real console and store: disaster mode
and typhoon closures read, set and cleared (the rows `ivr mode` and `ivr calendar`
write, audited), and an agent's day. Agents and officers get 403 and no data; the
auditor reads and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from ivr.domain.vocabulary import Role
from ivr.store import audit
from tests.web.conftest import ConsoleServer
from tests.web.test_agent_day import _seed_day
from tests.web.test_console import client, csrf_of

SERVICE = "/api/v1/supervisor/service"
DAY = "/api/v1/supervisor/agent-day"


@pytest.fixture(scope="module")
def people(console_server: ConsoleServer) -> dict[str, str]:
    console_server.user("sapi-super", Role.SUPERVISOR)
    console_server.user("sapi-auditor", Role.AUDITOR)
    console_server.user("sapi-agent", Role.AGENT, agent_id="a03")
    console_server.user("sapi-officer", Role.OFFICER, agency_id="pwd")
    return {
        "super": "sapi-super",
        "auditor": "sapi-auditor",
        "agent": "sapi-agent",
        "officer": "sapi-officer",
    }


@pytest.fixture(scope="module")
def seeded_day(console_server: ConsoleServer) -> str:
    """a06's day three days ago (once per module: its rows are not idempotent)."""
    return _seed_day(console_server)


def signed(server: ConsoleServer, username: str) -> tuple[httpx.Client, dict[str, str]]:
    c = client(server, username)
    home = c.get("/").headers["location"]
    return c, {"X-CSRF-Token": csrf_of(c, home)}


def local_day(server: ConsoleServer, days: int) -> date:
    tz = server.console.routing_view().office.tz
    return server.clock().astimezone(tz).date() + timedelta(days=days)


def test_a_supervisor_switches_disaster_mode_and_a_typhoon_day(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    store = console_server.console.store
    c, headers = signed(console_server, people["super"])
    assert c.get(SERVICE).json()["disaster"] is False
    on = c.post(
        f"{SERVICE}/disaster", json={"active": True, "note": "Typhoon Krathon"}, headers=headers
    )
    assert on.status_code == 200, on.text
    assert on.json()["disaster"] is True
    assert on.json()["modes"][0]["changed_by"] == "sapi-super"
    assert console_server.run(store.current_mode(console_server.clock())) == "disaster"

    day = local_day(console_server, 1)
    closed = c.post(
        f"{SERVICE}/closures",
        json={"day": day.isoformat(), "reason": "typhoon", "closes_at": "12:00"},
        headers=headers,
    )
    assert closed.status_code == 200, closed.text
    [shown] = closed.json()["closed"]
    assert (shown["day"], shown["reason"], shown["closes_at"]) == (
        day.isoformat(),
        "typhoon",
        "12:00",
    )
    assert day in console_server.run(store.closures(day))

    opened = c.post(f"{SERVICE}/openings", json={"day": day.isoformat()}, headers=headers)
    assert opened.json() == {"day": day.isoformat(), "opened": True}
    assert day not in console_server.run(store.closures(day))
    again = c.post(f"{SERVICE}/openings", json={"day": day.isoformat()}, headers=headers)
    assert again.json() == {"day": day.isoformat(), "opened": False}

    off = c.post(f"{SERVICE}/disaster", json={"active": False}, headers=headers)
    assert off.json()["disaster"] is False
    assert c.get(SERVICE).json()["closed"] == []

    moves = console_server.run(audit.entries(store, subject="mode:disaster"))
    assert [(r.who, r.detail.split(";")[0]) for r in moves][-2:] == [
        ("sapi-super", "on"),
        ("sapi-super", "off"),
    ]
    days = console_server.run(audit.entries(store, subject=f"day:{day}"))
    assert [r.detail.split(";")[0] for r in days][-2:] == [
        "closed from 12:00: typhoon",
        "opened again",
    ]


def test_a_blank_reason_or_a_bad_time_is_refused(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    c, headers = signed(console_server, people["super"])
    day = local_day(console_server, 2).isoformat()
    for body in (
        {"day": day, "reason": "   "},
        {"day": day, "reason": "typhoon", "closes_at": "25:00"},
        {"day": "2026-02-30", "reason": "typhoon"},
    ):
        reply = c.post(f"{SERVICE}/closures", json=body, headers=headers)
        assert reply.status_code == 422, body
    assert c.get(SERVICE).json()["closed"] == []


@pytest.mark.parametrize("role", ["agent", "officer"])
def test_other_roles_get_403_and_no_data(
    console_server: ConsoleServer, people: dict[str, str], seeded_day: str, role: str
) -> None:
    c, headers = signed(console_server, people[role])
    for reply in (
        c.get(SERVICE),
        c.get(DAY, params={"agent": "a06", "day": seeded_day}),
        c.post(f"{SERVICE}/disaster", json={"active": True}, headers=headers),
    ):
        assert reply.status_code == 403
        assert reply.json() == {"detail": "forbidden"}
    assert console_server.run(
        console_server.console.store.current_mode(console_server.clock())
    ) != ("disaster")


def test_the_auditor_reads_but_switches_nothing(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    c, headers = signed(console_server, people["auditor"])
    assert c.get(SERVICE).status_code == 200
    day = local_day(console_server, 3).isoformat()
    for path, body in (
        (f"{SERVICE}/disaster", {"active": True}),
        (f"{SERVICE}/closures", {"day": day, "reason": "typhoon"}),
        (f"{SERVICE}/openings", {"day": day}),
    ):
        reply = c.post(path, json=body, headers=headers)
        assert (reply.status_code, reply.json()) == (403, {"detail": "forbidden"}), path
    assert c.get(SERVICE).json()["disaster"] is False


def test_a_supervisor_reads_an_agents_day(
    console_server: ConsoleServer, people: dict[str, str], seeded_day: str
) -> None:
    day = seeded_day
    c, _ = signed(console_server, people["super"])
    reply = c.get(DAY, params={"agent": "a06", "day": day})
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert (found["agent_id"], found["day"]) == ("a06", day)
    totals = found["totals"]
    assert (totals["signed_in_s"], totals["paused_s"], totals["calls"], totals["talk_s"]) == (
        9 * 3600.0,
        3600.0,
        1,
        300.0,
    )
    assert totals["paused_by_reason"] == {"meal": 3600.0}
    assert [(e["kind"], e["what"]) for e in found["entries"]][:2] == [
        ("state", "logged_in"),
        ("call", "general"),
    ]
    rows = console_server.run(audit.entries(console_server.console.store, subject="agent-day:a06"))
    assert [r.who for r in rows][-1] == "sapi-super"
    assert c.get(DAY, params={"agent": "nobody"}).status_code == 404
    assert c.get(DAY, params={"agent": "a06", "day": "0001-01-01"}).status_code == 400
