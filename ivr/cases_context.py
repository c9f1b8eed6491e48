"""What case operations share: the context they run in, finding a case, its facts.

A `CaseContext` is the case store of one profile with that profile's routing tables,
office calendar, reply templates and mailer. `find` reads a case by its number;
`case_facts` and `allowed_move` put it to the pure rules (`ivr.domain.cases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from ivr.domain.calendar import Calendar, DayOff, with_days_off
from ivr.domain.cases.deadlines import DispatchItem
from ivr.domain.cases.move_refusals import CaseMoveRefused
from ivr.domain.cases.numbers import BadCaseNumber, parse_case_number
from ivr.domain.cases.workflow import CaseFacts, Move, decide
from ivr.domain.tickets import Mail
from ivr.domain.vocabulary import CaseAction, CaseGrade, CaseKind, CaseState
from ivr.domain.workdays import closure_days
from ivr.errors import ExitStatus, HotlineError
from ivr.routing.replies import ReplyTemplates, load_replies
from ivr.routing.tables import RoutingTables
from ivr.store.cases import CaseBook, CaseRecord


class CaseError(HotlineError):
    """A case command cannot do what was asked; the message says why, in one line."""

    code = "case.refused"
    exit_status = ExitStatus.REFUSED


# Refusals a page shows in its user's language: each its own code (the console maps
# codes to words, ivr/web/refusals.py), and `details` for the words' blanks. The
# message stays the CLI's line.


class CaseNeedsText(CaseError):
    code = "case.needs_text"


class CaseNeedsResult(CaseError):
    code = "case.needs_result"


class CaseNeedsAgency(CaseError):
    code = "case.needs_agency"


class CaseNeedsPlace(CaseError):
    code = "case.needs_place"


class CaseNeedsItem(CaseError):
    code = "case.needs_item"


class CaseUnknownItem(CaseError):
    code = "case.unknown_item"


class CaseUnknownAgency(CaseError):
    code = "case.unknown_agency"


class CaseUnknownUnit(CaseError):
    code = "case.unknown_unit"


class CaseNeedsOfficer(CaseError):
    code = "case.needs_officer"


class CaseNoSuchCase(CaseError):
    code = "case.no_such_case"


# Moving a case: re-assigning it to another agency (轉派), converting a dispatch order
# to a petition, merging one order into another.


class ReassignNeedsAgency(CaseError):
    code = "case.reassign_needs_agency"


class ReassignNeedsReason(CaseError):
    code = "case.reassign_needs_reason"


class ConvertDispatchOnly(CaseError):
    code = "case.convert_dispatch_only"


class MergeIntoItself(CaseError):
    code = "case.merge_into_itself"


class MergeDispatchOnly(CaseError):
    code = "case.merge_dispatch_only"


class MergeIntoClosed(CaseError):
    code = "case.merge_into_closed"


class CaseKeyReused(CaseError):
    """The idempotency key of "open a case" was used for another call's case.

    A repeat on the same call answers with the first case; on another call it would
    link that case to a call it did not come from, so it is refused and writes nothing.
    """

    code = "case.key_reused"


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


@dataclass
class CaseContext:
    """What case operations need besides the store: the profile's tables and a mailer."""

    book: CaseBook
    tables: RoutingTables
    office: Calendar
    replies: ReplyTemplates = field(default_factory=ReplyTemplates)
    mailer: Mailer | None = None

    @cached_property
    def items(self) -> dict[int, DispatchItem]:
        # Built once per context: every case opened or moved asks for it.
        return self.tables.dispatch.domain_items()

    @property
    def merge_radius_m(self) -> float:
        return self.tables.dispatch.merge_radius_m

    def calendar_for(self, agency_id: str | None) -> Calendar:
        """The working calendar of an agency: the office calendar and its own days off."""
        for a in self.tables.directory.agencies:
            if a.id == agency_id and a.days_off:
                return with_days_off(self.office, {d.date: DayOff(d.name) for d in a.days_off})
        return self.office

    def agency_ids(self) -> set[str]:
        return {a.id for a in self.tables.directory.agencies}

    def units_of(self, agency_id: str) -> set[str]:
        for a in self.tables.directory.agencies:
            if a.id == agency_id:
                return {u.id for u in a.units}
        return set()


def context_for(
    book: CaseBook,
    tables: RoutingTables,
    office: Calendar,
    profile_dir: Path | None = None,
    closures: Sequence[Any] = (),
    mailer: Mailer | None = None,
) -> CaseContext:
    """A context whose calendar also knows the declared closures (typhoon days)."""
    cal = with_days_off(office, closure_days(closures)) if closures else office
    replies = load_replies(profile_dir) if profile_dir is not None else ReplyTemplates()
    return CaseContext(book, tables, cal, replies, mailer)


async def find(ctx: CaseContext, ref: str) -> CaseRecord:
    """A case by its number (checked digit by digit), or else by its id."""
    case = None
    try:
        parse_case_number(ref)
        case = await ctx.book.by_number(ref.strip().replace(" ", "").replace("-", ""))
    except BadCaseNumber as exc:
        if ref.startswith("id:") and ref[3:].isdigit():
            case = await ctx.book.get(int(ref[3:]))
        elif not ref.isdigit():
            raise CaseError(f"{ref!r}: {exc}") from exc
        else:
            raise CaseError(f"no case {ref}: {exc}") from exc
    if case is None:
        raise CaseNoSuchCase(f"no case {ref} in profile {ctx.book.profile}", details={"ref": ref})
    return case


def case_facts(ctx: CaseContext, case: CaseRecord) -> CaseFacts:
    item = ctx.items.get(case.item) if case.item is not None else None
    return CaseFacts(
        kind=CaseKind(case.kind),
        state=CaseState(case.state),
        received_at=case.created_at,
        item=item,
        running=frozenset(case.running),  # type: ignore[arg-type]
        grade=CaseGrade(case.grade) if case.grade else None,
    )


def allowed_move(ctx: CaseContext, case: CaseRecord, action: CaseAction, at: datetime) -> Move:
    """The rules' move for `action` on the case, or CaseError naming the case."""
    try:
        return decide(case_facts(ctx, case), action, at, ctx.calendar_for(case.agency_id))
    except CaseMoveRefused as exc:
        raise CaseError(f"case {case.number}: {exc}") from exc
