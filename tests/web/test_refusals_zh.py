# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The case services' refusals on a zh-TW page are in Chinese (by the refusal's code),
not the CLI's English line: opening a case from the call, and the case actions on
"My work"."""

from __future__ import annotations

import html
import re
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


def test_a_form_key_used_on_another_call_is_refused_in_chinese(
    console_server: ConsoleServer,
) -> None:
    """The page's form key opened a case from one call; sent again with the next call on
    screen, it is refused in Chinese, writes nothing, and the form comes back renewed."""
    console_server.user("zh-agent-key", Role.AGENT, agent_id="a01", language=UiLanguage.ZH_TW)
    first_id, first_call = a_call_on_screen(console_server)
    c = client(console_server, "zh-agent-key")
    key = uuid.uuid4().hex
    fields = {"key": key, "kind": "petition", "summary": "路燈不亮", "agency": "pwd"}
    made = c.post(
        "/agent/case",
        data={"csrf_token": csrf_of(c, "/agent"), "uniqueid": first_id, **fields},
    )
    assert made.status_code == 200
    (number,) = [x.number for x in cases_of_call(console_server, first_call)]
    second_id, second_call = a_call_on_screen(console_server)
    reused = c.post(
        "/agent/case",
        data={"csrf_token": csrf_of(c, "/agent"), "uniqueid": second_id, **fields},
    )
    assert reused.status_code == 409
    shown = errors_of(reused.text)
    assert f"無法立案：這個識別碼已用於另一通來電的案件 {number}，這次沒有寫入任何資料。" in shown
    assert "not from this call" not in shown
    assert cases_of_call(console_server, second_call) == []
    renewed = re.search(r'name="key" value="([^"]+)"', reused.text)
    assert renewed is not None
    assert renewed[1] != key


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
    # Its own reason, not the generic "the state does not allow this" (which it was).
    assert (
        f"案件 {number}: 陳情案件以回覆結案：請回覆並評定 A 級（已辦結），或 B 級並附辦理計畫。"
        in shown
    )
    assert "closed by its reply" not in shown
    blank = own.post(f"/work/cases/{number}/reply", data={"grade": "A", "csrf_token": token})
    assert "回覆或辦理結果需要填寫內容。" in errors_of(blank.text)
    assert _case(console_server, number).state == before
