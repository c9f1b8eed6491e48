"""What starting a process costs: the engine and the supervisor load only what they use.

Each check imports in a fresh interpreter, so modules an earlier test loaded do not hide
an import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WEB_STACK = ("ivr.web", "fastapi", "starlette", "jinja2", "uvicorn")


def _loaded_after(imports: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules named by `prefixes` (a package and what is under it) that
    importing `imports` loads."""
    code = (
        f"import sys, {imports};"
        f"print('\\n'.join(sorted(m for m in sys.modules for p in {prefixes!r} "
        f"if m == p or m.startswith(p + '.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return out.stdout.split()


def test_the_engine_imports_the_web_stack_only_when_it_starts_the_console() -> None:
    """`import ivr.app` (the engine's composition root) leaves the console's stack out."""
    assert _loaded_after("ivr.app", WEB_STACK) == []


def test_the_web_stack_is_what_the_console_needs() -> None:
    """The check above could pass by checking names nothing imports: the console does."""
    loaded = _loaded_after("ivr.web.server", WEB_STACK)
    assert {"fastapi", "starlette", "jinja2", "uvicorn", "ivr.web.server"} <= set(loaded)


def test_the_supervisor_and_status_do_not_load_the_engine() -> None:
    """They read the engine's record by its name, not by importing the engine."""
    assert _loaded_after("ivr.supervisor, ivr.health", ("ivr.app", *WEB_STACK)) == []
