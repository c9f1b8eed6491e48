"""The ticket policy: which causes open a ticket, with what reason, due when. Pure."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.calendar import Calendar, SlaPolicy, TimeRange
from ivr.domain.ticket_policy import (
    NOBODY_ANSWERED,
    OFFICE_CLOSED,
    LeftMessage,
    TicketTerms,
    answer_opens_ticket,
    answered_result,
    read_out,
    ticket_terms,
    transfer_intro,
)
from ivr.domain.transfer import Answered, GiveUp, Line, RecordForWorkingDay
from ivr.domain.vocabulary import AttemptRole, TicketReason, TransferResult

TZ = ZoneInfo("Asia/Taipei")
DAY = (TimeRange(time(8, 30), time(12, 30)), TimeRange(time(13, 30), time(17, 30)))
OFFICE = Calendar(TZ, dict.fromkeys(range(5), DAY))
SLA = SlaPolicy(4, "working_hours")
# Monday 10:00: four working hours on, past lunch, is 15:00; the day ends at 17:30.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
IN_4_WORKING_HOURS = datetime(2026, 11, 23, 15, 0, tzinfo=TZ)
TOMORROW_CLOSE = datetime(2026, 11, 24, 17, 30, tzinfo=TZ)
LINE = Line("2101", "local")


@pytest.mark.parametrize(
    ("role", "opens", "result"),
    [
        (AttemptRole.PRIMARY, False, TransferResult.ANSWERED),
        (AttemptRole.ADJACENT, False, TransferResult.ANSWERED),
        (AttemptRole.LIAISON, True, TransferResult.LIAISON_ANSWERED),
    ],
)
def test_only_the_liaison_windows_answer_opens_a_ticket(
    role: AttemptRole, opens: bool, result: TransferResult
) -> None:
    step = Answered(LINE, role)  # type: ignore[arg-type]
    assert answer_opens_ticket(step) is opens
    assert answered_result(step) == result


@pytest.mark.parametrize(
    ("cause", "terms"),
    [
        (
            Answered(LINE, AttemptRole.LIAISON),
            TicketTerms(TicketReason.LIAISON_REGISTERED, IN_4_WORKING_HOURS),
        ),
        (GiveUp(TicketReason.BUSY), TicketTerms(TicketReason.BUSY, IN_4_WORKING_HOURS)),
        (GiveUp(TicketReason.NO_ANSWER), TicketTerms(TicketReason.NO_ANSWER, IN_4_WORKING_HOURS)),
        (RecordForWorkingDay(TOMORROW_CLOSE), TicketTerms(TicketReason.OFF_HOURS, TOMORROW_CLOSE)),
        # A message left in hours is due when the next working day ends: a whole day.
        (LeftMessage(TicketReason.VOICEMAIL), TicketTerms(TicketReason.VOICEMAIL, TOMORROW_CLOSE)),
    ],
    ids=["liaison", "busy", "no-answer", "off-hours", "message"],
)
def test_each_cause_has_its_reason_and_due_time(cause: object, terms: TicketTerms) -> None:
    assert ticket_terms(cause, SLA, OFFICE, NOW) == terms  # type: ignore[arg-type]


def test_a_persons_answer_from_the_unit_opens_no_ticket() -> None:
    with pytest.raises(ValueError, match="opens no ticket"):
        ticket_terms(Answered(LINE, AttemptRole.PRIMARY), SLA, OFFICE, NOW)


def test_what_a_caller_nobody_answered_hears_first() -> None:
    assert transfer_intro(GiveUp(TicketReason.BUSY)) == NOBODY_ANSWERED
    assert transfer_intro(RecordForWorkingDay(TOMORROW_CLOSE)) == OFFICE_CLOSED


def test_a_ticket_number_is_read_digit_by_digit() -> None:
    assert read_out("2026-0042") == tuple(f"digit-{d}" for d in "20260042")
