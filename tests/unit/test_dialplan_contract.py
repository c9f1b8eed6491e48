"""The dialplan and the engine agree on script names and variable names."""

from __future__ import annotations

import re
from pathlib import Path

from ivr import dialplan_vars as dv
from ivr.adapters.calls import CallTracker
from ivr.app import Routing, build_router
from ivr.config import StackConfig
from ivr.domain.clock import system_clock
from ivr.store import CaseStore
from ivr.watchdog import HEALTH_SCRIPT

REPO = Path(__file__).resolve().parents[2]
DIALPLANS = sorted((REPO / "dialplans").glob("*.conf"))
AGI_SCRIPT = re.compile(r"AGI\(\$\{HOTLINE_AGI_URL\}/([A-Za-z0-9_.-]+)")
VARIABLE = re.compile(r"\b(HOTLINE_[A-Z0-9_]+)\b")


def _dialplan_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in DIALPLANS)


async def test_every_agi_script_in_the_dialplan_is_registered_and_the_reverse() -> None:
    """A script the dialplan calls but the engine lacks would send every caller to fallback."""
    called = set(AGI_SCRIPT.findall(_dialplan_text()))
    # Opening the store connects lazily: building the router does no I/O.
    store = await CaseStore.open("sqlite+aiosqlite:///:memory:")
    cfg = StackConfig(REPO)
    try:
        routing = Routing(cfg.routing_dir, system_clock)
        tracker = CallTracker(store, system_clock)
        router = build_router(store, tracker, system_clock, cfg, routing)
    finally:
        await store.close()
    # The one script no dialplan calls: the supervisor's watchdog probe.
    assert called == set(router.names()) - {HEALTH_SCRIPT}
    assert called


def test_every_hotline_variable_in_the_dialplan_is_declared() -> None:
    """Variable names live in ivr/dialplan_vars.py and nowhere else."""
    used = set(VARIABLE.findall(_dialplan_text()))
    assert used <= dv.ALL, sorted(used - dv.ALL)
    # And nothing declared is dead: every declared name is used by the dialplan or engine.
    assert dv.AGI_OUTCOME in used


def test_every_context_opens_with_a_parameter_comment() -> None:
    """Each context is documented: a `; [name]` comment block precedes its header."""
    for path in DIALPLANS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^\[([a-z0-9-]+)\]", line)
            if m:
                before = "\n".join(lines[max(0, i - 12) : i])
                assert f"; [{m.group(1)}]" in before, f"{path.name}: [{m.group(1)}] undocumented"
                assert "Parameters" in before, f"{path.name}: [{m.group(1)}] lists no parameters"
