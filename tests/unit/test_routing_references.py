"""What refers to a unit, a queue or a prompt in Taipei's shipped profile."""

from __future__ import annotations

from pathlib import Path

from ivr.routing.references import references
from ivr.routing.versions import read_document

FILES = read_document(Path(__file__).resolve().parents[2] / "routing" / "taipei")


def test_a_units_dispatch_items_are_listed() -> None:
    found = references(FILES, "unit", "new-construction")
    items = [r for r in found if r.file == "dispatch_items.yaml"]
    assert items
    assert all("handled by unit new-construction" in r.what for r in items)


def test_a_queues_menu_options_are_listed_with_their_paths() -> None:
    paths = {r.path for r in references(FILES, "queue", "dispatch")}
    assert 'menus.main.options["2"]' in paths


def test_a_prompt_is_found_where_it_is_played() -> None:
    found = references(FILES, "prompt", "taipei-main-menu")
    assert [(r.file, r.path) for r in found] == [("menus.yaml", "menus.main.prompt")]


def test_nothing_refers_to_what_does_not_exist() -> None:
    assert references(FILES, "unit", "no-such-unit") == []


def test_a_queue_offered_on_key_3_by_another_queue_is_listed() -> None:
    found = references(FILES, "queue", "general")
    [offer] = [r for r in found if r.file == "agents.yaml"]
    assert offer.path == "queues[4]"
    assert offer.what == "queue taiwanese offers queue general to callers on key 3"
