"""The agents and queues editor's rows: typed text to the table's values. Pure."""

from __future__ import annotations

from ivr.web.routing_agents import (
    AGENT_SPEC,
    QUEUE_SPEC,
    beyond_defaults,
    defaults,
    entry_of,
    value_of,
)
from ivr.web.routing_words import keys


def test_a_change_keeps_the_secret_and_what_was_not_typed() -> None:
    current = {"id": "a01", "name": "A", "extension": "7001", "secret": "s" * 12, "skills": ["en"]}
    entry = entry_of(AGENT_SPEC, {"name": "B", "skills": "en, zh-TW"}, current)
    assert entry == {
        "id": "a01",
        "name": "B",
        "extension": "7001",
        "skills": ["en", "zh-TW"],
        "secret": "s" * 12,
    }


def test_an_emptied_field_is_left_out_so_the_default_applies() -> None:
    current = {"id": "q", "name": "Q", "skills": ["en"], "offer_after_s": 120, "whisper": "w"}
    entry = entry_of(QUEUE_SPEC, {"offer_after_s": "", "whisper": " "}, current)
    assert "offer_after_s" not in entry
    assert "whisper" not in entry


def test_numbers_are_written_as_numbers_and_a_bad_one_as_typed_for_the_checker() -> None:
    assert value_of(QUEUE_SPEC, "wrapup_s", " 30 ") == 30
    assert value_of(QUEUE_SPEC, "wrapup_s", "thirty") == "thirty"
    # An extension is digits as text: "0800" keeps its zero.
    assert value_of(AGENT_SPEC, "extension", "0800") == "0800"


def test_a_checkbox_is_true_or_false_never_left_out() -> None:
    assert value_of(QUEUE_SPEC, "announce_position", "true") is True
    assert value_of(QUEUE_SPEC, "announce_position", "") is False


def test_lists_are_typed_with_commas_either_width() -> None:
    assert value_of(QUEUE_SPEC, "video_codecs", "vp8\uff0c h264") == ["vp8", "h264"]


def test_the_page_shows_the_tables_defaults() -> None:
    shown = defaults("queues")
    assert (shown["offer_after_s"], shown["announce_position"], shown["wrapup_s"]) == (
        "180",
        "true",
        "0",
    )
    assert "whisper" not in shown


def test_a_new_row_leaves_out_what_was_typed_as_the_default() -> None:
    typed = {"id": "q", "max_wait_s": "600", "announce_position": "true", "wrapup_form": ""}
    assert beyond_defaults(QUEUE_SPEC, typed) == {"id": "q"}
    off = {"announce_position": "", "max_wait_s": "900"}
    assert beyond_defaults(QUEUE_SPEC, off) == off


def test_every_field_and_button_of_the_editor_has_its_words() -> None:
    words = set(keys())
    for spec in (AGENT_SPEC, QUEUE_SPEC):
        named = {spec.heading, spec.caption, spec.none, spec.add_heading, spec.add_button}
        assert named | {spec.remove} <= words
        assert {f.label for f in spec.fields} <= words
        assert {f.hint for f in spec.fields if f.hint} <= words
