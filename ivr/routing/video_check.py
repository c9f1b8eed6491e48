"""Checks of agents.yaml's sign-language video queue (ivr.domain.video). Pure.

A video caller skips the voice menus and every spoken choice, so the one queue they
reach must be rung only at agents who sign, on phones offered the caller's video
codec: Asterisk cannot transcode video, both legs must share a codec.
"""

from __future__ import annotations

from ivr.domain.video import SIGN_LANGUAGE
from ivr.routing.cross_base import dupes
from ivr.routing.tables import AgentsTable
from ivr.routing.yaml_read import Loc


def video_problems(agents: AgentsTable) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    first: str | None = None
    for i, queue in enumerate(agents.queues):
        if queue.video_codecs is None:
            continue
        at: Loc = ("queues", i, "video_codecs")
        if first is not None:
            found.append(
                (at, f"queue {first!r} is already the video queue: video calls go to one queue")
            )
        first = first or queue.id
        for codec in sorted(str(c) for c in dupes(queue.video_codecs)):
            found.append((at, f"{codec} is listed twice"))
        if SIGN_LANGUAGE not in queue.skills:
            found.append(
                (
                    ("queues", i, "skills"),
                    f"a video queue's agents must have the {SIGN_LANGUAGE} skill: its callers "
                    "skip the voice menus and may not hear; add it to the queue's skills",
                )
            )
        if queue.other_language_queue is not None:
            found.append(
                (
                    ("queues", i, "other_language_queue"),
                    "a video caller cannot hear the spoken key-3 offer; a video queue has none",
                )
            )
    return found
