"""A citizen checks a petition on a real call: case number and password by DTMF.

The case is opened in the stack's store as an agent opens it; the caller keys the
Taipei menus, the number and the password (each ending at `#`) when the engine
listens, and the engine plays the state and due date that the store holds.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr import cases_service as svc
from ivr.config import StackConfig
from ivr.domain.callback_promise import said_when
from ivr.domain.cases.check import CASE_IS, DUE_BY, DUE_BY_END, state_prompt
from ivr.domain.vocabulary import CaseKind
from ivr.flow.case_check import ASK_NUMBER, ASK_PASSWORD, WRONG_PASSWORD
from ivr.routing.loader import load_profile
from ivr.routing.view import build_view
from ivr.store import CaseStore, audit
from ivr.store.cases import CaseBook
from tests.integration.calls import StartEngine, events
from tests.integration.conftest import ProfileCopy
from tests.integration.driven import Driver, key

pytestmark = pytest.mark.asterisk

TAIPEI = ZoneInfo("Asia/Taipei")
# A working Monday morning: the line is open.
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)


async def test_a_caller_keys_a_case_number_and_password_and_hears_its_state(
    stack: StackConfig,
    store: CaseStore,
    start_engine: StartEngine,
    taipei_profile: ProfileCopy,
) -> None:
    """Main menu 5, the number, a wrong then the right password: state and due are played."""
    tables = load_profile(taipei_profile.directory)
    office = build_view(tables).office
    book = CaseBook.of(store, "taipei")
    ctx = svc.context_for(book, tables, office, taipei_profile.directory)
    data = svc.CaseInput(CaseKind.PETITION, "路燈不亮", agency_id="pwd", caller_number="0922000111")
    opened = await svc.open_case(ctx, data, at=OPEN, who="agent7")
    assert opened.password is not None
    number, password = opened.case.number, opened.password
    wrong = "000000" if password != "000000" else "111111"

    await start_engine(clock=lambda: OPEN, profile=taipei_profile.directory)
    async with Driver(stack, store) as driver:
        uid = await driver.place(
            [
                key("taipei-language-menu", "9"),
                key("taipei-main-menu", "5"),
                key(ASK_NUMBER, number + "#"),
                key(ASK_PASSWORD, wrong + "#"),
                key(WRONG_PASSWORD, password + "#"),
            ]
        )
        record = await driver.ended(uid, timeout_s=180)
        assert driver.unused(uid) == []
        assert driver.fallback_reasons(uid) == []

    stored = await book.by_number(number)
    assert stored is not None
    due = min(c.due_at for c in stored.clocks if c.stopped_at is None and c.clock != "deidentify")
    expected = [
        CASE_IS,
        *(f"digit-{d}" for d in number),
        state_prompt("open"),
        DUE_BY,
        *said_when(due, OPEN, "zh-TW", office.tz),
        DUE_BY_END,
        "goodbye",
    ]
    # What Asterisk played after the right password, in order, in Mandarin.
    said = ("case-", "digit-", "month-", "date-", "day-", "time-", "hour-", "minute-", "goodbye")
    played = [e for e in events(record, "played") if str(e["prompt"]).startswith(said)]
    assert [e["prompt"] for e in played] == expected
    assert {e["language"] for e in played} == {"zh-TW"}
    # Every prompt really played to its end (endpos > 0: frames were sent).
    assert all(int(str(e["endpos"])) > 0 for e in played)
    checks = events(record, "case_check")
    assert [(e["outcome"], e["wrong"]) for e in checks] == [("wrong_password", 1), ("found", 1)]
    assert record.outcome == "announced"
    rows = await audit.entries(store, subject=f"case:{number}")
    assert [("found" in (r.detail or ""), r.who) for r in rows] == [
        (False, "ivr:0912○○○678"),
        (True, "ivr:0912○○○678"),
    ]
    assert all(password not in (r.detail or "") for r in rows)
