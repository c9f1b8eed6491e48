"""Who is served: the block list (T7) and Taiwan phone numbers. Pure.

A blocked caller hears a suspension notice; a callback number keyed by a caller must
be a real Taiwan number before a ticket promises to call it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import Protocol, TypeVar


class BlockRule(Protocol):
    @property
    def pattern(self) -> str: ...
    @property
    def expires_at(self) -> date | datetime | None: ...


R = TypeVar("R", bound=BlockRule)


def normalise_number(raw: str) -> str:
    """Digits as dialled in Taiwan: +886 9xx… and 886 9xx… become 09xx…."""
    # ASCII digits only: `\d` would keep full-width or Arabic-Indic digits, which no
    # trunk dials as the caller meant them.
    digits = re.sub(r"[^0-9+]", "", raw or "")
    if digits.startswith("+886"):
        return "0" + digits[4:]
    if digits.startswith("00886"):
        return "0" + digits[5:]
    if digits.startswith("886") and len(digits) >= 11:
        return "0" + digits[3:]
    return digits.lstrip("+")


def _expired(rule: BlockRule, at: datetime, tz: tzinfo) -> bool:
    exp = rule.expires_at
    if exp is None:
        return False
    if isinstance(exp, datetime):
        if exp.tzinfo is None:
            raise ValueError(f"block rule {rule.pattern}: expires_at needs a time zone")
        return at >= exp
    # A date is the profile's local day: the block holds until that day ends there,
    # not until it ends in UTC (eight hours later in Taipei).
    return at.astimezone(tz).date() > exp


def blocked_by(rules: Iterable[R], caller: str | None, at: datetime, *, tz: tzinfo) -> R | None:
    """The first unexpired rule matching the caller, or None.

    `tz` is the profile's zone, in which an expiry date alone is read. An anonymous
    caller is never blocked: the block list names numbers, and an unknown number must
    still reach help.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be timezone-aware")
    number = normalise_number(caller or "")
    if not number:
        return None
    for rule in rules:
        if _expired(rule, at, tz):
            continue
        pattern = normalise_number(rule.pattern.rstrip("*"))
        if rule.pattern.endswith("*"):
            if number.startswith(pattern):
                return rule
        elif number == pattern:
            return rule
    return None


# Taiwan numbers: mobiles 09 + 8 digits; landlines 0 + area code + 7-8 digits (10 digits,
# or 9 for some areas such as 037, 049, 089 and 082 Kinmen's 7-digit numbers).
_MOBILE = re.compile(r"^09[0-9]{8}$")
_LANDLINE = re.compile(r"^0[2-8][0-9]{7,8}$")
# What separates the digits of a number as people write it; anything else refuses it.
_SEPARATORS = re.compile(r"[\s\-().]")
_WRITTEN = re.compile(r"^\+?[0-9]+$")

# Stored on a ticket whose caller left no number an officer may dial: it is never a
# dial string, so `ivr tickets callback` refuses it rather than dialling it.
NO_USABLE_NUMBER = "no-usable-number"


def is_taiwan_callback_number(raw: str) -> bool:
    """A number an officer can call back: a Taiwan mobile or landline, no premium codes.

    Refuses international numbers (00…, +1…), the 020x premium-rate and
    information-service prefixes, and any character that is not an ASCII digit (a
    full-width zero, U+FF10, is a digit to Python but not to a trunk).
    """
    if not raw or not _WRITTEN.match(_SEPARATORS.sub("", raw)):
        return False
    number = normalise_number(raw)
    if number.startswith("020"):
        # 020x are premium-rate and paid information services, never a citizen's line;
        # Taipei's own 02 numbers never start with 0 after the area code.
        return False
    return bool(_MOBILE.match(number) or _LANDLINE.match(number))


def callback_number(raw: str | None) -> str:
    """The normalised number if an officer may dial it, else `NO_USABLE_NUMBER`."""
    if raw and is_taiwan_callback_number(raw):
        return normalise_number(raw)
    return NO_USABLE_NUMBER
