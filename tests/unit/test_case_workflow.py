"""The case state machine and the clocks each move starts, as tables of cases. Pure."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.calendar import Calendar, TimeRange
from ivr.domain.cases.check import CheckAttempt, next_step, status_text
from ivr.domain.cases.deadlines import DispatchItem
from ivr.domain.cases.digest import DigestContacts, OverdueOrder, dispatch_digest, next_daily_at
from ivr.domain.cases.report import Closed, case_report_rows, draw_spot_check, reply_medians
from ivr.domain.cases.secret import caller_key, hash_password, password_matches
from ivr.domain.cases.workflow import (
    ALLOWED_FROM,
    CaseFacts,
    CaseMoveRefused,
    ClockStart,
    allowed_actions,
    decide,
    opening_clocks,
)
from ivr.domain.vocabulary import CaseAction as A
from ivr.domain.vocabulary import CaseClock as C
from ivr.domain.vocabulary import CaseGrade, CaseKind
from ivr.domain.vocabulary import CaseState as S
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.replies import ReplyTemplate, fill, load_replies

TPE = ZoneInfo("Asia/Taipei")
REPO = Path(__file__).resolve().parents[2]
DAY = [TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30))]
OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(range(5), DAY),
    holidays=frozenset({date(2026, 6, 19), date(2026, 12, 25), date(2027, 1, 1)}),
)
# Another agency whose office keeps shorter hours: re-assignment counts on its calendar.
SHORT = Calendar(tz=TPE, weekly={d: [TimeRange(time(9), time(16))] for d in range(5)})


def tpe(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TPE)


POTHOLE = DispatchItem(1, "坑洞", "Pothole", "pwd", "new-construction", 4, stage2_days=15)
RUBBISH = DispatchItem(16, "垃圾", "Rubbish", "epd", "epd-cleaning", 4, same_day_rule=True)
SIGNAL = DispatchItem(18, "號誌", "Signal", "dot", "teo", 6, stage2_days=12)
RECEIVED = tpe(2026, 6, 1, 10)  # a Monday


def petition(state: S = S.OPEN, running: set[C] | None = None, grade: CaseGrade | None = None):
    return CaseFacts(
        CaseKind.PETITION, state, RECEIVED, running=frozenset(running or {C.REPLY}), grade=grade
    )


def order(state: S = S.OPEN, running: set[C] | None = None, item: DispatchItem = POTHOLE):
    clocks = {C.STAGE1, C.STAGE2} if running is None else running
    return CaseFacts(CaseKind.DISPATCH, state, RECEIVED, item=item, running=frozenset(clocks))


# --- the state machine ----------------------------------------------------------------

MOVES = [
    # facts, action, extra arguments, state after
    (petition(), A.ASSIGNED, {}, S.ASSIGNED),
    (petition(S.ASSIGNED), A.REPLIED, {"grade": CaseGrade.A}, S.CLOSED),
    (petition(S.ASSIGNED), A.REPLIED, {"grade": CaseGrade.B}, S.REPLIED),
    (petition(S.OPEN), A.GRADED, {}, S.REPLIED),
    (petition(S.REPLIED, {C.GRADE_B}, CaseGrade.B), A.CLOSED, {}, S.CLOSED),
    (petition(S.CLOSED, set()), A.SURVEY, {"score": 2}, S.REVIEW),
    (petition(S.CLOSED, set()), A.SURVEY, {"score": 3}, S.CLOSED),
    (petition(S.REVIEW, {C.REVIEW}), A.REVIEW_UPHELD, {}, S.CLOSED),
    (petition(S.REVIEW, {C.REVIEW}), A.REOPENED, {}, S.ASSIGNED),
    (petition(S.CLOSED, set()), A.REOPENED, {}, S.ASSIGNED),
    (petition(S.ASSIGNED), A.REASSIGNED, {}, S.ASSIGNED),
    (petition(S.ASSIGNED), A.JURISDICTION_QUERY, {}, S.ASSIGNED),
    (order(), A.STAGE1_DONE, {}, S.OPEN),
    (order(S.ASSIGNED), A.CLOSED, {}, S.CLOSED),
    (order(), A.CONVERTED, {}, S.CONVERTED),
    (order(), A.MERGED, {}, S.MERGED),
    (order(S.CLOSED, set()), A.REOPENED, {}, S.ASSIGNED),
    (order(S.CLOSED, set()), A.NOTE, {}, S.CLOSED),
]


@pytest.mark.parametrize(("facts", "action", "kwargs", "after"), MOVES)
def test_allowed_moves(facts: CaseFacts, action: A, kwargs: dict, after: S) -> None:
    """Each row is a move the rules allow, and where it leads."""
    assert decide(facts, action, RECEIVED, OFFICE, **kwargs).state is after
    assert action in allowed_actions(facts)


REFUSED = [
    (petition(), A.CLOSED, "closed by its reply"),
    (petition(), A.REPLIED, "needs its grade"),
    (petition(S.REPLIED, {C.GRADE_B}, CaseGrade.B), A.GRADED, "not allowed on a replied"),
    (petition(), A.SURVEY, "not allowed on a open"),
    (petition(S.CLOSED, set()), A.SURVEY, "score is 1 to 5"),
    (petition(), A.STAGE1_DONE, "dispatch orders only"),
    (petition(), A.MERGED, "dispatch orders only"),
    (order(), A.REPLIED, "petitions only"),
    (order(), A.JURISDICTION_QUERY, "petitions only"),
    (order(S.MERGED, set()), A.NOTE, "final"),
    (order(S.CONVERTED, set()), A.REOPENED, "final"),
    (order(S.CLOSED, set()), A.MERGED, "not allowed on a closed"),
]


@pytest.mark.parametrize(("facts", "action", "reason"), REFUSED)
def test_refused_moves_say_why(facts: CaseFacts, action: A, reason: str) -> None:
    """A move the rules forbid is refused with its reason, never half-made."""
    with pytest.raises(CaseMoveRefused, match=reason):
        decide(facts, action, RECEIVED, OFFICE)
    if reason not in {"needs its grade", "score is 1 to 5"}:
        assert action not in allowed_actions(facts)


@given(
    st.sampled_from(list(CaseKind)),
    st.sampled_from(list(S)),
    st.sampled_from(list(A)),
    st.sets(st.sampled_from(list(C))),
    st.integers(1, 5),
)
def test_decide_never_crashes(
    kind: CaseKind, state: S, action: A, running: set[C], score: int
) -> None:
    """Whatever the case and action: a move whose stops were running, or a refusal."""
    facts = CaseFacts(kind, state, RECEIVED, item=POTHOLE, running=frozenset(running))
    try:
        move = decide(facts, action, RECEIVED, OFFICE, grade=CaseGrade.A, score=score)
    except CaseMoveRefused:
        assert action not in allowed_actions(facts) or action in {A.REPLIED, A.GRADED}
        return
    assert move.stop <= facts.running
    assert state not in {S.MERGED, S.CONVERTED}
    assert state in ALLOWED_FROM[action]


# --- the clocks each move starts: tables of cases -------------------------------------


def started(facts: CaseFacts, action: A, at: datetime, cal: Calendar = OFFICE, **kw) -> dict:
    return {c.clock: c.due_at for c in decide(facts, action, at, cal, **kw).start}


GRADE_B = [
    # received, replied with a plan, due: 30 calendar days after receipt, weekends in
    (tpe(2026, 6, 1, 10), tpe(2026, 6, 3, 9), tpe(2026, 7, 2)),
    (tpe(2026, 6, 6, 9), tpe(2026, 6, 8, 9), tpe(2026, 7, 7)),  # received on a Saturday
    (tpe(2026, 12, 20, 23, 59), tpe(2026, 12, 28, 9), tpe(2027, 1, 20)),  # over New Year
]


@pytest.mark.parametrize(("received", "at", "due"), GRADE_B)
def test_grade_b_clock(received: datetime, at: datetime, due: datetime) -> None:
    """P7(4): a grade-B reply starts a 30-calendar-day clock from receipt; reply stops."""
    facts = CaseFacts(CaseKind.PETITION, S.ASSIGNED, received, running=frozenset({C.REPLY}))
    move = decide(facts, A.GRADED, at, OFFICE)
    assert {c.clock: c.due_at for c in move.start}[C.GRADE_B] == due
    assert move.stop == {C.REPLY}


JURISDICTION = [
    # asked at, due: 4 working hours on the asked agency's calendar (P9(2))
    (tpe(2026, 6, 15, 9), tpe(2026, 6, 15, 14)),  # over lunch
    (tpe(2026, 6, 15, 16), tpe(2026, 6, 16, 11)),  # over the night
    (tpe(2026, 6, 18, 16), tpe(2026, 6, 22, 11)),  # Dragon Boat Friday and the weekend
    (tpe(2026, 6, 20, 10), tpe(2026, 6, 22, 12, 30)),  # asked on a Saturday: Monday 8:30 + 4 h
]


@pytest.mark.parametrize(("at", "due"), JURISDICTION)
def test_jurisdiction_query_clock(at: datetime, due: datetime) -> None:
    assert started(petition(S.ASSIGNED), A.JURISDICTION_QUERY, at)[C.JURISDICTION] == due


REVIEW = [
    # dissatisfied at, review due: one working day (8 h) from the next day (P11(3))
    (tpe(2026, 6, 15, 9), tpe(2026, 6, 16, 17, 30)),
    (tpe(2026, 6, 18, 11), tpe(2026, 6, 22, 17, 30)),  # Friday is Dragon Boat
    (tpe(2026, 6, 19, 23), tpe(2026, 6, 22, 17, 30)),  # on the holiday itself, at night
    (tpe(2026, 12, 24, 9), tpe(2026, 12, 28, 17, 30)),  # Christmas holiday, then weekend
]


@pytest.mark.parametrize(("at", "due"), REVIEW)
def test_review_clock(at: datetime, due: datetime) -> None:
    assert started(petition(S.CLOSED, set()), A.SURVEY, at, score=1)[C.REVIEW] == due


RETURNED = [
    # returned at, due: 6 working days, the day itself not counted (P11(3))
    (tpe(2026, 6, 12, 9), tpe(2026, 6, 23, 17, 30)),
    (tpe(2026, 12, 24, 16), tpe(2027, 1, 5, 17, 30)),
]


@pytest.mark.parametrize(("at", "due"), RETURNED)
def test_returned_work_clock(at: datetime, due: datetime) -> None:
    assert started(petition(S.REVIEW, {C.REVIEW}), A.REOPENED, at)[C.RETURNED] == due


REASSIGNED = [
    # the new agency's calendar, due: from the original receipt, on the new calendar
    (OFFICE, tpe(2026, 6, 9, 17, 30)),
    (SHORT, tpe(2026, 6, 9, 16)),
]


@pytest.mark.parametrize(("cal", "due"), REASSIGNED)
def test_reassignment_keeps_receipt_time(cal: Calendar, due: datetime) -> None:
    """A re-assigned petition's clock still runs from receipt, on the new agency's days."""
    move = decide(petition(S.ASSIGNED), A.REASSIGNED, tpe(2026, 6, 5, 9), cal)
    [restart] = move.start
    assert restart == ClockStart(C.REPLY, RECEIVED, due)
    assert move.stop == {C.REPLY}


def test_reassigned_order_runs_from_creation_on_the_new_item() -> None:
    """K7(2): a dispatch order moved to another item keeps its creation time; a met stage
    stays met."""
    move = decide(order(running={C.STAGE2}), A.REASSIGNED, tpe(2026, 6, 2), OFFICE, new_item=SIGNAL)
    assert move.start == (ClockStart(C.STAGE2, RECEIVED, tpe(2026, 6, 13, 10)),)


OPENING = [
    # kind, item, received, clocks started
    (CaseKind.PETITION, None, RECEIVED, {C.REPLY: tpe(2026, 6, 9, 17, 30)}),
    (
        CaseKind.DISPATCH,
        POTHOLE,
        RECEIVED,
        {C.STAGE1: tpe(2026, 6, 1, 14), C.STAGE2: tpe(2026, 6, 16, 10)},
    ),
    (CaseKind.DISPATCH, RUBBISH, tpe(2026, 6, 1, 15, 59), {C.STAGE1: tpe(2026, 6, 1, 19, 59)}),
    (CaseKind.DISPATCH, RUBBISH, tpe(2026, 6, 1, 16), {C.STAGE1: tpe(2026, 6, 2, 12)}),
    (CaseKind.CONSULTATION, None, RECEIVED, {}),
]


@pytest.mark.parametrize(("kind", "item", "at", "due"), OPENING)
def test_opening_clocks(kind: CaseKind, item: DispatchItem | None, at: datetime, due: dict) -> None:
    assert {c.clock: c.due_at for c in opening_clocks(kind, at, OFFICE, item)} == due


def test_replies_start_the_deidentification_clock() -> None:
    """P7(3): de-identified by the close of the next working day after the reply."""
    due = started(petition(S.ASSIGNED), A.REPLIED, tpe(2026, 6, 18, 15), grade=CaseGrade.A)
    assert due[C.DEIDENTIFY] == tpe(2026, 6, 22, 17, 30)


# --- passwords, the report, the spot check, reply templates ---------------------------


def test_password_hash_verifies_only_the_password() -> None:
    stored = hash_password("314159")
    assert stored.startswith("$argon2id$")
    assert "314159" not in stored
    assert password_matches(stored, "314159")
    assert not password_matches(stored, "314158")
    assert not password_matches(None, "314159")
    assert not password_matches("not a hash", "314159")


def test_caller_key_ignores_how_the_number_was_written() -> None:
    assert caller_key("0912-345-678") == caller_key("+886912345678") == caller_key("0912345678")
    assert caller_key("0912345679") != caller_key("0912345678")
    assert caller_key(None) is None


def test_report_rows_total_and_median() -> None:
    replies, every = reply_medians(
        [("petition", "pwd", 10.0), ("petition", "pwd", 30.0), ("dispatch", "epd", 5.0)]
    )
    rows = case_report_rows(
        cases={("petition", "pwd"): (3, 1, 1), ("dispatch", "epd"): (2, 0, 0)},
        overdue={("dispatch", "epd", "stage1"): 1, ("petition", "pwd", "reply"): 2},
        replies=replies,
        services={("consultation", "pwd"): 7},
        all_replies=every,
    )
    assert [(r.service, r.agency_id) for r in rows] == [
        ("consultation", "pwd"),
        ("petition", "pwd"),
        ("dispatch", "epd"),
        ("TOTAL", ""),
    ]
    total = rows[-1]
    assert (total.calls, total.cases, total.grade_b, total.dissatisfied) == (7, 5, 1, 1)
    assert total.overdue["stage1"] == 1
    assert total.overdue["reply"] == 2
    assert rows[1].median_reply_s == 20.0
    assert total.median_reply_s == 10.0


@given(
    st.lists(st.tuples(st.integers(1, 3), st.sampled_from(["大安區", "信義區"])), max_size=40),
    st.integers(0, 2**31),
)
def test_spot_check_draws_five_per_item_and_district_repeatably(
    raw: list[tuple[int, str]], seed: int
) -> None:
    """T6(7)1: five per group (all if fewer); the same seed draws the same, in any order."""
    orders = [Closed(f"{i:08d}", item, district) for i, (item, district) in enumerate(raw)]
    drawn = draw_spot_check(orders, seed)
    assert drawn == draw_spot_check(list(reversed(orders)), seed)
    for group in {(o.item, o.district) for o in orders}:
        members = [o for o in orders if (o.item, o.district) == group]
        picked = [o for o in drawn if (o.item, o.district) == group]
        assert len(picked) == min(5, len(members))
        assert set(picked) <= set(members)


def test_reply_template_fills_blanks_and_marks_the_unfilled() -> None:
    template = ReplyTemplate(id="t", title="t", body="有關您反映{matter}一事。轉請{agency}。")
    assert fill(template, matter="路燈") == "有關您反映路燈一事。轉請○○○。"


@pytest.mark.parametrize("body", ["{name}", "{matter!r}", "{matter:>9}", "{matter.__class__}", "{"])
def test_reply_template_refuses_unknown_blanks(body: str) -> None:
    with pytest.raises(ValueError, match=r"blank|brace"):
        ReplyTemplate(id="t", title="t", body=body)


# --- the 08:00 overdue dispatch digest (K7(3)) ----------------------------------------

DIGEST_AT = [
    # after, next digest: every day, weekends and holidays too
    (tpe(2026, 6, 5, 9), tpe(2026, 6, 6, 8)),  # Friday after 08:00 -> Saturday
    (tpe(2026, 6, 6, 7, 59), tpe(2026, 6, 6, 8)),  # Saturday before 08:00 -> that morning
    (tpe(2026, 6, 19, 8), tpe(2026, 6, 20, 8)),  # at 08:00 on the holiday -> the next day
]


@pytest.mark.parametrize(("after", "due"), DIGEST_AT)
def test_dispatch_digest_runs_every_day_at_eight(after: datetime, due: datetime) -> None:
    assert next_daily_at(after, TPE) == due


def test_dispatch_digest_goes_to_the_unit_supervisor_and_the_agency_head() -> None:
    now = tpe(2026, 6, 6, 8)
    late = OverdueOrder("00000013", 1, "pwd", "new-construction", "stage1",
                        tpe(2026, 6, 5, 14), "信義區", "信義路五段7號")  # fmt: skip
    later = OverdueOrder("00000021", 6, "pwd", "parks-lights", "stage2",
                         tpe(2026, 6, 6, 7), None, None)  # fmt: skip
    not_yet = OverdueOrder("00000039", 1, "pwd", "new-construction", "stage2",
                           tpe(2026, 6, 7), None, None)  # fmt: skip
    contacts = {
        "pwd": DigestContacts("工務局", "head@pwd", {"new-construction": "boss@nco"}),
    }
    mails = dispatch_digest(now, [later, not_yet, late], contacts, TPE)
    assert [m.to for m in mails] == [("boss@nco", "head@pwd"), ("head@pwd",)]
    assert "00000013" in mails[0].body
    assert "late 18h" in mails[0].body
    assert "00000039" not in mails[0].body
    assert "00000021" in mails[1].body


# --- a caller checks a case by phone --------------------------------------------------

TRIES = [
    # (case exists, password right) per try -> outcomes
    ([(True, True)], ["found"]),
    ([(True, False), (True, True)], ["wrong_password", "found"]),
    ([(True, False)] * 3, ["wrong_password", "wrong_password", "locked_out"]),
    ([(True, False)] * 3 + [(True, True)], ["wrong_password"] * 2 + ["locked_out"] * 2),
    ([(False, False)] * 4, ["no_such_case"] * 4),
]


@pytest.mark.parametrize(("tries", "outcomes"), TRIES)
def test_three_wrong_passwords_end_the_attempt(tries: list, outcomes: list[str]) -> None:
    """Even the right password after the third wrong one is refused: the attempt ended."""
    attempt = CheckAttempt()
    got = []
    for exists, right in tries:
        attempt, outcome = next_step(attempt, case_exists=exists, password_ok=right)
        got.append(outcome)
    assert got == outcomes


def test_the_caller_hears_state_and_due_date_in_their_language() -> None:
    due = tpe(2026, 6, 9, 17, 30)
    zh = status_text("00000013", "assigned", due, "zh-TW", TPE)
    # Digit by digit, as the Mandarin voice reads numbers (17:30 as 一七 三零).
    assert zh == (
        "案件編號零零零零零零一三\N{FULLWIDTH COMMA}目前處理中。"
        "預定於六月九日一七點三零分前辦理完成。"
    )
    en = status_text("00000013", "assigned", due, "en", TPE)
    assert en == "Case 0 0 0 0 0 0 1 3 is being handled. It is due by June 9, 17:30."
    assert status_text("00000013", "closed", due, "nan", TPE).startswith("案件編號")
    assert "due" not in status_text("00000013", "closed", due, "en", TPE)


def test_a_bad_replies_table_refuses_the_profile_with_file_and_field(tmp_path: Path) -> None:
    """replies.yaml is a table like the others: refused whole, with where and why."""
    profile = tmp_path / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    assert len(load_replies(profile).templates) == 3
    (profile / "replies.yaml").write_text(
        "templates:\n  - id: x\n    title: t\n    body: '有關{nosuch}'\n", encoding="utf-8"
    )
    with pytest.raises(RoutingError) as refused:
        load_profile(profile)
    [problem] = refused.value.problems
    assert problem.file.endswith("replies.yaml")
    assert problem.path == "templates[0].body"
    assert "nosuch" in problem.reason
