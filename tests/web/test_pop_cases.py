"""The screen pop's "Cases" row lists the cases of this call, from the store: a case
opened from the call, on the page or again after the pop is rebuilt, and never a case
of another call (the caller's earlier call's, even when its idempotency key is sent
again with this call)."""

from __future__ import annotations

import uuid

import pytest

from ivr.domain.vocabulary import Role
from ivr.web import pop
from tests.web.conftest import ConsoleServer
from tests.web.test_agent_case import a_call_on_screen, cases_of_call
from tests.web.test_api_call import CASE, petition, signed


@pytest.fixture(scope="module")
def agent(console_server: ConsoleServer) -> str:
    console_server.user("pop-agent", Role.AGENT, agent_id="a01")
    return "pop-agent"


def test_the_pop_lists_only_the_cases_of_its_call(
    console_server: ConsoleServer, agent: str
) -> None:
    first, first_id = a_call_on_screen(console_server)
    c, headers = signed(console_server, agent)
    key = uuid.uuid4().hex
    opened = c.post(CASE, json=petition(first, key), headers=headers)
    assert opened.status_code == 200, opened.text
    number = opened.json()["number"]
    assert [x["number"] for x in c.get("/api/v1/agent/pop").json()["cases"]] == [number]

    # The same caller's next call: the earlier call's case is not this call's.
    second, second_id = a_call_on_screen(console_server)
    assert c.get("/api/v1/agent/pop").json()["cases"] == []
    # A key used on the first call is refused on this one: it writes nothing...
    again = c.post(CASE, json=petition(second, key), headers=headers)
    assert again.status_code == 409
    assert number in again.json()["detail"]
    # ...so the store links nothing to this call, and the pop lists nothing.
    assert cases_of_call(console_server, second_id) == []
    assert c.get("/api/v1/agent/pop").json()["cases"] == []
    page = c.get("/agent").text
    assert number not in page.split('id="pop-cases"', 1)[1].split("</dd>", 1)[0]

    own = c.post(CASE, json=petition(second), headers=headers).json()["number"]
    assert [x["number"] for x in c.get("/api/v1/agent/pop").json()["cases"]] == [own]
    assert [x.number for x in cases_of_call(console_server, first_id)] == [number]


def test_a_rebuilt_pop_lists_its_calls_cases_from_the_store(
    console_server: ConsoleServer, agent: str
) -> None:
    uniqueid, _ = a_call_on_screen(console_server)
    c, headers = signed(console_server, agent)
    number = c.post(CASE, json=petition(uniqueid), headers=headers).json()["number"]
    # The console forgot the pop (a restart): the call's next event builds it again.
    console_server.console.hub.last_pop.clear()
    event = {
        "Event": "AgentConnect",
        "Queue": "hotline-general",
        "MemberName": "a01",
        "CallerIDNum": "0912345678",
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
    }
    console_server.run(pop.on_queue_event(console_server.console, event))
    shown = c.get("/api/v1/agent/pop").json()
    assert [(x["number"], x["status"]) for x in shown["cases"]] == [(number, "open")]
