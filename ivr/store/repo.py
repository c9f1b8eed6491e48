"""Case store: calls, transfers, callback tickets and their histories, on SQLite or PostgreSQL.

`CaseStore` is the one repository, composed of one part per area; each part lives in
its own module, and `ivr.store.ports` says what the engine and the CLI may ask of it.
Every write is a typed record with an idempotency key (`ivr.store.write_records`),
run by the group committer. The names below are re-exported so that importers of
this module keep working.
"""

from __future__ import annotations

from ivr.store.agents import AgentsArea
from ivr.store.calls import CallsArea
from ivr.store.core import MIGRATIONS_DIR, StoreCore
from ivr.store.engine_writes import EngineWrites
from ivr.store.outage import StoreUnavailable
from ivr.store.ports import CaseStorePort
from ivr.store.reports import ReportsArea
from ivr.store.ticket_records import TICKET_NUMBER_MIN_SEQ_DIGITS, TICKET_NUMBER_TZ
from ivr.store.ticket_workflow import TICKET_TRANSITIONS, InvalidTransition
from ivr.store.tickets import TicketsArea
from ivr.store.transfers import TransfersArea
from ivr.store.views import (
    AgentStateRecord,
    CallEventRecord,
    CallRecord,
    ClosureRecord,
    DialAttemptRecord,
    ModeChange,
    SurveyRecord,
    TicketEventRecord,
    TicketNoteRecord,
    TicketRecord,
    TransferRecord,
    UnitStats,
)

__all__ = [
    "MIGRATIONS_DIR",
    "TICKET_NUMBER_MIN_SEQ_DIGITS",
    "TICKET_NUMBER_TZ",
    "TICKET_TRANSITIONS",
    "AgentStateRecord",
    "CallEventRecord",
    "CallRecord",
    "CaseStore",
    "ClosureRecord",
    "DialAttemptRecord",
    "InvalidTransition",
    "ModeChange",
    "StoreUnavailable",
    "SurveyRecord",
    "TicketEventRecord",
    "TicketNoteRecord",
    "TicketRecord",
    "TransferRecord",
    "UnitStats",
]


class CaseStore(
    EngineWrites, CallsArea, TransfersArea, TicketsArea, AgentsArea, ReportsArea, StoreCore
):
    """Async repository for calls, transfers, tickets, agents and the report; a call's
    writes come from `EngineWrites`, shared with the outage spool."""


def _provides(store: CaseStore) -> CaseStorePort:
    # Checked by mypy: the repository keeps every promise of its Protocol.
    return store
