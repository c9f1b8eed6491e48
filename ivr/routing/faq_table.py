"""`faq.yaml`: the FAQ knowledge base that agencies keep (DOMAIN 1.1, T2(1)).

Each entry is a question and its answer in Traditional Chinese (English optional),
the agency that keeps it, and keywords the search also reads. It is one of the
loader's optional tables, so it is part of the versioned routing document (drafts,
publish, diff, export): a bad file refuses the whole profile with file, field and
reason, and an entry naming an agency the directory does not have is refused too.
The agent page searches it with `ivr.domain.faq`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator

from ivr.domain.faq import Document, Index
from ivr.routing.menus import Ident, Strict
from ivr.routing.yaml_read import read_table

FILE = "faq.yaml"

Question = Annotated[str, Field(min_length=2, max_length=200)]
Answer = Annotated[str, Field(min_length=2, max_length=2000)]
Keyword = Annotated[str, Field(min_length=1, max_length=40)]
# A match in the question or keywords says more than one in the answer.
QUESTION_WEIGHT = 3
KEYWORD_WEIGHT = 2
ANSWER_WEIGHT = 1


class FaqEntry(Strict):
    id: Ident
    question: Question
    answer: Answer
    question_en: Question | None = None
    answer_en: Answer | None = None
    # The agency (directory.yaml id) that keeps the entry; none: the hotline's own.
    agency: Ident | None = None
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    # When the agency last checked the answer; shown so an agent can judge it.
    reviewed: date | None = None

    def document(self) -> Document:
        return Document(
            self.id,
            (
                (f"{self.question} {self.question_en or ''}", QUESTION_WEIGHT),
                (" ".join(self.keywords), KEYWORD_WEIGHT),
                (f"{self.answer} {self.answer_en or ''}", ANSWER_WEIGHT),
            ),
        )


class FaqTable(Strict):
    entries: list[FaqEntry] = Field(default_factory=list, max_length=2000)

    @field_validator("entries")
    @classmethod
    def _unique(cls, entries: list[FaqEntry]) -> list[FaqEntry]:
        seen: set[str] = set()
        for e in entries:
            if e.id in seen:
                raise ValueError(f"FAQ entry {e.id!r} is listed more than once")
            seen.add(e.id)
        return entries


def faq_problems(faq: FaqTable, agencies: set[str]) -> list[tuple[str, str]]:
    """(field path, reason) for each entry kept by an agency the directory lacks."""
    return [
        (f"entries[{i}].agency", f"agency {e.agency!r} is not in directory.yaml")
        for i, e in enumerate(faq.entries)
        if e.agency is not None and e.agency not in agencies
    ]


class Faq:
    """A profile's FAQ with its search index, built once per loaded tables."""

    def __init__(self, table: FaqTable) -> None:
        self.entries = {e.id: e for e in table.entries}
        self._index = Index([e.document() for e in table.entries])

    def search(self, query: str, limit: int = 20) -> list[FaqEntry]:
        return [self.entries[h.key] for h in self._index.search(query, limit)]


def load_faq(profile_dir: Path) -> Faq:
    """The profile's FAQ; empty when it has none. The loader has validated it with the
    rest of the profile, so a file here is a valid one."""
    data, problems, exists = read_table(profile_dir / FILE)
    if not exists or problems:
        return Faq(FaqTable())
    try:
        return Faq(FaqTable.model_validate(data))
    except ValidationError:
        # Only a profile the loader never checked gets here: no FAQ, not a crash.
        return Faq(FaqTable())
