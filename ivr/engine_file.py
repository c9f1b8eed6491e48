"""The name of the engine's record in the run directory, in a module of its own.

The supervisor, `ivr status` and `ivr routing reload` read that record; importing the
engine (`ivr.app`) only for its name would load the whole engine, and the web console
with it, into each of them.
"""

from __future__ import annotations

# pid, AGI port, routing version, links and console URL (written by `ivr.app`).
ENGINE_FILE = "engine.json"
