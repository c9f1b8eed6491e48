"""Sign-language video calls: which call is one, and what its waiting comes to. Pure.

A call is a video call when the stream its phone negotiated carries video in a codec
the sign-language queue's agents take (docs/decisions/0004-video-calls.md). Such a
caller may not hear at all, so nothing said to them may be what decides where they
go: they skip the voice menus and every spoken choice of the waiting, and a wait
that cannot end with an agent ends in a callback ticket for their number, in sign
language (DOMAIN 3, H: sign-language video agents).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.domain.vocabulary import VideoWaitEnd

# The agents' skill, and the language a video caller's queue stay and callback are
# owed in (the store's `language` columns take up to 16 characters).
SIGN_LANGUAGE = "sign-language"
# The video codecs the tables may name: Asterisk passes them through, never
# transcodes them, so both legs of a call must share one.
VIDEO_CODECS: tuple[str, ...] = ("vp8", "h264")
# Below this much of the longest wait left, a round of waiting is not worth starting
# (Asterisk's Queue() may end a round up to a second early).
MIN_ROUND_S = 5


def video_formats(native: str | None) -> tuple[str, ...]:
    """`CHANNEL(videonativeformat)` as format names: `(vp8|h264)` → `("vp8", "h264")`.

    Asterisk writes `(nothing)` for a channel with no video; an unset variable (the
    channel is gone) is no video either.
    """
    text = (native or "").strip().strip("()").strip()
    if not text or text == "nothing":
        return ()
    return tuple(name.strip().lower() for name in text.split("|") if name.strip())


def shared_video(native: str | None, codecs: Iterable[str]) -> tuple[str, ...]:
    """The call's negotiated video formats the queue's agents take too, in the call's order.

    Empty means not a video call for the hotline: no video, or video in a codec no
    sign-language agent's phone would be offered (it could not be passed through).
    """
    allowed = set(codecs)
    return tuple(name for name in video_formats(native) if name in allowed)


@dataclass(frozen=True)
class VideoWait:
    """Wait in the sign-language queue for at most `seconds` (one round)."""

    seconds: int


@dataclass(frozen=True)
class VideoCallback:
    """Stop waiting: a callback ticket in sign language for the caller's number."""

    reason: VideoWaitEnd


@dataclass(frozen=True)
class VideoGiveUp:
    """Stop waiting with no callback possible: the caller's number is unknown."""

    reason: VideoWaitEnd


VideoMove = VideoWait | VideoCallback | VideoGiveUp


def video_move(
    *, agents_signed_in: int, waited_s: float, max_wait_s: int, caller_known: bool
) -> VideoMove:
    """The video caller's next move; nothing in it waits for a key they cannot hear.

    Nobody with the skill signed in: a callback at once (the audio caller is offered
    one at once too), rather than minutes in front of a screen nobody will answer.
    Otherwise wait out what is left of the queue's longest wait, then a callback.
    """
    left = int(max_wait_s - waited_s)
    if agents_signed_in > 0 and left >= MIN_ROUND_S:
        return VideoWait(left)
    reason = VideoWaitEnd.NO_AGENTS if agents_signed_in <= 0 else VideoWaitEnd.MAX_WAIT
    return VideoCallback(reason) if caller_known else VideoGiveUp(reason)
