"""The cyclic garbage collector's settings while an `ivr` process starts, and after.

Starting a command or the engine makes some 80,000 objects that live as long as the
process: SQLAlchemy's, pydantic's and FastAPI's classes, our models and tables. With
Python's default thresholds (a collection every 700 new objects) the collector scans
that growing heap again and again while it is built, and keeps scanning it for as long
as the process runs, though none of it is ever garbage. Measured on this project:
importing the case store took 1.0 CPU-s, of which 0.35 s were collections.

So a process starts with collections rarer (`starting`), and once it has loaded what it
runs, freezes what it made (`gc.freeze`: later collections never look at it again) and
goes back to the default thresholds (`started`). A short command never calls `started`:
it runs under the start-up thresholds, where the collector still runs, only less often,
and freezes its heap as it ends (`ending`), so that the interpreter's last collection
at exit does not scan it either. Measured on `ivr tickets list` (20 pairs, whole
process): 0.63 of the CPU with the defaults.
"""

from __future__ import annotations

import gc

# A young-generation collection every 100,000 new objects instead of 700, and the older
# generations' twice as rarely again: a few megabytes of garbage at most before it goes.
STARTING_THRESHOLDS = (100_000, 20, 20)
DEFAULT_THRESHOLDS = (700, 10, 10)


def starting() -> None:
    """Make collections rare while the process imports and builds what it runs."""
    gc.set_threshold(*STARTING_THRESHOLDS)


def started() -> None:
    """Set aside what start-up made from every later collection, then collect as usual.

    `gc.freeze` moves every object alive now to a generation the collector never scans.
    Those objects are still freed by reference counting when the last reference goes
    (a routing table replaced by a reload); only a reference cycle among them would
    stay, and start-up's cycles (classes, modules) live as long as the process anyway.
    """
    gc.freeze()
    gc.set_threshold(*DEFAULT_THRESHOLDS)


def ending() -> None:
    """Freeze the heap of a process about to exit: its last collection then skips it."""
    gc.freeze()
