"""`ivr init`, `asterisk`, `prompts`, `serve`, `run`, `supervise`, `status`: the stack."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ivr import config as stack_config
from ivr import logging as ivr_logging
from ivr import prompts
from ivr.asterisk import install, process
from ivr.cli.common import EXIT_FAIL, EXIT_OK, json_flag, load, state_dir
from ivr.config import ConfigError, Ports, StackConfig


def register(sub: Any) -> None:
    init = sub.add_parser("init", help="create or update the stack's state directory")
    port_args(init)
    init.set_defaults(func=cmd_init)

    ast = sub.add_parser("asterisk", help="install, configure, start or stop Asterisk")
    ast.add_argument("action", choices=["install", "config", "start", "stop", "status"])
    ast.set_defaults(func=cmd_asterisk)

    pr = sub.add_parser("prompts", help="voice prompts")
    pr.add_argument("action", choices=["build"])
    pr.add_argument("--force", action="store_true", help="rebuild even up-to-date files")
    pr.set_defaults(func=cmd_prompts)

    serve = sub.add_parser("serve", help="run the engine (FastAGI, AMI, ARI, store)")
    no_console(serve)
    serve.set_defaults(func=cmd_serve)

    run = sub.add_parser("run", help="install what is missing, start Asterisk and the engine")
    port_args(run)
    no_console(run)
    run.set_defaults(func=cmd_run)

    sv = sub.add_parser(
        "supervise", help="run the engine and keep it (and Asterisk) up: restarts, watchdog"
    )
    sv.add_argument(
        "--no-asterisk", action="store_true", help="leave restarting Asterisk to systemd"
    )
    no_console(sv)
    sv.set_defaults(func=cmd_supervise)

    st = sub.add_parser("status", help="health of Asterisk, AMI, ARI, FastAGI and the store")
    json_flag(st)
    st.set_defaults(func=cmd_status)


# Flag name -> Ports field. A flag not given keeps the stored value (or the default
# on a new stack): `ivr run` must not move a stack that `ivr init` put on other ports.
_PORT_FLAGS = {
    "sip_port": "sip",
    "ami_port": "ami",
    "http_port": "http",
    "agi_port": "agi",
    "rtp_start": "rtp_start",
    "rtp_end": "rtp_end",
    "web_port": "web",
}


def no_console(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-console",
        action="store_true",
        help="serve calls without the web console (an engine whose console is not wanted)",
    )


def port_args(p: argparse.ArgumentParser) -> None:
    d = Ports()
    for flag, name in _PORT_FLAGS.items():
        p.add_argument(
            f"--{flag.replace('_', '-')}",
            type=int,
            default=None,
            help=f"default: the stack's stored value, or {getattr(d, name)} on a new stack",
        )
    p.add_argument("--database-url", default=None, help="default: SQLite in the state dir")
    p.add_argument(
        "--sip-bind", default=None, help="SIP's address (default 127.0.0.1); AMI, ARI stay local"
    )
    p.add_argument(
        "--profile", default=None, help="routing profile: taipei (default), kinmen, or a path"
    )


def ports(args: argparse.Namespace) -> Ports:
    """The stored ports (or the defaults), with the flags given on this command line."""
    try:
        stored = load(args).ports
    except ConfigError:
        stored = Ports()
    given = {
        name: getattr(args, flag)
        for flag, name in _PORT_FLAGS.items()
        if getattr(args, flag) is not None
    }
    return replace(stored, **given)


def cmd_init(args: argparse.Namespace) -> int:
    cfg = stack_config.init(
        state_dir(args), ports(args), args.database_url, args.profile, sip_bind=args.sip_bind
    )
    print(f"stack ready in {cfg.state_dir}")
    return EXIT_OK


def cmd_asterisk(args: argparse.Namespace) -> int:
    if args.action == "install":
        runtime = install.ensure()
        print(f"asterisk: {runtime.describe()}")
        return EXIT_OK
    cfg = load(args)
    if args.action == "config":
        for path in render_all(cfg):
            print(path)
        return EXIT_OK
    if args.action == "status":
        st = process.status(cfg, install.find())
        print(f"asterisk: {'running' if st.running else 'down'} ({st.detail})")
        return EXIT_OK if st.running else EXIT_FAIL
    runtime = install.ensure()
    if args.action == "start":
        render_all(cfg)
        pid = process.start(cfg, runtime)
        print(f"asterisk running, pid {pid}")
    else:
        stopped = process.stop(cfg, runtime)
        print("asterisk stopped" if stopped else "asterisk was not running")
    return EXIT_OK


def render_all(cfg: StackConfig) -> list[Path]:
    from ivr.asterisk.generate import render_stack

    return render_stack(cfg)


def cmd_prompts(args: argparse.Namespace) -> int:
    cfg = load(args)
    built = prompts.build(cfg.repo_dir / "recordings", cfg.sounds_dir, force=args.force)
    for b in built:
        print(f"{b.language}/{b.name}: {b.source} -> {b.path}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from ivr import app

    _log_to(load(args), "engine.log", args.log_level)
    asyncio.run(app.serve(load(args), console=not args.no_console))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from ivr.supervisor import supervise

    cmd_init(args)
    cfg = load(args)
    runtime = install.ensure()
    render_all(cfg)
    prompts.build(cfg.recordings_dir, cfg.sounds_dir)
    pid = process.start(cfg, runtime)
    print(
        f"""
hotline1999 is running.
  Asterisk      pid {pid} ({runtime.describe()})
  Call it       ivr --state-dir {cfg.state_dir} call 1999 --dtmf {_example_dtmf(cfg)}
                or a SIP phone: sip:1999@{cfg.host}:{cfg.ports.sip}
  Web console   {_console_line(cfg, args.no_console)}
  Engine log    {cfg.log_dir / "engine.log"}
  Restarts log  {cfg.log_dir / "supervisor.log"}
  Asterisk log  {cfg.log_dir / "messages.log"}
  Case store    {cfg.database_url}
  Health        ivr --state-dir {cfg.state_dir} status
Press Ctrl-C to stop.
""",
        flush=True,
    )
    _log_to(cfg, "supervisor.log", args.log_level)
    try:
        # Restarts the engine with backoff when it fails, and Asterisk when it dies:
        # a failed engine start never takes down an Asterisk that answers with the
        # fallback.
        asyncio.run(supervise(cfg, runtime, args.log_level, console=not args.no_console))
    finally:
        process.stop(cfg, runtime)
    return EXIT_OK


def cmd_supervise(args: argparse.Namespace) -> int:
    from ivr.supervisor import supervise

    cfg = load(args)
    runtime = None if args.no_asterisk else install.ensure()
    if runtime is not None:
        process.start(cfg, runtime)
    _log_to(cfg, "supervisor.log", args.log_level)
    asyncio.run(supervise(cfg, runtime, args.log_level, console=not args.no_console))
    return EXIT_OK


def _console_line(cfg: StackConfig, off: bool) -> str:
    if off:
        return "off (--no-console)"
    return f"{cfg.web_url} (users: ivr --state-dir {cfg.state_dir} users add)"


def _example_dtmf(cfg: StackConfig) -> str:
    """Keys that take the example call to a person on this stack's own menus."""
    from ivr.routing.example import example_keys
    from ivr.routing.loader import load_profile

    # Quoted: a shell would read a `#` after a space as the start of a comment.
    return f"'{example_keys(load_profile(cfg.routing_dir))}'"


def _log_to(cfg: StackConfig, name: str, level: str) -> None:
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    stream = (cfg.log_dir / name).open("a", encoding="utf-8", buffering=1)
    ivr_logging.configure(level=level, stream=_Tee(stream, sys.stderr))


class _Tee:
    """Engine events go to the log file and to the terminal running the engine."""

    def __init__(self, *streams: Any) -> None:
        self._streams = streams

    def write(self, text: str) -> int:
        for s in self._streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self._streams:
            s.flush()


def cmd_status(args: argparse.Namespace) -> int:
    from ivr.health import check

    cfg = load(args)
    report = asyncio.run(check(cfg))
    if args.json:
        print(json.dumps([asdict(c) for c in report], indent=2))
    else:
        for c in report:
            print(f"{c.name:10} {'ok' if c.ok else 'DOWN':5} {c.detail}")
    return EXIT_OK if all(c.ok for c in report) else EXIT_FAIL
