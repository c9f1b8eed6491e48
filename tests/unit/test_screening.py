"""Block-list matching and Taiwan callback-number checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.screening import (
    NO_USABLE_NUMBER,
    blocked_by,
    callback_number,
    is_taiwan_callback_number,
    normalise_number,
)

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TPE = ZoneInfo("Asia/Taipei")


@dataclass(frozen=True)
class Rule:
    pattern: str
    expires_at: date | datetime | None = None


RULES = [
    Rule("0912345678"),
    Rule("0955*"),
    Rule("0233334444", expires_at=date(2026, 11, 22)),
    Rule("+886922000111", expires_at=datetime(2026, 12, 1, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("caller", "pattern"),
    [
        ("0912345678", "0912345678"),
        ("+886912345678", "0912345678"),
        ("0955123456", "0955*"),
        ("0922000111", "+886922000111"),
        ("0233334444", None),
        ("0912345679", None),
        ("", None),
        (None, None),
        ("anonymous", None),
    ],
    ids=[
        "exact",
        "international-form",
        "prefix",
        "rule-in-international-form",
        "expired-yesterday",
        "neighbour-number",
        "empty",
        "no-caller-id",
        "anonymous",
    ],
)
def test_block_list_matches_unexpired_rules_only(caller: str | None, pattern: str | None) -> None:
    """Numbers match in any dialled form; expired rules and anonymous callers pass."""
    rule = blocked_by(RULES, caller, NOW, tz=TPE)
    assert (rule.pattern if rule else None) == pattern


def test_expiry_instant_is_exclusive() -> None:
    """A rule expiring at an instant no longer blocks from that instant on."""
    rule = Rule("0911111111", expires_at=NOW)
    assert blocked_by([rule], "0911111111", NOW, tz=TPE) is None


def test_a_block_ending_on_a_date_lifts_at_local_midnight_not_utc() -> None:
    """Meant to end on 2026-06-12 in Taipei: it blocks all that day, and not at 08:00 after."""
    rule = Rule("0911111111", expires_at=date(2026, 6, 12))
    # The engine's clock reads UTC.
    last_minute = datetime(2026, 6, 12, 23, 59, tzinfo=TPE).astimezone(UTC)
    next_morning = datetime(2026, 6, 13, 7, 59, tzinfo=TPE).astimezone(UTC)
    assert blocked_by([rule], "0911111111", last_minute, tz=TPE) is rule
    # 07:59 on the 13th in Taipei is still the 12th in UTC: the UTC date kept it blocked.
    assert blocked_by([rule], "0911111111", next_morning, tz=TPE) is None


ZONES = ["Asia/Taipei", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


@given(
    zone=st.sampled_from(ZONES),
    expires=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    offset=st.timedeltas(min_value=-timedelta(hours=14), max_value=timedelta(hours=14)),
)
def test_a_dated_block_holds_exactly_through_its_local_day(
    zone: str, expires: date, offset: timedelta
) -> None:
    """At any instant near the local midnight that ends the day, blocked iff still that day."""
    tz = ZoneInfo(zone)
    midnight = datetime.combine(expires + timedelta(days=1), time(0), tzinfo=tz)
    at = (midnight + offset).astimezone(UTC)
    rule = Rule("0911111111", expires_at=expires)
    still_that_day_or_before = at.astimezone(tz).date() <= expires
    blocked = blocked_by([rule], "0911111111", at, tz=tz) is rule
    assert blocked == still_that_day_or_before


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("0912345678", True),
        ("+886 912-345-678", True),
        ("0227208889", True),
        ("082318823", True),
        ("091234567", False),
        ("0204123456", False),
        ("1999", False),
        ("", False),
        ("12345678901234", False),
    ],
)
def test_taiwan_callback_numbers(raw: str, ok: bool) -> None:
    """Mobiles and landlines are callable; short, premium and service numbers are not."""
    assert is_taiwan_callback_number(raw) is ok


def test_normalise_strips_punctuation_and_country_code() -> None:
    """Separators and +886 are dropped the way a Taiwan operator would dial."""
    assert normalise_number("+886-2-2720-8889") == "0227208889"


@pytest.mark.parametrize(
    "raw",
    [
        "0020312345678",  # international, as a spoofed caller id arrives
        "00912345678",
        "+14155550100",
        "0203123456",  # 020x premium and information services
        "0205123456",
        "0209123456",
        "\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",  # full-width
        "09\uff112345678",  # one full-width digit
        "0912345678\u0663",  # an Arabic-Indic digit appended
        "0912345678;1",
        "agency-pbx",
    ],
)
def test_callback_rule_refuses_foreign_premium_and_non_ascii(raw: str) -> None:
    """Nothing an officer's callback would dial abroad, at a premium or mis-read is usable."""
    assert is_taiwan_callback_number(raw) is False
    assert callback_number(raw) == NO_USABLE_NUMBER


def test_callback_number_normalises_a_usable_one() -> None:
    """A usable number is kept the way a Taiwan operator dials it."""
    assert callback_number("+886 912-345-678") == "0912345678"
    assert callback_number(None) == NO_USABLE_NUMBER
