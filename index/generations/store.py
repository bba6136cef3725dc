"""Index generations on disk: written to a temporary folder, fsynced, then published atomically.

Layout of INDEX_DIR:
    CURRENT                      name of the generation that serves (replaced atomically)
    generations/<name>/          manifest.json (segments, deleted rows, checksums) and
      segments/<segment>/        one folder per segment (index/segments/segment.py); a segment that an
                                 earlier generation wrote is a set of hard links to its files
    cache/embeddings.sqlite      vectors by (model, sha256 of the embedded text)
A reader only ever follows CURRENT to a complete folder; a crash mid-build leaves a `.tmp-*`
folder that the next build removes. Every file's sha256 is in the manifest and is checked when a
generation is opened (see ``verify_generation``). Removing a generation folder removes only its
links: a segment's files stay while a kept generation links them. No pickle anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.errors import CorruptIndex, IncompatibleIndex, IndexDirProblem, NoIndexError

# 3: sentence and title terms stored per segment; 2: segments; 1: one folder per generation
SCHEMA_VERSION = 3
MANIFEST = "manifest.json"
POINTER = "CURRENT"
# Sizes and modification times of a generation's files when their checksums last matched: a later
# open whose files all still match skips re-hashing (a stat per file instead of reading them all).
VERIFIED_STAMP = ".verified.json"
_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,99}$")
SEGMENT_NAME = _NAME


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
    # Per segment, oldest first: name, its rows (articles, chunks, sentences, deleted ones included)
    # and "deleted", the rows of its articles that this generation no longer serves.
    segments: list[dict[str, Any]] = field(default_factory=list)
    # sha256 of the other fields (canonical JSON): a damaged manifest is noticed, not believed.
    self_check: str = field(default="", compare=False)

    def fields_digest(self) -> str:
        data = {k: v for k, v in asdict(self).items() if k != "self_check"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()

    def sealed(self) -> Manifest:
        return Manifest(**(asdict(self) | {"self_check": self.fields_digest()}))

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            manifest = cls(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise CorruptIndex(path, "missing") from None
        except (ValueError, TypeError) as exc:  # JSON, UTF-8 or fields
            raise CorruptIndex(path, f"not a valid manifest: {type(exc).__name__}") from None
        if manifest.self_check and manifest.self_check != manifest.fields_digest():
            raise CorruptIndex(path, "its contents do not match its own checksum")
        return manifest


def new_generation_name() -> str:
    return (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        + f"-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    )


def read_pointer(index_dir: Path) -> str:
    """The generation name in CURRENT; NoIndexError if absent, CorruptIndex if unreadable."""
    pointer = index_dir / POINTER
    try:
        name = pointer.read_bytes().decode("utf-8").strip()
    except FileNotFoundError:
        raise NoIndexError(f"no index in {index_dir}; build one with `articlebot index`") from None
    except IsADirectoryError:
        raise CorruptIndex(pointer, "a folder where the pointer file should be") from None
    except UnicodeDecodeError:
        raise CorruptIndex(pointer, "not a generation name") from None
    if not _NAME.match(name):
        raise CorruptIndex(pointer, "not a generation name")
    return name


def current_generation(index_dir: Path) -> Path:
    """The folder of the generation that serves; NoIndexError if none was published."""
    name = read_pointer(index_dir)
    folder = index_dir / "generations" / name
    if not folder.is_dir():
        raise CorruptIndex(index_dir / POINTER, f"it names generation {name!r}, which is missing")
    if not (folder / MANIFEST).is_file():
        raise CorruptIndex(folder / MANIFEST, "missing")
    return folder


def current_manifest(index_dir: Path) -> Manifest:
    """The manifest of the generation that serves (its files unchecked)."""
    return Manifest.read(current_generation(index_dir))


def published_generations(index_dir: Path) -> list[Path]:
    """Every published generation folder, newest first (by modification time, as ``prune`` keeps)."""
    root = index_dir / "generations"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


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


def verify_generation(folder: Path, manifest: Manifest, *, full: bool = False) -> None:
    """CorruptIndex naming the first file that is missing or whose sha256 differs from the manifest.

    Files whose size and modification time still match the stamp written after the last successful
    check are not re-read (opening a generation stays a stat per file, not a read of gigabytes);
    anything written to since (truncated, a byte flipped) is hashed again. ``full``: hash every
    file whatever the stamp says (`articlebot verify`: damage that kept size and times).
    """
    if not manifest.checksums:
        raise CorruptIndex(folder / MANIFEST, "it lists no checksums")
    stats = {}
    for rel in manifest.checksums:
        path = folder / rel
        try:
            st = path.stat()
        except FileNotFoundError:
            raise CorruptIndex(path, "missing") from None
        stats[rel] = [st.st_size, st.st_mtime_ns]
    if not full and _read_stamp(folder) == stats:
        return
    for rel, digest in manifest.checksums.items():
        if file_sha256(folder / rel) != digest:
            raise CorruptIndex(folder / rel, "checksum mismatch")
    _write_stamp(folder, stats)


def _read_stamp(folder: Path) -> object:
    try:
        return json.loads((folder / VERIFIED_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_stamp(folder: Path, stats: dict[str, list[int]]) -> None:
    """Best effort: a read-only index is simply checked in full at every open."""
    tmp = folder / f"{VERIFIED_STAMP}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(stats), encoding="utf-8")
        os.replace(tmp, folder / VERIFIED_STAMP)
    except OSError:
        with contextlib.suppress(OSError):  # a read-only disk refuses the cleanup too
            tmp.unlink(missing_ok=True)


def staging_folder(index_dir: Path, name: str) -> Path:
    root = index_dir / "generations"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = root / f".tmp-{name}"
    folder.mkdir()
    return folder


def publish(
    index_dir: Path,
    staging: Path,
    manifest: Manifest,
    keep: int,
    known: Mapping[str, str] | None = None,
) -> Path:
    """Checksum, fsync and rename ``staging`` into place, then point CURRENT at it.

    ``known``: checksums of files linked from a published generation (checked there, durable
    already): they are neither hashed nor fsynced again.
    """
    known = known or {}
    checksums = {}
    for p in sorted(staging.rglob("*")):
        rel = p.relative_to(staging).as_posix()
        if p.is_file():
            checksums[rel] = known.get(rel) or file_sha256(p)
            if rel not in known:
                _fsync_file(p)
        elif p.is_dir():
            fsync_dir(p)
    sealed = Manifest(**(asdict(manifest) | {"checksums": checksums})).sealed()
    text = json.dumps(asdict(sealed), indent=2, sort_keys=True)
    (staging / MANIFEST).write_text(text, encoding="utf-8")
    _fsync_file(staging / MANIFEST)
    final = staging.parent / manifest.generation
    os.replace(staging, final)
    fsync_dir(final.parent)
    _write_stamp(final, {rel: _stat(final / rel) for rel in checksums})
    point_current(index_dir, manifest.generation)
    prune(index_dir, keep, manifest.generation)
    return final


def point_current(index_dir: Path, name: str) -> None:
    """Make generation ``name`` the one that serves: CURRENT replaced atomically, fsynced."""
    tmp_pointer = index_dir / f"{POINTER}.tmp"
    if (index_dir / POINTER).is_dir() and not (index_dir / POINTER).is_symlink():
        raise IndexDirProblem(
            f"{index_dir / POINTER} is a folder where the index's pointer file belongs; move it "
            "away (nothing was published; the last generation is intact)"
        )
    try:
        tmp_pointer.write_text(name + "\n", encoding="utf-8")
        _fsync_file(tmp_pointer)
        os.replace(tmp_pointer, index_dir / POINTER)
    except BaseException:  # e.g. a full disk: CURRENT still names the generation it named
        with contextlib.suppress(OSError):
            tmp_pointer.unlink(missing_ok=True)
        raise
    fsync_dir(index_dir)


def prune(index_dir: Path, keep: int, current: str) -> None:
    """Remove all but the newest ``keep`` published generations (never ``current``)."""
    for old in published_generations(index_dir)[keep:]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def link_files(source: Path, target: Path) -> None:
    """``target`` (new) holds hard links to the files of ``source``; a copy where the file system
    has no hard links."""
    target.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.is_file():
            try:
                os.link(path, target / path.name)
            except OSError:  # no hard links here (some network and FUSE file systems)
                shutil.copy2(path, target / path.name)
                _fsync_file(target / path.name)  # publish trusts linked files to be durable


def verify_files(folder: Path, checksums: Mapping[str, str]) -> bool:
    """Whether the files ``checksums`` names in a published ``folder`` are intact: a stat when they
    match the folder's verified stamp, else their sha256."""
    stamp = _read_stamp(folder)
    try:
        stats = {rel: _stat(folder / rel) for rel in checksums}
    except OSError:
        return False
    if isinstance(stamp, dict) and all(stamp.get(rel) == st for rel, st in stats.items()):
        return True
    return all(file_sha256(folder / rel) == digest for rel, digest in checksums.items())


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
