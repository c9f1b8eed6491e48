"""The offer on a long estimated wait (ivr.domain.queueing, offer_when_estimate_over_s):
asked at once when the known estimate passes the queue's threshold, never on a guess."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ivr.domain.queueing import (
    Choice,
    Offer,
    OfferReason,
    QueuePolicy,
    Wait,
    after_round,
    estimate_too_long,
    next_move,
)
from ivr.domain.wait_estimate import WaitEstimate
from ivr.routing.loader import load_profile
from ivr.routing.queue_view import queue_policies
from tests.unit.test_routing_tables import SHIPPED, broken, problems_of

TAIWANESE = QueuePolicy(
    "taiwanese",
    "台語服務",
    "nan",
    offer_after_s=120,
    max_wait_s=600,
    other_language_queue="general",
    other_language="zh-TW",
    offer_when_estimate_over_s=300,
)
SEVEN_MINUTES = WaitEstimate(seconds=400.0, minutes=7, answered=5)
TWO_MINUTES = WaitEstimate(seconds=100.0, minutes=2, answered=5)
GENERAL_LINE = "skills: [zh-TW], strategy: rrmemory, announce_position: true, max_wait_s: 600}"


def test_an_estimate_past_the_threshold_is_asked_at_entry_with_the_estimate() -> None:
    move = next_move(
        TAIWANESE, waited_s=0, agents_signed_in=2, offered=False, estimate=SEVEN_MINUTES
    )
    assert move == Offer(
        OfferReason.LONG_ESTIMATE,
        (Choice.KEEP_WAITING, Choice.CALLBACK, Choice.OTHER_LANGUAGE),
        SEVEN_MINUTES,
    )
    assert isinstance(move, Offer)
    assert move.estimate is not None
    assert move.estimate.prompt == "queue-wait-about-7"


@pytest.mark.parametrize(
    "estimate",
    [
        TWO_MINUTES,
        # Exactly the threshold is not past it.
        WaitEstimate(seconds=300.0, minutes=5, answered=5),
        # Unknown (too little data, nobody unpaused): never a guess, never an offer.
        None,
    ],
)
def test_a_short_or_unknown_estimate_joins_the_queue(estimate: WaitEstimate | None) -> None:
    move = next_move(TAIWANESE, waited_s=0, agents_signed_in=1, offered=False, estimate=estimate)
    assert move == Wait("taiwanese", 120)


def test_a_queue_without_a_threshold_never_asks_on_the_estimate() -> None:
    policy = replace(TAIWANESE, offer_when_estimate_over_s=None)
    over_an_hour = WaitEstimate(seconds=5000.0, minutes=None, answered=9)
    assert not estimate_too_long(policy, over_an_hour)
    move = next_move(policy, waited_s=0, agents_signed_in=1, offered=False, estimate=over_an_hour)
    assert move == Wait("taiwanese", 120)


def test_after_choosing_to_wait_the_caller_waits_though_the_estimate_is_long() -> None:
    """The caller heard the estimate and pressed 1: a round, not the same question."""
    move = next_move(
        TAIWANESE,
        waited_s=0,
        agents_signed_in=1,
        offered=True,
        waived=False,
        estimate=SEVEN_MINUTES,
    )
    assert move == Wait("taiwanese", 120)


def test_nobody_signed_in_still_says_so_first() -> None:
    move = next_move(TAIWANESE, waited_s=0, agents_signed_in=0, offered=False, estimate=None)
    assert isinstance(move, Offer)
    assert (move.reason, move.estimate) == (OfferReason.NO_AGENTS, None)


def test_the_question_after_a_round_says_the_estimate_when_known() -> None:
    move = after_round(
        TAIWANESE, waited_s=120, agents_signed_in=1, waived=False, estimate=TWO_MINUTES
    )
    assert isinstance(move, Offer)
    assert (move.reason, move.estimate) == (OfferReason.LONG_WAIT, TWO_MINUTES)
    unknown = after_round(TAIWANESE, waited_s=120, agents_signed_in=1, waived=False)
    assert isinstance(unknown, Offer)
    assert unknown.estimate is None


def test_the_shipped_taiwanese_queue_asks_past_five_minutes() -> None:
    policies = queue_policies(load_profile(SHIPPED / "taipei"))
    assert policies["taiwanese"].offer_when_estimate_over_s == 300
    assert policies["general"].offer_when_estimate_over_s is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("29", "greater than or equal to 30"),
        ("3601", "less than or equal to 3600"),
        ("soon", "integer"),
    ],
)
def test_a_bad_estimate_threshold_is_refused_with_file_field_and_reason(
    tmp_path: Path, value: str, reason: str
) -> None:
    directory = broken(
        tmp_path,
        "agents.yaml",
        [(GENERAL_LINE, GENERAL_LINE[:-1] + f", offer_when_estimate_over_s: {value}}}")],
    )
    found = problems_of(directory)
    assert [
        p
        for p in found
        if p.file == str(directory / "agents.yaml")
        and p.path.endswith("offer_when_estimate_over_s")
        and reason in p.reason
    ], found
