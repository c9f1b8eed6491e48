"""The agent's page during a three-way call: what the emergency line did, and when
the agent's part ended.

The engine's three-way calls (ivr/adapters/threeway.py) tell their `News`; this turns
it into the page's words, kept on the agent's pop (a reload shows the last one) and
sent to the agent's open pages as a `threeway` event, which the page puts in a polite
live region (`#threeway-status`): a screen reader says "119 is busy" without focus
moving.

The wrap-up waits for the agent's part to end. Once the queue call is moved into the
bridge, the queue's report that the call is complete (AgentComplete) no longer says
that the agent is done: Asterisk 22 sends it when the caller hangs up, which may come
before the agent leaves the bridge. The wrap-up form is shown when the agent leaves
the bridge (or the three-way call could not be made), not before.
"""

from __future__ import annotations

from typing import Any

import structlog

from ivr.adapters.threeway import ThreeWayCalls
from ivr.adapters.threeway_parts import News
from ivr.domain.vocabulary import ConferenceParty
from ivr.web.context import Console
from ivr.web.hub import Message, PopHub
from ivr.web.i18n import Translate

log = structlog.get_logger()

# Keys this module keeps on the agent's pop.
NEWS = "threeway_news"
# The queue said the call was complete while the agent was still in the bridge.
WRAPUP_DUE = "threeway_wrapup_due"
# The agent's part of the three-way call is over: a wrap-up now is not early.
AGENT_DONE = "threeway_agent_done"
# The page's event name.
EVENT = "threeway"


def attach(ctx: Console, calls: ThreeWayCalls) -> None:
    """Give the page the console's three-way calls, and their news."""
    ctx.threeway = calls
    calls.listen(lambda news: on_news(ctx.hub, news))


def news_key(news: News) -> str | None:
    """The words (an i18n key's tail) for `news`; None: nothing to say."""
    if news.outcome is not None:
        return str(news.outcome)
    if news.over:
        return "over"
    if news.left == ConferenceParty.EMERGENCY:
        return "emergency_left"
    if news.left == ConferenceParty.CITIZEN:
        return "citizen_left"
    return None


def text(t: Translate, news: dict[str, Any]) -> str:
    """The page's sentence for a kept piece of news, in the user's language."""
    service = t(f"threeway_{news['service']}")
    return t(f"threeway_news_{news['key']}", number=news["number"], service=service)


def on_news(hub: PopHub, news: News) -> None:
    agent = news.owner
    pop = hub.last_pop.get(agent)
    if pop is None or pop.get("call_id") != news.call_id:
        # The page has moved on (wrapped up, a new call): nothing there to update.
        return
    key = news_key(news)
    if key is not None:
        told = {"key": key, "number": news.number, "service": str(news.service)}
        pop[NEWS] = told
        hub.publish(agent, Message(EVENT, told))
    if news.agent_gone:
        agent_done(hub, agent)


def defer_wrapup(hub: PopHub, agent: str) -> bool:
    """On AgentComplete: True (and the wrap-up is noted as due) while the agent's call
    is in a three-way bridge, so the wrap-up form is not shown yet."""
    pop = hub.last_pop.get(agent)
    if pop is None or not pop.get("threeway") or pop.get(AGENT_DONE):
        return False
    pop[WRAPUP_DUE] = True
    log.info("wrapup_after_threeway", agent=agent, uniqueid=pop.get("uniqueid"))
    return True


def agent_done(hub: PopHub, agent: str) -> None:
    """The agent's part ended (left the bridge, or it never was made): the wrap-up
    the queue asked for is shown now."""
    pop = hub.last_pop.get(agent)
    if pop is None:
        return
    pop[AGENT_DONE] = True
    if pop.pop(WRAPUP_DUE, False):
        wrapped = {**pop, "phase": "wrap_up"}
        hub.last_pop[agent] = wrapped
        hub.publish(agent, Message("pop", wrapped))
