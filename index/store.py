"""Index generations on disk: written to a temporary folder, fsynced, then published atomically.

Layout of INDEX_DIR:
    CURRENT                      name of the generation that serves (replaced atomically)
    generations/<name>/          manifest.json, dense.faiss, sentences.npy, meta.sqlite, bm25/
    cache/embeddings.sqlite      vectors by (model, sha256 of the embedded text)
A reader only ever follows CURRENT to a complete folder; a crash mid-build leaves a `.tmp-*`
folder that the next build removes. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import IncompatibleIndex, IndexUnavailable, NoIndexError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    generation: str
    created_at: str
    model: str
    dim: int
    articles: int
    chunks: int
    sentences: int
    corpus_dir: str
    checksums: dict[str, str]
    params: dict[str, object]

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            raise IndexUnavailable(f"index generation {folder} has no {MANIFEST}") from None
        except (json.JSONDecodeError, TypeError) as exc:
            raise IndexUnavailable(f"{path} is not a valid manifest: {exc}") from None


def new_generation_name() -> str:
    return (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        + f"-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    )


def current_generation(index_dir: Path) -> Path:
    """The folder of the generation that serves; NoIndexError if none was published."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoIndexError(f"no index in {index_dir}; build one with `articlebot index`") from None
    folder = index_dir / "generations" / name
    if not (folder / MANIFEST).is_file():
        raise IndexUnavailable(
            f"{pointer} names generation {name!r}, which is missing or incomplete"
        )
    return folder


def check_compatible(manifest: Manifest, model: str, dim: int) -> None:
    if manifest.schema_version != SCHEMA_VERSION:
        raise IncompatibleIndex(
            f"index generation {manifest.generation} has schema {manifest.schema_version}, this "
            f"Articlebot reads schema {SCHEMA_VERSION}; rebuild with `articlebot index --full`"
        )
    if manifest.model != model or manifest.dim != dim:
        raise IncompatibleIndex(
            f"index generation {manifest.generation} was built with model {manifest.model!r} "
            f"(dim {manifest.dim}), but EMBED_MODEL is {model!r} (dim {dim}); rebuild with "
            "`articlebot index --full` or set EMBED_MODEL back"
        )


def staging_folder(index_dir: Path, name: str) -> Path:
    root = index_dir / "generations"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = root / f".tmp-{name}"
    folder.mkdir()
    return folder


def publish(index_dir: Path, staging: Path, manifest: Manifest, keep: int) -> Path:
    """Checksum, fsync and rename ``staging`` into place, then point CURRENT at it."""
    checksums = {
        p.relative_to(staging).as_posix(): file_sha256(p)
        for p in sorted(staging.rglob("*"))
        if p.is_file()
    }
    data = manifest.__dict__ | {"checksums": checksums}
    (staging / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    for p in staging.rglob("*"):
        if p.is_file():
            _fsync_file(p)
    final = staging.parent / manifest.generation
    os.replace(staging, final)
    _fsync_dir(final.parent)
    tmp_pointer = index_dir / "CURRENT.tmp"
    tmp_pointer.write_text(manifest.generation + "\n", encoding="utf-8")
    _fsync_file(tmp_pointer)
    os.replace(tmp_pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    prune(index_dir, keep)
    return final


def prune(index_dir: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` published generations (never the current one)."""
    current = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    root = index_dir / "generations"
    published = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in published[keep:]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class VectorCache:
    """Embeddings by (model, sha256 of text), so rebuilds embed only new or changed text."""

    def __init__(self, path: Path, model: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key BLOB, vec BLOB, "
            "PRIMARY KEY (model, key))"
        )
        self._model = model
        self._dim = dim

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
                if vec.shape == (self._dim,):
                    found[bytes(key)] = vec
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            ((self._model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items),
        )
        self._db.commit()

    def keep_only(self, keys: Iterable[bytes]) -> None:
        """Drop this model's vectors that no current text uses (bounds the cache's growth)."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key BLOB PRIMARY KEY)")
        self._db.execute("DELETE FROM live")
        self._db.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((k,) for k in keys))
        self._db.execute(
            "DELETE FROM vectors WHERE model = ? AND key NOT IN (SELECT key FROM live)",
            (self._model,),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()
