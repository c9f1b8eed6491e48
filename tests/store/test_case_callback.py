"""A case spawns a callback ticket, linked both ways; the same key makes one ticket."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from ivr import cases_service as svc
from ivr import cli
from ivr.cases_callback import spawn_callback
from ivr.domain.vocabulary import CaseAction, TicketReason
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore
from ivr.store.cases import CaseBook
from tests.store.test_cases_store import T0, TAIPEI_DIR, petition, pothole


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return load_profile(TAIPEI_DIR)


@pytest.fixture
def ctx(store: CaseStore, tables) -> svc.CaseContext:  # type: ignore[no-untyped-def]
    office = build_view(tables).office
    return svc.context_for(CaseBook.of(store, "taipei"), tables, office, TAIPEI_DIR)


async def test_a_case_spawns_one_callback_ticket_per_key_linked_both_ways(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    opened = await svc.open_case(ctx, petition(language="en"), at=T0, who="agent")
    case = opened.case
    at = T0 + timedelta(hours=1)
    after, ticket, made = await spawn_callback(
        ctx, store, case.number, at=at, who="officer", note="請回電確認地點", key="cb-1"
    )
    assert made
    assert ticket.reason == TicketReason.CASE_CALLBACK
    assert (ticket.caller_number, ticket.agency_id) == ("0912345678", "pwd")
    assert ticket.due_at > at
    # The same request again, as after a crash: the same ticket, no second link or event.
    _, again, made_again = await spawn_callback(
        ctx, store, case.number, at=at, who="officer", note="請回電確認地點", key="cb-1"
    )
    assert (again.id, made_again) == (ticket.id, False)
    links = await ctx.book.links(case.id)
    assert [(lk.role, lk.ticket_id) for lk in links] == [("callback", ticket.id)]
    assert await ctx.book.cases_of_ticket(ticket.id) == [(case.number, "callback")]
    history = [e for e in await ctx.book.events(case.id) if e.action == CaseAction.CALLBACK]
    assert [(e.who, e.text, e.data["ticket"]) for e in history] == [
        ("officer", "請回電確認地點", ticket.number)
    ]
    assert after.state == case.state  # a callback moves nothing
    # Another request (another key) is another ticket.
    _, other, _ = await spawn_callback(ctx, store, case.number, at=at, who="o", key="cb-2")
    assert other.id != ticket.id


async def test_a_case_without_a_number_or_in_a_final_state_is_refused(
    store: CaseStore, ctx: svc.CaseContext
) -> None:
    nobody = await svc.open_case(ctx, pothole(caller=None), at=T0, who="a")  # type: ignore[arg-type]
    with pytest.raises(svc.CaseError, match="no caller number"):
        await spawn_callback(ctx, store, nobody.case.number, at=T0, who="o")
    order = await svc.open_case(ctx, pothole(address="臺北市大安區復興南路一段1號"), at=T0, who="a")
    await svc.convert(ctx, order.case.number, at=T0, who="crew", reason="非派工項目")
    with pytest.raises(svc.CaseError, match="final"):
        await spawn_callback(ctx, store, order.case.number, at=T0, who="o")
    assert await store.list_tickets() == []


def test_cli_callback_shows_the_ticket_and_the_ticket_shows_the_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = ["--state-dir", str(tmp_path / "stack")]
    assert cli.main([*stack, "init"]) == 0
    assert cli.main([*stack, "cases", "new", "--kind", "petition", "--agency", "pwd",
                     "--summary", "路燈不亮", "--caller", "0912345678"]) == 0  # fmt: skip
    number = re.search(r"case (\d{8})", capsys.readouterr().out)
    assert number is not None
    argv = [*stack, "cases", "callback", number[1], "--note", "確認地點", "--key", "k1", "--json"]
    assert cli.main(argv) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["case"] == number[1]
    assert made["made"] is True
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["ticket"] == made["ticket"]
    assert cli.main([*stack, "cases", "show", number[1], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [link["role"] for link in shown["links"]] == ["callback"]
    assert cli.main([*stack, "tickets", "show", made["ticket"], "--json"]) == 0
    ticket = json.loads(capsys.readouterr().out)
    assert ticket["cases"] == [{"number": number[1], "role": "callback"}]
    assert ticket["reason"] == "case_callback"
    assert cli.main([*stack, "tickets", "show", made["ticket"]]) == 0
    assert f"{number[1]}  callback" in capsys.readouterr().out
