"""Masking personal data with ○, as the de-identification SOP writes it. Pure.

Numbers keep their first four and last three digits (`0912○○○678`): enough for a
caller to recognise their own number on the phone, not enough to dial it. Names and
free text are masked whole. Masking is idempotent: masking a masked value changes
nothing, so a retention job that runs twice does no harm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ivr.domain.screening import NO_USABLE_NUMBER

MASK = "○"

# A phone number inside free text: 7 to 15 ASCII digits, optionally after +, standing
# alone. Digits glued to a letter, a dot or a dash are something else: an Asterisk
# uniqueid (1732963000.12), a date (2026-11-30), a channel name (PJSIP/t-00000012);
# a dial string (PJSIP/0912345678@trunk) is a number.
# ASCII-only look-arounds: a number right after Chinese text (電話0912345678) is a number.
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_.+\-])\+?[0-9]{7,15}(?![A-Za-z0-9_.])")
# Keys whose values are our own identifiers, never a person's number.
_ID_KEYS = frozenset(
    {
        "uniqueid",
        "linkedid",
        "call_id",
        "ticket",
        "ticket_id",
        "ticket_number",
        "pid",
        "id",
        "case",
        "case_number",
    }
)


def mask_number(number: str | None) -> str:
    """`0912345678` → `0912○○○678`; short numbers keep only their last two digits."""
    if not number:
        return ""
    if number == NO_USABLE_NUMBER:
        return number
    plus = "+" if number.startswith("+") else ""
    digits = number[len(plus) :]
    if len(digits) >= 8:
        return plus + digits[:4] + MASK * (len(digits) - 7) + digits[-3:]
    if len(digits) > 3:
        return plus + MASK * (len(digits) - 2) + digits[-2:]
    return plus + MASK * len(digits)


def mask_text(text: str | None) -> str:
    """Every character but whitespace becomes ○: a name or a note, unreadable."""
    if not text:
        return text or ""
    return "".join(ch if ch.isspace() else MASK for ch in text)


def mask_numbers_in(text: str) -> str:
    """Mask each phone number found inside `text`, leaving the rest readable."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask_number(m.group(0)), text)


def mask_numbers_deep(value: Any, key: str | None = None) -> Any:
    """`mask_numbers_in` through dicts, lists and tuples; our own id fields are kept."""
    if key in _ID_KEYS:
        return value
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, Mapping):
        return {k: mask_numbers_deep(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_numbers_deep(v) for v in value]
    return value


# Event-data keys whose values are about the person rather than the call: masked whole
# after retention. Everything else keeps its words but loses any number in it.
PERSONAL_KEYS = frozenset(
    {
        "number",
        "caller",
        "caller_number",
        "caller_name",
        "name",
        "text",
        "note",
        "outcome",
        "path",
        "message",
        "message_path",
        "target",
        "answered_by",
        "keyed",
        "line",
    }
)


def deidentify_deep(value: Any, key: str | None = None) -> Any:
    """De-identify stored event data: personal fields masked whole, numbers elsewhere.

    Prompt names, outcomes of the flow and counts stay: they say what happened without
    saying to whom.
    """
    if key in PERSONAL_KEYS and isinstance(value, str):
        return mask_text(value)
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, Mapping):
        return {k: deidentify_deep(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deidentify_deep(v, key) for v in value]
    return value


def is_masked(text: str | None) -> bool:
    """True when `text` carries no phone number in clear."""
    return not text or _NUMBER_IN_TEXT.search(text) is None


def shown_number(number: str | None, *, unmask: bool) -> str:
    """A number as a list or a ticket shows it: masked unless unmasking was asked for."""
    if not number:
        return "-"
    if number == NO_USABLE_NUMBER:
        return "no usable number"
    return number if unmask else mask_number(number)
