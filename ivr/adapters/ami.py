"""AMI adapter: panoramisk 1.4 underneath, our own reconnect with backoff on top.

panoramisk reconnects on a fixed timer forever, even after close(), and re-sends
actions that were pending when the link dropped (a second Originate is a second
call). So each connection here gets a fresh panoramisk Manager whose own reconnect
is switched off, and a supervisor task reconnects with capped exponential backoff.

Event filter. With `read = all`, Asterisk sends a session every event of every call
(VarSet for each variable an AGI script sets, Newexten for each dialplan step,
AGIExec pairs, RTCP reports...): well over a hundred per call, each parsed here and
then dropped. Once a handler is registered, the session asks Asterisk (Filter action,
`name()` match criteria, Asterisk 21+) to send only the events it has handlers for;
with no handler it gets everything, as before. Filters belong to the session, so
they are added again on every reconnect. The engine's own AMI user may not send
Filter (it needs the `system` class, which that user does not have): manager.conf
filters that user's events statically, so session filters are off unless a client
is built with `session_filters=True` for a user that has `system`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from panoramisk import Manager

from ivr.background import cancel
from ivr.errors import HotlineError, Unavailable

log = structlog.get_logger()

AmiEvent = Mapping[str, str]
EventHandler = Callable[[AmiEvent], Awaitable[None] | None]

BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 2.0
ACTION_TIMEOUT_S = 10.0
# An event name Asterisk can match by name(); fnmatch patterns get no filter.
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Events that complete an action rather than report on a call: an asynchronous
# Originate's reply is its OriginateResponse event, which a filter would swallow.
_ACTION_EVENTS = frozenset({"OriginateResponse"})


class AmiUnavailable(Unavailable):
    """AMI is not connected or did not answer in time."""

    code = "ami.unavailable"


class AmiActionFailed(HotlineError):
    """Asterisk answered an action with Response: Error."""

    code = "ami.action_failed"


@dataclass
class Outage:
    """One span without AMI, for `ivr status` and the engine's health record."""

    down_at: datetime
    up_at: datetime | None = None
    reason: str = ""


class _Manager(Manager):  # type: ignore[misc]
    """A panoramisk Manager that reports a lost link instead of reconnecting itself."""

    def __init__(
        self, on_lost: Callable[[str], None], on_event: Callable[[str], None], **config: Any
    ) -> None:
        super().__init__(**config)
        self._on_lost = on_lost
        self._on_event = on_event

    def dispatch(self, event: Any) -> Any:
        self._on_event(str(getattr(event, "event", "")))
        return super().dispatch(event)

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            self._on_lost(f"connect failed: {f.exception() if not f.cancelled() else 'cancelled'}")
            return
        super().connection_made(f)

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        pinger: asyncio.TimerHandle | None = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
            self.pinger = None
        self._on_lost(f"connection lost: {exc}")


@dataclass
class AmiClient:
    host: str
    port: int
    username: str
    secret: str
    connect_timeout: float = 5.0
    outages: list[Outage] = field(default_factory=list)
    # Per-session event filters (the Filter action) need the `system` class. The
    # hotline's users are filtered in manager.conf instead, and a refused Filter
    # would be a security-log event on every connect: off unless asked for.
    session_filters: bool = False

    def __post_init__(self) -> None:
        self._handlers: list[tuple[str, EventHandler]] = []
        self._manager: _Manager | None = None
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._ids = itertools.count(1)
        self._filtered: set[str] = set()
        # Every event Asterisk delivered to this client, by name: what the filter
        # lets through (with or without a handler), for telemetry and tests.
        self.events_received: Counter[str] = Counter()
        self._filters_pending: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def on(self, pattern: str, handler: EventHandler) -> None:
        """Subscribe to events by fnmatch-style name; kept across reconnects."""
        self._handlers.append((pattern, handler))
        if self._manager is not None:
            self._manager.register_event(pattern, _adapt(handler))
        if self.connected:
            # `action` waits for this, so an Originate sent after `on()` cannot
            # produce an event the session does not yet let through.
            task = asyncio.create_task(self._add_filters_later(self._manager))
            self._filters_pending.add(task)
            task.add_done_callback(self._filters_pending.discard)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def wait_connected(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError as exc:
            raise AmiUnavailable(f"AMI at {self.host}:{self.port} not reachable") from exc

    async def stop(self) -> None:
        self._closing = True
        await cancel(self._task)
        self._close_manager()

    async def action(
        self, action: Mapping[str, str], timeout: float = ACTION_TIMEOUT_S, *, single: bool = False
    ) -> AmiEvent:
        """Send one action and return its response; errors become AmiActionFailed.

        `single`: the reply is one message, whatever it says. panoramisk takes QueueAdd's
        "Added interface to queue" for the start of a list and would wait for the rest.
        """
        if self._filters_pending:
            await asyncio.gather(*self._filters_pending, return_exceptions=True)
        manager = self._manager
        if manager is None or not self.connected:
            raise AmiUnavailable("AMI is not connected")
        payload = {"ActionID": f"hotline-{next(self._ids)}", **action}
        try:
            sent = manager.send_action(payload, as_list=False if single else None)
            async with asyncio.timeout(timeout):
                reply = await sent
        except TimeoutError as exc:
            raise AmiUnavailable(f"AMI action {action.get('Action')} timed out") from exc
        if isinstance(reply, list):
            reply = reply[0]
        message = {str(k): str(v) for k, v in dict(reply).items()}
        if message.get("Response", "").lower() == "error":
            raise AmiActionFailed(f"{action.get('Action')}: {message.get('Message', '')}")
        return message

    async def action_list(
        self, action: Mapping[str, str], timeout: float = ACTION_TIMEOUT_S
    ) -> list[AmiEvent]:
        """Send a list action (PJSIPShowEndpoints, CoreShowChannels): reply, then events."""
        manager = self._manager
        if manager is None or not self.connected:
            raise AmiUnavailable("AMI is not connected")
        payload = {"ActionID": f"hotline-{next(self._ids)}", **action}
        try:
            async with asyncio.timeout(timeout):
                reply = await manager.send_action(payload, as_list=True)
        except TimeoutError as exc:
            raise AmiUnavailable(f"AMI action {action.get('Action')} timed out") from exc
        messages: list[AmiEvent] = [{str(k): str(v) for k, v in dict(m).items()} for m in reply]
        if messages and messages[0].get("Response", "").lower() == "error":
            raise AmiActionFailed(f"{action.get('Action')}: {messages[0].get('Message', '')}")
        return messages

    async def db_get(self, family: str, key: str, timeout: float = ACTION_TIMEOUT_S) -> str | None:
        """AstDB's value for family/key, or None when there is no such entry.

        Sent without saying whether a list follows: panoramisk then takes an error as
        the whole reply, where a list action would wait for a completion that an
        error never sends.
        """
        manager = self._manager
        if manager is None or not self.connected:
            raise AmiUnavailable("AMI is not connected")
        payload = {
            "ActionID": f"hotline-{next(self._ids)}",
            "Action": "DBGet",
            "Family": family,
            "Key": key,
        }
        try:
            async with asyncio.timeout(timeout):
                reply = await manager.send_action(payload)
        except TimeoutError as exc:
            raise AmiUnavailable("AMI action DBGet timed out") from exc
        messages = reply if isinstance(reply, list) else [reply]
        for message in messages:
            if message.get("Event") == "DBGetResponse":
                return str(message.get("Val", "")) or None
        first = messages[0] if messages else {}
        if str(first.get("Response", "")).lower() == "error":
            if "not found" in str(first.get("Message", "")).lower():
                return None
            raise AmiActionFailed(f"DBGet: {first.get('Message', '')}")
        return None

    async def _supervise(self) -> None:
        delay = BACKOFF_START_S
        while not self._closing:
            try:
                await self._connect_once()
            except (OSError, AmiUnavailable, TimeoutError) as exc:
                self._mark_down(str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
                continue
            delay = BACKOFF_START_S
            await self._lost.wait()
            self._mark_down("connection lost")

    async def _connect_once(self) -> None:
        self._close_manager()
        self._lost = asyncio.Event()
        loop = asyncio.get_running_loop()
        manager = _Manager(
            self._on_lost,
            self._count_event,
            loop=loop,
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self.secret,
            encoding="utf-8",
            ping_delay=5,
            ping_interval=5,
        )
        for pattern, handler in self._handlers:
            manager.register_event(pattern, _adapt(handler))
        self._manager = manager
        async with asyncio.timeout(self.connect_timeout):
            await manager.connect()
        if self._lost.is_set():
            raise AmiUnavailable("AMI connection failed")
        auth = getattr(manager, "authenticated_future", None)
        if auth is not None:
            async with asyncio.timeout(self.connect_timeout):
                await asyncio.shield(auth)
        if not getattr(manager, "authenticated", False):
            raise AmiUnavailable("AMI login refused")
        self._filtered = set()
        await self._add_filters(manager)
        self._ready.set()
        if self.outages and self.outages[-1].up_at is None:
            self.outages[-1].up_at = datetime.now(UTC)
        log.info("ami_connected", host=self.host, port=self.port)

    async def _add_filters(self, manager: Any) -> None:
        """Let through exactly the events with handlers (none registered: all events).

        Raises AmiUnavailable if Asterisk refuses a filter once another is in place:
        the session would then silently drop that handler's events, and only a new
        session (the supervisor's reconnect) starts again from no filter.
        """
        patterns = {pattern for pattern, _ in self._handlers}
        if not self.session_filters:
            return
        if not patterns or any(not _EVENT_NAME.match(p) for p in patterns):
            return
        for name in sorted((patterns | _ACTION_EVENTS) - self._filtered):
            action = {
                "Action": "Filter",
                "ActionID": f"hotline-{next(self._ids)}",
                "Operation": "Add",
                "MatchCriteria": f"name({name})",
            }
            try:
                async with asyncio.timeout(ACTION_TIMEOUT_S):
                    reply = await manager.send_action(action)
                if isinstance(reply, list):
                    reply = reply[0]
                refused = str(dict(reply).get("Response", "")).lower() != "success"
                why = str(dict(reply).get("Message", "")) if refused else ""
            except (TimeoutError, OSError) as exc:
                refused, why = True, str(exc)
            if refused and not self._filtered:
                # Unfiltered is slower, never wrong: go on with every event. A user
                # without `system` may not filter; manager.conf filters for it.
                level = log.info if "permission" in why.lower() else log.warning
                level("ami_filter_refused", event_name=name, reason=why)
                return
            if refused:
                raise AmiUnavailable(f"AMI refused the event filter for {name}: {why}")
            self._filtered.add(name)

    async def _add_filters_later(self, manager: Any) -> None:
        try:
            await self._add_filters(manager)
        except AmiUnavailable as exc:
            self._close_manager()
            self._on_lost(str(exc))

    def _count_event(self, name: str) -> None:
        self.events_received[name] += 1

    def _on_lost(self, reason: str) -> None:
        self._ready.clear()
        self._lost.set()
        log.warning("ami_link_down", reason=reason)

    def _mark_down(self, reason: str) -> None:
        self._ready.clear()
        if not self.outages or self.outages[-1].up_at is not None:
            self.outages.append(Outage(down_at=datetime.now(UTC), reason=reason))

    def _close_manager(self) -> None:
        if self._manager is not None:
            with contextlib.suppress(Exception):
                self._manager.close()
            self._manager = None


def _adapt(handler: EventHandler) -> Callable[[Any, Any], Awaitable[None] | None]:
    def callback(_manager: Any, message: Any) -> Awaitable[None] | None:
        event = {str(k): str(v) for k, v in dict(message).items()}
        return handler(event)

    return callback
