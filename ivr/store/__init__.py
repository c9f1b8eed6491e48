"""Case store: calls and their timelines, service modes, agent states, survey ratings,
transfers with their dial attempts, and callback tickets with their audit trail."""

from pathlib import Path

# Tables of their own modules join the one metadata the migrations are checked against.
from ivr.store import cases_models as _cases_models  # noqa: F401
from ivr.store import outbox_models as _outbox_models  # noqa: F401
from ivr.store import queue_legs_models as _queue_legs_models  # noqa: F401
from ivr.store import queued_callbacks_models as _queued_callbacks_models  # noqa: F401
from ivr.store import routing_versions_models as _routing_versions_models  # noqa: F401
from ivr.store import users_models as _users_models  # noqa: F401
from ivr.store.ports import CaseStorePort, EngineStore
from ivr.store.repo import (
    TICKET_TRANSITIONS,
    AgentStateRecord,
    CallEventRecord,
    CallRecord,
    CaseStore,
    ClosureRecord,
    DialAttemptRecord,
    InvalidTransition,
    ModeChange,
    StoreUnavailable,
    SurveyRecord,
    TicketEventRecord,
    TicketNoteRecord,
    TicketRecord,
    TransferRecord,
    UnitStats,
)

__all__ = [
    "TICKET_TRANSITIONS",
    "AgentStateRecord",
    "CallEventRecord",
    "CallRecord",
    "CaseStore",
    "CaseStorePort",
    "ClosureRecord",
    "DialAttemptRecord",
    "EngineStore",
    "InvalidTransition",
    "ModeChange",
    "StoreUnavailable",
    "SurveyRecord",
    "TicketEventRecord",
    "TicketNoteRecord",
    "TicketRecord",
    "TransferRecord",
    "UnitStats",
    "default_sqlite_url",
]


def default_sqlite_url(path: Path) -> str:
    """URL of the embedded SQLite case store at `path` (made absolute)."""
    return "sqlite+aiosqlite:///" + str(path.resolve())
