"""directory.yaml `emergency_lines`: the numbers an agent may conference into a call.

The emergency three-way call (K2(1), K4(1)) dials only a number listed here, over the
trunk listed with it (the carrier line); the cross-check refuses a trunk that is not
in `trunks`. A profile without a carrier trunk lists none, and its agents' pages
offer no three-way call.
"""

from __future__ import annotations

from pydantic import Field

from ivr.domain.vocabulary import EmergencyService
from ivr.routing.menus import Digits, Ident, Strict


class EmergencyLine(Strict):
    """110 or 119, reached over a carrier trunk."""

    service: EmergencyService
    number: Digits
    # A trunk id of `trunks`: an emergency number is the carrier's, never a local phone.
    via: Ident = Field(description="trunk id")


def unique_services(lines: list[EmergencyLine]) -> list[EmergencyLine]:
    seen: set[str] = set()
    for line in lines:
        if line.service in seen:
            raise ValueError(f"service {line.service!r} is listed twice")
        seen.add(line.service)
    return lines
