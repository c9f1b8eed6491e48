"""Checks of agents.yaml's queue waiting settings (ivr.domain.queueing). Pure.

A queue's `other_language_queue` is the only way a caller reaches agents without the
language they chose, and only by pressing the key that accepts it; these checks keep
that one door a door, not a chain of overflows.
"""

from __future__ import annotations

from ivr.domain.queueing import queue_language
from ivr.routing.tables import LANGUAGE_CODES, AgentsTable
from ivr.routing.yaml_read import Loc


def queue_problems(agents: AgentsTable) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    by_id = {q.id: q for q in agents.queues}
    for i, queue in enumerate(agents.queues):
        other_id = queue.other_language_queue
        if other_id is None:
            continue
        loc: Loc = ("queues", i, "other_language_queue")
        other = by_id.get(other_id)
        if other is None:
            found.append((loc, f"no queue {other_id!r} in agents.yaml"))
            continue
        if other.id == queue.id:
            found.append((loc, "a queue cannot be its own other-language queue"))
            continue
        mine = queue_language(queue.skills, LANGUAGE_CODES)
        theirs = queue_language(other.skills, LANGUAGE_CODES)
        if mine == theirs:
            found.append(
                (
                    loc,
                    f"queue {other_id!r} serves the same language ({mine}); key 3 offers "
                    "agents of another language",
                )
            )
        if other.other_language_queue is not None:
            # A second hop would take the caller further from their language than the
            # one choice they accepted.
            found.append(
                (
                    loc,
                    f"queue {other_id!r} has an other_language_queue of its own: a caller "
                    "accepts one other language, never a chain of them",
                )
            )
    return found
