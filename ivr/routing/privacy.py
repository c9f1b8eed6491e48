"""profile.yaml's `privacy` section: retention periods and per-caller limits.

Defaults follow the rules: a closed case is de-identified by the next working day
(P12; one day here, the strictest reading), recordings and CDR files are kept 30 and
90 days. A profile may shorten or lengthen them within the bounds below.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ivr.routing.menus import Strict

Days = Annotated[int, Field(ge=0, le=3650)]


class Retention(Strict):
    # After a ticket closes: its number, name, notes and events are masked with ○.
    deidentify_after_days: Days = 1
    # A call with no ticket still open: masked this long after it ended.
    calls_days: Days = 30
    # Voice messages and other recordings: deleted this long after they were made.
    recordings_days: Days = 30
    # Asterisk's CDR files: rotated files deleted after this long.
    cdr_days: Days = 90


class CallerLimits(Strict):
    """Per caller number; past a limit the caller hears a notice and goes to an agent.

    Off unless set: many callers can share one number (a company's PBX, a care home),
    so a hotline picks its limits knowing its callers.
    """

    calls_per_hour: Annotated[int, Field(ge=1, le=10_000)] | None = None
    tickets_per_day: Annotated[int, Field(ge=1, le=10_000)] | None = None
    recording_minutes_per_day: Annotated[int, Field(ge=1, le=24 * 60)] | None = None


class Privacy(Strict):
    retention: Retention = Retention()
    limits: CallerLimits = CallerLimits()
    # Disk for recordings; `ivr status` warns past 90% of it.
    recordings_quota_mb: Annotated[int, Field(ge=1, le=10_000_000)] = 10_240
