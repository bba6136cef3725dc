"""A file's stamp when a build read it, so that the next build can skip reading it again.

The stamp is the file's size, modification and change times (ns), inode and device, and when it was
taken. A later scan that finds the same values skips the file: its article is the one the serving
generation holds. The change time cannot be set by tools that copy times (cp -p, rsync -t), and a
stamp taken too soon after the file's last change is never trusted: timestamps come from a coarse
clock, so a second change within the same tick could leave them equal (git calls such entries
racily clean). Too soon is ``RACY_NS`` on file systems that keep whole seconds (ext3, HFS+, FAT's
two) and ``RACY_FINE_NS`` where times have sub-second digits (the kernel's clock ticks every 1-10
ms). ``articlebot index --full`` reads every file again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

RACY_NS = 2_000_000_000
RACY_FINE_NS = 100_000_000


def take(path: Path) -> str:
    """The stamp of ``path`` now (taken before reading it: a change during the read shows later)."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    seen = time.time_ns()
    return json.dumps([st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, seen])


def unchanged(path: Path, stamp: str, max_bytes: int) -> bool:
    """Whether ``path`` is certainly as it was when ``stamp`` was taken (and within ``max_bytes``)."""
    try:
        size, mtime, ctime, ino, dev, seen = json.loads(stamp)
        st = os.stat(path)
    except (OSError, ValueError, TypeError):
        return False
    whole_seconds = mtime % 1_000_000_000 == 0 or ctime % 1_000_000_000 == 0
    if seen - max(mtime, ctime) < (RACY_NS if whole_seconds else RACY_FINE_NS):
        return False
    if size > max_bytes:
        return False
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev) == (
        size, mtime, ctime, ino, dev,
    )  # fmt: skip
