"""glibc's allocator for a serving process: a question's large temporaries reuse the heap (issue 11).

A question at a million chunks allocates arrays of 4-8 MB (BM25 scores of every chunk, a term's
postings as float64). glibc serves each allocation over its mmap threshold (128 KiB at start) with
a fresh mapping and unmaps it when freed, so every question page-faulted all of them again: 11 ms
a question at a million chunks (engine CPU p50 39 -> 33 ms with a 32 MiB threshold). glibc raises
the threshold by itself after freeing a large mapped block; a generation that was read into memory
did that at open, a memory-mapped one frees nothing large, so the threshold is set here. The heap
then keeps up to ``TRIM_BYTES`` of freed memory instead of returning it at once. A no-op where the
C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's own ceiling for the threshold it adjusts
TRIM_BYTES = 2 * MMAP_THRESHOLD_BYTES  # what glibc sets beside such a threshold


def reuse_large_blocks() -> bool:
    """Serve allocations up to 32 MiB from the heap; False where mallopt is not available."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)
    )
