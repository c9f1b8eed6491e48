# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The case services' refusals on a zh-TW page are in Chinese (by the refusal's code),
not the CLI's English line: opening a case from the call, and the case actions on
"My work"."""

from __future__ import annotations

import html
import uuid

from ivr.domain.vocabulary import Role, UiLanguage
from tests.web.conftest import ConsoleServer
from tests.web.test_agent_case import a_call_on_screen, cases_of_call
from tests.web.test_console import client, csrf_of
from tests.web.test_work_cases import _case, _petition


def errors_of(page: str) -> str:
    start = page.index('class="error-summary"')
    return html.unescape(page[start : page.index("</div>", start)])


def test_a_refused_case_from_the_call_is_said_in_chinese(console_server: ConsoleServer) -> None:
    console_server.user("zh-agent", Role.AGENT, agent_id="a01", language=UiLanguage.ZH_TW)
    uniqueid, call_id = a_call_on_screen(console_server)
    c = client(console_server, "zh-agent")
    reply = c.post(
        "/agent/case",
        data={
            "csrf_token": csrf_of(c, "/agent"),
            "uniqueid": uniqueid,
            "key": uuid.uuid4().hex,
            "kind": "petition",
            "summary": "路燈不亮",
            "agency": "nosuch",
        },
    )
    assert reply.status_code == 422
    shown = errors_of(reply.text)
    assert "無法立案：通訊錄中沒有機關「nosuch」。" in shown
    assert "directory" not in shown
    assert cases_of_call(console_server, call_id) == []


def test_a_refused_case_action_on_my_work_is_said_in_chinese(
    console_server: ConsoleServer,
) -> None:
    number = _petition(console_server, "人行道路燈閃爍")
    before = _case(console_server, number).state
    console_server.user(
        "zh-other", Role.OFFICER, agency_id="pwd", unit_id="hydraulic", language=UiLanguage.ZH_TW
    )
    other = client(console_server, "zh-other")
    refused = other.post(
        f"/work/cases/{number}/reply",
        data={"text": "x", "grade": "A", "csrf_token": csrf_of(other, "/work")},
    )
    assert refused.status_code == 404
    assert f"找不到您可處理的案件 {number}。" in errors_of(refused.text)

    console_server.user(
        "zh-own", Role.OFFICER, agency_id="pwd", unit_id="parks-lights", language=UiLanguage.ZH_TW
    )
    own = client(console_server, "zh-own")
    token = csrf_of(own, "/work")
    # A petition is closed by its reply, not by "finish": the rule's refusal, in Chinese.
    wrong = own.post(f"/work/cases/{number}/finish", data={"result": "x", "csrf_token": token})
    assert wrong.status_code == 409
    shown = errors_of(wrong.text)
    assert "案件目前的狀態不允許這項處理。" in shown
    assert "closed by its reply" not in shown
    blank = own.post(f"/work/cases/{number}/reply", data={"grade": "A", "csrf_token": token})
    assert "回覆或辦理結果需要填寫內容。" in errors_of(blank.text)
    assert _case(console_server, number).state == before
