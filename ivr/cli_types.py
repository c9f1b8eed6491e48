"""argparse value types shared by the CLI's command modules."""

from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """A whole number of at least 1, refused with a clear line (never a traceback)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
