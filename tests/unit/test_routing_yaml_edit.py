"""Editing one value or the order of a list keeps every other character of the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ivr.routing.yaml_edit import EditError, remove, set_text, swap

DIRECTORY = (
    Path(__file__).resolve().parents[2] / "routing" / "taipei" / "directory.yaml"
).read_text(encoding="utf-8")


def test_setting_an_extension_changes_only_that_value() -> None:
    path = ["agencies", 0, "units", 2, "primary", "number"]
    edited = set_text(DIRECTORY, path, "2509")
    assert yaml.safe_load(edited)["agencies"][0]["units"][2]["primary"]["number"] == "2509"
    assert edited.replace('"2509"', '"2501"') == DIRECTORY


def test_moving_a_flow_style_deputy_keeps_the_comments() -> None:
    deputies = ["agencies", 0, "liaison", "deputies"]
    edited = swap(DIRECTORY, deputies, 0, 1)
    names = [d["name"] for d in yaml.safe_load(edited)["agencies"][0]["liaison"]["deputies"]]
    assert names[:3] == ["林建宏", "陳怡安", "黃雅琪"]
    assert sorted(edited.splitlines()) == sorted(DIRECTORY.splitlines())
    assert swap(edited, deputies, 1, 0) == DIRECTORY


def test_block_entries_move_and_go_as_whole_lines() -> None:
    text = "units:\n  - id: a\n    name: A\n  # b's note\n  - id: b\n    name: B\nnext: 1\n"
    moved = swap(text, ["units"], 0, 1)
    assert [u["id"] for u in yaml.safe_load(moved)["units"]] == ["b", "a"]
    assert yaml.safe_load(moved)["next"] == 1
    gone = remove(text, ["units"], 0)
    assert yaml.safe_load(gone) == {"units": [{"id": "b", "name": "B"}], "next": 1}
    assert "# b's note" in gone


@pytest.mark.parametrize(
    "path", [["agencies", 99, "units"], ["nope"], ["agencies", 0, "name", "x"], ["trunks"]]
)
def test_a_path_that_leads_nowhere_is_an_edit_error(path: list[str | int]) -> None:
    with pytest.raises(EditError):
        set_text(DIRECTORY, path, "1")


def test_a_broken_file_is_an_edit_error() -> None:
    with pytest.raises(EditError):
        set_text("a: [unclosed\n", ["a"], "1")
