"""A run of spooled records replayed in one transaction (`ivr.adapters.durable`).

Replaying a backlog one record per transaction is bounded by commits, not by work:
hundreds of records left by a restart of the database took longer to drain than the
engine took to spool them. A `ReplayGroup` carries consecutive records of the spool
and writes them in order in one transaction, as one write of the group committer.

Provisional ids. A record may name an id that an earlier record of the same group
makes (an event of a call whose start is in the group). The group learns each real
id as the record making it runs, inside the transaction, and rewrites the records
after it before they run; the ids are handed to the spool only once the group has
committed, so a group rolled back leaves no id behind that the database never kept.

All or nothing. A record that cannot be written (the row it belongs to is missing, a
provisional id nobody makes, a refusal of the database) raises `_GroupRefused` and
rolls the whole group back; the spool then writes that group's records one by one,
setting aside only the one refused. Every record keeps its idempotency key, so a
group committed before the engine died (or before a lost reply) adds nothing when it
is written again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

from ivr.store.write_records import AddEvent, StartAttempt, Write
from ivr.store.writes import Finish

# Records in one transaction at most: a backlog still commits in steady steps.
MAX_GROUP = 200


class _GroupRefused(Exception):  # never leaves the spool: private, as durable._Rejected
    """A record of the group cannot be written as it is: replay the group one by one."""


# (record, ids known so far) -> the record with the ids it names made real, and
# whether it still names a provisional id nobody has made.
Resolve = Callable[[Write[Any], dict[int, int]], tuple[Write[Any], bool]]


@dataclass
class ReplayGroup(Write[list[Any]]):
    """Consecutive spooled records, written in order in one transaction.

    `pids` holds each record's provisional id (None for a record that makes no id).
    After `run`, `written` holds the records as written (their ids made real) and
    `made` the real id of each provisional id the group made; `records` stay as
    given, so a run again starts from them.
    """

    tag: ClassVar[str] = "replay_group"
    records: list[Write[Any]]
    pids: Sequence[int | None]
    resolve: Resolve
    written: list[Write[Any]] = field(default_factory=list)
    made: dict[int, int] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        # Never stored: each record of the group carries its own key.
        return ",".join(r.idempotency_key for r in self.records)

    def run(self, conn: Connection) -> list[Any]:
        # A retry of the group (the committer retries a batch write by write) starts
        # from nothing: the ids of a rolled-back run are not ids.
        made: dict[int, int] = {}
        written: list[Write[Any]] = []
        results: list[Any] = []
        for spooled, pid in zip(self.records, self.pids, strict=True):
            record, unresolved = self.resolve(spooled, made)
            if unresolved:
                raise _GroupRefused(f"{record.tag} names a record that was never written")
            result = record.run(conn)
            if result is None and isinstance(record, (AddEvent, StartAttempt)):
                raise _GroupRefused(f"{record.tag}: the row it belongs to does not exist")
            if result is Finish.MISSING:
                raise _GroupRefused(f"{record.tag}: the row it finishes does not exist")
            if pid is not None and isinstance(result, int):
                made[pid] = result
            written.append(record)
            results.append(result)
        self.written, self.made = written, made
        return results
