"""The engine pins glibc's mmap threshold, so socket reads' 256 KiB blocks are mapped
and returned whole instead of fragmenting the main heap (ivr/adapters/malloc.py).

Each case runs in a fresh interpreter: what malloc does with a large block depends
on the holes a long test run has left in the heap.
"""

from __future__ import annotations

import subprocess
import sys

# Prints how many more blocks are mapped while a 256 KiB block is alive.
PROBE = """
import ctypes, ctypes.util, sys
from ivr.adapters.malloc import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2
# Freeing a mapped block is what makes glibc raise its threshold.
large = bytearray(1024 * 1024)
del large
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold() is True
before = libc.mallinfo2().hblks
block = bytearray(256 * 1024)
print(libc.mallinfo2().hblks - before)
"""


def mapped_for_a_socket_read(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    # The last line: structlog may print the fix to stdout before it.
    return int(done.stdout.splitlines()[-1])


def test_glibc_on_its_own_cuts_a_socket_read_sized_block_from_the_heap() -> None:
    assert mapped_for_a_socket_read("default") == 0


def test_with_the_threshold_fixed_a_socket_read_sized_block_is_mapped() -> None:
    assert mapped_for_a_socket_read("fixed") == 1
