"""Case numbers a caller can read over the phone, and the petition password (P6(2)1).

A case number is digits only: a per-profile sequence padded to `SEQUENCE_DIGITS`, then
one check digit by the Damm algorithm. Damm catches every single wrong digit and every
swap of two neighbouring digits, the two mistakes people make when they read a number
aloud or key it, and it needs no letter (unlike ISO 7064 mod 11-2's "X"), so every case
number can be keyed on a phone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from ivr.errors import HotlineError

SEQUENCE_DIGITS = 7
PASSWORD_DIGITS = 6

# The quasigroup of order 10 from Damm's thesis (2004); any weakly totally
# anti-symmetric quasigroup works, this is the one every implementation checks against.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class BadCaseNumber(HotlineError, ValueError):
    """A keyed or typed case number that cannot be one of ours."""

    code = "cases.bad_number"


def damm_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for ch in digits:
        if ch not in "0123456789":
            raise BadCaseNumber(f"not a digit: {ch!r}")
        interim = _DAMM[interim][ord(ch) - 48]
    return str(interim)


def case_number(sequence: int) -> str:
    """The case number for the profile's `sequence`-th case (1-based)."""
    if sequence < 1:
        raise ValueError(f"case sequence starts at 1, got {sequence}")
    body = str(sequence).zfill(SEQUENCE_DIGITS)
    return body + damm_digit(body)


def parse_case_number(text: str) -> int:
    """The sequence in a case number; BadCaseNumber when it is malformed or mistyped."""
    cleaned = text.strip().replace(" ", "").replace("-", "")
    if len(cleaned) < SEQUENCE_DIGITS + 1 or not cleaned.isascii() or not cleaned.isdigit():
        raise BadCaseNumber(f"a case number is at least {SEQUENCE_DIGITS + 1} digits")
    if damm_digit(cleaned) != "0":
        # A whole number with its check digit has Damm interim 0.
        raise BadCaseNumber("the check digit does not match: a digit is wrong or swapped")
    return int(cleaned[:-1])


def new_password(choice: Callable[[str], str] = secrets.choice) -> str:
    """A petition password of `PASSWORD_DIGITS` digits, keyable on a phone.

    `choice` is injectable so tests can make it repeatable; production uses `secrets`.
    """
    return "".join(choice("0123456789") for _ in range(PASSWORD_DIGITS))
