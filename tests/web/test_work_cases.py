# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""Officers reply to their petitions and grade them (A done, B a plan) from "My work",
by keyboard alone, through the case service the CLI uses; a grade-B petition is
finished with its result; another unit's officer cannot touch them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ivr import cases_service as svc
from ivr.domain.vocabulary import CaseGrade, CaseKind, CaseState, Role
from ivr.store.cases import CaseBook, CaseRecord
from ivr.web.work_cases import case_context
from tests.web.conftest import ConsoleServer, assert_accessible, sign_in_by_keyboard
from tests.web.test_console import client, csrf_of
from tests.web.test_console_streams import tab_to


def _petition(server: ConsoleServer, summary: str) -> str:
    async def open_one() -> str:
        ctx = await case_context(server.console)
        data = svc.CaseInput(
            CaseKind.PETITION,
            summary,
            agency_id="pwd",
            unit_id="parks-lights",
            caller_number="0912345678",
            caller_name="王小明",
        )
        opened = await svc.open_case(ctx, data, at=server.clock(), who="a01")
        return opened.case.number

    return server.run(open_one())


def _case(server: ConsoleServer, number: str) -> CaseRecord:
    book = CaseBook.of(server.console.store, server.console.tables().profile.name)
    found = server.run(book.by_number(number))
    assert found is not None
    return found


def test_an_officer_replies_and_grades_petitions_by_keyboard(
    console_server: ConsoleServer, page: Page
) -> None:
    done_now = _petition(console_server, "公園路燈不亮，王小明 0912345678 通報")
    planned = _petition(console_server, "路燈桿傾斜")
    console_server.user(
        "officer-cases", Role.OFFICER, agency_id="pwd", unit_id="parks-lights", language="en"
    )
    sign_in_by_keyboard(page, console_server.url, "officer-cases")
    page.goto(f"{console_server.url}/work")
    row = page.locator(f"#case-{done_now}")
    expect(row).to_contain_text("petition")
    # The citizen's name and number are masked on the list.
    assert "0912345678" not in row.inner_text()
    assert "王小明" not in row.inner_text()
    assert_accessible(page, "my work with cases")

    tab_to(page, f"reply-{done_now}")
    page.keyboard.type("已更換燈泡，恢復照明。")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"grade-a-{done_now}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"reply-go-{done_now}"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Done.")
    replied = _case(console_server, done_now)
    assert (replied.state, replied.grade) == (CaseState.CLOSED, CaseGrade.A)
    assert replied.reply == "已更換燈泡，恢復照明。"
    expect(page.locator(f"#case-{done_now}")).to_have_count(0)

    tab_to(page, f"reply-{planned}")
    page.keyboard.type("將於下週派員扶正。")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")  # the radio group: from A to B
    assert page.evaluate("document.activeElement.id") == f"grade-b-{planned}"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    graded = _case(console_server, planned)
    assert (graded.state, graded.grade) == (CaseState.REPLIED, CaseGrade.B)
    assert "grade_b" in graded.running
    expect(page.locator(f"#case-{planned}")).to_contain_text("Grade B")
    assert_accessible(page, "my work with a grade-B case")

    tab_to(page, f"result-{planned}")
    page.keyboard.type("已扶正路燈桿。")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    finished = _case(console_server, planned)
    assert finished.state == CaseState.CLOSED
    book = CaseBook.of(console_server.console.store, console_server.console.tables().profile.name)
    last = console_server.run(book.events(finished.id))[-1]
    assert (last.action, last.who, last.text) == ("closed", "officer-cases", "已扶正路燈桿。")


def test_another_units_officer_cannot_reply_and_a_refused_move_says_why(
    console_server: ConsoleServer,
) -> None:
    number = _petition(console_server, "人行道路燈閃爍")
    before = _case(console_server, number).state
    console_server.user(
        "officer-other", Role.OFFICER, agency_id="pwd", unit_id="hydraulic", language="en"
    )
    other = client(console_server, "officer-other")
    token = csrf_of(other, "/work")
    assert f"case-{number}" not in other.get("/work").text
    refused = other.post(
        f"/work/cases/{number}/reply", data={"text": "x", "grade": "A", "csrf_token": token}
    )
    assert refused.status_code == 404
    assert _case(console_server, number).state == before

    console_server.user(
        "officer-own", Role.OFFICER, agency_id="pwd", unit_id="parks-lights", language="en"
    )
    own = client(console_server, "officer-own")
    token = csrf_of(own, "/work")
    no_csrf = own.post(f"/work/cases/{number}/reply", data={"text": "x", "grade": "A"})
    assert no_csrf.status_code == 403
    # A petition is closed by its reply, not by "close": the rules' reason is shown.
    wrong = own.post(f"/work/cases/{number}/finish", data={"result": "x", "csrf_token": token})
    assert wrong.status_code == 409
    assert "closed by its reply" in wrong.text
    assert _case(console_server, number).state == before
