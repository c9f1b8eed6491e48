"""The satisfaction survey after an agent hangs up first (T8): one key, 1 to 5."""

from __future__ import annotations

from ivr.domain.vocabulary import CallOutcome
from ivr.flow.call import Call

SURVEY_TRIES = 2
QUESTION = "survey-question"
THANKS = "survey-thanks"
RATINGS = frozenset("12345")


async def survey(call: Call, agent: str, queue: str) -> None:
    for _ in range(SURVEY_TRIES):
        key, _timed_out = await call.session.get_data(call.prompt(QUESTION), 6000, 1)
        if key in RATINGS:
            saved = await call.store.record_rating(
                call.call_id, int(key), agent_id=agent, queue=queue, at=call.now()
            )
            call.event("survey", rating=int(key), agent=agent, queue=queue, saved=saved)
            await call.play(THANKS, "survey")
            await call.finish(CallOutcome.SURVEYED)
            return
        call.event("survey_invalid", key=key)
    await call.finish(CallOutcome.QUEUED)
