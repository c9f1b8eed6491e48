"""The emergency three-way call's hands: AMI moves the call into our ARI app, ARI
bridges it and dials 110/119 into the bridge. The decisions are ivr/domain/threeway.py.

1. AMI Redirect moves both legs of the agent's queue call, the citizen's channel and
   (ExtraChannel) the agent's, into [hotline-threeway], which hands each to our
   Stasis application with the session's id: queue calls are bridged natively by
   Asterisk, outside ARI's reach, until they enter the app.
2. A mixing bridge takes both: the citizen and the agent keep talking.
3. The emergency leg is created in the app and dialled over the line's trunk; when it
   answers (ARI `Dial` ANSWER) it joins the bridge. Busy, no answer or a refusal is
   recorded, and changes nothing for the two already bridged.
4. Whoever leaves (StasisEnd), the domain says who stays; the last one alone is hung
   up and the bridge destroyed.

The call's record gets `threeway` (asked: service, number, agent), `threeway_dial`
(the emergency leg's outcome) and `threeway_left` (who left, and who was ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from ivr.adapters import ari_bridges as bridges
from ivr.adapters import threeway_parts as label
from ivr.adapters.ami import AmiActionFailed, AmiClient, AmiUnavailable
from ivr.adapters.ari import (
    AriClient,
    AriError,
    AriEvent,
    AriNotFound,
    ChannelDestroyed,
    ChannelInfo,
    Dial,
    LinkUp,
    StasisEnd,
    StasisStart,
)
from ivr.adapters.threeway_parts import Line, Listener, News
from ivr.domain import threeway as rules
from ivr.domain.clock import Clock
from ivr.domain.vocabulary import ConferenceParty, ThreewayOutcome
from ivr.errors import ExitStatus, HotlineError
from ivr.store.ports import EngineStore

log = structlog.get_logger()

# The dialplan context that hands a redirected channel to the app ([hotline-threeway]).
CONTEXT = "hotline-threeway"
# Where a citizen goes when the bridge cannot be made: the next free agent.
QUEUE_CONTEXT = "hotline-queue"
# The first argument our app sees from that context and from the emergency leg.
APP_ARG = "threeway"
# Both legs reach the app within this after the redirect, or one of them is gone.
ENTER_S = 10.0
# How long the emergency line rings (as the IVR's emergency destination).
RING_S = 60


class ThreewayFailed(HotlineError):
    """The three-way call could not be set up; `key` says why ("call_gone", "phone_down")."""

    code = "threeway.failed"
    exit_status = ExitStatus.UNAVAILABLE

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key


@dataclass
class Session:
    id: str
    call_id: int
    line: Line
    # Who asked (the agent's id): whose page is told how it goes.
    owner: str = ""
    channels: dict[ConferenceParty, str] = field(default_factory=dict)
    conference: rules.Conference = field(default_factory=rules.started)
    outcome: ThreewayOutcome | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The bridge holds the citizen and the agent (set up, or taken back on a connect).
    bridged: bool = False

    def party_of(self, channel_id: str) -> ConferenceParty | None:
        return next((p for p, c in self.channels.items() if c == channel_id), None)

    @property
    def emergency_id(self) -> str:
        return f"{self.id}-e"


class ThreeWayCalls:
    def __init__(self, ari: AriClient, ami: AmiClient, store: EngineStore, clock: Clock) -> None:
        self._ari = ari
        self._ami = ami
        self._store = store
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        # session id -> channel name -> future of its ARI channel id
        self._entering: dict[str, dict[str, asyncio.Future[str]]] = {}
        self._listeners: list[Listener] = []
        ari.subscribe(self._on_event)

    @property
    def available(self) -> bool:
        return self._ami.connected and self._ari.connected

    def session(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def listen(self, listener: Listener) -> None:
        """Call `listener` with every `News` (outcome, who left, the end)."""
        self._listeners.append(listener)

    def _tell(self, session: Session, **what: Any) -> None:
        news = News(
            session.id,
            session.call_id,
            session.owner,
            session.line.service,
            session.line.number,
            **what,
        )
        for listener in list(self._listeners):
            try:
                listener(news)
            except Exception:
                # A listener (a page) must never stop the call's own handling.
                log.exception("threeway_listener_failed", session=session.id)

    async def start(
        self, *, call_id: int, citizen: str, agent: str, line: Line, who: str, owner: str = ""
    ) -> Session:
        """Bridge the citizen and the agent in our app and dial `line` into the bridge.

        `citizen` and `agent` are channel names; returns once the two are bridged and
        the emergency line is being dialled.
        """
        if not self.available:
            raise ThreewayFailed("phone_down")
        session = Session(id=f"tw-{uuid.uuid4().hex[:16]}", call_id=call_id, line=line, owner=owner)
        loop = asyncio.get_running_loop()
        entering = {citizen: loop.create_future(), agent: loop.create_future()}
        self._entering[session.id] = entering
        try:
            await self._redirect(session.id, citizen, agent)
            done, _ = await asyncio.wait(entering.values(), timeout=ENTER_S)
        finally:
            del self._entering[session.id]
        arrived = {name: f.result() for name, f in entering.items() if f in done}
        if citizen not in arrived:
            # The citizen hung up on the way: the agent would sit in silence.
            for channel_id in arrived.values():
                with contextlib.suppress(AriError):
                    await self._ari.hangup(channel_id)
            raise ThreewayFailed("call_gone")
        session.channels[ConferenceParty.CITIZEN] = arrived[citizen]
        if agent in arrived:
            session.channels[ConferenceParty.AGENT] = arrived[agent]
        else:
            session.conference = rules.left(session.conference, ConferenceParty.AGENT).conference
        self._sessions[session.id] = session
        await self._record(
            call_id,
            "threeway",
            {"service": str(line.service), "number": line.number, "by": who, "id": session.id},
        )
        # Its name says whose call it is and who is who: an engine restarted meanwhile
        # takes the bridge back by it (threeway_parts.py).
        name = label.Label(
            call_id,
            line.service,
            line.number,
            arrived[citizen],
            arrived.get(agent, ""),
            owner,
        ).name()
        try:
            await bridges.create_bridge(self._ari, session.id, name)
            await bridges.add_channels(self._ari, session.id, list(session.channels.values()))
        except AriError as exc:
            await self._unbridged(session, exc)
        session.bridged = True
        # Dialled only once it is in the app (its StasisStart): `create` answers before
        # Asterisk's thread has put it there, and a dial sent sooner is refused (409).
        created = loop.create_future()
        self._entering[session.id] = {session.emergency_id: created}
        try:
            await bridges.create_channel(
                self._ari,
                line.endpoint,
                channel_id=session.emergency_id,
                app_args=[APP_ARG, session.id, "emergency"],
                originator=arrived[citizen],
            )
            session.channels[ConferenceParty.EMERGENCY] = session.emergency_id
            await asyncio.wait([created], timeout=ENTER_S)
            await bridges.dial(self._ari, session.emergency_id, RING_S)
        except AriError as exc:
            log.warning("threeway_setup_failed", session=session.id, error=str(exc))
            await self._dial_over(session, ThreewayOutcome.FAILED, str(exc))
        finally:
            self._entering.pop(session.id, None)
        log.info("threeway_dialling", session=session.id, service=str(line.service))
        return session

    async def _unbridged(self, session: Session, exc: AriError) -> None:
        """No bridge: the citizen goes back to the queue (never dropped), the agent ends."""
        log.warning("threeway_bridge_failed", session=session.id, error=str(exc))
        self._sessions.pop(session.id, None)
        with contextlib.suppress(AriError):
            await self._ari.continue_in_dialplan(
                session.channels[ConferenceParty.CITIZEN], QUEUE_CONTEXT, "s", 1
            )
        agent = session.channels.get(ConferenceParty.AGENT)
        if agent is not None:
            with contextlib.suppress(AriError):
                await self._ari.hangup(agent)
        with contextlib.suppress(AriError):
            await bridges.destroy_bridge(self._ari, session.id)
        raise ThreewayFailed("phone_down", str(exc)) from exc

    async def _redirect(self, session_id: str, citizen: str, agent: str) -> None:
        request = {
            "Action": "Redirect",
            "Channel": citizen,
            "ExtraChannel": agent,
            "Context": CONTEXT,
            "Exten": f"c-{session_id}",
            "Priority": "1",
            "ExtraContext": CONTEXT,
            "ExtraExten": f"a-{session_id}",
            "ExtraPriority": "1",
        }
        try:
            await self._ami.action(request, single=True)
        except AmiUnavailable as exc:
            raise ThreewayFailed("phone_down") from exc
        except AmiActionFailed as exc:
            # "Channel does not exist": the call ended between the page and the click.
            raise ThreewayFailed("call_gone", str(exc)) from exc

    async def _record(self, call_id: int, kind: str, data: Mapping[str, Any]) -> None:
        # Through the engine's outage-proof store: spooled when the database is down.
        await self._store.add_event(call_id, at=self._clock(), kind=kind, data=data)

    # events -----------------------------------------------------------------

    async def _on_event(self, event: AriEvent) -> None:
        if isinstance(event, LinkUp):
            await self._take_back()
        elif isinstance(event, StasisStart) and event.args[:1] == (APP_ARG,):
            waiting = self._entering.get(event.args[1] if len(event.args) > 1 else "", {})
            future = waiting.get(event.channel.name) or waiting.get(event.channel.id)
            if future is not None and not future.done():
                future.set_result(event.channel.id)
        elif isinstance(event, Dial):
            session = self._of_channel(event.peer_id)
            if session is not None and event.peer_id == session.emergency_id:
                await self._on_dial(session, event.dialstatus)
        elif isinstance(event, StasisEnd):
            session = self._of_channel(event.channel.id)
            if session is not None:
                await self._on_left(session, event.channel.id)
        elif isinstance(event, ChannelDestroyed):
            session = self._of_channel(event.channel.id)
            if session is not None and event.channel.id == session.emergency_id:
                await self._on_unanswered_end(session, event.cause, event.cause_txt)

    def _of_channel(self, channel_id: str) -> Session | None:
        for session in self._sessions.values():
            if channel_id in session.channels.values() or channel_id == session.emergency_id:
                return session
        return None

    async def _on_dial(self, session: Session, dialstatus: str) -> None:
        outcome = rules.dial_outcome(dialstatus)
        if outcome is None:
            return
        async with session.lock:
            if session.outcome is not None:
                return
            if outcome != ThreewayOutcome.ANSWERED:
                await self._dial_over(session, outcome, dialstatus)
                return
            session.outcome = outcome
            step = rules.answered(session.conference)
            try:
                await bridges.add_channels(self._ari, session.id, [session.emergency_id])
            except AriError as exc:
                log.warning("threeway_join_failed", session=session.id, error=str(exc))
            await self._record(
                session.call_id,
                "threeway_dial",
                {"service": str(session.line.service), "outcome": str(outcome)},
            )
            self._tell(session, outcome=outcome)
            await self._apply(session, step)

    async def _on_unanswered_end(self, session: Session, cause: int, text: str) -> None:
        """The emergency leg ended before any final dial status: its cause tells why."""
        async with session.lock:
            if session.outcome is None:
                await self._dial_over(session, rules.ended_outcome(cause), text or str(cause))

    async def _dial_over(self, session: Session, outcome: ThreewayOutcome, detail: str) -> None:
        session.outcome = outcome
        await self._record(
            session.call_id,
            "threeway_dial",
            {"service": str(session.line.service), "outcome": str(outcome), "detail": detail},
        )
        self._tell(session, outcome=outcome)
        session.channels.pop(ConferenceParty.EMERGENCY, None)
        await self._apply(session, rules.dial_ended(session.conference))

    async def _on_left(self, session: Session, channel_id: str) -> None:
        async with session.lock:
            party = session.party_of(channel_id)
            if channel_id == session.emergency_id and session.outcome is None:
                # Ended unanswered: ChannelDestroyed, next, carries the cause (busy...).
                return
            if party is None:
                return
            session.channels.pop(party, None)
            step = rules.left(session.conference, party)
            await self._record(
                session.call_id,
                "threeway_left",
                {"party": str(party), "ended": sorted(str(p) for p in step.hang_up)},
            )
            self._tell(session, left=party, ended=step.hang_up)
            await self._apply(session, step)

    async def _apply(self, session: Session, step: rules.Next) -> None:
        session.conference = step.conference
        ends = set(step.hang_up)
        if step.cancel_dial:
            ends.add(ConferenceParty.EMERGENCY)
        if step.cancel_dial and session.outcome is None:
            session.outcome = ThreewayOutcome.CANCELLED
            await self._record(
                session.call_id,
                "threeway_dial",
                {"service": str(session.line.service), "outcome": str(session.outcome)},
            )
            self._tell(session, outcome=session.outcome)
        for party in ends:
            channel_id = session.channels.pop(party, None)
            if party == ConferenceParty.EMERGENCY and step.cancel_dial:
                channel_id = session.emergency_id
            if channel_id is not None:
                with contextlib.suppress(AriError):
                    await self._ari.hangup(channel_id)
        if step.destroy_bridge:
            with contextlib.suppress(AriError):
                await bridges.destroy_bridge(self._ari, session.id)
            self._sessions.pop(session.id, None)
            log.info("threeway_over", session=session.id)
            self._tell(session, over=True)

    # the engine came back ---------------------------------------------------

    async def _take_back(self) -> None:
        """On every (re)connect: the three-way bridges Asterisk kept while we were away.

        Nothing that happened meanwhile was sent to us. Each bridge is taken back by its
        label, and the rules applied to who is in it now (one left alone is let go);
        a channel parked on its way in, with no bridge, is put back: the citizen to
        the queue (never dropped), the agent's leg and a lone emergency leg hung up.
        """
        try:
            found = [b for b in await bridges.list_bridges(self._ari) if b.id.startswith("tw-")]
            channels = await self._ari.list_channels()
        except AriError as exc:
            log.warning("threeway_take_back_failed", error=str(exc))
            return
        kept = {b.id for b in found}
        for session in list(self._sessions.values()):
            if session.bridged and session.id not in kept:
                # Gone with its channels (Asterisk restarted): nothing left to end.
                self._sessions.pop(session.id, None)
                self._tell(session, over=True)
        # All registered before the next await: an event for them from here on finds
        # its session and waits on its lock, under which the bridge is read again.
        taken = [s for s in (self._session_of(info) for info in found) if s is not None]
        for session in taken:
            await self._resume(session)
        in_bridges = {c for b in found for c in b.channels}
        for channel in channels:
            if channel.id not in in_bridges and not self._is_starting(channel):
                await self._put_back(channel, kept)

    def _session_of(self, info: bridges.BridgeInfo) -> Session | None:
        """The session of a kept bridge: ours already, or rebuilt from its label."""
        known = self._sessions.get(info.id)
        if known is not None:
            # A session that start() is still setting up sees its own events.
            return known if known.bridged else None
        tag = label.parse(info.name)
        if tag is None:
            log.warning("threeway_bridge_unknown", bridge=info.id, name=info.name)
            return None
        line = Line(tag.service, tag.number, "")
        session = Session(info.id, tag.call_id, line, owner=tag.owner, bridged=True)
        session.channels = {ConferenceParty.CITIZEN: tag.citizen}
        if tag.agent:
            session.channels[ConferenceParty.AGENT] = tag.agent
        session.channels[ConferenceParty.EMERGENCY] = session.emergency_id
        self._sessions[session.id] = session
        return session

    async def _resume(self, session: Session) -> None:
        async with session.lock:
            try:
                info = await bridges.get_bridge(self._ari, session.id)
                ringing = False
                if session.outcome is None and session.emergency_id not in info.channels:
                    # Still ringing: its channel lives, outside the bridge.
                    ringing = await self._alive(session.emergency_id)
            except AriNotFound:
                self._sessions.pop(session.id, None)
                self._tell(session, over=True)
                return
            except AriError as exc:
                log.warning("threeway_take_back_failed", session=session.id, error=str(exc))
                return
            present = {p for p, c in session.channels.items() if c in info.channels}
            if ConferenceParty.EMERGENCY in present and session.outcome is None:
                session.outcome = ThreewayOutcome.ANSWERED
            session.channels = {
                p: c
                for p, c in session.channels.items()
                if p in present or (p == ConferenceParty.EMERGENCY and ringing)
            }
            step = rules.resumed(present, ringing)
            await self._record(
                session.call_id,
                "threeway_resumed",
                {
                    "present": sorted(str(p) for p in present),
                    "ringing": ringing,
                    "ended": sorted(str(p) for p in step.hang_up),
                },
            )
            log.info("threeway_taken_back", session=session.id, present=sorted(present))
            await self._apply(session, step)

    async def _alive(self, channel_id: str) -> bool:
        try:
            await self._ari.get_channel(channel_id)
        except AriNotFound:
            return False
        return True

    def _is_starting(self, channel: ChannelInfo) -> bool:
        if any(channel.name in waiting for waiting in self._entering.values()):
            return True
        return any(
            channel.id in s.channels.values() or channel.id == s.emergency_id
            for s in self._sessions.values()
        )

    async def _put_back(self, channel: ChannelInfo, kept: set[str]) -> None:
        """A channel of ours outside any bridge: parked on its way in, or a lone dial."""
        parked = channel.context == CONTEXT and channel.app_name == "Stasis"
        lone_dial = channel.id.startswith("tw-") and channel.id.endswith("-e")
        if lone_dial and channel.id.removesuffix("-e") in kept:
            return  # still ringing for a bridge that was taken back
        if not (parked or lone_dial):
            return
        try:
            if parked and channel.exten.startswith(label.CITIZEN_EXTEN):
                await self._ari.continue_in_dialplan(channel.id, QUEUE_CONTEXT, "s", 1)
                log.warning("threeway_citizen_requeued", channel=channel.name)
            else:
                await self._ari.hangup(channel.id)
                log.warning("threeway_leg_ended", channel=channel.name)
        except AriNotFound:
            pass
        except AriError as exc:
            log.warning("threeway_put_back_failed", channel=channel.name, error=str(exc))
