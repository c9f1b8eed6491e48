"""`ivr routing check|reload`: validate the tables, and swap them into the running engine."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ivr import prompts
from ivr.cli.common import EXIT_OK, json_flag, load
from ivr.config import StackConfig
from ivr.errors import HotlineError, Unavailable
from ivr.routing.loader import RoutingError


class ReloadNotConfirmed(Unavailable):
    """The tables are valid, but the engine is not running or did not confirm them."""

    code = "routing.reload_not_confirmed"


class AsteriskConfigNotLive(HotlineError):
    """Asterisk could not apply the regenerated config in full."""

    code = "routing.asterisk_not_live"


def register(sub: Any) -> None:
    routing = sub.add_parser("routing", help="check or reload the routing tables")
    rsub = routing.add_subparsers(dest="routing_command", required=True)
    rc = rsub.add_parser("check", help="validate a profile: references, prompts, minimums")
    rc.add_argument("dir", nargs="?", help="profile directory (default: the stack's)")
    json_flag(rc)
    rc.set_defaults(func=cmd_routing_check)
    rr = rsub.add_parser("reload", help="validate, then swap the running table atomically")
    json_flag(rr)
    rr.set_defaults(func=cmd_routing_reload)
    from ivr import routing_versions_cli  # drafts, publish, diff, rollback of the tables

    routing_versions_cli.register(rsub)


def routing_problems(
    directory: Path,
    recordings_dir: Path,
    warnings: list[Any] | None = None,
    state_dir: Path | None = None,
) -> list[Any]:
    from ivr.domain.clock import system_clock
    from ivr.routing.agent_secrets import resolve
    from ivr.routing.check import check
    from ivr.routing.coverage import calendar_coverage
    from ivr.routing.engine_prompts import engine_prompt_problems
    from ivr.routing.loader import load_profile

    catalogue = prompts.load_catalogue(recordings_dir)
    available = prompts.buildable(recordings_dir, catalogue)
    try:
        tables = load_profile(directory, catalogue=catalogue)
    except RoutingError as exc:
        return list(exc.problems)
    refusals, warned = calendar_coverage(tables, system_clock())
    if warnings is not None:
        warnings += warned
    # With a stack, every agent's phone must also have a usable secret for its config.
    secrets = resolve(tables, state_dir)[1] if state_dir is not None else []
    if state_dir is not None:  # and every trunk that authenticates, its password
        from ivr.routing import trunk_secrets

        secrets += trunk_secrets.resolve(tables, state_dir)[1]
    return [
        *check(tables, catalogue, available),
        *engine_prompt_problems(tables, available, catalogue),
        *refusals,
        *secrets,
    ]


def cmd_routing_check(args: argparse.Namespace) -> int:
    repo = Path(__file__).resolve().parents[2]
    directory = Path(args.dir) if args.dir else load(args).routing_dir
    warnings: list[Any] = []
    problems = routing_problems(directory, repo / "recordings", warnings)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if problems:
        summary = f"{directory}: {len(problems)} problem(s); the table is refused"
        raise RoutingError(problems, summary=summary)
    if args.json:
        print(json.dumps({"directory": str(directory), "ok": True}))
    else:
        print(f"{directory}: ok")
    return EXIT_OK


def cmd_routing_reload(args: argparse.Namespace) -> int:
    cfg = load(args)
    problems = routing_problems(cfg.routing_dir, cfg.recordings_dir, state_dir=cfg.state_dir)
    if problems:
        raise RoutingError(problems, summary="reload refused; the running table keeps serving")
    # Asterisk first: the engine's new tables may name endpoints and queues that only
    # the regenerated config defines.
    _apply_asterisk(cfg)
    engine = _engine_info(cfg)
    if engine is None:
        raise ReloadNotConfirmed("the engine is not running; the tables will load when it starts")
    before = engine.get("routing_version", 0)
    os.kill(int(engine["pid"]), signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = _engine_info(cfg) or {}
        if info.get("routing_version", 0) > before:
            print(f"routing tables reloaded (version {info['routing_version']})")
            return EXIT_OK
        time.sleep(0.1)
    raise ReloadNotConfirmed(
        f"the engine did not confirm the reload; see {cfg.log_dir / 'engine.log'}",
        details={"log": str(cfg.log_dir / "engine.log")},
    )


def _apply_asterisk(cfg: StackConfig) -> None:
    """Regenerate Asterisk's config and reload its modules; say what could not apply."""
    from ivr.asterisk.apply import apply

    report = asyncio.run(apply(cfg))
    if not report.asterisk_running:
        print("asterisk: not running; the regenerated config loads when it starts")
    elif report.reloaded:
        print(f"asterisk: reloaded {', '.join(report.reloaded)} (calls in progress kept)")
    else:
        print("asterisk: config unchanged")
    for line in [*report.not_live, *report.errors]:
        print(f"ivr: asterisk: {line}", file=sys.stderr)
    if not report.ok:
        raise AsteriskConfigNotLive(
            "Asterisk does not run the new config in full",
            details={"not_live": list(report.not_live), "errors": list(report.errors)},
        )


def _engine_info(cfg: StackConfig) -> dict[str, Any] | None:
    from ivr.engine_file import ENGINE_FILE

    try:
        info: dict[str, Any] = json.loads((cfg.run_dir / ENGINE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return info
