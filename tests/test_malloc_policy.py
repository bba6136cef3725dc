"""The serving process's allocator setting takes effect where the C library is glibc (issue 11)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from tests.conftest import REPO

PROBE = """
import ctypes, ctypes.util, sys
import numpy as np
from index.process.malloc_policy import reuse_large_blocks

class Info(ctypes.Structure):  # glibc's struct mallinfo2
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = Info
if sys.argv[1] == "set":
    assert reuse_large_blocks()
before = libc.mallinfo2().hblkhd  # bytes in blocks that have a mapping of their own
block = np.ones(8 * 1024 * 1024 // 8)
print(libc.mallinfo2().hblkhd - before)
"""


def _glibc_with_mallinfo2() -> bool:
    name, version = platform.libc_ver()
    return name == "glibc" and tuple(int(v) for v in version.split(".")[:2]) >= (2, 33)


@pytest.mark.skipif(not _glibc_with_mallinfo2(), reason="mallopt and mallinfo2 are glibc's (2.33+)")
def test_large_temporaries_come_from_the_heap_once_set() -> None:
    """A fresh 8 MiB array gets a mapping of its own by default and comes from the heap once set
    (fresh processes, so that nothing else has moved glibc's threshold)."""
    mapped = {}
    for mode in ("default", "set"):
        result = subprocess.run(
            [sys.executable, "-c", PROBE, mode],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        mapped[mode] = int(result.stdout.strip())
    assert mapped["default"] >= 8 * 1024 * 1024
    assert mapped["set"] == 0
