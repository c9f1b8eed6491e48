"""What an admin types into the hours and dispatch forms, as the tables hold it: the
shape is read here, the values are left for the checker to judge."""

from __future__ import annotations

import pytest

from ivr.web.routing_dispatch import SPEC, entry_of
from ivr.web.routing_hours import DAYS, DayHours, WeekTable, parse_ranges, show_ranges
from ivr.web.routing_lists import FormRefused
from ivr.web.routing_words import keys


def test_every_word_the_hours_and_dispatch_pages_make_exists() -> None:
    words = set(keys())
    for key in ("weekly", "office_hours"):
        table = WeekTable(key, True, [], [])
        assert {table.heading, table.intro, table.label} <= words
    assert {DayHours(day, "", [], {}).word for day in DAYS} <= words
    assert {f.label for f in SPEC.fields} | {f.hint for f in SPEC.fields if f.hint} <= words


def test_ranges_are_read_as_typed_on_either_keyboard() -> None:
    assert parse_ranges("08:30-12:30, 13:30-17:30") == [["08:30", "12:30"], ["13:30", "17:30"]]
    assert parse_ranges("08:30 \u2013 12:30\uff0c13:30~17:30") == [
        ["08:30", "12:30"],
        ["13:30", "17:30"],
    ]
    assert parse_ranges("  ") == []
    # Times are not judged here: the checker says what is wrong with 25:00.
    assert parse_ranges("08:00-25:00") == [["08:00", "25:00"]]
    assert show_ranges([["08:30", "12:30"], ["13:30", "17:30"]]) == "08:30-12:30, 13:30-17:30"


def test_a_range_that_is_not_one_is_refused_at_the_field() -> None:
    with pytest.raises(FormRefused) as refused:
        parse_ranges("08:30-12:30, noon")
    assert refused.value.at_field == {
        "ranges": ["'noon' is not a range written HH:MM-HH:MM (e.g. 08:30-12:30)"]
    }


def test_an_item_is_written_with_numbers_as_numbers_and_defaults_left_out() -> None:
    typed = {
        "item": "6",
        "name": "路燈故障",
        "name_en": "Streetlight out",
        "agency": "pwd",
        "unit": "parks-lights",
        "stage1_hours": "48",
        "stage2_days": "7.5",
        "stage2_variants": "wiring=3, total: 7",
        "contact_attempts": "",
        "note": "",
    }
    entry = entry_of(typed)
    assert {k: v for k, v in entry.items() if v is not None} == {
        "item": 6,
        "name": "路燈故障",
        "name_en": "Streetlight out",
        "agency": "pwd",
        "unit": "parks-lights",
        "stage1_hours": 48,
        "stage2_days": 7.5,
        "stage2_variants": {"wiring": 3, "total": 7},
    }
    # Not a number: kept as typed, for the checker's own words at the field.
    assert entry_of({**typed, "item": "six"})["item"] == "six"
    assert entry_of({**typed, "same_day_rule": "true"})["same_day_rule"] is True
    with pytest.raises(FormRefused):
        entry_of({**typed, "stage2_variants": "wiring"})
