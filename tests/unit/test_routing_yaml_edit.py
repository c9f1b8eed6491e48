"""Editing one value or the order of a list keeps every other character of the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ivr.routing.yaml_edit import EditError, append, remove, set_text, swap

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


BLOCKLIST = (
    Path(__file__).resolve().parents[2] / "routing" / "taipei" / "blocklist.yaml"
).read_text(encoding="utf-8")


def test_adding_to_an_empty_list_makes_a_block_list_and_keeps_the_comments() -> None:
    entry = {"pattern": "0912345678", "reason": '說 "x": 1', "expires_at": None}
    added = append(BLOCKLIST, ["entries"], entry)
    assert yaml.safe_load(added) == {"entries": [{"pattern": "0912345678", "reason": '說 "x": 1'}]}
    assert added.startswith(BLOCKLIST[: BLOCKLIST.index("entries: []")])
    again = append(added, ["entries"], {"pattern": "0204*", "reason": "r"})
    assert [e["pattern"] for e in yaml.safe_load(again)["entries"]] == ["0912345678", "0204*"]
    # Removing both gives back the empty list, not an empty value (which reads as null).
    emptied = remove(remove(again, ["entries"], 1), ["entries"], 0)
    assert emptied == BLOCKLIST


def test_values_are_written_as_text_whatever_they_look_like() -> None:
    added = append(
        "entries: []\n", ["entries"], {"pattern": "0912", "at": "2026-01-01", "n": "null"}
    )
    assert yaml.safe_load(added) == {
        "entries": [{"pattern": "0912", "at": "2026-01-01", "n": "null"}]
    }


def test_a_flow_list_gains_and_loses_entries_in_place() -> None:
    text = "entries: [{pattern: '1'}, {pattern: '2'}]  # kept\n"
    added = append(text, ["entries"], {"pattern": "3"})
    assert [e["pattern"] for e in yaml.safe_load(added)["entries"]] == ["1", "2", "3"]
    assert added.endswith("  # kept\n")
    for i, left in ((0, ["2"]), (1, ["1"])):
        assert [
            e["pattern"] for e in yaml.safe_load(remove(text, ["entries"], i))["entries"]
        ] == left


@pytest.mark.parametrize(
    ("path", "entry"), [(["nope"], {"a": "b"}), (["entries"], {}), (["x"], {"a": "b"})]
)
def test_appending_where_no_list_is_an_edit_error(
    path: list[str | int], entry: dict[str, str | None]
) -> None:
    with pytest.raises(EditError):
        append("entries: []\nx: 1\n", path, entry)
