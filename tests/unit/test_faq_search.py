# ruff: noqa: RUF001 - Traditional Chinese is written with full-width punctuation.
"""The FAQ knowledge base (T2(1)): the pure search (Chinese by character pairs, Latin
by words) and faq.yaml as a validated, versioned routing table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.domain.faq import Document, Index, index_terms, terms
from ivr.routing.faq_table import load_faq
from ivr.routing.loader import RoutingError, load_profile
from ivr.routing.versions import read_document

REPO = Path(__file__).resolve().parents[2]


def _index(*entries: tuple[str, str]) -> Index:
    return Index([Document(key, ((text, 1),)) for key, text in entries])


def test_chinese_is_split_into_character_pairs_and_latin_into_words() -> None:
    assert terms("路燈不亮") == ["路燈", "燈不", "不亮"]
    assert terms("燈") == ["燈"]
    # Full-width letters fold to ASCII, case is ignored, mixed text gives both kinds.
    assert terms("ＷＩＦＩ 垃圾車 Route 7") == ["wifi", "垃圾", "圾車", "route", "7"]
    assert terms("  ？！ ") == []
    # A document holds single characters as well, so a one-character query finds it.
    assert {"路", "燈", "路燈"} <= index_terms("路燈")


def test_a_two_character_word_is_found_inside_a_sentence_without_spaces() -> None:
    index = _index(("light", "請提供路燈桿號"), ("water", "家裡停水要找誰"))
    assert [h.key for h in index.search("路燈")] == ["light"]
    assert [h.key for h in index.search("停水")] == ["water"]
    assert index.search("颱風") == []


def test_more_matched_terms_rank_first_and_ties_keep_the_table_order() -> None:
    index = _index(
        ("one", "垃圾"),
        ("both", "垃圾車的時間"),
        ("also-one", "垃圾桶"),
    )
    hits = index.search("垃圾車")
    assert [h.key for h in hits] == ["both", "one", "also-one"]
    assert hits[0].matched == ("垃圾", "圾車")


def test_a_long_query_needs_half_its_terms_not_one_common_pair() -> None:
    index = _index(("hours", "服務時間是什麼時候"), ("truck", "垃圾車收運時間"))
    # 垃圾車時間: 垃圾 圾車 車時 時間 - "hours" holds only 時間 (1 of 4).
    assert [h.key for h in index.search("垃圾車時間")] == ["truck"]


def test_latin_words_match_whole_or_as_the_start_of_a_longer_word() -> None:
    index = _index(("light", "Streetlights are fixed"), ("st", "A stray dog"))
    assert [h.key for h in index.search("streetlight")] == ["light"]
    assert [h.key for h in index.search("STRAY")] == ["st"]
    # Two letters are too few to stand for the start of a word.
    assert index.search("st") == []


def test_a_field_weight_ranks_a_question_match_above_an_answer_match() -> None:
    index = Index(
        [
            Document("in-answer", (("其他", 3), ("停水公告", 1))),
            Document("in-question", (("停水", 3), ("其他", 1))),
        ]
    )
    assert [h.key for h in index.search("停水")] == ["in-question", "in-answer"]


def test_an_empty_query_or_limit_finds_nothing() -> None:
    index = _index(("a", "路燈"))
    assert index.search("") == []
    assert index.search("路燈", limit=0) == []


def test_taipeis_faq_answers_typical_questions() -> None:
    faq = load_faq(REPO / "routing" / "taipei")
    assert 10 <= len(faq.entries) <= 15
    assert faq.search("路燈不亮")[0].id == "streetlight"
    assert faq.search("垃圾車時間")[0].id == "garbage-truck"
    assert faq.search("颱風天有服務嗎")[0].id == "typhoon-day"
    assert faq.search("pothole")[0].id == "pothole"
    assert faq.search("corruption")[0].id == "integrity-hotline"


def test_the_faq_is_part_of_the_versioned_routing_document() -> None:
    document = read_document(REPO / "routing" / "taipei")
    assert "faq.yaml" in document
    assert load_profile(REPO / "routing" / "taipei").source.name == "taipei"


@pytest.mark.parametrize(
    ("entry", "path", "reason"),
    [
        ("{id: x, question: 問題, answer: 回答, agency: nowhere}", "entries[0].agency", "nowhere"),
        ("{id: x, question: 問題}", "entries[0].answer", "required"),
        ("{id: X!, question: 問題, answer: 回答}", "entries[0].id", "an id uses a-z"),
        ("{id: x, question: 問題, answer: 回答, votes: 3}", "entries[0].votes", "unknown field"),
    ],
)
def test_a_bad_faq_entry_refuses_the_profile_with_file_and_field(
    tmp_path: Path, entry: str, path: str, reason: str
) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    (profile / "faq.yaml").write_text(f"entries:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(RoutingError) as refused:
        load_profile(profile)
    [problem] = refused.value.problems
    assert problem.file.endswith("faq.yaml")
    assert problem.path == path
    assert reason in problem.reason.lower()


def test_a_faq_entry_listed_twice_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "taipei"
    shutil.copytree(REPO / "routing" / "taipei", profile)
    twice = "  - {id: x, question: 問題, answer: 回答}\n"
    (profile / "faq.yaml").write_text("entries:\n" + twice * 2, encoding="utf-8")
    with pytest.raises(RoutingError) as refused:
        load_profile(profile)
    assert "more than once" in refused.value.problems[0].reason
