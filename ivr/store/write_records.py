"""Every write to the case store as a typed record that carries its idempotency key.

A record is made once, by the writer, before the first try: the key goes with it into
the outage spool and into a unique column of the row it adds. Writing a record again
(a retry, a replay after a crash) finds its key taken and adds nothing: "insert, skip
on conflict". Records that change a row already there (an answer, an end, a finish)
are idempotent by their guard: the first change stands.

A record checks its values when it is made, so a bad write is refused at the caller,
never queued, spooled or replayed. `run` is the record's one statement group on a
connection, in a transaction the group committer owns (`ivr.store.batch`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import structlog
from sqlalchemy.engine import Connection

from ivr.store import writes
from ivr.store.checks import check_lengths, require_one_of
from ivr.store.models import (
    AGENT_STATES,
    ATTEMPT_ROLES,
    CALL_OUTCOMES,
    DIAL_STATUSES,
    TRANSFER_INITIATORS,
    TRANSFER_RESULTS,
    AgentState,
    Call,
    DialAttempt,
    SurveyRating,
    Transfer,
    clip_to_column,
    require_utc_aware,
)

log = structlog.get_logger(__name__)
R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True)
class Spooled:
    """What a write ran to when it was spooled instead: its provisional id, if it makes one
    (`ivr.adapters.durable`)."""

    pid: int | None = None


def _pid(ran: Spooled) -> int:
    assert ran.pid is not None, "a record that makes an id is spooled with a provisional one"
    return ran.pid


def new_key() -> str:
    """A fresh idempotency key: made by the writer, unique without asking the database."""
    return uuid.uuid4().hex


def _aware(record: object, *names: str) -> None:
    """Normalise the record's datetimes to UTC; refuse naive ones."""
    for name in names:
        value = getattr(record, name)
        if value is not None:
            object.__setattr__(record, name, require_utc_aware(value, name))


class Write(Generic[R_co]):
    """A write: its tag (its type's name in the spool), its key, and how it runs."""

    tag: ClassVar[str]
    # Fields that name another row by id: a provisional id of the spool is rewritten
    # to the real one before the record is written (`ivr.adapters.durable`).
    id_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def idempotency_key(self) -> str:
        key = getattr(self, "key", None)
        assert isinstance(key, str), self
        return key

    def run(self, conn: Connection) -> R_co:
        raise NotImplementedError

    def missing(self) -> str | None:
        """What a foreign-key refusal of this record means, if it can have one."""
        call_id = getattr(self, "call_id", None)
        return None if call_id is None else f"no call with id {call_id}"


@dataclass(frozen=True, kw_only=True)
class StartCall(Write[int]):
    """A new call; keyed by Asterisk's uniqueid, which the calls table holds unique."""

    tag: ClassVar[str] = "start_call"
    uniqueid: str
    linkedid: str
    channel: str
    caller_number: str | None
    caller_name: str | None
    dnid: str | None
    started_at: datetime
    mode: str | None = None
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self, "started_at", "answered_at")
        # What the caller's side sent is cut to fit, never refused: PostgreSQL would
        # reject a 10,000-character name, and the call would go unrecorded.
        for name in ("caller_number", "caller_name", "dnid"):
            object.__setattr__(self, name, clip_to_column(Call, name, getattr(self, name)))

    @property
    def idempotency_key(self) -> str:
        return self.uniqueid

    def run(self, conn: Connection) -> int:
        return writes.start_call(conn, self)

    def answer(self, ran: int | Spooled) -> int:
        return _pid(ran) if isinstance(ran, Spooled) else ran


@dataclass(frozen=True, kw_only=True)
class MarkAnswered(Write[bool]):
    tag: ClassVar[str] = "mark_answered"
    key: str
    uniqueid: str
    at: datetime

    def __post_init__(self) -> None:
        _aware(self, "at")

    def run(self, conn: Connection) -> bool:
        return writes.mark_answered(conn, self.uniqueid, self.at)

    def answer(self, ran: bool | Spooled) -> None:
        if ran is False:
            log.debug("case_store.mark_answered.ignored", uniqueid=self.uniqueid)


@dataclass(frozen=True, kw_only=True)
class AddEvent(Write["int | None"]):
    """One step of a call's timeline; runs to its seq, or None if there is no such call."""

    tag: ClassVar[str] = "add_event"
    id_fields: ClassVar[tuple[str, ...]] = ("call_id",)
    key: str
    call_id: int
    at: datetime
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _aware(self, "at")
        object.__setattr__(self, "data", dict(self.data))

    def run(self, conn: Connection) -> int | None:
        return writes.add_event(conn, self)

    def answer(self, ran: int | Spooled | None) -> int:
        """The event's seq; 0 when spooled (replay assigns it)."""
        if isinstance(ran, Spooled):
            return 0
        if ran is None:
            raise LookupError(f"no call with id {self.call_id}")
        return ran


@dataclass(frozen=True, kw_only=True)
class EndCall(Write[bool]):
    """Closes the call; an outcome of None keeps one set earlier."""

    tag: ClassVar[str] = "end_call"
    key: str
    uniqueid: str
    ended_at: datetime
    cause: int | None
    cause_text: str | None
    outcome: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "ended_at")
        if self.outcome is not None:
            require_one_of(self.outcome, CALL_OUTCOMES, "outcome")

    def run(self, conn: Connection) -> bool:
        return writes.end_call(conn, self)

    def answer(self, ran: bool | Spooled) -> bool:
        """Whether this end stands; True when spooled (the first end stands at replay)."""
        return True if isinstance(ran, Spooled) else ran


@dataclass(frozen=True, kw_only=True)
class SetOutcome(Write[bool]):
    tag: ClassVar[str] = "set_outcome"
    key: str
    uniqueid: str
    outcome: str

    def __post_init__(self) -> None:
        require_one_of(self.outcome, CALL_OUTCOMES, "outcome")

    def run(self, conn: Connection) -> bool:
        return writes.set_outcome(conn, self.uniqueid, self.outcome)

    def answer(self, ran: bool | Spooled) -> None:
        if ran is False:
            log.debug("case_store.set_outcome.ignored", uniqueid=self.uniqueid)


@dataclass(frozen=True, kw_only=True)
class RecordAgentState(Write[bool]):
    tag: ClassVar[str] = "record_agent_state"
    key: str
    agent_id: str
    state: str
    at: datetime
    queues: tuple[str, ...]
    reason: str | None = None
    call_uniqueid: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "at")
        require_one_of(self.state, AGENT_STATES, "state")
        if isinstance(self.queues, str):
            # A bare string is a sequence of str too, and would be stored one letter a queue.
            raise TypeError(f"queues must be a list of queue ids, got the string {self.queues!r}")
        object.__setattr__(self, "queues", tuple(self.queues))
        check_lengths(
            AgentState,
            {"agent_id": self.agent_id, "reason": self.reason, "call_uniqueid": self.call_uniqueid},
        )

    def run(self, conn: Connection) -> bool:
        return writes.record_agent_state(conn, self)

    def answer(self, ran: bool | Spooled) -> None:
        return None


@dataclass(frozen=True, kw_only=True)
class RecordRating(Write[bool]):
    """The caller's 1-5 rating; one a call, the first stands."""

    tag: ClassVar[str] = "record_rating"
    id_fields: ClassVar[tuple[str, ...]] = ("call_id",)
    key: str
    call_id: int
    rating: int
    agent_id: str | None
    queue: str | None
    at: datetime

    def __post_init__(self) -> None:
        _aware(self, "at")
        # bool is an int; a True from a yes/no prompt is not a rating of 1.
        if isinstance(self.rating, bool) or not 1 <= self.rating <= 5:
            raise ValueError(f"rating must be an integer 1 to 5, got {self.rating!r}")
        check_lengths(SurveyRating, {"agent_id": self.agent_id, "queue": self.queue})

    def run(self, conn: Connection) -> bool:
        return writes.record_rating(conn, self)

    def answer(self, ran: bool | Spooled) -> bool:
        """False if the call had a rating already; True when spooled."""
        return True if isinstance(ran, Spooled) else ran


@dataclass(frozen=True, kw_only=True)
class StartTransfer(Write[int]):
    tag: ClassVar[str] = "start_transfer"
    id_fields: ClassVar[tuple[str, ...]] = ("call_id",)
    key: str
    call_id: int
    initiated_by: str
    agency_id: str
    unit_id: str
    at: datetime

    def __post_init__(self) -> None:
        _aware(self, "at")
        require_one_of(self.initiated_by, TRANSFER_INITIATORS, "initiated_by")
        check_lengths(Transfer, {"agency_id": self.agency_id, "unit_id": self.unit_id})

    def run(self, conn: Connection) -> int:
        return writes.start_transfer(conn, self)

    def answer(self, ran: int | Spooled) -> int:
        return _pid(ran) if isinstance(ran, Spooled) else ran


@dataclass(frozen=True, kw_only=True)
class StartAttempt(Write["int | None"]):
    """A Dial() starting, for exactly one of a transfer and a ticket's callback; runs to
    the attempt's id, or None if that transfer or ticket does not exist."""

    tag: ClassVar[str] = "start_attempt"
    id_fields: ClassVar[tuple[str, ...]] = ("transfer_id", "ticket_id")
    key: str
    transfer_id: int | None = None
    ticket_id: int | None = None
    target: str
    role: str
    attempt: int
    at: datetime

    def __post_init__(self) -> None:
        _aware(self, "at")
        if (self.transfer_id is None) == (self.ticket_id is None):
            raise ValueError("give exactly one of transfer_id and ticket_id")
        require_one_of(self.role, ATTEMPT_ROLES, "role")
        if self.attempt < 1:
            raise ValueError(f"attempt counts from 1, got {self.attempt}")
        check_lengths(DialAttempt, {"target": self.target})

    def run(self, conn: Connection) -> int | None:
        return writes.start_attempt(conn, self)

    def answer(self, ran: int | Spooled | None) -> int:
        if isinstance(ran, Spooled):
            return _pid(ran)
        if ran is None:
            table = "transfers" if self.transfer_id is not None else "tickets"
            raise LookupError(f"no {table} row with id {self.transfer_id or self.ticket_id}")
        return ran


@dataclass(frozen=True, kw_only=True)
class FinishAttempt(Write[writes.Finish]):
    tag: ClassVar[str] = "finish_attempt"
    id_fields: ClassVar[tuple[str, ...]] = ("attempt_id",)
    key: str
    attempt_id: int
    at: datetime
    dialstatus: str | None
    hangup_cause: int | None
    ring_seconds: float | None

    def __post_init__(self) -> None:
        _aware(self, "at")
        if self.dialstatus is not None:
            require_one_of(self.dialstatus, DIAL_STATUSES, "dialstatus")

    def run(self, conn: Connection) -> writes.Finish:
        values = {
            "ended_at": self.at,
            "dialstatus": self.dialstatus,
            "hangup_cause": self.hangup_cause,
            "ring_seconds": self.ring_seconds,
        }
        return writes.finish_row(conn, DialAttempt, self.attempt_id, values)

    def answer(self, ran: writes.Finish | Spooled) -> None:
        if ran is writes.Finish.MISSING:
            raise LookupError(f"no dial attempt with id {self.attempt_id}")
        if ran is writes.Finish.ALREADY:
            log.debug("case_store.finish_attempt.already_finished", attempt_id=self.attempt_id)


@dataclass(frozen=True, kw_only=True)
class FinishTransfer(Write[writes.Finish]):
    tag: ClassVar[str] = "finish_transfer"
    id_fields: ClassVar[tuple[str, ...]] = ("transfer_id",)
    key: str
    transfer_id: int
    at: datetime
    result: str
    answered_by: str | None = None

    def __post_init__(self) -> None:
        _aware(self, "at")
        require_one_of(self.result, TRANSFER_RESULTS, "result")
        check_lengths(Transfer, {"answered_by": self.answered_by})

    def run(self, conn: Connection) -> writes.Finish:
        values = {"ended_at": self.at, "result": self.result, "answered_by": self.answered_by}
        return writes.finish_row(conn, Transfer, self.transfer_id, values)

    def answer(self, ran: writes.Finish | Spooled) -> bool:
        """False if it was closed already (the first close stands); True when spooled."""
        if isinstance(ran, Spooled):
            return True
        if ran is writes.Finish.MISSING:
            raise LookupError(f"no transfer with id {self.transfer_id}")
        return ran is writes.Finish.DONE
