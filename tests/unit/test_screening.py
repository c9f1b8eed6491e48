"""Block-list matching and Taiwan callback-number checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from ivr.domain.screening import (
    NO_USABLE_NUMBER,
    blocked_by,
    callback_number,
    is_taiwan_callback_number,
    normalise_number,
)

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


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
    rule = blocked_by(RULES, caller, NOW)
    assert (rule.pattern if rule else None) == pattern


def test_expiry_instant_is_exclusive() -> None:
    """A rule expiring at an instant no longer blocks from that instant on."""
    rule = Rule("0911111111", expires_at=NOW)
    assert blocked_by([rule], "0911111111", NOW) is None


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
