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
    from ivr.cli.routing import routing_problems

    def check(directory: Path) -> list[Any]:
        return routing_problems(directory, cfg.recordings_dir, state_dir=cfg.state_dir)

    return check


def reload_stack(cfg: StackConfig) -> ReloadOutcome:
    """Run `ivr routing reload` for the stack and keep what it said."""
    from ivr.cli.routing import cmd_routing_reload
    from ivr.errors import HotlineError

    out = io.StringIO()
    args = argparse.Namespace(state_dir=str(cfg.state_dir))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = cmd_routing_reload(args)
        except HotlineError as exc:
            # The CLI raises what it refused; the console shows the same words.
            print(*exc.lines(), sep="\n")
            code = exc.exit_status
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
        if signal.getsignal(signal.SIGHUP) in (signal.SIG_DFL, signal.SIG_IGN, None):
            # Not `ivr serve` (an engine embedded in a test): SIGHUP would end the process.
            lines.append("the engine here takes no SIGHUP; the tables load at its next start")
            return ReloadOutcome(False, tuple(lines))
        before = routing_version()
        os.kill(os.getpid(), signal.SIGHUP)
        async with asyncio.timeout(SELF_RELOAD_S):
            # The handler runs on this loop; the version moves when the swap is done.
            while routing_version() == before:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        lines.append(f"routing tables reloaded (version {routing_version()})")
        return ReloadOutcome(report.ok, tuple(lines))

    return Site(cfg.routing_dir.name, cfg.routing_dir, cfg.run_dir, stack_check(cfg), reload)


# How often the engine looks for drafts whose scheduled time has come.
DUE_EVERY_S = 30.0


async def publish_due_forever(store: Any, site: Site, clock: Callable[[], Any]) -> None:
    """The engine's scheduled publishing: each due draft is checked again, then published.

    A refusal is kept on the draft (the console's routing page shows it), audited and
    logged; the schedule is cleared so it is not retried blindly.
    """
    import structlog

    from ivr.routing.publish import publish_due
    from ivr.store import StoreUnavailable

    log = structlog.get_logger()
    while True:
        await asyncio.sleep(DUE_EVERY_S)
        try:
            for outcome in await publish_due(store, site, clock()):
                log.info(
                    "routing_scheduled_publish",
                    draft=outcome.draft_id,
                    version=outcome.published.version.number if outcome.published else None,
                    refused=outcome.refused,
                )
        except StoreUnavailable as exc:
            log.warning("routing_scheduled_publish_waits", error=str(exc))
        except Exception:  # one bad pass must not end the loop for every later draft
            log.exception("routing_scheduled_publish_failed")
