"""Our own FastAGI server: a pure protocol module and a thin asyncio adapter."""

from ivr.adapters.fastagi.protocol import (
    AGICommandError,
    AGIError,
    AGIHangup,
    AGIProtocolError,
    AGIReply,
    AGIRequest,
    AGITimeout,
    format_command,
    parse_env_line,
    parse_reply,
)
from ivr.adapters.fastagi.server import (
    AGIRouter,
    AGISession,
    CommandStats,
    FastAGIServer,
    Handler,
)

__all__ = [
    "AGICommandError",
    "AGIError",
    "AGIHangup",
    "AGIProtocolError",
    "AGIReply",
    "AGIRequest",
    "AGIRouter",
    "AGISession",
    "AGITimeout",
    "CommandStats",
    "FastAGIServer",
    "Handler",
    "format_command",
    "parse_env_line",
    "parse_reply",
]
