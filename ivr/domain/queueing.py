"""Waiting in a queue: what the caller is offered, and when. Pure; the clock is passed in.

A language choice is a promise (DOMAIN 3a, the 2023 Taipei complaint). A queue serves
one language, the language skill its agents must have; a caller who waits for it is
never moved to agents without that language unless they press the key that accepts
it. When nobody with the language is signed in, or the wait passes the queue's
threshold, the caller hears a choice: keep waiting, a callback in their language, or
(where the tables name such a queue) an agent of another language now. The queue's
longest wait ends in a callback, never in another round of waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ivr.domain.masking import mask_number
from ivr.domain.wait_estimate import WaitEstimate

# What an agent's phone shows before the number, so one agent serving five queues
# knows which language to answer in.
LANGUAGE_LABELS = {
    "zh-TW": "國語",
    "nan": "台語",
    "hak": "客語",
    "en": "English",
    "ja": "日本語",
}
# A display name fits a SIP From header and a desk phone's screen.
DISPLAY_MAX = 40
# Less of the longest wait left than this ends the waiting: asking "keep waiting?"
# for a round of a few seconds wastes the caller's time, and Asterisk's Queue()
# timeout may end a round up to a second early, which must not buy another question.
MIN_ROUND_S = 5


class Choice(StrEnum):
    """The keys of the waiting caller's choice, the same in every queue."""

    KEEP_WAITING = "1"
    CALLBACK = "2"
    OTHER_LANGUAGE = "3"


class OfferReason(StrEnum):
    # Nobody who speaks the queue's language is signed in (checked on entry and after
    # every round).
    NO_AGENTS = "no_agents"
    # The caller waited the queue's threshold.
    LONG_WAIT = "long_wait"
    # On joining, the estimated wait passes the queue's threshold: asked at once, not
    # after waiting a round to learn what the engine already knew.
    LONG_ESTIMATE = "long_estimate"


@dataclass(frozen=True)
class QueuePolicy:
    """One queue as a waiting caller meets it (from agents.yaml)."""

    queue: str
    name: str
    # The language its agents must speak; None for a queue of no language (sign language).
    language: str | None
    # The caller is asked what they want after waiting this long in one go...
    offer_after_s: int
    # ...and after this long in all is offered a callback instead of more waiting.
    max_wait_s: int
    # The queue offered on key 3 to a caller who accepts agents without the language.
    other_language_queue: str | None = None
    other_language: str | None = None
    # Played to the agent alone before the bridge (a prompt name), if set.
    whisper: str | None = None
    # A caller about to join is asked at once when the estimated wait is longer than
    # this; None: only the time waited and an empty queue lead to the question.
    offer_when_estimate_over_s: int | None = None


@dataclass(frozen=True)
class Wait:
    """Wait in `queue` for at most `seconds` (one round)."""

    queue: str
    seconds: int


@dataclass(frozen=True)
class Offer:
    """Ask the caller; `keys` are the choices that apply here, in the order heard."""

    reason: OfferReason
    keys: tuple[Choice, ...]
    # Said before the keys when known ("about N minutes"); None: nothing said of the
    # wait, never a guess.
    estimate: WaitEstimate | None = None


@dataclass(frozen=True)
class MaxWaitReached:
    """The longest wait is over: a callback in the caller's language, no more waiting."""


Move = Wait | Offer | MaxWaitReached


def queue_language(skills: Iterable[str], languages: Iterable[str]) -> str | None:
    """The one language among a queue's skills (the loader refuses two)."""
    known = set(languages)
    found = [s for s in skills if s in known]
    return found[0] if found else None


def offer_keys(policy: QueuePolicy, waived: bool) -> tuple[Choice, ...]:
    """Key 3 only where the tables name another queue and the caller has not taken it."""
    keys = (Choice.KEEP_WAITING, Choice.CALLBACK)
    if policy.other_language_queue is not None and not waived:
        return (*keys, Choice.OTHER_LANGUAGE)
    return keys


def estimate_too_long(policy: QueuePolicy, estimate: WaitEstimate | None) -> bool:
    """The queue has a threshold and the known estimate is past it (unknown never is)."""
    limit = policy.offer_when_estimate_over_s
    return limit is not None and estimate is not None and estimate.seconds > limit


def next_move(
    policy: QueuePolicy,
    *,
    waited_s: float,
    agents_signed_in: int,
    offered: bool,
    waived: bool = False,
    estimate: WaitEstimate | None = None,
) -> Move:
    """What happens next to a caller who has waited `waited_s` in all.

    `offered`: the caller was just asked and chose to keep waiting, so the next move
    is a round of waiting even with nobody signed in (they chose it; the round ends
    in a new question, and the longest wait still bounds it). `estimate`: the wait of
    a caller joining now at the back (ivr.domain.wait_estimate), if known.
    """
    remaining = policy.max_wait_s - waited_s
    if remaining < MIN_ROUND_S:
        return MaxWaitReached()
    if agents_signed_in <= 0 and not offered:
        return Offer(OfferReason.NO_AGENTS, offer_keys(policy, waived), estimate)
    if estimate_too_long(policy, estimate) and not offered:
        return Offer(OfferReason.LONG_ESTIMATE, offer_keys(policy, waived), estimate)
    return Wait(policy.queue, int(min(policy.offer_after_s, remaining)))


def after_round(
    policy: QueuePolicy,
    *,
    waited_s: float,
    agents_signed_in: int,
    waived: bool,
    estimate: WaitEstimate | None = None,
) -> Move:
    """A round of waiting ended with nobody answering: ask (saying the estimate when
    known), or end in a callback."""
    if policy.max_wait_s - waited_s < MIN_ROUND_S:
        return MaxWaitReached()
    reason = OfferReason.NO_AGENTS if agents_signed_in <= 0 else OfferReason.LONG_WAIT
    return Offer(reason, offer_keys(policy, waived), estimate)


def agent_display(language: str | None, queue_name: str, caller: str | None) -> str:
    """What the agent's phone shows: `[台語] 0912○○○678` (the queue's name if no language)."""
    label = LANGUAGE_LABELS.get(language, language) if language else queue_name
    number = mask_number(caller) if caller else "?"
    return f"[{label}] {number}"[:DISPLAY_MAX]
