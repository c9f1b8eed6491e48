"""Values written into Asterisk `.conf` files: one line each, comments escaped.

The table schema already refuses control characters and quotes in every field that
reaches the config; this is the renderer's own guard, so a value that slipped past a
future schema change still cannot end its line and open a new section.
"""

from __future__ import annotations

import unicodedata

from ivr.errors import HotlineError

# Asterisk reads a line up to a line break; NUL ends the C string early.
_BREAKS = frozenset(("Cc", "Zl", "Zp"))


class ConfValueError(HotlineError, ValueError):
    """A value that cannot be written into an Asterisk config line safely."""

    code = "asterisk.unsafe_value"


def conf_value(value: str) -> str:
    """`value` for the right side of `key = value`: `;` escaped, line breaks refused."""
    for ch in value:
        if unicodedata.category(ch) in _BREAKS:
            raise ConfValueError(
                f"U+{ord(ch):04X} cannot be written into an Asterisk config line: {value!r}"
            )
    # config.c reads an unescaped ";" as the start of a comment, cutting the value short.
    return value.replace(";", "\\;")
