"""Where a stack's profile is published: checked and reloaded as `ivr routing reload` does.

`stack_site` is for the CLI, a process of its own: it runs `ivr routing reload`
itself (Asterisk module reloads, then the engine's SIGHUP). `engine_site` is for the
console inside the engine: the same check, the same Asterisk apply, and the same
SIGHUP handler, sent by the engine to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ivr.config import StackConfig
from ivr.routing.publish import ReloadOutcome, Site

EXIT_OK = 0
# How long the console waits for its own engine to confirm the swap.
SELF_RELOAD_S = 30.0


def stack_check(cfg: StackConfig) -> Callable[[Path], list[Any]]:
    """`ivr routing reload`'s check: tables, prompts, calendar, agents' and trunks' secrets."""
    from ivr.cli import _routing_problems

    def check(directory: Path) -> list[Any]:
        return _routing_problems(directory, cfg.recordings_dir, state_dir=cfg.state_dir)

    return check


def reload_stack(cfg: StackConfig) -> ReloadOutcome:
    """Run `ivr routing reload` for the stack and keep what it said."""
    from ivr.cli import cmd_routing_reload

    out = io.StringIO()
    args = argparse.Namespace(state_dir=str(cfg.state_dir))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cmd_routing_reload(args)
    return ReloadOutcome(code == EXIT_OK, tuple(out.getvalue().splitlines()))


def stack_site(cfg: StackConfig) -> Site:
    async def reload() -> ReloadOutcome:
        return await asyncio.to_thread(reload_stack, cfg)

    return Site(cfg.routing_dir.name, cfg.routing_dir, cfg.run_dir, stack_check(cfg), reload)


def engine_site(cfg: StackConfig, routing_version: Callable[[], int]) -> Site:
    """For code running inside the engine: apply to Asterisk, then SIGHUP ourselves."""

    async def reload() -> ReloadOutcome:
        from ivr.asterisk.apply import apply

        report = await apply(cfg)
        lines = [*report.not_live, *report.errors]
        if report.reloaded:
            lines.insert(0, f"asterisk: reloaded {', '.join(report.reloaded)}")
        before = routing_version()
        os.kill(os.getpid(), signal.SIGHUP)
        async with asyncio.timeout(SELF_RELOAD_S):
            # The handler runs on this loop; the version moves when the swap is done.
            while routing_version() == before:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        lines.append(f"routing tables reloaded (version {routing_version()})")
        return ReloadOutcome(report.ok, tuple(lines))

    return Site(cfg.routing_dir.name, cfg.routing_dir, cfg.run_dir, stack_check(cfg), reload)
