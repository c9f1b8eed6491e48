"""Waiting callers' rules (ivr.domain.queueing) and the table checks that keep the promise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.domain.queue_report import Callback, percentile, queue_rows
from ivr.domain.queueing import (
    Choice,
    MaxWaitReached,
    Offer,
    OfferReason,
    QueuePolicy,
    Wait,
    after_round,
    agent_display,
    next_move,
    queue_language,
)
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
)
GENERAL = QueuePolicy("general", "一般諮詢", "zh-TW", offer_after_s=180, max_wait_s=600)


def test_nobody_with_the_language_signed_in_is_told_at_entry_with_three_choices() -> None:
    move = next_move(TAIWANESE, waited_s=0, agents_signed_in=0, offered=False)
    assert move == Offer(
        OfferReason.NO_AGENTS, (Choice.KEEP_WAITING, Choice.CALLBACK, Choice.OTHER_LANGUAGE)
    )


def test_a_queue_without_another_language_offers_no_key_3() -> None:
    move = next_move(GENERAL, waited_s=0, agents_signed_in=0, offered=False)
    assert move == Offer(OfferReason.NO_AGENTS, (Choice.KEEP_WAITING, Choice.CALLBACK))


def test_agents_signed_in_means_a_round_of_waiting_up_to_the_threshold() -> None:
    assert next_move(TAIWANESE, waited_s=0, agents_signed_in=2, offered=False) == Wait(
        "taiwanese", 120
    )


def test_a_caller_who_chose_to_keep_waiting_waits_even_with_nobody_signed_in() -> None:
    assert next_move(TAIWANESE, waited_s=0, agents_signed_in=0, offered=True) == Wait(
        "taiwanese", 120
    )


def test_the_last_round_is_cut_to_the_longest_wait() -> None:
    assert next_move(TAIWANESE, waited_s=550, agents_signed_in=1, offered=True) == Wait(
        "taiwanese", 50
    )


def test_the_longest_wait_ends_waiting() -> None:
    assert next_move(TAIWANESE, waited_s=600, agents_signed_in=3, offered=True) == MaxWaitReached()
    assert after_round(TAIWANESE, waited_s=600.2, agents_signed_in=3, waived=False) == (
        MaxWaitReached()
    )


def test_a_few_seconds_left_end_waiting_rather_than_ask_again() -> None:
    """Queue() may end a round a second early: 29.2 s of a 30 s wait is the end."""
    short = QueuePolicy("q", "q", "zh-TW", offer_after_s=20, max_wait_s=30)
    assert after_round(short, waited_s=29.2, agents_signed_in=0, waived=False) == (MaxWaitReached())
    assert after_round(short, waited_s=19.4, agents_signed_in=0, waived=False) == Offer(
        OfferReason.NO_AGENTS, (Choice.KEEP_WAITING, Choice.CALLBACK)
    )
    assert next_move(short, waited_s=19.4, agents_signed_in=0, offered=True) == Wait("q", 10)
    assert next_move(short, waited_s=25.1, agents_signed_in=1, offered=True) == MaxWaitReached()


def test_after_a_round_the_caller_is_asked_why() -> None:
    busy = after_round(TAIWANESE, waited_s=120, agents_signed_in=1, waived=False)
    assert isinstance(busy, Offer)
    assert busy.reason == OfferReason.LONG_WAIT
    gone = after_round(TAIWANESE, waited_s=120, agents_signed_in=0, waived=False)
    assert isinstance(gone, Offer)
    assert gone.reason == OfferReason.NO_AGENTS


def test_a_caller_who_accepted_another_language_is_not_offered_it_again() -> None:
    move = after_round(TAIWANESE, waited_s=120, agents_signed_in=1, waived=True)
    assert isinstance(move, Offer)
    assert Choice.OTHER_LANGUAGE not in move.keys


def test_the_agent_sees_the_language_and_a_masked_number() -> None:
    assert agent_display("nan", "台語服務", "0912345678") == "[台語] 0912○○○678"
    assert agent_display(None, "手語視訊", None) == "[手語視訊] ?"


def test_a_queue_language_is_its_language_skill() -> None:
    assert queue_language(["zh-TW", "dispatch"], ["zh-TW", "nan"]) == "zh-TW"
    assert queue_language(["sign-language"], ["zh-TW", "nan"]) is None


def test_shipped_taiwanese_queue_offers_mandarin_by_key_only() -> None:
    policies = queue_policies(load_profile(SHIPPED / "taipei"))
    assert policies["taiwanese"].language == "nan"
    assert policies["taiwanese"].other_language_queue == "general"
    assert policies["taiwanese"].other_language == "zh-TW"
    assert policies["general"].other_language_queue is None


# ------------------------------------------------------------ the table check


@pytest.mark.parametrize(
    ("edits", "where", "reason"),
    [
        (
            # The landed bug: a plain menu under the (disabled) Taiwanese key, its
            # option sent to the Mandarin queue. The check used to follow only
            # ToLanguage choices of enabled languages.
            [('"1": {type: queue, queue: taiwanese}', '"1": {type: queue, queue: general}')],
            'menus.taiwanese.options["1"].queue',
            "callers who chose nan",
        ),
        (
            [
                (
                    "on_exhausted: {type: queue, queue: taiwanese}",
                    "on_exhausted: {type: queue, queue: dispatch}",
                )
            ],
            "menus.taiwanese.on_exhausted.queue",
            "callers who chose nan",
        ),
    ],
)
def test_a_path_from_a_language_key_to_agents_without_it_is_refused(
    tmp_path: Path, edits: list[tuple[str, str]], where: str, reason: str
) -> None:
    found = problems_of(broken(tmp_path, "menus.yaml", edits))
    assert any(p.path == where and reason in p.reason for p in found), found


@pytest.mark.parametrize(
    ("replacement", "reason"),
    [
        ("other_language_queue: nowhere}", "no queue 'nowhere'"),
        ("other_language_queue: taiwanese}", "its own other-language queue"),
    ],
)
def test_a_bad_other_language_queue_is_refused(
    tmp_path: Path, replacement: str, reason: str
) -> None:
    found = problems_of(
        broken(tmp_path, "agents.yaml", [("other_language_queue: general}", replacement)])
    )
    assert any(p.path == "queues[4].other_language_queue" and reason in p.reason for p in found), (
        found
    )


def test_other_language_queues_do_not_chain(tmp_path: Path) -> None:
    found = problems_of(
        broken(
            tmp_path,
            "agents.yaml",
            [
                (
                    "skills: [zh-TW], strategy: rrmemory, announce_position: true, "
                    "max_wait_s: 600}",
                    "skills: [zh-TW], strategy: rrmemory, announce_position: true, "
                    "max_wait_s: 600, other_language_queue: english}",
                )
            ],
        )
    )
    assert any("never a chain" in p.reason for p in found), found


# ------------------------------------------------------------ the month's report


@dataclass(frozen=True)
class _Stay:
    uniqueid: str
    queue: str
    language: str | None
    joined_at: datetime
    hold_s: float | None
    talk_s: float | None
    outcome: str
    capped: bool = False


T = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def test_report_counts_callers_once_per_queue_and_gives_nearest_rank_waits() -> None:
    stays = [
        _Stay("c1", "taiwanese", "nan", T, None, None, "left"),
        _Stay("c1", "taiwanese", "nan", T + timedelta(minutes=3), 40, 200, "answered"),
        _Stay("c2", "taiwanese", "nan", T, 10, 100, "answered", capped=True),
        _Stay("c3", "taiwanese", "nan", T, None, None, "abandoned"),
        _Stay("c4", "general", "zh-TW", T, None, None, "left"),
    ]
    rows = queue_rows(stays, [Callback("c4", True), Callback("elsewhere", False)])
    by = {(r.queue, r.language): r for r in rows}
    tw = by["taiwanese", "nan"]
    assert (tw.offered, tw.answered, tw.abandoned, tw.capped) == (3, 2, 1, 1)
    assert (tw.wait_median_s, tw.wait_p90_s, tw.talk_s) == (10, 40, 300)
    general = by["general", "zh-TW"]
    assert (general.callbacks_requested, general.callbacks_completed) == (1, 1)
    assert general.wait_median_s is None  # nobody answered: no figure, not a zero
    assert by["*", "*"].offered == 4


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 0.9) == 5
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3
    assert percentile([], 0.5) is None
