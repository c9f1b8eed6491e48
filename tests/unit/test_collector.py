"""The garbage collector's start-up settings (ivr/adapters/collector.py), in a fresh
interpreter each: they are process-wide, and a worker has its own (tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from ivr.adapters.collector import DEFAULT_THRESHOLDS, STARTING_THRESHOLDS


def _python(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


def test_start_up_collects_rarely_then_freezes_what_it_built_then_collects_as_usual() -> None:
    seen = _python(
        "import gc, json\n"
        "from ivr.adapters import collector\n"
        "collector.starting()\n"
        "during = gc.get_threshold()\n"
        "import ivr.store\n"
        "collector.started()\n"
        "print(json.dumps([during, gc.get_freeze_count(), gc.get_threshold()]))\n"
    )
    during, frozen, after = seen  # type: ignore[misc]
    assert tuple(during) == STARTING_THRESHOLDS
    # The case store's classes and tables alone are tens of thousands of objects.
    assert frozen > 20_000
    assert tuple(after) == DEFAULT_THRESHOLDS


def test_the_command_imports_nothing_of_its_own_before_the_collector_is_set() -> None:
    loaded = _python(
        "import json, sys\n"
        "import ivr.entry\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ivr'))))\n"
    )
    assert loaded == ["ivr", "ivr.adapters", "ivr.adapters.collector", "ivr.entry"]
