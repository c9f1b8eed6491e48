"""The FAQ that agencies keep (T2(1)), searched for an agent during a call.

The index is built once per loaded tables (a reload or a publish builds it anew), so
a query is a scan of a few hundred entries' term sets; `ivr.domain.faq` ranks them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.routing.faq_table import Faq, FaqEntry, load_faq
from ivr.routing.tables import RoutingTables
from ivr.web.context import Console

MAX_QUERY = 100
MAX_HITS = 10


@dataclass(frozen=True)
class _Read:
    tables: RoutingTables
    faq: Faq


_read: _Read | None = None


def _faq(tables: RoutingTables) -> Faq:
    global _read  # noqa: PLW0603 - one index for the running tables, replaced on reload
    if _read is None or _read.tables is not tables:
        _read = _Read(tables, load_faq(tables.source))
    return _read.faq


def search(ctx: Console, query: str) -> list[FaqEntry]:
    """The entries that best answer `query`, best first; none for an empty query."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    return _faq(ctx.tables()).search(query, MAX_HITS)


def agency_names(ctx: Console) -> dict[str, str]:
    """Agency id -> name, to say who keeps an entry."""
    return {a.id: a.name for a in ctx.tables().directory.agencies}
