"""`articlebot rollback`: serve the generation that served before, without rebuilding anything.

Generations are kept on disk (KEEP_GENERATIONS, default 2); rollback points CURRENT at the newest
kept one older than the serving generation (or at ``--to NAME``) after checking its files, under the
build lock. A running bot picks the change up like any other published generation. The corpus is not
touched: the next build compares against the restored generation (and refuses to publish a corpus
that lost most of its articles).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from index.build.lock import build_lock
from index.errors import IndexUnavailable, UsageError, writing
from index.generations.store import (
    Manifest,
    point_current,
    published_generations,
    read_pointer,
    verify_generation,
)


def rollback(index_dir: Path, to: str | None = None) -> tuple[str, str]:
    """Point CURRENT at the previous kept generation (or ``to``); returns (from, to) names."""
    with build_lock(index_dir):
        current = read_pointer(index_dir)
        kept = [p.name for p in published_generations(index_dir)]  # newest first
        target = to if to is not None else _previous(kept, current, index_dir)
        if target == current:
            raise UsageError(f"generation {target} is already the one serving")
        if target not in kept:
            raise UsageError(f"no generation {target!r} in {index_dir}; kept: {', '.join(kept)}")
        folder = index_dir / "generations" / target
        verify_generation(folder, Manifest.read(folder))  # damaged: CorruptIndex, nothing changed
        with writing(index_dir, f"CURRENT still names generation {current}"):
            point_current(index_dir, target)
        # Newest again, so the next build's pruning keeps it. After the pointer: touched first, a
        # failed pointer write would leave it the newest, and the next rollback would find
        # nothing older than the serving generation.
        with contextlib.suppress(OSError):
            os.utime(folder)
    return current, target


def _previous(kept: list[str], current: str, index_dir: Path) -> str:
    older = kept[kept.index(current) + 1 :] if current in kept else kept
    if not older:
        raise IndexUnavailable(
            f"no earlier generation is kept in {index_dir} (KEEP_GENERATIONS keeps the newest "
            f"{len(kept)}); nothing to roll back to"
        )
    return older[0]
