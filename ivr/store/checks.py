"""Checks every write makes before it is queued: the same refusal on both backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.store.models import Base


def require_one_of(value: str | None, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def check_lengths(model: type[Base], values: Mapping[str, Any]) -> None:
    """Refuse strings longer than their column.

    SQLite ignores declared lengths and PostgreSQL rejects the whole statement; checking
    here makes both backends refuse the same input, with a message naming the field.
    """
    columns = model.__table__.c
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise ValueError(
                f"{model.__tablename__}.{name} takes at most {length} characters, got {len(value)}"
            )


def require_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
