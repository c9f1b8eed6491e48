"""The sounds Asterisk plays to a caller waiting in a queue, kept current by the engine.

app_queue plays the position and a "periodic announcement" to a caller while they
stay in the queue, so nobody loses their place to hear them (docs/decisions/
0019-honest-waiting.md). Its config names fixed files, one directory per queue:

    <sounds>/queue-wait/<queue>/next.wav             -> ../../<lang>/queue-position-next.wav
    <sounds>/queue-wait/<queue>/position-before.wav  -> ../../<lang>/queue-position-before.wav
    <sounds>/queue-wait/<queue>/position-after.wav   -> ../../<lang>/queue-position-after.wav
    <sounds>/queue-wait/<queue>/more-before.wav      -> ../../<lang>/queue-position-more-before.wav
    <sounds>/queue-wait/<queue>/more-after.wav       -> ../../<lang>/queue-position-more-after.wav
    <sounds>/queue-wait/<queue>/estimate.wav         -> ../../<lang>/queue-wait-about-N.wav

The engine rewrites `estimate.wav` (a symlink, replaced in one rename) whenever it
computes the queue's estimate, and removes it when there is nothing true to say:
app_queue skips a file that does not exist, so the caller then hears no estimate.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

WAIT_DIR = "queue-wait"
NEXT = "next"
BEFORE = "position-before"
AFTER = "position-after"
MORE_BEFORE = "more-before"
MORE_AFTER = "more-after"
ESTIMATE = "estimate"
_WORDS = {
    NEXT: "queue-position-next",
    BEFORE: "queue-position-before",
    AFTER: "queue-position-after",
    MORE_BEFORE: "queue-position-more-before",
    MORE_AFTER: "queue-position-more-after",
}


def queue_sounds(sounds_dir: Path, queue_id: str) -> Path:
    """The queue's directory of announcement links (pass names without .wav)."""
    return sounds_dir / WAIT_DIR / queue_id


def prompt_language(sounds_dir: Path, language: str | None, default: str) -> str:
    """The queue's language where its prompts were built (Taiwanese has none yet), else
    the hotline's default: the same rule as the rest of the call's prompts."""
    if language and (sounds_dir / language / f"{_WORDS[NEXT]}.wav").exists():
        return language
    return default


def _link(path: Path, target: str) -> None:
    """Point `path` at `target` in one step: a caller never meets a half-made link."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, path)


def publish(sounds_dir: Path, queue_id: str, language: str, estimate_prompt: str | None) -> None:
    """Set the queue's announcements: the position words, and the estimate or none."""
    folder = queue_sounds(sounds_dir, queue_id)
    # Owner-only like the rest of the state directory, and owned by whoever owns the
    # sounds (Asterisk's own account when the engine runs as root): an unreadable
    # folder would make Asterisk skip the announcements without a word.
    owner = sounds_dir.stat()
    for part in (folder.parent, folder):
        part.mkdir(mode=0o700, exist_ok=True)
        if part.stat().st_mode & 0o777 != 0o700:
            part.chmod(0o700)
        if os.geteuid() == 0 and (part.stat().st_uid, part.stat().st_gid) != (
            owner.st_uid,
            owner.st_gid,
        ):
            os.chown(part, owner.st_uid, owner.st_gid)
    base = f"../../{language}"
    for name, prompt in _WORDS.items():
        _link(folder / f"{name}.wav", f"{base}/{prompt}.wav")
    estimate = folder / f"{ESTIMATE}.wav"
    if estimate_prompt is None:
        estimate.unlink(missing_ok=True)
    else:
        _link(estimate, f"{base}/{estimate_prompt}.wav")


def announced(sounds_dir: Path, queue_id: str) -> str | None:
    """The prompt the queue's estimate link names now, or None (for tests and status)."""
    link = queue_sounds(sounds_dir, queue_id) / f"{ESTIMATE}.wav"
    try:
        return Path(os.readlink(link)).stem
    except OSError:
        return None
