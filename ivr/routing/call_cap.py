"""profile.yaml's `call_cap`: how long one conversation with a person may last.

Taipei caps a call at 10 minutes and points longer matters to the city switchboard's
direct lines (DOMAIN 3a). A profile without the section has no cap (Kinmen).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from ivr.routing.directory_table import LOCAL
from ivr.routing.menus import Ident, Strict

# Tests need a cap they can wait out (20 s); a real one is minutes. Four hours is the
# engine's own bound on a conversation (ivr.flow.call.CONVERSATION_LIMIT_S).
MIN_LIMIT_S = 20
MAX_LIMIT_S = 4 * 3600
MIN_WARNING_S = 10
DEFAULT_WARNING_S = 60

AtLimit = Literal["end", "transfer"]


class DirectLine(Strict):
    # Digits only, as dialled: a local endpoint's extension or a city number.
    number: Annotated[str, Field(pattern=r"^[0-9]{2,15}$")]
    via: Ident = LOCAL


class CallCap(Strict):
    # From the moment the person answers (the agent, or the unit's line).
    limit_s: Annotated[int, Field(ge=MIN_LIMIT_S, le=MAX_LIMIT_S)]
    # The warning tone and prompt play on both legs this long before the limit.
    warning_before_s: Annotated[int, Field(ge=MIN_WARNING_S, le=MAX_LIMIT_S)] = DEFAULT_WARNING_S
    # At the limit both legs hear about the direct line; then the call ends, or the
    # caller is put through to it.
    at_limit: AtLimit = "end"
    # The line longer matters go to (Taipei: the city switchboard, direct extension
    # dialling): a local endpoint, or a number behind a trunk of directory.yaml.
    direct_line: DirectLine

    @model_validator(mode="after")
    def _warning_inside_limit(self) -> Self:
        if self.warning_before_s >= self.limit_s:
            raise ValueError(
                f"warning_before_s ({self.warning_before_s}) must be shorter than "
                f"limit_s ({self.limit_s}): the warning comes before the limit"
            )
        return self
