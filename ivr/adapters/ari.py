"""ARI adapter: REST over httpx, events over one websocket, our own reconnect on top.

The ARI libraries on PyPI did not hold up (Python 2 only, or broken against a live
Asterisk 22: originate losing context/extension, log floods on a dropped socket,
callbacks run one at a time), and the protocol is small, so it is spoken here
directly. The supervisor reconnects the event socket with capped exponential
backoff, like the AMI adapter, and every event reaches every handler in a task of
its own so one slow handler never holds up the next event.

Facts about Asterisk 22 this module relies on:
- An originate that names `app` goes to Stasis even if `context`/`extension` are
  also sent, so `app` is only sent when no dialplan location is given.
- An originated channel enters Stasis (StasisStart) only once it is answered; for a
  `Local/...` endpoint that means once the `;2` half answers in the dialplan.
- GET .../variable answers 404 both for an unknown channel and for an unset
  variable; only the message tells them apart.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from ivr.adapters.ami import Outage
from ivr.adapters.ari_events import (
    AriEvent,
    BaseEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelInfo,
    ChannelStateChange,
    Dial,
    EventHandler,
    LinkUp,
    Malformed,
    PlaybackFinished,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    decode,
    event_channel,
    parse_event,
)
from ivr.background import cancel
from ivr.errors import ExitStatus, HotlineError

log = structlog.get_logger()

# The events live in `ari_events`; re-exported here, where callers import them from.
__all__ = [
    "AriClient",
    "AriError",
    "AriEvent",
    "AriNotFound",
    "AriUnavailable",
    "BaseEvent",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "ChannelHangupRequest",
    "ChannelInfo",
    "ChannelStateChange",
    "Dial",
    "EventHandler",
    "LinkUp",
    "PlaybackFinished",
    "PlaybackStarted",
    "StasisEnd",
    "StasisStart",
    "UnknownEvent",
    "parse_event",
]

BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 2.0
# A link that stayed up this long earns an immediate reconnect when it drops; one that
# drops sooner is flapping and goes through the backoff, so it cannot spin or flood.
STABLE_LINK_S = 2.0
# Pings find a half-open socket (Asterisk frozen, cable pulled) that TCP would not.
PING_INTERVAL_S = 5.0
PING_TIMEOUT_S = 5.0
MAX_EVENT_BYTES = 4 * 1024 * 1024


class AriError(HotlineError):
    """ARI refused a request; `status` is the HTTP status, None if none came back.

    `message` is what ARI said (or what went wrong); `request` names the call.
    """

    def __init__(self, message: str, status: int | None = None, *, request: str = "") -> None:
        where = " ".join(part for part in (request, f"HTTP {status}" if status else "") if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.status = status
        self.message = message
        self.request = request

    code = "ari.failed"

    @property
    def details(self) -> dict[str, Any]:
        return {"status": self.status, "request": self.request, "reason": self.message}


class AriNotFound(AriError):
    """ARI answered 404: the channel, playback or variable does not exist."""

    code = "ari.not_found"
    exit_status = ExitStatus.NOT_FOUND


class AriUnavailable(AriError):
    """ARI could not be reached, or did not answer in time."""

    code = "ari.unavailable"
    exit_status = ExitStatus.UNAVAILABLE


# --- client ---------------------------------------------------------------------


def _path_id(value: str) -> str:
    return quote(value, safe="")


class AriClient:
    """One ARI application: REST calls any time, events once `start()` was called."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        app: str,
        *,
        request_timeout: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.request_timeout = request_timeout
        self.outages: list[Outage] = []
        # ARI is a local service: a proxy from the environment would only break it.
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            auth=httpx.BasicAuth(user, password),
            timeout=request_timeout,
            trust_env=False,
        )
        self._ws_url = self._events_url()
        # The websocket authenticates like REST, in a header: a password in the URL's
        # query string ends up in logs and process listings.
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._ws_auth = f"Basic {token}"
        self._handlers: list[EventHandler] = []
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()

    def _events_url(self) -> str:
        url = httpx.URL(self.base_url)
        scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
        query = urlencode({"app": self.app, "subscribeAll": "false"})
        path = url.raw_path.decode("ascii").rstrip("/")
        return f"{scheme}://{url.netloc.decode('ascii')}{path}/events?{query}"

    # REST ---------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | httpx.QueryParams | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            resp = await self._http.request(method, path, params=params, json=body)
        except httpx.TransportError as exc:
            raise AriUnavailable(_describe(exc), request=f"{method} {path}") from exc
        if resp.is_success:
            return resp
        error = AriNotFound if resp.status_code == 404 else AriError
        raise error(_error_message(resp), resp.status_code, request=f"{method} {path}")

    @staticmethod
    def _json(resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            raise AriError("reply is not JSON", request=_request_name(resp)) from exc

    def _channel_reply(self, resp: httpx.Response) -> ChannelInfo:
        data = self._json(resp)
        try:
            return ChannelInfo.from_json(data)
        except (Malformed, AttributeError) as exc:
            raise AriError(f"unexpected channel: {exc}", request=_request_name(resp)) from exc

    async def asterisk_info(self) -> dict[str, Any]:
        resp = await self._request("GET", "/asterisk/info")
        data = self._json(resp)
        if not isinstance(data, dict):
            raise AriError("expected an object", request=_request_name(resp))
        return data

    async def originate(
        self,
        endpoint: str,
        *,
        app_args: Sequence[str] | None = None,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        caller_id: str | None = None,
        timeout_s: int = 30,
        variables: Mapping[str, str | int | float] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
    ) -> ChannelInfo:
        """Place a call; it enters our Stasis app when answered, or the dialplan if given.

        Asterisk lets `app` win over `context`/`extension`, so `app` is left out when a
        dialplan location is asked for; such a channel sends us no events.
        """
        to_dialplan = context is not None or extension is not None or priority is not None
        body: dict[str, Any] = {"endpoint": endpoint, "timeout": timeout_s}
        if to_dialplan:
            if app_args:
                raise ValueError("app_args only apply to a channel sent to the Stasis app")
            for key, value in (("context", context), ("extension", extension)):
                if value is not None:
                    body[key] = value
            if priority is not None:
                body["priority"] = priority
        else:
            body["app"] = self.app
            if app_args:
                if any("," in arg for arg in app_args):
                    raise ValueError("ARI splits appArgs on commas; an argument cannot hold one")
                body["appArgs"] = ",".join(app_args)
        if caller_id is not None:
            body["callerId"] = caller_id
        if variables:
            body["variables"] = {name: str(value) for name, value in variables.items()}
        if channel_id is not None:
            body["channelId"] = channel_id
        if other_channel_id is not None:
            body["otherChannelId"] = other_channel_id
        channel = self._channel_reply(await self._request("POST", "/channels", body=body))
        log.info(
            "ari_originated",
            endpoint=endpoint,
            uniqueid=channel.id,
            target="dialplan" if to_dialplan else "stasis",
        )
        return channel

    async def get_channel(self, channel_id: str) -> ChannelInfo:
        return self._channel_reply(await self._request("GET", f"/channels/{_path_id(channel_id)}"))

    async def list_channels(self) -> list[ChannelInfo]:
        resp = await self._request("GET", "/channels")
        data = self._json(resp)
        if not isinstance(data, list):
            raise AriError("expected a list", request=_request_name(resp))
        try:
            return [ChannelInfo.from_json(item) for item in data]
        except (Malformed, AttributeError) as exc:
            raise AriError(f"unexpected channel: {exc}", request=_request_name(resp)) from exc

    async def answer(self, channel_id: str) -> None:
        await self._request("POST", f"/channels/{_path_id(channel_id)}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._request(
            "DELETE", f"/channels/{_path_id(channel_id)}", params={"reason": reason}
        )

    async def play(self, channel_id: str, media: str, playback_id: str | None = None) -> str:
        """Start a prompt (`sound:/abs/path/without/suffix` works); returns the playback id."""
        path = f"/channels/{_path_id(channel_id)}/play"
        if playback_id is not None:
            path += f"/{_path_id(playback_id)}"
        resp = await self._request("POST", path, params={"media": media})
        data = self._json(resp)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise AriError("reply has no playback id", request=_request_name(resp))
        return str(data["id"])

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        """A channel variable or dialplan function value; None when it is not set."""
        try:
            resp = await self._request(
                "GET", f"/channels/{_path_id(channel_id)}/variable", params={"variable": name}
            )
        except AriNotFound as exc:
            # The same 404 means "no such channel" or "no such variable"; only the
            # message ("Provided variable was not found") tells them apart.
            if "variable" in exc.message.lower():
                return None
            raise
        data = self._json(resp)
        value = data.get("value") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self._request(
            "POST",
            f"/channels/{_path_id(channel_id)}/variable",
            params={"variable": name, "value": value},
        )

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> None:
        """Leave Stasis; with no location the channel goes on after its Stasis() step."""
        params: dict[str, str | int] = {}
        if context is not None:
            params["context"] = context
        if extension is not None:
            params["extension"] = extension
        if priority is not None:
            params["priority"] = priority
        await self._request("POST", f"/channels/{_path_id(channel_id)}/continue", params=params)

    # events -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def subscribe(self, handler: EventHandler) -> None:
        """Call `handler` for every event; kept across reconnects.

        Each call runs in a task of its own. Tasks start in event order, so whatever a
        handler does before its first await sees the events in the order they came.
        """
        self._handlers.append(handler)

    def unsubscribe(self, handler: EventHandler) -> None:
        with contextlib.suppress(ValueError):
            self._handlers.remove(handler)

    async def start(self) -> None:
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._supervise(), name="ari-supervisor")

    async def wait_connected(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError as exc:
            raise AriUnavailable(f"ARI events at {self.base_url} not reachable") from exc

    async def stop(self) -> None:
        """Close the event socket, cancel running handlers, close HTTP; the client is done."""
        ws = self._ws
        supervisor, self._supervisor = self._supervisor, None
        await cancel(supervisor)
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        self._ready.clear()
        tasks = list(self._handler_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._http.aclose()
        log.info("ari_stopped", url=self.base_url, app=self.app)

    async def _supervise(self) -> None:
        delay = BACKOFF_START_S
        while True:
            try:
                ws = await connect(
                    self._ws_url,
                    additional_headers={"Authorization": self._ws_auth},
                    open_timeout=self.request_timeout,
                    ping_interval=PING_INTERVAL_S,
                    ping_timeout=PING_TIMEOUT_S,
                    close_timeout=1.0,
                    max_size=MAX_EVENT_BYTES,
                    compression=None,
                    proxy=None,
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                self._mark_down(f"connect failed: {_describe(exc)}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
                continue
            self._ws = ws
            self._mark_up()
            up_since = time.monotonic()
            try:
                reason = await self._read(ws)
            finally:
                self._ws = None
            self._mark_down(reason)
            if time.monotonic() - up_since >= STABLE_LINK_S:
                delay = BACKOFF_START_S
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)

    async def _read(self, ws: ClientConnection) -> str:
        try:
            async for message in ws:
                self._dispatch(decode(message))
        except ConnectionClosed as exc:
            return f"connection lost: {_describe(exc)}"
        except (OSError, WebSocketException) as exc:
            return f"connection failed: {_describe(exc)}"
        return f"closed by Asterisk: {ws.close_code} {ws.close_reason or ''}".rstrip()

    def _dispatch(self, event: AriEvent) -> None:
        for handler in list(self._handlers):
            task = asyncio.create_task(self._run_handler(handler, event))
            self._handler_tasks.add(task)
            task.add_done_callback(self._handler_tasks.discard)

    async def _run_handler(self, handler: EventHandler, event: AriEvent) -> None:
        # This task has its own copy of the context: what is bound here (and by the
        # handler) stays with this one call.
        channel = event_channel(event)
        if channel is not None:
            structlog.contextvars.bind_contextvars(uniqueid=channel.id, channel=channel.name)
        try:
            result = handler(event)
            if result is not None:
                await result
        except Exception:
            log.exception(
                "ari_handler_failed",
                event_type=type(event).__name__,
                handler=getattr(handler, "__qualname__", repr(handler)),
            )

    def _mark_up(self) -> None:
        self._ready.set()
        outage = self.outages[-1] if self.outages else None
        if outage is not None and outage.up_at is None:
            outage.up_at = datetime.now(UTC)
            down_s = (outage.up_at - outage.down_at).total_seconds()
            log.info("ari_connected", url=self.base_url, app=self.app, down_s=round(down_s, 3))
        else:
            log.info("ari_connected", url=self.base_url, app=self.app)
        # To the handlers in order with the events: what they hold may have changed.
        self._dispatch(LinkUp())

    def _mark_down(self, reason: str) -> None:
        self._ready.clear()
        if self.outages and self.outages[-1].up_at is None:
            # Still the same outage: retries are not news.
            log.debug("ari_reconnect_failed", reason=reason)
            return
        self.outages.append(Outage(down_at=datetime.now(UTC), reason=reason))
        log.warning("ari_link_down", url=self.base_url, app=self.app, reason=reason)


def _error_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return resp.text.strip()[:200] or resp.reason_phrase


def _request_name(resp: httpx.Response) -> str:
    return f"{resp.request.method} {resp.request.url.path}"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
