"""What a caller checking a case hears, as prompts: pure, the clock passed in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.domain.callback_promise import PROMISE_PROMPTS
from ivr.domain.cases.check import (
    CASE_IS,
    DUE_BY,
    DUE_BY_END,
    PAST_DUE,
    STATUS_PROMPTS,
    state_prompt,
    status_prompts,
)
from ivr.flow import case_check
from ivr.prompts import load_catalogue

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)  # Monday
NUMBER = "00000125"
DIGITS = ["digit-0"] * 5 + ["digit-1", "digit-2", "digit-5"]


def test_a_running_case_is_said_with_its_number_state_and_due_date() -> None:
    due = datetime(2026, 12, 1, 17, 30, tzinfo=TAIPEI)  # Tuesday next week
    assert status_prompts(NUMBER, "assigned", due, NOW, "zh-TW", TAIPEI) == [
        CASE_IS, *DIGITS, state_prompt("assigned"), DUE_BY,
        "month-12", "date-1", "day-tuesday", "time-pm", "hour-5", "minute-30", DUE_BY_END,
    ]  # fmt: skip
    assert status_prompts(NUMBER, "open", due, NOW, "en", TAIPEI)[-8:] == [
        DUE_BY, "day-tuesday", "month-12", "date-1", "hour-5", "minute-30", "time-pm", DUE_BY_END,
    ]  # fmt: skip


def test_english_order_and_the_end_of_the_sentence() -> None:
    due = datetime(2026, 11, 24, 9, 0, tzinfo=TAIPEI)  # tomorrow 9 a.m.
    assert status_prompts(NUMBER, "open", due, NOW, "en", TAIPEI)[-5:] == [
        DUE_BY, "day-tomorrow", "hour-9", "time-am", DUE_BY_END,
    ]  # fmt: skip


def test_a_finished_case_has_no_due_date_and_a_late_one_is_said_late() -> None:
    due = datetime(2026, 12, 1, 17, 30, tzinfo=TAIPEI)
    for state in ("closed", "merged", "converted"):
        assert status_prompts(NUMBER, state, due, NOW, "zh-TW", TAIPEI) == [
            CASE_IS, *DIGITS, state_prompt(state),
        ]  # fmt: skip
    late = datetime(2026, 11, 20, 17, 0, tzinfo=TAIPEI)
    assert status_prompts(NUMBER, "assigned", late, NOW, "zh-TW", TAIPEI)[-1] == PAST_DUE
    assert status_prompts(NUMBER, "open", None, NOW, "zh-TW", TAIPEI)[-1] == state_prompt("open")


def test_every_prompt_of_a_case_check_is_in_the_catalogue_engine_list() -> None:
    catalogue = load_catalogue(Path(__file__).resolve().parents[2] / "recordings")
    flow = {
        case_check.ASK_NUMBER, case_check.ASK_PASSWORD, case_check.BAD_NUMBER,
        case_check.NO_SUCH_CASE, case_check.WRONG_PASSWORD, case_check.LOCKED,
        case_check.UNAVAILABLE, case_check.GOODBYE,
    }  # fmt: skip
    wanted = {*STATUS_PROMPTS, *PROMISE_PROMPTS, *flow}
    assert sorted(wanted - set(catalogue.engine)) == []
