"""Field-level diffs between two versions of a profile, and the document's digest."""

from __future__ import annotations

from pathlib import Path

from ivr.routing.versions import MASK, Change, ChangeKind, diff, digest, read_document

TAIPEI = Path(__file__).resolve().parents[2] / "routing" / "taipei"


def taipei() -> dict[str, str]:
    return read_document(TAIPEI)


def test_an_extension_change_is_one_change_named_by_agency_and_unit() -> None:
    old = taipei()
    new = dict(old, **{"directory.yaml": old["directory.yaml"].replace('"2501"', '"2509"')})
    [change] = diff(old, new)
    assert change == Change(
        "directory.yaml",
        "agencies[pwd].units[hydraulic].primary.number",
        ChangeKind.CHANGED,
        "2501",
        "2509",
    )
    assert str(change) == (
        'directory.yaml: agencies[pwd].units[hydraulic].primary.number: "2501" → "2509"'
    )


def test_moving_a_deputy_up_is_a_reorder_not_two_edits() -> None:
    old = taipei()
    text = old["directory.yaml"]
    first = '        - {name: 陳怡安, extension: {number: "2101"}}\n'
    second = '        - {name: 林建宏, extension: {number: "2102"}}\n'
    assert first + second in text
    new = dict(old, **{"directory.yaml": text.replace(first + second, second + first)})
    [change] = diff(old, new)
    assert change.kind is ChangeKind.REORDERED
    assert change.path == "agencies[pwd].liaison.deputies"
    assert change.before[:2] == ["陳怡安", "林建宏"]
    assert change.after[:2] == ["林建宏", "陳怡安"]


def test_comments_and_layout_alone_are_no_change() -> None:
    old = taipei()
    new = dict(old, **{"menus.yaml": "# a note for the next admin\n" + old["menus.yaml"]})
    assert digest(new) != digest(old)
    assert diff(old, new) == []


def test_identical_documents_have_one_digest_and_no_changes() -> None:
    assert digest(taipei()) == digest(taipei())
    assert diff(taipei(), taipei()) == []


def test_added_and_removed_entries_are_named_by_id() -> None:
    old = {"agents.yaml": "queues:\n  - {id: general, name: A}\n  - {id: english, name: B}\n"}
    new = {"agents.yaml": "queues:\n  - {id: general, name: A}\n  - {id: hakka, name: C}\n"}
    changes = diff(old, new)
    assert [(c.path, c.kind) for c in changes] == [
        ("queues[english]", ChangeKind.REMOVED),
        ("queues[hakka]", ChangeKind.ADDED),
    ]
    assert changes[1].after == {"id": "hakka", "name": "C"}


def test_a_list_of_plain_values_is_shown_whole() -> None:
    old = {"agents.yaml": "agents:\n  - {id: a01, skills: [zh-TW, en]}\n"}
    new = {"agents.yaml": "agents:\n  - {id: a01, skills: [zh-TW, nan]}\n"}
    [change] = diff(old, new)
    assert str(change) == 'agents.yaml: agents[a01].skills: ["zh-TW", "en"] → ["zh-TW", "nan"]'


def test_a_secret_changes_without_showing_either_value() -> None:
    old = {"agents.yaml": 'agents:\n  - {id: a01, secret: "old-Secret-123!"}\n'}
    new = {"agents.yaml": 'agents:\n  - {id: a01, secret: "new-Secret-456!"}\n'}
    [change] = diff(old, new)
    assert (change.before, change.after) == (MASK, MASK)
    assert "Secret" not in str(change)
    added = diff({"agents.yaml": "agents: []\n"}, new)
    assert "new-Secret" not in str(added[0])


def test_a_number_written_without_quotes_is_a_change_of_type() -> None:
    old = {"directory.yaml": 'x: {number: "2501"}\n'}
    new = {"directory.yaml": "x: {number: 2501}\n"}
    [change] = diff(old, new)
    assert (change.before, change.after) == ("2501", 2501)


def test_a_file_added_or_removed_is_said_once() -> None:
    old = taipei()
    new = {k: v for k, v in old.items() if k != "dispatch_items.yaml"}
    [change] = diff(old, new)
    assert (change.file, change.kind) == ("dispatch_items.yaml", ChangeKind.REMOVED)
    [back] = diff(new, old)
    assert back.kind is ChangeKind.ADDED


def test_dated_entries_are_named_by_date() -> None:
    old = {"hours.yaml": "holidays:\n  - {date: 2026-01-02, name: A}\n"}
    new = {"hours.yaml": "holidays:\n  - {date: 2026-01-02, name: B}\n"}
    [change] = diff(old, new)
    assert change.path == "holidays[2026-01-02].name"
    assert change.as_json()["text"] == 'hours.yaml: holidays[2026-01-02].name: "A" → "B"'


def test_a_document_of_aliases_is_compared_without_expanding_them() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    changes = diff({"menus.yaml": "entry: x\n"}, {"menus.yaml": laughs})
    assert changes
    assert all(c.file == "menus.yaml" for c in changes)


def test_an_unparsable_file_differs_as_a_whole() -> None:
    [change] = diff({"menus.yaml": "entry: x\n"}, {"menus.yaml": "entry: [unclosed\n"})
    assert (change.path, change.before) == ("", {"entry": "x"})
