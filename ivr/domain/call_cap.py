"""The call cap (Taipei: 10 minutes, DOMAIN 3a): when to warn, when to stop, what is said.

Pure. A conversation starts when the person answers; `warning_before_s` before the
limit both legs hear a tone and a warning; at the limit both hear about the direct
line (the caller its number), then the call ends or the caller is put through to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.domain.transfer import Line
from ivr.domain.vocabulary import CapAction, CapLeg

# A tone before each cap prompt, so neither party mistakes it for the other's words.
TONE = "cap-tone"
# Asterisk ends the agent's leg itself this long after the limit (TIMEOUT(absolute),
# set when the person answers), should the engine not be there to do it.
HARD_GRACE_S = 60


@dataclass(frozen=True)
class CapPolicy:
    limit_s: int
    warning_before_s: int
    at_limit: CapAction
    direct_line: Line

    @property
    def warning_at_s(self) -> int:
        """Seconds after the answer when the warning plays."""
        return self.limit_s - self.warning_before_s

    @property
    def hard_limit_s(self) -> int:
        """Seconds after the answer when Asterisk ends the agent's leg on its own."""
        return self.limit_s + HARD_GRACE_S


def digits(number: str) -> tuple[str, ...]:
    """A number read out digit by digit (the catalogue's digit-N prompts)."""
    return tuple(f"digit-{d}" for d in number if d.isdigit())


def warning_prompts(leg: CapLeg) -> tuple[str, ...]:
    return (TONE, f"cap-warning-{leg}")


def limit_prompts(policy: CapPolicy, leg: CapLeg) -> tuple[str, ...]:
    """At the limit: the caller learns the direct line's number and what happens next;
    the agent learns the same, so they can say it again if the caller asks."""
    suffix = "transfer" if policy.at_limit == CapAction.TRANSFER else "end"
    return (
        TONE,
        f"cap-limit-{leg}-{suffix}",
        *digits(policy.direct_line.number),
        f"cap-limit-{leg}-{suffix}-then",
    )
