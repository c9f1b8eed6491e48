"""A case move the rules refuse is said with its own reason on a zh-TW page, not one
generic sentence: an officer acts by keyboard alone on "My work" while the case has
moved on (another officer closed it from another page), in a real browser, with axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ivr import cases_service as svc
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseState, Role, UiLanguage
from ivr.store.cases import CaseBook
from ivr.web.work_cases import case_context
from tests.web.conftest import ConsoleServer, assert_accessible, sign_in_by_keyboard
from tests.web.test_console_streams import tab_to
from tests.web.test_work_cases import _case, _petition

GENERIC = "案件目前的狀態不允許這項處理。"


def _act(server: ConsoleServer, number: str, action: CaseAction, **kw: object) -> None:
    """Another officer's move on the case, from another page."""

    async def act() -> None:
        ctx = await case_context(server.console)
        await svc.act(ctx, number, action, at=server.clock(), who="officer-elsewhere", **kw)  # type: ignore[arg-type]

    server.run(act())


def _refusal_shown(page: Page) -> str:
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    return summary.inner_text()


def test_refused_moves_say_their_reason_in_chinese_by_keyboard(
    console_server: ConsoleServer, page: Page
) -> None:
    open_one = _petition(console_server, "路口號誌故障")
    planned = _petition(console_server, "人行道破損")
    _act(console_server, planned, CaseAction.REPLIED, text="下週施工。", grade=CaseGrade.B)
    console_server.user(
        "zh-officer-moves",
        Role.OFFICER,
        agency_id="pwd",
        unit_id="parks-lights",
        language=UiLanguage.ZH_TW,
    )
    sign_in_by_keyboard(page, console_server.url, "zh-officer-moves")
    page.goto(f"{console_server.url}/work")
    expect(page.locator(f"#case-{open_one}")).to_be_visible()
    # Meanwhile the petition is answered and closed from another page.
    _act(console_server, open_one, CaseAction.REPLIED, text="已修復。", grade=CaseGrade.A)

    tab_to(page, f"reply-{open_one}")
    page.keyboard.type("將派員檢修。")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"grade-a-{open_one}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"reply-go-{open_one}"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    shown = _refusal_shown(page)
    assert f"案件 {open_one}: 「已結案」的案件不能回覆。" in shown
    assert GENERIC not in shown
    assert "not allowed" not in shown
    assert_accessible(page, "my work, a refused reply said in zh-TW")
    closed = _case(console_server, open_one)
    assert (closed.state, closed.reply) == (CaseState.CLOSED, "已修復。")

    # The grade-B petition is finished elsewhere too; finishing it here is refused.
    _act(console_server, planned, CaseAction.CLOSED, text="已完成施工。")
    tab_to(page, f"result-{planned}")
    page.keyboard.type("已完成。")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    shown = _refusal_shown(page)
    assert f"案件 {planned}: 「已結案」的案件不能結案。" in shown
    assert GENERIC not in shown
    assert_accessible(page, "my work, a refused finish said in zh-TW")
    finished = _case(console_server, planned)
    assert finished.state == CaseState.CLOSED
    book = CaseBook.of(console_server.console.store, console_server.console.tables().profile.name)
    texts = [e.text for e in console_server.run(book.events(finished.id))]
    assert "已完成施工。" in texts
    assert "已完成。" not in texts
