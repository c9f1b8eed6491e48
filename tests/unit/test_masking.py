"""Masking personal data with ○, and the log processor that keeps numbers out of logs."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from ivr import logging as ivr_logging
from ivr.domain.masking import (
    deidentify_deep,
    is_masked,
    mask_number,
    mask_numbers_deep,
    mask_numbers_in,
    mask_text,
    shown_number,
)
from ivr.domain.screening import NO_USABLE_NUMBER


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("0912345678", "0912○○○678"),
        ("0227208889", "0227○○○889"),
        ("082318823", "0823○○823"),
        ("+886912345678", "+8869○○○○○678"),
        ("1999", "○○99"),
        ("119", "○○○"),
        ("", ""),
        (NO_USABLE_NUMBER, NO_USABLE_NUMBER),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    """First four and last three digits stay; a short number keeps only its last two."""
    assert mask_number(number) == masked


def test_masking_is_idempotent() -> None:
    """A second pass changes nothing, so a retention job may run twice."""
    once = mask_numbers_in("回電 0912345678 或 02-2720-8889")
    assert mask_numbers_in(once) == once
    assert mask_text(mask_text("王小明")) == "○○○"


def test_numbers_inside_text_are_masked_ids_are_not() -> None:
    """Numbers in free text are masked; uniqueids, dates and channel names stay readable."""
    text = (
        "電話0912345678 uniqueid 1732963000.12 at 2026-11-30T10:40:15 "
        "on PJSIP/carrier-00000012 dial PJSIP/0912777888@t-pstn"
    )
    assert mask_numbers_in(text) == (
        "電話0912○○○678 uniqueid 1732963000.12 at 2026-11-30T10:40:15 "
        "on PJSIP/carrier-00000012 dial PJSIP/0912○○○888@t-pstn"
    )
    assert not is_masked(text)
    assert is_masked(mask_numbers_in(text))


def test_deep_masking_keeps_our_own_ids() -> None:
    """Ticket numbers and uniqueids are ours; a caller's number in any other field is not."""
    data = {"ticket": "25030042", "uniqueid": "1732963000.12", "caller": "0912345678", "n": 3}
    assert mask_numbers_deep(data) == {
        "ticket": "25030042",
        "uniqueid": "1732963000.12",
        "caller": "0912○○○678",
        "n": 3,
    }


def test_deidentify_masks_personal_fields_whole() -> None:
    """After retention a name, a note and a number are ○; prompt names and counts stay."""
    data = {"number": "0912345678", "name": "王小明", "prompt": "greeting", "valid": True}
    assert deidentify_deep(data) == {
        "number": "○○○○○○○○○○",
        "name": "○○○",
        "prompt": "greeting",
        "valid": True,
    }


def test_shown_number_says_when_there_is_none() -> None:
    """A ticket without a usable number says so, instead of showing a marker."""
    assert shown_number(NO_USABLE_NUMBER, unmask=True) == "no usable number"
    assert shown_number("0912345678", unmask=False) == "0912○○○678"
    assert shown_number("0912345678", unmask=True) == "0912345678"


def test_engine_log_never_carries_a_number_in_clear() -> None:
    """The spool-skip warning dumps a whole spool line: its caller number comes out masked."""
    out = io.StringIO()
    ivr_logging.configure(level="INFO", stream=out)
    try:
        spool_line = json.dumps(
            {"op": "start_call", "uniqueid": "1732963000.12", "caller_number": "0912345678"}
        )
        structlog.get_logger("test").warning("store_spool_line_skipped", line=spool_line)
        structlog.get_logger("test").info("ticket", ticket="25030042", caller="+886912345678")
    finally:
        ivr_logging.configure(level="INFO")
    written = out.getvalue()
    assert "0912345678" not in written
    assert "886912345678" not in written
    assert "0912○○○678" in written
    assert '"ticket": "25030042"' in written
    assert "1732963000.12" in written
