"""Case rules in pure code: numbers, every deadline, merging, three strikes, masking."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.calendar import Calendar, TimeRange
from ivr.domain.cases.deadlines import (
    DispatchItem,
    deidentify_due,
    dispatch_deadlines,
    grade_b_due,
    jurisdiction_reply_due,
    petition_reply_due,
    returned_work_due,
    review_due,
)
from ivr.domain.cases.deidentify import deidentify, mask_address, mask_name
from ivr.domain.cases.merge import (
    Location,
    OpenOrder,
    PastReport,
    becomes_petition,
    distance_m,
    merge_target,
)
from ivr.domain.cases.numbers import (
    BadCaseNumber,
    case_number,
    new_password,
    parse_case_number,
)

TPE = ZoneInfo("Asia/Taipei")
DAY = [TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30))]
# Taipei's office calendar around the 2026 Dragon Boat holiday (Friday 2026-06-19).
OFFICE = Calendar(
    tz=TPE,
    weekly=dict.fromkeys(range(5), DAY),
    holidays=frozenset({date(2026, 6, 19), date(2026, 12, 25), date(2027, 1, 1)}),
)


def tpe(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TPE)


# --- case numbers ---------------------------------------------------------------------


def test_case_number_is_digits_with_a_check_digit() -> None:
    """The first case reads as eight digits, and parses back to its sequence."""
    number = case_number(1)
    assert number.isdigit()
    assert len(number) == 8
    assert parse_case_number(number) == 1


@given(st.integers(min_value=1, max_value=10**9))
def test_every_case_number_round_trips(sequence: int) -> None:
    """Whatever the sequence, the number parses back to it."""
    assert parse_case_number(case_number(sequence)) == sequence


@given(st.integers(min_value=1, max_value=10**8), st.data())
def test_one_wrong_digit_is_always_caught(sequence: int, data: st.DataObject) -> None:
    """A caller who mis-keys one digit is told the number is wrong, never shown a case."""
    number = case_number(sequence)
    i = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    with pytest.raises(BadCaseNumber):
        parse_case_number(number[:i] + wrong + number[i + 1 :])


@given(st.integers(min_value=1, max_value=10**8), st.data())
def test_two_swapped_neighbours_are_always_caught(sequence: int, data: st.DataObject) -> None:
    """Reading two digits in the wrong order is caught too."""
    number = case_number(sequence)
    i = data.draw(st.integers(0, len(number) - 2))
    if number[i] == number[i + 1]:
        return
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    with pytest.raises(BadCaseNumber):
        parse_case_number(swapped)


@pytest.mark.parametrize("text", ["", "1234", "0000001x", "\uff10" * 7 + "\uff18", "12345678"])
def test_malformed_case_numbers_are_refused(text: str) -> None:
    """Too short, letters, full-width digits and a bad check digit are all refused."""
    if text == "12345678" and parse_ok(text):
        pytest.skip("happens to carry a valid check digit")
    with pytest.raises(BadCaseNumber):
        parse_case_number(text)


def parse_ok(text: str) -> bool:
    try:
        parse_case_number(text)
    except BadCaseNumber:
        return False
    return True


def test_password_is_six_keyable_digits() -> None:
    """A repeatable password source gives six ASCII digits."""
    digits = iter("314159")
    password = new_password(lambda _alphabet: next(digits))
    assert password == "314159"
    assert len(new_password()) == 6
    assert new_password().isdigit()


# --- petition clocks ------------------------------------------------------------------

PETITION_DUE = [
    # received                 due (close of the 6th working day, start day excluded)
    (tpe(2026, 6, 1, 10), tpe(2026, 6, 9, 17, 30)),  # Mon -> Tue of next week
    (tpe(2026, 6, 5, 22), tpe(2026, 6, 15, 17, 30)),  # Fri night -> weekend not counted
    (tpe(2026, 6, 6, 9), tpe(2026, 6, 15, 17, 30)),  # Saturday: same as Friday night
    (tpe(2026, 6, 12, 9), tpe(2026, 6, 23, 17, 30)),  # Dragon Boat Friday skipped
    (tpe(2026, 12, 24, 16), tpe(2027, 1, 5, 17, 30)),  # Christmas and New Year skipped
]


@pytest.mark.parametrize(("received", "due"), PETITION_DUE)
def test_petition_reply_due_in_six_working_days(received: datetime, due: datetime) -> None:
    """P7(4): weekends and holidays do not count; the day of receipt does not either."""
    assert petition_reply_due(OFFICE, received) == due


def test_grade_b_is_thirty_calendar_days() -> None:
    """P7(4): grade B counts calendar days, weekends and holidays included."""
    assert grade_b_due(tpe(2026, 6, 1, 10), TPE) == tpe(2026, 7, 2)
    assert grade_b_due(tpe(2026, 12, 20, 23, 59), TPE) == tpe(2027, 1, 20)


def test_jurisdiction_query_answered_in_four_working_hours() -> None:
    """P9(2): a query at 16:00 on Thursday before the holiday is due Monday 11:00."""
    assert jurisdiction_reply_due(OFFICE, tpe(2026, 6, 18, 16)) == tpe(2026, 6, 22, 11, 0)
    assert jurisdiction_reply_due(OFFICE, tpe(2026, 6, 15, 9)) == tpe(2026, 6, 15, 14, 0)


def test_review_due_one_working_day_from_the_next_day() -> None:
    """P11(3): dissatisfied on Monday morning is reviewed by Tuesday's close, not Monday's."""
    assert review_due(OFFICE, tpe(2026, 6, 15, 9)) == tpe(2026, 6, 16, 17, 30)
    # Dissatisfied on Thursday 18 June: Friday is Dragon Boat, so Monday's close.
    assert review_due(OFFICE, tpe(2026, 6, 18, 11)) == tpe(2026, 6, 22, 17, 30)


def test_returned_work_and_deidentification_clocks() -> None:
    """Returned work has 6 working days again; masking is due by the next working day."""
    assert returned_work_due(OFFICE, tpe(2026, 6, 12, 9)) == tpe(2026, 6, 23, 17, 30)
    assert deidentify_due(OFFICE, tpe(2026, 6, 18, 15)) == tpe(2026, 6, 22, 17, 30)


# --- dispatch clocks ------------------------------------------------------------------

POTHOLE = DispatchItem(1, "市區道路坑洞處理", "Pothole", "pwd", "新工處", 4, stage2_days=15)
RUBBISH = DispatchItem(16, "鄰里無主垃圾清運", "Rubbish", "epd", "環保局", 4, same_day_rule=True)
WATER = DispatchItem(21, "用戶無水、漏水報修", "No water", "water", "自來水處", 2, stage2_hours=96)
FLOOD = DispatchItem(10, "橋梁積淹水", "Flooding", "pwd", "新工處", None, stage2_days=15)
LIGHT = DispatchItem(
    6, "路燈故障", "Streetlight", "pwd", "公園處", 48, stage2_days=7,
    stage2_variants={"wiring": 3, "total": 7},
)  # fmt: skip

DISPATCH = [
    # item, created, variant, stage 1, stage 2: calendar time from creation (K7(2))
    (POTHOLE, tpe(2026, 6, 6, 23), None, tpe(2026, 6, 7, 3), tpe(2026, 6, 21, 23)),
    (RUBBISH, tpe(2026, 6, 6, 15, 59), None, tpe(2026, 6, 6, 19, 59), None),
    (RUBBISH, tpe(2026, 6, 6, 16, 0), None, tpe(2026, 6, 7, 12), None),
    (RUBBISH, tpe(2026, 6, 6, 23, 50), None, tpe(2026, 6, 7, 12), None),
    (WATER, tpe(2026, 6, 19, 8), None, tpe(2026, 6, 19, 10), tpe(2026, 6, 23, 8)),
    (FLOOD, tpe(2026, 6, 1, 8), None, None, tpe(2026, 6, 16, 8)),
    (LIGHT, tpe(2026, 6, 1, 8), "wiring", tpe(2026, 6, 3, 8), tpe(2026, 6, 4, 8)),
    (LIGHT, tpe(2026, 6, 1, 8), None, tpe(2026, 6, 3, 8), tpe(2026, 6, 8, 8)),
]


@pytest.mark.parametrize(("item", "created", "variant", "stage1", "stage2"), DISPATCH)
def test_dispatch_deadlines(
    item: DispatchItem,
    created: datetime,
    variant: str | None,
    stage1: datetime | None,
    stage2: datetime | None,
) -> None:
    """Stage deadlines run in calendar time; item 16 changes at 16:00; item 21 in hours."""
    got = dispatch_deadlines(item, created, TPE, variant)
    assert (got.stage1, got.stage2) == (stage1, stage2)


def test_unknown_stage2_variant_is_refused() -> None:
    """A variant the item does not have is an error, not a silent default."""
    with pytest.raises(ValueError, match="no stage-2 variant"):
        dispatch_deadlines(LIGHT, tpe(2026, 6, 1), TPE, "paint")


# --- merging and three strikes --------------------------------------------------------

TAIPEI_101 = Location("臺北市信義區信義路五段7號", "信義區", 25.0340, 121.5645)
coords = st.tuples(st.floats(25.0, 25.1), st.floats(121.4, 121.6))


def test_same_address_merges_whatever_the_spelling() -> None:
    """台/臺, full-width digits and spaces do not make a second order (T6(6)1)."""
    orders = [OpenOrder(7, 1, TAIPEI_101)]
    report = Location("台北市信義區 信義路五段７號")
    assert merge_target(1, report, orders, radius_m=30) == orders[0]
    assert merge_target(2, report, orders, radius_m=30) is None


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 3), coords), max_size=8), coords)
def test_merge_target_is_the_nearest_open_order_of_the_item_within_radius(
    raw: list[tuple[int, int, tuple[float, float]]], at: tuple[float, float]
) -> None:
    """Whatever the orders, the target has the item, is in range, and none is nearer."""
    orders = [OpenOrder(cid, item, Location(f"addr{cid}", None, *ll)) for cid, item, ll in raw]
    report = Location("elsewhere", None, *at)
    target = merge_target(1, report, orders, radius_m=200)

    def far(o: OpenOrder) -> float:
        d = distance_m(o.location, report)
        return 1e9 if d is None else d

    candidates = [o for o in orders if o.item == 1 and far(o) <= 200]
    if not candidates:
        assert target is None
        return
    assert target is not None
    best = min((far(o), o.case_id) for o in candidates)
    assert (far(target), target.case_id) == best
    assert merge_target(1, report, list(reversed(orders)), radius_m=200) == target


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), max_size=10))
def test_three_strikes(history_flags: list[tuple[bool, bool, bool]]) -> None:
    """Only this caller's reports of this item here with nothing found count (T6(6)2)."""
    history = [
        PastReport(
            "0912345678" if mine else "0922000000",
            1 if same_item else 2,
            TAIPEI_101,
            nothing_found=nothing,
        )
        for mine, same_item, nothing in history_flags
    ]
    strikes = sum(1 for mine, same, nothing in history_flags if mine and same and nothing)
    got = becomes_petition("0912345678", 1, TAIPEI_101, history, radius_m=30)
    assert got == (strikes >= 3)


# --- de-identification ----------------------------------------------------------------


def test_masking_finds_personal_data_in_free_text() -> None:
    """Phones, IDs, e-mails, the caller's name and address are masked; the rest stays."""
    comma = "\N{FULLWIDTH COMMA}"
    text = comma.join(
        [
            "王小明(A123456789)住臺北市中正區重慶南路一段122號",
            "手機0912-345-678",
            "市話(02)2720-8889",
            "信箱 ming@example.com.tw",
            "路燈已修好。",
        ]
    )
    out = deidentify(text, names=["王小明"], addresses=["臺北市中正區重慶南路一段122號"])
    for secret in ("小明", "A123456789", "重慶南路", "345", "2720", "ming@"):
        assert secret not in out
    assert "王○明" in out
    assert out.startswith("王○明(○○○○○○○○○○)住臺北市中正區")
    assert "路燈已修好" in out


@pytest.mark.parametrize(
    ("name", "masked"), [("王小明", "王○明"), ("王明", "王○"), ("歐陽小明", "歐○○明")]
)
def test_mask_name(name: str, masked: str) -> None:
    """The surname stays; the given name is masked."""
    assert mask_name(name) == masked


def test_mask_address_keeps_city_and_district() -> None:
    """Only the city and district of an address survive masking."""
    assert mask_address("金門縣金城鎮民生路60號") == "金門縣金城鎮○○○○○○"


@given(st.text(alphabet="0123456789 -", min_size=0, max_size=30))
def test_no_mobile_number_survives(noise: str) -> None:
    """A mobile number anywhere in text is masked whatever surrounds it."""
    text = f"電話{noise}x0987654321y{noise}"
    assert "0987654321" not in deidentify(text)
