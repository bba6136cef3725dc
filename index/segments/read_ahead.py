"""Files read sequentially into the page cache before something faults through them page by page.

A memory-mapped table that is read whole (FAISS copying its graph out of a mapping, the layout of a
segment's chunk and sentence tables at open) takes one page fault per 4 KiB when the file is not
cached: on this project's VM some 75 us each, so 1.03 s for a segment's 52 MB HNSW graph, against
0.05 s read sequentially (docs/PERFORMANCE.md). When the file is cached, reading ahead costs ~1 ms.
"""

from __future__ import annotations

import os
from pathlib import Path


def read_ahead(path: Path, nbytes: int) -> int:
    """Bring the first ``nbytes`` of ``path`` into the page cache with large sequential reads
    (``sendfile`` to /dev/null: no copy to user space; plain reads where it is not available).
    Returns the bytes read (fewer when the file is shorter)."""
    if nbytes <= 0:
        return 0
    with open(path, "rb", buffering=0) as source:
        try:
            with open(os.devnull, "wb") as null:
                done = 0
                while done < nbytes:
                    sent = os.sendfile(null.fileno(), source.fileno(), done, nbytes - done)
                    if sent == 0:
                        break  # the file is shorter
                    done += sent
            return done
        except (AttributeError, OSError):  # no sendfile, or only to sockets (macOS)
            pass
        buffer = memoryview(bytearray(min(nbytes, 8 << 20)))
        source.seek(0)
        done = 0
        while done < nbytes:
            got = source.readinto(buffer[: min(nbytes - done, len(buffer))])
            if not got:
                break
            done += got
        return done
