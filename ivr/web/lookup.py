"""In-call lookups for agents: a unit by its name or by a duty it handles, and the
referral numbers (告知電話) for matters that are not the city's.

The directory search is the routing editor's (`DirectoryIndex`), over the running
tables: what the agent finds is where the transfer engine would send the caller. The
index and the referral list are read once per loaded tables (a reload reads them anew).
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.routing.directory_search import DirectoryIndex
from ivr.routing.referrals import Referral, Referrals, load_referrals
from ivr.routing.tables import RoutingTables
from ivr.web.context import Console

# An agent's query: a few words, not a document.
MAX_QUERY = 100
MAX_HITS = 20


@dataclass(frozen=True)
class Found:
    unit: str
    name: str
    name_en: str
    agency: str
    agency_name: str
    number: str
    dial_code: str | None
    # "name" or "duty": how the query matched, so the agent can tell the two apart.
    matched: str
    duties: tuple[str, ...]


@dataclass(frozen=True)
class _Read:
    tables: RoutingTables
    index: DirectoryIndex
    referrals: Referrals


_read: _Read | None = None


def _of(tables: RoutingTables) -> _Read:
    global _read  # noqa: PLW0603 - one cache for the running tables, replaced on reload
    if _read is None or _read.tables is not tables:
        index = DirectoryIndex(
            tables.directory.model_dump(mode="json"), tables.dispatch.model_dump(mode="json")
        )
        _read = _Read(tables, index, load_referrals(tables.source))
    return _read


def referrals(ctx: Console, query: str = "") -> list[Referral]:
    """The whole referral list, or the entries whose name, number or topic match."""
    found = _of(ctx.tables()).referrals
    query = query.strip()[:MAX_QUERY]
    return found.search(query) if query else list(found.referrals)


def directory(ctx: Console, query: str) -> list[Found]:
    """Units whose name, id or number holds every word of `query`, then by duty."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    tables = ctx.tables()
    agencies = {a.id: a for a in tables.directory.agencies}
    found = []
    for hit in _of(tables).index.search(query, limit=MAX_HITS):
        agency = agencies.get(hit.agency)
        unit = next((u for u in agency.units if u.id == hit.unit), None) if agency else None
        found.append(
            Found(
                unit=hit.unit,
                name=hit.name,
                name_en=hit.name_en,
                agency=hit.agency,
                agency_name=agency.name if agency else hit.agency,
                number=hit.primary,
                dial_code=unit.dial_code if unit else None,
                matched=hit.matched,
                duties=hit.duties,
            )
        )
    return found
