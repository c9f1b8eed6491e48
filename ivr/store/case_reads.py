"""Reading cases: by id, by number, by search, and the lists the rules ask for.

`CaseReader` holds the engine and the profile; `CaseBook` (ivr.store.cases) adds the
writes. Every read loads a case with its clocks, in chunks of 500 ids so a long list
stays within the databases' limits on bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.domain.vocabulary import CaseAction, CaseClock, CaseKind, CaseState
from ivr.store.case_records import CaseEventRecord, CaseRecord, ClockRecord, LinkRecord
from ivr.store.cases_models import Case, CaseClockRow, CaseEvent, CaseLink
from ivr.store.models import require_utc_aware

if TYPE_CHECKING:
    from ivr.store.repo import CaseStore

_CASE_COLUMNS = tuple(f.name for f in fields(CaseRecord) if f.name != "clocks")


@dataclass(frozen=True)
class KeyUse:
    """What an idempotency key of "open a case" did before: made `case`, or merged a
    report into it (an ABSORBED history row), and for which call."""

    case: CaseRecord
    merged: bool
    # The call the key's request came from (none: it came from no call). Its history
    # row names it; rows written before it did fall back on the case's links.
    calls: frozenset[int]

    def on_call(self, call_id: int | None) -> bool:
        """Whether a repeat of the key on `call_id` is a repeat of the same request.

        Without a call (the CLI), any use is. With one, it must be the call the key
        was first used on: on another call it is another request, and must not hand
        the first call's case to it.
        """
        return call_id is None or call_id in self.calls


def _named_call(data: Any) -> tuple[bool, frozenset[int]]:
    """(whether the history row names its call, that call) from the row's data."""
    if not isinstance(data, dict) or "call_id" not in data:
        return False, frozenset()
    call = data["call_id"]
    return True, frozenset({call}) if isinstance(call, int) else frozenset()


class CaseReader:
    """Cases of one profile, read on the case store's engine."""

    def __init__(self, engine: AsyncEngine, profile: str) -> None:
        self._engine = engine
        self.profile = profile

    @classmethod
    def of(cls, store: CaseStore, profile: str) -> Self:
        """The cases kept in `store`'s database (the repository's own engine)."""
        return cls(store._engine, profile)

    # -- reading -------------------------------------------------------------------

    async def get(self, case_id: int) -> CaseRecord | None:
        found = await self._load(select(Case).where(Case.id == case_id))
        return found[0] if found else None

    async def by_number(self, number: str) -> CaseRecord | None:
        stmt = select(Case).where(Case.profile == self.profile, Case.number == number)
        found = await self._load(stmt)
        return found[0] if found else None

    async def search(
        self,
        *,
        kind: str | None = None,
        state: str | None = None,
        agency_id: str | None = None,
        unit_id: str | None = None,
        overdue_at: datetime | None = None,
        limit: int = 100,
    ) -> list[CaseRecord]:
        """Newest first; `overdue_at` keeps only cases with a clock past due then."""
        stmt = select(Case).where(Case.profile == self.profile)
        for column, value in (
            (Case.kind, kind),
            (Case.state, state),
            (Case.agency_id, agency_id),
            (Case.unit_id, unit_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if overdue_at is not None:
            late = select(CaseClockRow.case_id).where(
                CaseClockRow.stopped_at.is_(None),
                CaseClockRow.clock != CaseClock.DEIDENTIFY,
                CaseClockRow.due_at < require_utc_aware(overdue_at, "overdue_at"),
            )
            stmt = stmt.where(Case.id.in_(late))
        return await self._load(stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit))

    async def cases_of_ticket(self, ticket_id: int) -> list[tuple[str, str]]:
        """(case number, link role) of every case a ticket is linked to, oldest first."""
        stmt = (
            select(Case.number, CaseLink.role)
            .join(CaseLink, CaseLink.case_id == Case.id)
            .where(CaseLink.ticket_id == ticket_id)
            .order_by(CaseLink.id)
        )
        async with self._engine.connect() as conn:
            return [(str(n), str(r)) for n, r in (await conn.execute(stmt)).all()]

    async def cases_of_call(self, call_id: int) -> list[tuple[str, str]]:
        """(case number, state) of every case linked to the call, in linking order: the
        cases opened from it, and the open orders its reports merged into."""
        stmt = (
            select(Case.number, Case.state)
            .join(CaseLink, CaseLink.case_id == Case.id)
            .where(CaseLink.call_id == call_id)
            .order_by(CaseLink.id)
        )
        async with self._engine.connect() as conn:
            return [(str(n), str(s)) for n, s in (await conn.execute(stmt)).all()]

    async def event_id(self, case_id: int, action: str, key: str | None = None) -> int | None:
        """The history row an action wrote: the one with `key`, else its latest."""
        stmt = select(CaseEvent.id).where(CaseEvent.case_id == case_id)
        if key is not None:
            stmt = stmt.where(CaseEvent.idempotency_key == key)
        else:
            stmt = stmt.where(CaseEvent.action == action).order_by(CaseEvent.id.desc()).limit(1)
        async with self._engine.connect() as conn:
            found = (await conn.execute(stmt)).scalar()
        return None if found is None else int(found)

    async def key_use(self, key: str) -> KeyUse | None:
        """What the key `key` opened or merged before, or None if it is unused."""
        async with self._engine.connect() as conn:
            made = (await conn.execute(select(Case.id).where(Case.idempotency_key == key))).scalar()
            if made is not None:
                case_id, merged = int(made), False
                data = (
                    await conn.execute(
                        select(CaseEvent.data)
                        .where(CaseEvent.case_id == case_id, CaseEvent.action == CaseAction.CREATED)
                        .order_by(CaseEvent.id)
                        .limit(1)
                    )
                ).scalar()
            else:
                event = (
                    await conn.execute(
                        select(CaseEvent.case_id, CaseEvent.data).where(
                            CaseEvent.idempotency_key == key
                        )
                    )
                ).first()
                if event is None:
                    return None
                case_id, merged, data = int(event[0]), True, event[1]
            named, calls = _named_call(data)
            if not named:
                # Written before history rows named the call: a made case's first call
                # link is its creation's, a merge's link came after its row.
                links = select(CaseLink.call_id).where(
                    CaseLink.case_id == case_id,
                    CaseLink.role == "call",
                    CaseLink.call_id.is_not(None),
                )
                if not merged:
                    links = links.order_by(CaseLink.id).limit(1)
                found = (await conn.execute(links)).scalars()
                calls = frozenset(int(c) for c in found if c is not None)
        case = await self.get(case_id)
        if case is None:  # pragma: no cover - deleted between the two reads
            return None
        return KeyUse(case, merged, calls)

    async def events(self, case_id: int) -> list[CaseEventRecord]:
        stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            CaseEventRecord(
                id=r["id"],
                at=r["at"],
                who=r["who"],
                action=r["action"],
                state=r["state"],
                text=r["text"],
                data=dict(r["data"] or {}),
            )
            for r in rows
        ]

    async def links(self, case_id: int) -> list[LinkRecord]:
        stmt = select(CaseLink).where(CaseLink.case_id == case_id).order_by(CaseLink.id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [LinkRecord(r["role"], r["call_id"], r["ticket_id"], r["at"]) for r in rows]

    async def _load(self, stmt: Any) -> list[CaseRecord]:
        async with self._engine.connect() as conn:
            result = await conn.execute(stmt.with_only_columns(*Case.__table__.c))
            records = [dict(r) for r in result.mappings().all()]
            ids = [r["id"] for r in records]
            clocks: dict[int, list[ClockRecord]] = {i: [] for i in ids}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                crows = await conn.execute(
                    select(*CaseClockRow.__table__.c)
                    .where(CaseClockRow.case_id.in_(chunk))
                    .order_by(CaseClockRow.id)
                )
                for c in crows.mappings().all():
                    clocks[c["case_id"]].append(
                        ClockRecord(c["clock"], c["started_at"], c["due_at"], c["stopped_at"])
                    )
        return [
            CaseRecord(**{k: r[k] for k in _CASE_COLUMNS}, clocks=tuple(clocks[r["id"]]))
            for r in records
        ]

    # -- what the rules need -------------------------------------------------------

    async def open_orders(self, item: int) -> list[CaseRecord]:
        """Open dispatch orders of `item`: the candidates a new report merges into."""
        stmt = select(Case).where(
            Case.profile == self.profile,
            Case.kind == CaseKind.DISPATCH,
            Case.item == item,
            Case.state.in_([CaseState.OPEN, CaseState.ASSIGNED]),
        )
        return await self._load(stmt.order_by(Case.id))

    async def reports_by(self, caller_key: str, item: int) -> list[CaseRecord]:
        """This citizen's dispatch orders of `item`, for three strikes."""
        stmt = select(Case).where(
            Case.profile == self.profile,
            Case.kind == CaseKind.DISPATCH,
            Case.caller_key == caller_key,
            Case.item == item,
        )
        return await self._load(stmt.order_by(Case.id))

    async def closed_between(self, kind: str, start: datetime, end: datetime) -> list[CaseRecord]:
        stmt = select(Case).where(
            Case.profile == self.profile,
            Case.kind == kind,
            Case.state == CaseState.CLOSED,
            Case.closed_at >= require_utc_aware(start, "start"),
            Case.closed_at < require_utc_aware(end, "end"),
        )
        return await self._load(stmt.order_by(Case.id))

    async def overdue_dispatch(self, now: datetime) -> list[tuple[CaseRecord, ClockRecord]]:
        """Dispatch orders with a stage past due and still running at `now`."""
        now = require_utc_aware(now, "now")
        late = select(CaseClockRow.case_id).where(
            CaseClockRow.stopped_at.is_(None),
            CaseClockRow.clock.in_([CaseClock.STAGE1, CaseClock.STAGE2]),
            CaseClockRow.due_at < now,
        )
        stmt = select(Case).where(
            Case.profile == self.profile, Case.kind == CaseKind.DISPATCH, Case.id.in_(late)
        )
        out = []
        for case in await self._load(stmt.order_by(Case.id)):
            for clock in case.clocks:
                if (
                    clock.stopped_at is None
                    and clock.clock in ("stage1", "stage2")
                    and clock.due_at < now
                ):
                    out.append((case, clock))
        return out

    async def to_deidentify(self, before: datetime) -> list[CaseRecord]:
        """Cases with a de-identification clock started before `before` and not done."""
        due = select(CaseClockRow.case_id).where(
            CaseClockRow.clock == CaseClock.DEIDENTIFY,
            CaseClockRow.stopped_at.is_(None),
            CaseClockRow.started_at < require_utc_aware(before, "before"),
        )
        stmt = select(Case).where(Case.profile == self.profile, Case.id.in_(due))
        return await self._load(stmt.order_by(Case.id))
