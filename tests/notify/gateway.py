"""A local SMS gateway for tests: http.server in a thread, behaving as it is told.

Like the Taiwanese gateways it stands for, it keeps the client message id of every
message it accepted and drops a repeat of one (answering as if accepted), so that
`handset` holds what the citizens' phones would show: each message once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Request:
    path: str
    method: str
    content_type: str
    authorization: str
    fields: dict[str, str]


# What to do with one request: a status and body, optionally after a pause; or None to
# accept normally. `before`/`after` run before and after the message is accepted.
Behaviour = Callable[[Request], "Reply | None"]


@dataclass
class Reply:
    status: int = 200
    body: str = "statuscode=1"
    pause_s: float = 0.0
    # Take the message (it reaches the handset) before answering, however late.
    accept: bool = False


@dataclass
class Gateway:
    client_id_field: str = "client_id"
    url: str = ""
    behaviour: Behaviour = lambda _r: None
    # Returns True to drop the request unanswered, before the message is taken.
    before: Callable[[Request], bool] = lambda _r: False
    after: Callable[[Request], None] = lambda _r: None
    received: list[Request] = field(default_factory=list)
    handset: list[Request] = field(default_factory=list)
    # Every request that got as far as being taken (repeats included).
    accepted: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                gateway._handle(self)

            do_PUT = do_POST  # noqa: N815 - http.server names its handlers so

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/send"
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body_bytes = handler.rfile.read(length)
        if len(body_bytes) < length:
            # The sender died mid-request: a real gateway reads a short body as a broken
            # request and takes nothing from it. Parsing it would invent a message
            # without its client id, or with half of one.
            return
        raw = body_bytes.decode("utf-8")
        kind = handler.headers.get("Content-Type", "")
        if kind.startswith("application/json"):
            fields = {str(k): str(v) for k, v in json.loads(raw).items()}
        else:
            fields = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        request = Request(
            handler.path, handler.command, kind, handler.headers.get("Authorization", ""), fields
        )
        with self.lock:
            self.received.append(request)
        if self.before(request):
            return
        reply = self.behaviour(request)
        if reply is None or reply.accept:
            with self.lock:
                self.accepted.append(request)
                client_id = fields.get(self.client_id_field)
                if client_id not in {r.fields.get(self.client_id_field) for r in self.handset}:
                    self.handset.append(request)
            self.after(request)
            reply = reply or Reply()
        if reply.pause_s:
            time.sleep(reply.pause_s)
        body = reply.body.encode("utf-8")
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client gave up (a timeout) or died
