"""Keeping freed memory for the next training step: fewer page faults on Linux.

Used by ``setup()`` (the first cell of every chapter, chapter 0), the
``train`` and ``reproduce`` commands, and ``bench``. Every training step frees
and then allocates again the same few megabytes of activations. With its
default settings, glibc's ``malloc`` may hand blocks that large back to the
operating system and ask for them again at the next step, and the kernel then
supplies zeroed pages one page fault (4 KiB) at a time.

:func:`keep_freed_memory` raises glibc's two thresholds so that freed blocks
of up to 32 MiB stay in the process for reuse. The cost: the process keeps
the memory of its largest step instead of returning it. ``bench`` counts the
page faults of every row; ``docs/measurements.md`` has what they cost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory", "page_faults", "KEEP_BLOCKS_UP_TO"]

KEEP_BLOCKS_UP_TO = 32 * 2**20  # bytes; glibc's own ceiling for the mmap threshold on 64-bit machines
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


def keep_freed_memory() -> bool:
    """Make glibc keep freed blocks up to 32 MiB for reuse; ``True`` if it did.

    Returns ``False``, changing nothing, where the C library is not glibc
    (macOS, Windows, Alpine's musl). Calling it again is harmless.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # blocks below the mmap threshold come from the heap; the heap is trimmed only above the trim threshold
    return mallopt(_M_MMAP_THRESHOLD, KEEP_BLOCKS_UP_TO) == 1 and mallopt(_M_TRIM_THRESHOLD, 4 * KEEP_BLOCKS_UP_TO) == 1


def page_faults() -> int:
    """The minor page faults of this process so far (0 where the platform does not count them)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
