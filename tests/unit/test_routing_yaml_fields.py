"""A row rewritten by the editor keeps what an admin wrote in it: comments inside a row
written over several lines (block or flow), above and below it and in other rows, and
the text of the fields whose values did not change; what cannot be kept is said in
docs/routing-versions.md and pinned here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ivr.routing.yaml_edit import EditError
from ivr.routing.yaml_rows import replace_entry

BLOCK = """\
# Dispatch items, kept by the works bureau.
items:
  # pothole first: the most reported
  - item: 1      # as numbered in T6
    # the name, as the bureau writes it
    name: "坑洞"
    unit: a      # moved in May
    note: 'old'
  # item 2 follows
  - item: 2
    name: two    # not yet translated
"""


def test_comments_inside_a_block_row_stay_when_it_changes() -> None:
    new = {"item": 1, "name": "坑", "unit": "b", "extra": [1, 2]}
    out = replace_entry(BLOCK, ["items"], 0, new)
    assert yaml.safe_load(out)["items"] == [new, {"item": 2, "name": "two"}]
    assert out == (
        "# Dispatch items, kept by the works bureau.\n"
        "items:\n"
        "  # pothole first: the most reported\n"
        "  - item: 1      # as numbered in T6\n"
        "    # the name, as the bureau writes it\n"
        '    name: "坑"\n'
        '    unit: "b"      # moved in May\n'
        "    extra: [1, 2]\n"
        "  # item 2 follows\n"
        "  - item: 2\n"
        "    name: two    # not yet translated\n"
    )


def test_an_unchanged_row_is_the_same_text() -> None:
    same = {"item": 2, "name": "two"}
    assert replace_entry(BLOCK, ["items"], 1, same) == BLOCK


def test_a_multi_line_flow_row_keeps_its_lines_and_comments() -> None:
    text = """\
queues:
  - {id: general, name: 一般諮詢, max_wait_s: 600}
  # Taiwanese callers
  - {id: taiwanese, name: 台語服務, max_wait_s: 600,   # agreed with the bureau
     whisper: whisper-taiwanese, wrapup_s: 10}   # after the row
"""
    new = {"id": "taiwanese", "name": "台語服務", "max_wait_s": 900, "wrapup_s": 10}
    out = replace_entry(text, ["queues"], 1, {**new, "wrapup_form": True})
    assert yaml.safe_load(out)["queues"][1] == {**new, "wrapup_form": True}
    assert out.splitlines()[3:] == [
        "  - {id: taiwanese, name: 台語服務, max_wait_s: 900,   # agreed with the bureau",
        "     wrapup_s: 10, wrapup_form: true}   # after the row",
    ]
    # The last fields removed take their comma with them.
    out = replace_entry(text, ["queues"], 1, {"id": "taiwanese", "name": "台語服務"})
    assert out.splitlines()[3] == "  - {id: taiwanese, name: 台語服務}   # after the row"
    assert yaml.safe_load(out)["queues"][1] == {"id": "taiwanese", "name": "台語服務"}


def test_what_is_lost_is_only_inside_what_changed() -> None:
    text = """\
agents:
  - id: a01
    skills:
      - zh-TW   # first language
      - nan
    name: 陳淑芬  # the name on her badge
"""
    out = replace_entry(text, ["agents"], 0, {"id": "a01", "skills": ["zh-TW"]})
    # The changed block list is written anew (its comment with it); the removed field
    # goes with the comment on its line.
    assert out == 'agents:\n  - id: a01\n    skills: ["zh-TW"]\n'
    # The row's first field cannot leave the `- ` line alone: the row is written whole.
    whole = replace_entry(text, ["agents"], 0, {"name": "陳淑芬"})
    assert yaml.safe_load(whole) == {"agents": [{"name": "陳淑芬"}]}


def test_the_shipped_agents_file_keeps_every_comment_on_a_change() -> None:
    text = (Path(__file__).parents[2] / "routing" / "taipei" / "agents.yaml").read_text()
    data = yaml.safe_load(text)
    for i, queue in enumerate(data["queues"]):
        changed = {**queue, "max_wait_s": 900}
        changed.pop("whisper", None)
        out = replace_entry(text, ["queues"], i, changed)
        assert yaml.safe_load(out)["queues"][i] == changed
        comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
        assert [line for line in out.splitlines() if line.lstrip().startswith("#")] == comments
        # Only the changed row's lines differ.
        differ = [a for a, b in zip(text.splitlines(), out.splitlines(), strict=True) if a != b]
        assert all(queue["id"] in line or "whisper" in line for line in differ)


def test_an_alias_entry_is_not_edited_through_its_anchor() -> None:
    text = "items:\n  - &a {id: x, n: 1}\n  - *a\n"
    with pytest.raises(EditError, match="alias"):
        replace_entry(text, ["items"], 1, {"id": "y", "n": 1})
    out = replace_entry(text, ["items"], 0, {"id": "y", "n": 1})
    assert out == 'items:\n  - &a {id: "y", n: 1}\n  - *a\n'
