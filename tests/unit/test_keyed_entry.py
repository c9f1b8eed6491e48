"""What Asterisk's Read reports, as the menu judges it (no Asterisk needed)."""

from __future__ import annotations

import pytest

from ivr.adapters.agi.keys import Keyed


@pytest.mark.parametrize(
    ("digits", "status", "entry", "timed_out"),
    [
        ("7001", "TIMEOUT", "7001", False),  # ended by the inter-digit pause
        ("61002", "OK", "61002", False),  # ended at the most digits an entry has
        ("6100", "OK", "6100", False),  # ended by '#', which Read leaves out
        ("", "OK", "#", False),  # a lone '#' is an entry (an invalid one)
        ("", "TIMEOUT", "", True),  # silence
    ],
    ids=["inter-digit", "max-digits", "hash-ended", "lone-hash", "silence"],
)
def test_read_results_become_whole_entries(
    digits: str, status: str, entry: str, timed_out: bool
) -> None:
    keyed = Keyed(digits, status)
    assert (keyed.entry, keyed.timed_out) == (entry, timed_out)
