"""Keep the engine's C heap from growing with the number of calls it has served.

asyncio reads every socket with `recv(256 KiB)` and shrinks the result to what
arrived, so the engine asks malloc for 256 KiB many times per call (FastAGI and AMI
reads). glibc starts by serving such blocks with mmap, but the first time one is
freed it raises its mmap threshold above 256 KiB (and its trim threshold to twice
that, so the heap's free top is kept), and from then on they are cut from the main
heap. Each shrunk read leaves a small live block where a large one was; the free
space around it is reused only in part, and a 40-caller soak grew the heap by ~65
KiB a minute (about 0.4 KiB per call) while glibc's count of bytes in use stayed
flat.

Fixing the threshold at glibc's default (128 KiB) stops the adjustment: the heap's
free top is trimmed, the 256 KiB reads go back to mmap and are returned whole.
Measured in the same soak: the heap flat from the third minute, for about 40
mmap/munmap pairs a second, a fraction of a millisecond of CPU.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import structlog

log = structlog.get_logger(__name__)

# From glibc's malloc.h: mallopt's parameter number and glibc's default threshold.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold; False (and a log line) where that is not possible."""
    if platform.libc_ver()[0] != "glibc":
        log.info("malloc_threshold_unchanged", reason="not glibc")
        return False
    path = ctypes.util.find_library("c")
    if path is None:
        log.info("malloc_threshold_unchanged", reason="libc not found")
        return False
    libc = ctypes.CDLL(path)
    # mallopt returns 1 on success, 0 on error.
    if libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) != 1:
        log.warning("malloc_threshold_unchanged", reason="mallopt refused")
        return False
    log.info("malloc_threshold_fixed", bytes=MMAP_THRESHOLD_BYTES)
    return True
