"""The `ivr` command's entry point (`python -m ivr` too): collections made rare first.

Everything else the command needs is imported after `collector.starting()`, so that
the collector does not scan the start-up heap while it is built (ivr/adapters/collector.py).
"""

from __future__ import annotations

from ivr.adapters import collector


def main() -> int:
    collector.starting()
    from ivr.cli import main as cli_main

    try:
        return cli_main()
    finally:
        collector.ending()
