"""CDR rows: read with and without the userfield, and what the fallback wrote in it."""

from __future__ import annotations

from ivr.adapters.reconcile import fold, parse_row

HEAD = [
    "",
    "0912000000",
    "1999",
    "hotline-inbound",
    '"Test caller" <0912000000>',
    "Local/1999@hotline-inbound-0000;2",
    "",
    "Queue",
    "hotline-agents",
    "2026-11-30 10:00:00",
    "2026-11-30 10:00:01",
    "2026-11-30 10:00:30",
    "30",
    "29",
    "ANSWERED",
    "DOCUMENTATION",
    "u1-hotline",
]


def test_a_row_without_userfield_keeps_its_linkedid() -> None:
    row = parse_row([*HEAD, "", "link-1", "7"])
    assert row is not None
    assert (row.linkedid, row.userfield) == ("link-1", "")


def test_a_row_with_the_fallback_userfield_says_the_call_fell_back_and_why() -> None:
    row = parse_row([*HEAD, "fallback:agi-FAILURE", "", "link-1", "7"])
    assert row is not None
    assert (row.linkedid, row.userfield) == ("link-1", "fallback:agi-FAILURE")
    call = fold([row])["u1-hotline"]
    assert call.took_fallback
    assert call.fallback_reason == "agi-FAILURE"


def test_a_call_the_engine_finished_did_not_fall_back() -> None:
    row = parse_row([*HEAD, "", "", "link-1", "7"])
    assert row is not None
    call = fold([row])["u1-hotline"]
    assert not call.took_fallback
    assert call.fallback_reason is None


def test_a_call_the_engine_sent_to_the_agents_queue_did_not_fall_back() -> None:
    # The engine's HOTLINE_NEXT=queue ends the call in hotline-queue, as the fallback
    # does; only the fallback writes its mark in the userfield.
    queued = [*HEAD[:3], "hotline-queue", *HEAD[4:]]
    row = parse_row([*queued, "", "", "link-1", "7"])
    assert row is not None
    call = fold([row])["u1-hotline"]
    assert not call.took_fallback
    marked = parse_row([*queued, "fallback:engine-lost", "", "link-1", "7"])
    assert marked is not None
    assert fold([marked])["u1-hotline"].took_fallback


def test_a_call_that_ended_in_the_fallback_before_its_mark_fell_back() -> None:
    row = parse_row([*HEAD[:3], "hotline-fallback", *HEAD[4:], "", "", "link-1", "7"])
    assert row is not None
    assert fold([row])["u1-hotline"].took_fallback
