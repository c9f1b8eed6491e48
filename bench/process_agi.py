"""Process-per-call AGI, for the 20-times comparison: a fresh Python process for every call.

A stdio AGI script cannot run in the Asterisk root (it has no python3), so this is the
closest honest equivalent: a FastAGI listener that, for every connection, starts a
new interpreter (`python -m bench.process_agi child`) with the connection as its
stdin. The child does what a stdio AGI script built on this engine would do: import
the engine, load the routing tables, open the case store, run the same `hotline`
handler, report the outcome, exit. Unlike stdio AGI, Asterisk does not fork: the
listener does (its CPU is counted), and the bytes go over TCP, not pipes. The
child has no AMI connection, so call records are not closed at hangup.

    python -m bench.process_agi serve --port PORT --state-dir DIR [--max-children N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEADER_TIMEOUT_S = 5.0


def serve(port: int, state_dir: Path, max_children: int) -> int:
    """Accept until SIGTERM; one child process per connection, at most `max_children`."""
    stop = False

    def on_term(_sig: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    log = (state_dir / "log" / "process-agi.log").open("ab")
    children: list[subprocess.Popen[bytes]] = []
    refused = 0
    with socket.create_server(("127.0.0.1", port), backlog=1024) as server:
        server.settimeout(0.2)
        print("listening", flush=True)
        while not stop:
            children = [c for c in children if c.poll() is None]
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except InterruptedError:
                continue
            with conn:
                if len(children) >= max_children:
                    # The dialplan's fallback takes the call; the bench counts it failed.
                    refused += 1
                    continue
                children.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bench.process_agi", "child", str(state_dir)],
                        stdin=conn.fileno(),
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                        cwd=REPO,
                    )
                )
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
    log.write(f"refused {refused}\n".encode())
    log.close()
    return 0


async def child(state_dir: Path) -> int:
    """Serve the one FastAGI connection on stdin, as a stdio AGI script would."""
    from ivr import config as stack_config
    from ivr import dialplan_vars as dv
    from ivr.adapters.calls import CallTracker
    from ivr.adapters.fastagi.protocol import AGIError, AGIHangup, AGIRequest, parse_env_line
    from ivr.adapters.fastagi.server import AGISession, CommandStats
    from ivr.app import Routing, build_router
    from ivr.domain.clock import system_clock
    from ivr.store import CaseStore

    cfg = stack_config.load(state_dir)
    sock = socket.socket(fileno=os.dup(0))
    reader, writer = await asyncio.open_connection(sock=sock)
    store = await CaseStore.open(cfg.database_url)
    try:
        tracker = CallTracker(store, system_clock)
        router = build_router(
            store, tracker, system_clock, cfg, Routing(cfg.routing_dir, system_clock)
        )
        env: dict[str, str] = {}
        while True:
            line = await asyncio.wait_for(reader.readline(), HEADER_TIMEOUT_S)
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if not text:
                break
            key, value = parse_env_line(text)
            env[key] = value
        request = AGIRequest.from_env(env)
        session = AGISession(request, reader, writer, stats=CommandStats(), command_timeout=300.0)
        handler = router.handler_for(request.script)
        if handler is None:
            return 1
        try:
            await handler(session)
        except AGIHangup:
            return 0
        try:
            await session.set_variable(dv.AGI_OUTCOME, dv.OUTCOME_SUCCESS)
        except AGIError:
            return 0
        return 0
    finally:
        writer.close()
        await store.close()


def main() -> int:
    p = argparse.ArgumentParser(prog="bench.process_agi")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--state-dir", type=Path, required=True)
    s.add_argument("--max-children", type=int, default=120)
    c = sub.add_parser("child")
    c.add_argument("state_dir", type=Path)
    args = p.parse_args()
    if args.command == "serve":
        return serve(args.port, args.state_dir, args.max_children)
    return asyncio.run(child(args.state_dir))


if __name__ == "__main__":
    sys.exit(main())
