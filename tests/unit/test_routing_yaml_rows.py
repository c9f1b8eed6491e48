"""Replacing a list's entry and setting a mapping's key in a table's text: only what
changes is touched, the result reads as intended, and a bad path is an EditError."""

from __future__ import annotations

import pytest
import yaml

from ivr.routing.yaml_edit import EditError
from ivr.routing.yaml_rows import replace_entry, set_key

HOURS = """\
# Office hours, kept as written.
office_hours:
  mon: [["08:30", "12:30"], ["13:30", "17:30"]]  # lunch break
  tue:
    - ["08:30", "17:30"]
  fri: [["08:30", "17:30"]]

sla:
  callback_hours: 4
"""


def test_a_days_ranges_are_replaced_and_the_rest_kept() -> None:
    out = set_key(HOURS, ["office_hours"], "mon", [["09:00", "12:00"]])
    assert yaml.safe_load(out)["office_hours"]["mon"] == [["09:00", "12:00"]]
    assert "# lunch break" in out
    assert out.startswith("# Office hours, kept as written.")
    out = set_key(out, ["office_hours"], "tue", [])
    data = yaml.safe_load(out)
    assert data["office_hours"]["tue"] == []
    assert data["office_hours"]["fri"] == [["08:30", "17:30"]]
    assert data["sla"] == {"callback_hours": 4}


def test_a_missing_day_is_added_to_the_mapping() -> None:
    out = set_key(HOURS, ["office_hours"], "sat", [["09:00", "12:00"]])
    data = yaml.safe_load(out)
    assert data["office_hours"]["sat"] == [["09:00", "12:00"]]
    assert list(data) == ["office_hours", "sla"]
    flow = set_key("weekly: {}\n", ["weekly"], "sun", [["08:00", "20:00"]])
    assert yaml.safe_load(flow) == {"weekly": {"sun": [["08:00", "20:00"]]}}
    flow = set_key(flow, ["weekly"], "mon", [])
    assert yaml.safe_load(flow) == {"weekly": {"sun": [["08:00", "20:00"]], "mon": []}}


def test_an_entry_is_replaced_whole_with_typed_values() -> None:
    text = """\
items:
  - item: 1
    name: "坑洞"
    unit: a
  # item 2 follows
  - item: 2
    name: "two"
    stage2_variants: {wiring: 3}
"""
    new = {"item": 2, "name": "兩", "stage2_variants": {"total": 7}, "note": None}
    out = replace_entry(text, ["items"], 1, new)
    data = yaml.safe_load(out)
    assert data["items"][1] == {"item": 2, "name": "兩", "stage2_variants": {"total": 7}}
    assert data["items"][0] == {"item": 1, "name": "坑洞", "unit": "a"}
    assert "# item 2 follows" in out
    flow = replace_entry('items: [{"item": 1}, {"item": 2}]\n', ["items"], 0, {"item": 5})
    assert yaml.safe_load(flow) == {"items": [{"item": 5}, {"item": 2}]}


def test_a_path_that_leads_nowhere_is_an_edit_error() -> None:
    with pytest.raises(EditError):
        set_key(HOURS, ["sla", "callback_hours"], "mon", [])
    with pytest.raises(EditError):
        replace_entry("items: []\n", ["items"], 0, {"item": 1})
    with pytest.raises(EditError):
        replace_entry("items:\n  - item: 1\n", ["items"], 0, {"note": None})
