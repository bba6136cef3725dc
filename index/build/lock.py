"""One build of an index at a time, across processes (an flock on INDEX_DIR/.build.lock).

A second build either waits, saying so once, up to a time limit, or gives up with BuildInProgress
before it has changed anything; the lock file names the holder's process id for that message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from index.errors import BuildInProgress, IndexDirProblem, writing

LOCK_FILE = ".build.lock"
POLL_SECONDS = 0.2
# How long `articlebot index`, `add` and `remove` wait for another build by default.
DEFAULT_WAIT_SECONDS = 600.0

Notify = Callable[[str], None]
_held = threading.local()  # index folders this thread holds the lock of (re-entry is free)


def ensure_index_dir(index_dir: Path) -> None:
    """Create INDEX_DIR if needed; one line when it cannot be (a link to nowhere, a file)."""
    if index_dir.is_symlink() and not index_dir.exists():
        raise IndexDirProblem(
            f"INDEX_DIR {index_dir} is a symbolic link to {os.readlink(index_dir)}, which does not "
            "exist; create that folder or point INDEX_DIR elsewhere"
        )
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexDirProblem(f"INDEX_DIR {index_dir} is a file, not a folder")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexDirProblem(f"cannot create INDEX_DIR {index_dir}: {exc.strerror}") from None


@contextlib.contextmanager
def build_lock(
    index_dir: Path, *, wait: float = 0.0, on_wait: Notify | None = None
) -> Iterator[None]:
    """Hold the index's build lock; wait up to ``wait`` seconds for another holder to finish.

    Re-entrant within one thread, so `articlebot add` can hold it around the corpus change and the
    build that follows; another thread or process waits or gets BuildInProgress.
    """
    ensure_index_dir(index_dir)
    key = str(index_dir.resolve())
    held: set[str] = _held.__dict__.setdefault("dirs", set())
    if key in held:
        yield
        return
    # A read-only or full INDEX_DIR: one line, before anything is changed.
    with writing(index_dir / LOCK_FILE, "nothing was changed; the current index still serves"):
        handle = (index_dir / LOCK_FILE).open("a+", encoding="utf-8")
    with handle:
        _acquire(handle, index_dir, wait, on_wait)
        held.add(key)
        try:
            with contextlib.suppress(OSError):  # the holder's pid is for messages only
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_locked(index_dir: Path) -> bool:
    """Whether someone else holds the build lock right now (a snapshot, for messages)."""
    try:
        with build_lock(index_dir):
            return False
    except BuildInProgress:
        return True


def _acquire(handle: TextIO, index_dir: Path, wait: float, on_wait: Notify | None) -> None:
    deadline = time.monotonic() + max(0.0, wait)
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _holder(handle)
        if time.monotonic() >= deadline:
            waited = f" (waited {wait:.0f} s)" if wait > 0 else ""
            raise BuildInProgress(
                f"another build of {index_dir}{holder} is running{waited}; nothing was changed, "
                "run the command again when it ends"
            )
        if not told and on_wait is not None:
            on_wait(
                f"waiting for another build of {index_dir}{holder} to finish "
                f"(up to {wait:.0f} s)..."
            )
            told = True
        time.sleep(POLL_SECONDS)


def _holder(handle: TextIO) -> str:
    handle.seek(0)
    pid = handle.read().strip()
    return f" (process {pid})" if pid.isdigit() else ""
