"""Full-text search over the FAQ that agencies keep (DOMAIN 1.1, T2(1)). Pure.

Chinese is written without spaces, so words cannot be split on them: Han text is
indexed as overlapping character pairs (bigrams), the usual way to search CJK without
a dictionary, and each single character as well so a one-character query still finds
something. Latin text and digits are words, lower-cased; a query word of three or more
letters also finds longer words it begins ("streetlight" finds "streetlights").
Full-width letters and digits are folded to their ASCII forms first (NFKC).

A hand-written index is used because no maintained Python library fits: SQLite's FTS5
trigram tokenizer cannot match two-character Chinese words (most of them), and
dictionary segmenters (jieba) carry a large Simplified-Chinese model and still miss
the city's own names. The FAQ is a few hundred entries; a scan per query is cheap.

Ranking: each distinct query term found in an entry scores its field's weight (the
question and keywords weigh more than the answer); an entry must hold at least half
of the query's terms, so a long query is not answered by one common pair such as 時間.
Ties keep the table's order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Han ideographs (with extension A and compatibility ideographs), and Latin/digits.
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MIN_PREFIX = 3
# A query is a few words; longer input is cut, not refused.
MAX_QUERY = 100


@dataclass(frozen=True)
class Document:
    """One entry to search: its key and its texts, each with the weight of a match."""

    key: str
    fields: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Hit:
    key: str
    score: int
    matched: tuple[str, ...]


def _runs(text: str) -> list[str]:
    return _RUN.findall(unicodedata.normalize("NFKC", text).lower())


def terms(text: str) -> list[str]:
    """A query's terms, in order, each once: Han bigrams (a lone character as itself)
    and Latin/digit words."""
    out: list[str] = []
    for run in _runs(text):
        if _HAN.match(run):
            grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        else:
            grams = [run]
        for g in grams:
            if g not in out:
                out.append(g)
    return out


def index_terms(text: str) -> frozenset[str]:
    """What a document holds: Han bigrams and single characters, and Latin words."""
    out: set[str] = set()
    for run in _runs(text):
        if _HAN.match(run):
            out.update(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.add(run)
    return frozenset(out)


def _found(term: str, held: frozenset[str], words: Iterable[str]) -> bool:
    if term in held:
        return True
    if len(term) >= MIN_PREFIX and term.isascii():
        return any(w.startswith(term) for w in words)
    return False


@dataclass(frozen=True)
class _Indexed:
    doc: Document
    fields: tuple[tuple[frozenset[str], tuple[str, ...], int], ...]


class Index:
    """The documents' terms, computed once; `search` answers a query from them."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self._docs = [
            _Indexed(
                d,
                tuple(
                    (held, tuple(t for t in held if t.isascii()), weight)
                    for held, weight in ((index_terms(text), w) for text, w in d.fields)
                ),
            )
            for d in documents
        ]

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        wanted = terms(query[:MAX_QUERY])
        if not wanted or limit <= 0:
            return []
        need = (len(wanted) + 1) // 2
        ranked: list[tuple[int, int, Hit]] = []
        for order, item in enumerate(self._docs):
            score = 0
            matched: list[str] = []
            for term in wanted:
                weights = [w for held, words, w in item.fields if _found(term, held, words)]
                if weights:
                    score += max(weights)
                    matched.append(term)
            if len(matched) >= need:
                ranked.append((-score, order, Hit(item.doc.key, score, tuple(matched))))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [hit for _, _, hit in ranked[:limit]]
