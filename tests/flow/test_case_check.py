"""A caller checks a case by phone (Taipei, main menu key 5), on a scripted Asterisk.

The case is opened in the flow's real SQLite store as an agent would open it; the
caller keys its number and password, each entry ending at `#`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from ivr import cases_service as svc
from ivr import dialplan_vars as dv
from ivr.asterisk.generate import queue_name
from ivr.domain.callback_promise import said_when
from ivr.domain.cases.check import CASE_IS, DUE_BY, DUE_BY_END, state_prompt
from ivr.domain.cases.numbers import case_number
from ivr.domain.vocabulary import CaseKind
from ivr.flow.case_check import (
    ASK_NUMBER,
    ASK_PASSWORD,
    BAD_NUMBER,
    LOCKED,
    NO_SUCH_CASE,
    UNAVAILABLE,
    WRONG_PASSWORD,
)
from ivr.store import audit
from ivr.store.cases import CaseBook, CaseRecord
from tests.flow.conftest import OPEN, REPO, Finished, FlowEngine
from tests.flow.scripted import On, key, queue

TO_CASE_CHECK = [key("taipei-language-menu", "9"), key("taipei-main-menu", "5")]


@dataclass(frozen=True)
class Opened:
    case: CaseRecord
    password: str

    @property
    def wrong_password(self) -> str:
        return "000000" if self.password != "000000" else "111111"


async def _open_petition(engine: FlowEngine) -> Opened:
    book = CaseBook.of(engine.store, "taipei")
    ctx = svc.context_for(book, engine.tables, engine.view.office, REPO / "routing" / "taipei")
    data = svc.CaseInput(CaseKind.PETITION, "路燈不亮", agency_id="pwd", caller_number="0922000111")
    opened = await svc.open_case(ctx, data, at=OPEN, who="agent7")
    assert opened.password is not None
    return Opened(opened.case, opened.password)


def _number_and_password(number: str, password: str) -> list[On]:
    return [key(ASK_NUMBER, number + "#"), key(ASK_PASSWORD, password + "#")]


async def _tries(engine: FlowEngine, number: str) -> list[str]:
    rows = await audit.entries(engine.store, subject=f"case:{number}")
    return [r.detail or "" for r in rows]


def _after_password(done: Finished) -> list[str]:
    played = done.played
    last = max(i for i, p in enumerate(played) if p == ASK_PASSWORD)
    return played[last + 1 :]


async def test_the_right_number_and_password_say_the_state_and_due_date(
    engine: FlowEngine,
) -> None:
    """The state and the due date the caller hears are the store's, in their pieces."""
    case = await _open_petition(engine)
    done = await engine.call(
        [*TO_CASE_CHECK, *_number_and_password(case.case.number, case.password)]
    )
    stored = await CaseBook.of(engine.store, "taipei").by_number(case.case.number)
    assert stored is not None
    running = [c.due_at for c in stored.clocks if c.stopped_at is None and c.clock != "deidentify"]
    due = min(running)
    assert due > OPEN
    said = said_when(due, OPEN, "zh-TW", engine.view.office.tz)
    digits = [f"digit-{d}" for d in case.case.number]
    assert _after_password(done) == [
        CASE_IS,
        *digits,
        state_prompt("open"),
        DUE_BY,
        *said,
        DUE_BY_END,
        "goodbye",
    ]
    # Six working days from Monday 23 November 10:00: Tuesday 1 December, a week on.
    assert said[:3] == ["month-12", "date-1", "day-tuesday"]
    assert done.record.outcome == "announced"
    assert done.next == dv.NEXT_HANGUP
    assert [e["outcome"] for e in done.events("case_check")] == ["found"]
    tries = await _tries(engine, case.case.number)
    assert len(tries) == 1
    assert "found" in tries[0]
    assert case.password not in repr([e.data for e in done.record.events])


async def test_a_wrong_check_digit_is_asked_again_and_costs_no_try(engine: FlowEngine) -> None:
    """A mistyped number is refused at once, before any password is asked."""
    case = await _open_petition(engine)
    number = case.case.number
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    done = await engine.call(
        [
            *TO_CASE_CHECK,
            key(ASK_NUMBER, mistyped + "#"),
            *_number_and_password(number, case.password),
        ]
    )
    asks = [c.prompts for c in done.asterisk.sent("EXEC Read") if ASK_NUMBER in c.prompts]
    assert asks == [(ASK_NUMBER,), (BAD_NUMBER, ASK_NUMBER)]
    passwords = [c for c in done.asterisk.sent("EXEC Read") if ASK_PASSWORD in c.prompts]
    assert len(passwords) == 1
    assert [e["outcome"] for e in done.events("case_check")] == ["bad_number", "found"]
    assert state_prompt("open") in done.played
    assert await _tries(engine, mistyped) == []
    assert len(await _tries(engine, number)) == 1


# An agent of the general queue is signed in and answers: the menu's way out is a person.
AGENT_SIGNED_IN = {f"QUEUE_MEMBER({queue_name('general')},logged)": "1"}
AGENT_ANSWERS = queue(queue_name("general"), agent="agent-01")


async def test_three_wrong_passwords_end_the_check_and_every_try_is_audited(
    engine: FlowEngine,
) -> None:
    """Two wrong passwords are asked again; the third ends it, and a person takes over."""
    case = await _open_petition(engine)
    wrong = case.wrong_password
    done = await engine.call(
        [
            *TO_CASE_CHECK,
            *_number_and_password(case.case.number, wrong),
            key(ASK_PASSWORD, wrong + "#"),
            key(ASK_PASSWORD, wrong + "#"),
            AGENT_ANSWERS,
        ],
        variables=AGENT_SIGNED_IN,
    )
    reads = [c.prompts for c in done.asterisk.sent("EXEC Read") if ASK_PASSWORD in c.prompts]
    assert reads == [
        (ASK_PASSWORD,),
        (WRONG_PASSWORD, ASK_PASSWORD),
        (WRONG_PASSWORD, ASK_PASSWORD),
    ]
    checks = done.events("case_check")
    assert [(e["outcome"], e["wrong"]) for e in checks] == [
        ("wrong_password", 1),
        ("wrong_password", 2),
        ("locked_out", 3),
    ]
    assert LOCKED in done.played
    assert not any(p.startswith("case-check-state-") for p in done.played)
    # The main menu's way out: a person in the general queue, never a hangup.
    assert done.events("queue_leave")[0]["agent"] == "agent-01"
    tries = await _tries(engine, case.case.number)
    assert len(tries) == 3
    assert ["locked_out" in t for t in tries] == [False, False, True]
    assert all(wrong not in t and case.password not in t for t in tries)


async def test_a_store_that_cannot_be_read_is_told_and_the_caller_goes_back_to_the_menu(
    engine: FlowEngine,
) -> None:
    """The case tables cannot be read: the caller hears so, then the main menu again."""
    case = await _open_petition(engine)
    # The database answers "no such table", as SQLite does for a store it cannot read;
    # the engine's other writes (the call's record) still go through.
    async with engine.store._engine.begin() as conn:
        await conn.execute(text("ALTER TABLE cases RENAME TO cases_away"))
    done = await engine.call(
        [
            *TO_CASE_CHECK,
            *_number_and_password(case.case.number, case.password),
            key("taipei-main-menu", "0"),
            AGENT_ANSWERS,
        ],
        variables=AGENT_SIGNED_IN,
    )
    assert [e["outcome"] for e in done.events("case_check")] == ["unavailable"]
    assert UNAVAILABLE in done.played
    assert not any(p.startswith("case-check-state-") for p in done.played)
    menus = [(m["menu"], m["entry"]) for m in done.events("menu")]
    assert menus == [("language", "9"), ("main", "5"), ("main", "0")]
    played = done.played
    assert played.index(UNAVAILABLE) < max(
        i for i, p in enumerate(played) if p == "taipei-main-menu"
    )
    assert done.events("queue_leave")[0]["agent"] == "agent-01"


async def test_a_number_of_no_case_is_said_so_and_asked_again(engine: FlowEngine) -> None:
    """A well-formed number that names no case: told so, then the number is asked again."""
    case = await _open_petition(engine)
    nobody = case_number(9_999_999)
    done = await engine.call(
        [
            *TO_CASE_CHECK,
            *_number_and_password(nobody, case.password),
            *_number_and_password(case.case.number, case.password),
        ]
    )
    asks = [c.prompts for c in done.asterisk.sent("EXEC Read") if ASK_NUMBER in c.prompts]
    assert asks == [(ASK_NUMBER,), (NO_SUCH_CASE, ASK_NUMBER)]
    assert [e["outcome"] for e in done.events("case_check")] == ["no_such_case", "found"]
    assert state_prompt("open") in done.played
    assert ["no_such_case" in t for t in await _tries(engine, nobody)] == [True]
