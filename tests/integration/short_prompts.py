"""Short prompts for tests where what a prompt says, and for how long, is not the point.

A real-call test waits for the prompts the caller hears; with the catalogue's real
recordings one call can take a minute and a half. `short_prompts` cuts each speech
prompt of a test stack to its first fraction of a second for the duration of a test
and restores it afterwards. The tests' waits are computed from the files
(`calls.secs`), so they shrink with them; the engine, the dialplan and Asterisk play
the same prompts by the same names.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ivr.config import StackConfig

# Hold music is a stream, not a prompt a flow waits for: left as it is.
KEEP = frozenset({"moh"})


def _speech_prompts(cfg: StackConfig) -> list[Path]:
    return sorted(
        path
        for path in cfg.sounds_dir.glob("*/*.wav")
        if path.parent.name not in KEEP and not path.stem.startswith("silence")
    )


@contextmanager
def short_prompts(cfg: StackConfig, seconds: float = 0.3) -> Iterator[None]:
    """Every speech prompt cut to its first `seconds` inside the block, then restored.

    The files are rewritten in place, so their owner and mode (what Asterisk may read)
    stay as they are.
    """
    originals: dict[Path, bytes] = {}
    try:
        for path in _speech_prompts(cfg):
            data = path.read_bytes()
            with wave.open(str(path)) as w:
                params = w.getparams()
                frames = w.readframes(max(1, int(seconds * w.getframerate())))
            originals[path] = data
            with wave.open(str(path), "wb") as out:
                out.setparams(params)
                out.writeframes(frames)
        yield
    finally:
        for path, data in originals.items():
            path.write_bytes(data)
