"""structlog set-up: JSON key-value events, with call ids bound per asyncio task."""

from __future__ import annotations

import logging
import sys
from typing import Protocol, TextIO, cast

import structlog
from structlog.typing import EventDict, WrappedLogger

from ivr.domain.masking import mask_numbers_deep

# Libraries narrate their set-up at INFO; only their warnings matter to operators.
_QUIET_LIBRARIES = ("alembic", "panoramisk", "httpx", "httpcore", "websockets")


class Stream(Protocol):
    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


def mask_phone_numbers(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Mask every phone number in an event before it is written.

    engine.log is read by operators and shipped to log stores: a caller's number must
    not be in it in clear, whichever field (or dumped spool line) carries it.
    """
    return {key: mask_numbers_deep(value, key) for key, value in event.items()}


def configure(level: str = "INFO", stream: Stream | None = None) -> None:
    """Send every event as one JSON line; contextvars carry the call's ids."""
    # Both loggers only call write() and flush(), which any Stream has.
    out = cast(TextIO, stream or sys.stderr)
    logging.basicConfig(stream=out, level=level, format="%(message)s", force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_phone_numbers,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    floor = max(logging.WARNING, logging.getLevelName(level))
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(floor)
