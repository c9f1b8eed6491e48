"""The tables' queues as a waiting caller meets them (ivr.domain.queueing). Pure."""

from __future__ import annotations

from ivr.domain.queueing import QueuePolicy, queue_language
from ivr.routing.tables import LANGUAGE_CODES, RoutingTables


def queue_policies(tables: RoutingTables) -> dict[str, QueuePolicy]:
    langs = {q.id: queue_language(q.skills, LANGUAGE_CODES) for q in tables.agents.queues}
    return {
        q.id: QueuePolicy(
            queue=q.id,
            name=q.name,
            language=langs[q.id],
            offer_after_s=min(q.offer_after_s, q.max_wait_s),
            max_wait_s=q.max_wait_s,
            other_language_queue=q.other_language_queue,
            other_language=langs.get(q.other_language_queue or ""),
            whisper=q.whisper,
            offer_when_estimate_over_s=q.offer_when_estimate_over_s,
        )
        for q in tables.agents.queues
    }
