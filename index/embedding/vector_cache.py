"""Embeddings by (model, sha256 of the embedded text), so rebuilds embed only new or changed text.

The cache is only an accelerator: a damaged cache file is discarded (with a warning naming it) and
rebuilt, and a damaged vector in an intact file is re-embedded, never served.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
# Stored vectors are unit rows; one whose length is off by more than this was damaged on disk.
NORM_TOLERANCE = 1e-3
# Unused vectors are deleted once they may be more than this share of the live ones (plus a few).
STALE_SHARE = 0.25
STALE_MIN = 1000


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def stacked(known: Mapping[bytes, np.ndarray], keys: Sequence[bytes], dim: int) -> np.ndarray:
    """The vectors of ``keys``, in order, as one float32 array (every key must be in ``known``)."""
    out = np.zeros((len(keys), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = known[key]
    return out


class VectorCache:
    """Embeddings by (model, sha256 of text). ``fresh=True`` starts from an empty file."""

    def __init__(self, path: Path, model: str, dim: int, *, fresh: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._model = model
        self._dim = dim
        if fresh:
            _remove(path)
        try:
            self._db = _open(path)
        except sqlite3.DatabaseError as exc:
            log.warning("discarding the damaged embedding cache %s (%s); rebuilding it", path, exc)
            _remove(path)
            self._db = _open(path)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = list(keys[i : i + 500])
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})",
                [self._model, *batch],
            )
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self._dim,) and _plausible(vec):
                    found[bytes(key)] = vec
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Stage vectors; they are written by ``commit`` (one transaction per build step)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            ((self._model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items),
        )

    def commit(self) -> None:
        self._db.commit()

    def note_added(self, live: int, added: int) -> bool:
        """Count ``added`` new vectors; True when unused ones may now be over ``STALE_SHARE`` of
        the ``live`` count (then ``keep_only`` with the live keys), without reading the table."""
        rows = self._row_bound() + added
        if rows <= live * (1 + STALE_SHARE) + STALE_MIN:
            self._set_row_bound(int(rows))
            return False
        return True

    def keep_only(self, keys: Sequence[bytes], added: int) -> bool:
        """Drop this model's vectors that no current text uses, once they are worth a pass.

        ``added`` vectors were put since the last call. The cache keeps an upper bound of its row
        count, so a build that changed little does not read the whole table: the unused rows are
        deleted only when they could be over ``STALE_SHARE`` of it. True when it pruned.
        """
        live = len(set(keys))
        rows = self._row_bound() + added
        if rows <= live * (1 + STALE_SHARE) + STALE_MIN:
            self._set_row_bound(int(rows))
            return False
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key BLOB PRIMARY KEY)")
        self._db.execute("DELETE FROM live")
        self._db.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((k,) for k in keys))
        self._db.execute(
            "DELETE FROM vectors WHERE model = ? AND key NOT IN (SELECT key FROM live)",
            (self._model,),
        )
        self._set_row_bound(live)
        return True

    def _row_bound(self) -> float:
        row = self._db.execute(
            "SELECT rows FROM row_bound WHERE model = ?", (self._model,)
        ).fetchone()
        return float("inf") if row is None else float(row[0])  # unknown: prune once

    def _set_row_bound(self, rows: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO row_bound VALUES (?, ?)", (self._model, rows))
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def _open(path: Path) -> sqlite3.Connection:
    """Open and check the file's structure (quick_check reads every page once; the cache is small
    next to the model work a build does)."""
    db = sqlite3.connect(path)
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key BLOB, vec BLOB, "
            "PRIMARY KEY (model, key))"
        )
        db.execute("CREATE TABLE IF NOT EXISTS row_bound (model TEXT PRIMARY KEY, rows INTEGER)")
        (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict}")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _plausible(vec: np.ndarray) -> bool:
    norm = float(np.linalg.norm(vec))
    return abs(norm - 1.0) <= NORM_TOLERANCE or norm == 0.0


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
