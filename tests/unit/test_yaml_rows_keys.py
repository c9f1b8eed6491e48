"""Removing a key of a table file's mapping in place. Pure."""

from __future__ import annotations

import pytest
import yaml

from ivr.routing.yaml_edit import EditError
from ivr.routing.yaml_rows import remove_key

TEXT = """# hours
always_open: false
weekly:
  mon: [["08:00", "20:00"]]
  # Saturdays too
  sat: [["09:00", "12:00"]]
office_hours:
  mon: [["08:30", "17:30"]]
"""


def test_a_block_value_goes_with_its_lines_and_the_rest_stays() -> None:
    out = remove_key(TEXT, [], "weekly")
    assert yaml.safe_load(out) == {
        "always_open": False,
        "office_hours": {"mon": [["08:30", "17:30"]]},
    }
    assert out.startswith("# hours\nalways_open: false\noffice_hours:")


def test_a_missing_key_changes_nothing() -> None:
    assert remove_key(TEXT, [], "closed") == TEXT


def test_a_one_line_mapping_is_refused_not_broken() -> None:
    with pytest.raises(EditError):
        remove_key("a: {b: 1, c: 2}\n", ["a"], "b")
