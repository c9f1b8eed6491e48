"""The agent's emergency three-way call from the page: 110 or 119 into the call on screen.

Only the agent whose screen shows the call may ask, and only while they are talking
to the caller: the agent's own phone must be the caller's bridge peer (BRIDGEPEER,
read over AMI), so no page can pull another agent's call. Only a number of the
tables' `emergency_lines` is dialled. Audited before the call is moved, as a
transfer is; the call's record tells what was asked and how the emergency line went
(ivr/adapters/threeway.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from ivr.adapters.ami import AmiActionFailed, AmiUnavailable
from ivr.adapters.threeway import ThreewayFailed
from ivr.adapters.threeway_parts import Line
from ivr.domain.threeway import NoSuchLine, line_for
from ivr.domain.vocabulary import ConferenceParty, EmergencyService
from ivr.store import audit
from ivr.web.call_actions import CallActionError, on_screen
from ivr.web.context import Console
from ivr.web.threeway_news import WRAPUP_DUE, agent_done

log = structlog.get_logger()


@dataclass(frozen=True)
class Started:
    service: EmergencyService
    number: str
    session: str


def lines(ctx: Console) -> list[tuple[str, str]]:
    """(service, number) the page offers: the tables' emergency lines."""
    return [(str(line.service), line.number) for line in ctx.tables().directory.emergency_lines]


async def _agent_channel(ctx: Console, citizen: str, extension: str) -> str:
    """The agent's channel bridged to `citizen`; refused unless it is this agent's phone."""
    assert ctx.ami is not None
    try:
        reply = await ctx.ami.action(
            {"Action": "Getvar", "Channel": citizen, "Variable": "BRIDGEPEER"}, single=True
        )
    except AmiUnavailable as exc:
        raise CallActionError("phone_down") from exc
    except AmiActionFailed as exc:
        raise CallActionError("call_gone") from exc
    peer = reply.get("Value", "")
    if not peer:
        raise CallActionError("threeway_not_talking")
    if not peer.startswith(f"PJSIP/{extension}-"):
        log.warning("threeway_not_own_call", peer=peer, extension=extension)
        raise CallActionError("threeway_not_talking")
    return peer


async def start(
    ctx: Console, agent_id: str, who: str, uniqueid: str, service: EmergencyService
) -> Started:
    """Conference `service` into the call on the agent's screen; the agent stays on it."""
    pop = on_screen(ctx, agent_id, uniqueid)
    if pop.get("threeway"):
        # A second click (or a reload) must not dial 119 twice.
        raise CallActionError("threeway_done_before")
    tables = ctx.tables()
    try:
        row = line_for(tables.directory.emergency_lines, service)
    except NoSuchLine as exc:
        raise CallActionError("threeway_no_line") from exc
    agent = next((a for a in tables.agents.agents if a.id == agent_id), None)
    if agent is None:
        raise CallActionError("threeway_not_talking")
    call = await ctx.store.get_call_by_uniqueid(uniqueid)
    if call is None:
        raise CallActionError("call_not_found")
    if call.ended_at is not None or not call.channel:
        raise CallActionError("call_gone")
    calls = ctx.threeway
    if calls is None or ctx.ami is None or not calls.available:
        raise CallActionError("phone_down")
    peer = await _agent_channel(ctx, call.channel, agent.extension)
    await audit.record(
        ctx.store,
        at=ctx.clock(),
        who=who,
        action="threeway",
        subject=f"call:{uniqueid}",
        detail=f"{service} ({row.number}) conferenced in from the agent's page",
    )
    pop["threeway"] = str(service)
    try:
        session = await calls.start(
            call_id=call.id,
            citizen=call.channel,
            agent=peer,
            line=Line(row.service, row.number, row.via),
            who=who,
            owner=agent_id,
        )
    except ThreewayFailed as exc:
        pop.pop("threeway", None)
        if pop.get(WRAPUP_DUE):
            # The queue call was moved and ended all the same: its wrap-up is due now.
            agent_done(ctx.hub, agent_id)
        log.info("console_threeway_refused", agent=agent_id, error=str(exc))
        raise CallActionError(exc.key) from exc
    if ConferenceParty.AGENT not in session.channels:
        # The agent's leg never reached the bridge: their part is over already.
        agent_done(ctx.hub, agent_id)
    log.info("console_threeway", agent=agent_id, service=str(service), session=session.id)
    return Started(service, row.number, session.id)
