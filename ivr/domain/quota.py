"""The recordings disk quota: how full it is, in words for `ivr status`. Pure."""

from __future__ import annotations

from dataclasses import dataclass

WARN_AT = 0.9
MB = 1024 * 1024


@dataclass(frozen=True)
class QuotaState:
    ok: bool
    warning: bool
    detail: str


def quota_state(used_bytes: int, quota_mb: int) -> QuotaState:
    """Under 90%: fine; from 90%: a warning; at or past the quota: not ok."""
    quota = quota_mb * MB
    share = used_bytes / quota if quota else 1.0
    text = f"{used_bytes / MB:.1f} of {quota_mb} MB ({share:.0%})"
    if share >= 1.0:
        return QuotaState(False, True, f"{text}: over the recordings quota")
    if share >= WARN_AT:
        return QuotaState(True, True, f"{text}: WARNING, near the recordings quota")
    return QuotaState(True, False, text)
