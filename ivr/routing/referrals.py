"""`referrals.yaml`: referral numbers (告知電話) agents give for matters that are not the
city's (central government, other cities), as validated data.

Each entry has a name in both languages, the number the caller should dial, and the
topics it serves, which the agent page's lookup searches. A bad file refuses the whole
profile (it is one of the loader's optional tables), with file, field and reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator

from ivr.routing.menus import Ident, Strict
from ivr.routing.yaml_read import read_table

FILE = "referrals.yaml"

Text = Annotated[str, Field(min_length=1, max_length=120)]
# What a caller dials: digits only (a short code such as 165, or a full number).
Phone = Annotated[str, Field(pattern=r"^[0-9]{3,15}$")]


class Referral(Strict):
    id: Ident
    name: Text
    name_en: Text
    phone: Phone
    topics: list[Text] = Field(default_factory=list, max_length=30)
    note: Text | None = None


class Referrals(Strict):
    referrals: list[Referral] = Field(default_factory=list, max_length=300)

    @field_validator("referrals")
    @classmethod
    def _unique(cls, referrals: list[Referral]) -> list[Referral]:
        seen: set[str] = set()
        for r in referrals:
            if r.id in seen:
                raise ValueError(f"referral {r.id!r} is listed more than once")
            seen.add(r.id)
        return referrals

    def search(self, query: str) -> list[Referral]:
        """Entries whose name, number or a topic holds every word of `query`."""
        words = query.lower().split()
        if not words:
            return []
        found = []
        for r in self.referrals:
            text = " ".join([r.name, r.name_en, r.phone, *r.topics]).lower()
            if all(w in text for w in words):
                found.append(r)
        return found


def load_referrals(profile_dir: Path) -> Referrals:
    """The profile's referral list; empty when it has none. The loader has validated it
    with the rest of the profile, so a file here is a valid one."""
    data, problems, exists = read_table(profile_dir / FILE)
    if not exists or problems:
        return Referrals()
    try:
        return Referrals.model_validate(data)
    except ValidationError:
        # Only a profile the loader never checked gets here: no list, not a crash.
        return Referrals()
