"""blocklist.yaml: callers whose service is suspended, with who, why and until when."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from ivr.routing.menus import Strict
from ivr.routing.table_fields import Text

_PATTERN = re.compile(r"\+?([0-9]+)(\*?)")


def _block_pattern(value: str) -> str:
    m = _PATTERN.fullmatch(value)
    if m is None:
        raise ValueError(
            f'{value!r} is not a number pattern: digits, optionally a leading "+" and '
            'a trailing "*" for a prefix, e.g. "0912345678" or "0204*"'
        )
    digits, prefix = m[1], m[2]
    if prefix and len(digits) < 4:
        # A short prefix ("09*") would silence a whole network: a mistake, never a policy.
        raise ValueError(f'{value!r}: a prefix pattern needs at least 4 digits before "*"')
    if not prefix and not 3 <= len(digits) <= 15:
        raise ValueError(f"{value!r}: a phone number has 3 to 15 digits")
    return value


BlockPattern = Annotated[str, AfterValidator(_block_pattern)]


def _aware(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(
            f"{value.isoformat()} has no UTC offset; write e.g. 2026-03-01T09:00:00+08:00 "
            "or just the date"
        )
    return value


def _moment(value: Any) -> Any:
    """One reason for a bad moment, not one per member of the date | datetime union."""
    if isinstance(value, date):  # datetime is a date too
        return value
    if not isinstance(value, str):
        # YAML reads 20260301 as a number, which would pass as seconds since 1970.
        raise PydanticCustomError(
            "moment_type",
            "{value} is not a date (2026-06-12) or a time with its UTC offset",
            {"value": repr(value)},
        )
    try:
        return date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "moment",
            "{value} is not a date (2026-06-12) or a time with its UTC offset "
            "(2026-03-01T09:00:00+08:00): {why}",
            {"value": repr(value), "why": str(exc)},
        ) from exc


Moment = Annotated[datetime | date, BeforeValidator(_moment), AfterValidator(_aware)]


class BlockEntry(Strict):
    """A caller whose service is suspended after warnings (T7), with who and why."""

    pattern: BlockPattern
    reason: Text
    added_by: Text
    added_at: Moment
    # A date alone means the block holds through that whole day.
    expires_at: Moment | None = None

    def matches(self, number: str) -> bool:
        if self.pattern.endswith("*"):
            return number.startswith(self.pattern[:-1])
        return number == self.pattern


class Blocklist(Strict):
    entries: list[BlockEntry] = Field(default_factory=list)
