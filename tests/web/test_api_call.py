"""The agent's call actions in the JSON API, over a real console and store: a case
opened from the call on screen (once per key, linked to the call), and the refusals of
the case and of the one-action transfer, each with the API's error shape. Roles that
may not act get 403 and no data. (The transfer that reaches a unit, on a real
Asterisk, is in test_api_call_transfer.py.)"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from ivr.domain.vocabulary import CaseKind, Role
from ivr.store import audit
from ivr.store.cases_models import CallService
from tests.web.conftest import ConsoleServer
from tests.web.test_agent_case import CALLER, a_call_on_screen, cases_of_call
from tests.web.test_console import client, csrf_of

CASE = "/api/v1/agent/call/case"
TRANSFER = "/api/v1/agent/call/transfer"


@pytest.fixture(scope="module")
def people(console_server: ConsoleServer) -> dict[str, str]:
    console_server.user("api-agent", Role.AGENT, agent_id="a01")
    console_server.user("api-officer", Role.OFFICER, agency_id="pwd")
    console_server.user("api-super", Role.SUPERVISOR)
    return {"agent": "api-agent", "officer": "api-officer", "super": "api-super"}


def signed(server: ConsoleServer, username: str) -> tuple[httpx.Client, dict[str, str]]:
    c = client(server, username)
    home = c.get("/").headers["location"]
    return c, {"X-CSRF-Token": csrf_of(c, home)}


def petition(uniqueid: str, key: str | None = None, **fields: object) -> dict[str, object]:
    return {
        "uniqueid": uniqueid,
        "key": key or uuid.uuid4().hex,
        "kind": "petition",
        "summary": "路燈不亮",
        "agency": "pwd",
        **fields,
    }


def test_the_api_opens_a_case_from_the_call_on_screen_once(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    uniqueid, call_id = a_call_on_screen(console_server)
    c, headers = signed(console_server, people["agent"])
    body = petition(uniqueid)
    first = c.post(CASE, json=body, headers=headers)
    again = c.post(CASE, json=body, headers=headers)
    assert first.status_code == 200, first.text
    made = first.json()
    assert (made["kind"], made["agency_id"], made["made"]) == ("petition", "pwd", True)
    assert made["password"]
    # The same key: the same case, made before, and its password is not told again.
    assert again.status_code == 200
    assert again.json()["number"] == made["number"]
    assert (again.json()["made"], again.json()["password"]) == (False, None)
    cases = cases_of_call(console_server, call_id)
    assert [(x.number, x.kind, x.caller_number) for x in cases] == [
        (made["number"], CaseKind.PETITION, CALLER)
    ]
    pop = c.get("/api/v1/agent/pop").json()
    assert [x["number"] for x in pop["cases"]] == [made["number"]]


def services_of(server: ConsoleServer, call_id: int) -> list[int | None]:
    """The cases whose service type is logged for the call (T2(1))."""

    async def logged() -> list[int | None]:
        async with server.console.store._engine.connect() as conn:
            found = await conn.execute(
                select(CallService.case_id).where(CallService.call_id == call_id)
            )
            return list(found.scalars())

    return server.run(logged())


def test_a_key_used_on_another_call_is_refused_and_writes_nothing(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    """The client's key opened a case from one call; the same key with the next call on
    screen is 409, and neither that case nor anything else is tied to the new call."""
    first_id, first_call = a_call_on_screen(console_server)
    c, headers = signed(console_server, people["agent"])
    key = uuid.uuid4().hex
    made = c.post(CASE, json=petition(first_id, key), headers=headers)
    assert made.status_code == 200, made.text
    number = made.json()["number"]
    second_id, second_call = a_call_on_screen(console_server)
    reused = c.post(CASE, json=petition(second_id, key), headers=headers)
    assert reused.status_code == 409
    assert reused.json() == {
        "detail": f"The case was not opened: This key was used for case {number}, "
        "not from this call; nothing was written."
    }
    assert cases_of_call(console_server, second_call) == []
    assert services_of(console_server, second_call) == []
    assert c.get("/api/v1/agent/pop").json()["cases"] == []
    # The first call keeps its case, logged once; a new key opens the second call's own.
    assert [x.number for x in cases_of_call(console_server, first_call)] == [number]
    assert len(services_of(console_server, first_call)) == 1
    fresh = c.post(CASE, json=petition(second_id), headers=headers)
    assert fresh.status_code == 200
    assert fresh.json()["number"] != number
    assert [x.number for x in cases_of_call(console_server, second_call)] == [
        fresh.json()["number"]
    ]


def test_a_refused_case_answers_with_the_reason_and_stores_nothing(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    uniqueid, call_id = a_call_on_screen(console_server)
    c, headers = signed(console_server, people["agent"])
    no_agency = c.post(CASE, json=petition(uniqueid, agency=""), headers=headers)
    assert no_agency.status_code == 400
    assert no_agency.json() == {"detail": "Choose the responsible agency for a petition."}
    unknown = c.post(CASE, json=petition(uniqueid, agency="nosuch"), headers=headers)
    assert unknown.status_code == 400
    assert unknown.json() == {
        "detail": "The case was not opened: There is no agency “nosuch” in the directory."
    }
    elsewhere = c.post(CASE, json=petition("1700000000.99"), headers=headers)
    assert elsewhere.status_code == 409
    assert elsewhere.json() == {"detail": "This call is no longer on your screen."}
    blank = c.post(CASE, json=petition(uniqueid, summary="  "), headers=headers)
    assert blank.status_code == 422
    # The shape the OpenAPI document gives a validation error (loc, msg and type are
    # required); the refused text is not echoed back.
    [error] = blank.json()["detail"]
    assert set(error) == {"loc", "msg", "type"}
    assert error["loc"] == ["body", "summary"]
    assert error["type"] == "string_pattern_mismatch"
    assert cases_of_call(console_server, call_id) == []


@pytest.mark.parametrize("role", ["officer", "super"])
def test_roles_other_than_agent_are_refused_the_call_actions(
    console_server: ConsoleServer, people: dict[str, str], role: str
) -> None:
    uniqueid, call_id = a_call_on_screen(console_server)
    c, headers = signed(console_server, people[role])
    for path, body in (
        (CASE, petition(uniqueid)),
        (TRANSFER, {"uniqueid": uniqueid, "unit": "test-ringing"}),
    ):
        reply = c.post(path, json=body, headers=headers)
        assert reply.status_code == 403
        assert reply.json() == {"detail": "forbidden"}
    assert cases_of_call(console_server, call_id) == []


def test_the_call_actions_need_the_csrf_token(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    uniqueid, call_id = a_call_on_screen(console_server)
    c, _ = signed(console_server, people["agent"])
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        reply = c.post(CASE, json=petition(uniqueid), headers=headers)
        assert reply.status_code == 403
        assert reply.json() == {"detail": "missing or wrong CSRF token"}
    assert cases_of_call(console_server, call_id) == []


def test_the_transfer_refusals(console_server: ConsoleServer, people: dict[str, str]) -> None:
    """No such unit, a call not on screen, no phone system (this console has none)."""
    uniqueid, _ = a_call_on_screen(console_server)
    c, headers = signed(console_server, people["agent"])
    directory = console_server.console.tables().directory
    known = directory.agencies[0].units[0].id
    unit = c.post(TRANSFER, json={"uniqueid": uniqueid, "unit": "nosuch"}, headers=headers)
    assert (unit.status_code, unit.json()) == (404, {"detail": "No such unit in the directory."})
    gone = c.post(TRANSFER, json={"uniqueid": "1.2", "unit": known}, headers=headers)
    assert gone.status_code == 409
    down = c.post(TRANSFER, json={"uniqueid": uniqueid, "unit": known}, headers=headers)
    assert down.status_code == 503
    assert down.json() == {"detail": "the phone system is not reachable"}
    # Nothing was moved, so nothing was audited as a transfer.
    rows = console_server.run(
        audit.entries(console_server.console.store, subject=f"call:{uniqueid}")
    )
    assert [r for r in rows if r.action == "transfer"] == []


def test_the_openapi_document_types_the_call_actions(
    console_server: ConsoleServer, people: dict[str, str]
) -> None:
    spec = client(console_server, people["agent"]).get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"CaseIn", "CaseOpenedOut", "TransferIn", "TransferOut"} <= set(schemas)
    case = spec["paths"][CASE]["post"]
    assert case["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CaseIn")
    assert {"200", "400", "401", "403", "404", "409", "503"} <= set(case["responses"])
