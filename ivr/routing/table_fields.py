"""Field types the routing tables share: bounded, printable text, names, e-mail, phones."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# Characters that end or bend a line wherever text is written (config files, logs, mail
# headers, AGI commands): C0/C1 controls, line and paragraph separators, and format
# characters such as the bidi overrides that make a name read differently than it is.
_UNPRINTABLE = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
# Quotes and backslashes end or escape a quoted value in Asterisk config and AGI.
_CONFIG_UNSAFE = frozenset("\"'`\\")


def _printable(value: str) -> str:
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in _UNPRINTABLE:
            raise PydanticCustomError(
                "text_control",
                "holds the control character {char} at position {position}: "
                "write it on one line, with printable characters only",
                {"char": f"U+{ord(ch):04X}", "position": i + 1},
            )
    return value


def _config_safe(value: str) -> str:
    _printable(value)
    bad = sorted(_CONFIG_UNSAFE.intersection(value))
    if bad:
        raise PydanticCustomError(
            "text_quote",
            "may not hold {chars}: it is written into the Asterisk config",
            {"chars": " ".join(bad)},
        )
    return value


# Text an admin must fill in: an empty name reads as a forgotten field, not a choice.
# Every free-text field has a bound, so no table value can fill a log line or a prompt.
Text = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_printable)]
# A name that reaches Asterisk config (a caller id, a queue's name): no quotes either.
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_config_safe)]


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email), AfterValidator(_printable)]


def _phone(value: str) -> str:
    if not re.fullmatch(r"\+?[0-9]{6,15}", value):
        raise ValueError(
            f"{value!r} is not a phone number: digits only (6 to 15), optionally starting "
            'with "+", no spaces or dashes, e.g. "0227208889"'
        )
    return value


Phone = Annotated[str, AfterValidator(_phone)]
