"""Adding and removing article files in the corpus folder, safely (shared by the CLI and the bot).

A name is accepted as given or refused, never repaired, so what is saved is exactly what the admin named.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import unicodedata
from pathlib import Path

from index.corpus.folder import MAX_FILE_BYTES, SUPPORTED, article_from_bytes
from index.errors import ArticleError, CorpusError, writing

# Letters and digits of any script (é, ü, 東), then also spaces and . _ ( ) -; no control characters.
_SAFE_NAME = re.compile(r"^[^\W_][\w ._()-]{0,119}$")


class CorpusFileError(CorpusError):
    """A file cannot be added or removed; ``kind`` says why (name, path, suffix, exists, missing)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def safe_article_name(filename: str) -> str:
    """``filename`` if it is a plain, safe file name with a supported suffix; else CorpusFileError.
    Composed to NFC: macOS writes "é" as "e" + a combining accent (NFD), which is the same name."""
    name = unicodedata.normalize("NFC", filename.strip())
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise CorpusFileError(
            f"Refused: the file name {name[:80]!r} contains a path; use a plain file name.", "path"
        )
    if not _SAFE_NAME.match(name):
        raise CorpusFileError(
            "Refused: file names may use letters, digits, spaces, '.', '_', '-', '(' and ')', "
            "start with a letter or digit, and be at most 120 characters.",
            "name",
        )
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        allowed = ", ".join(SUPPORTED)
        raise CorpusFileError(
            f"Refused: {suffix or 'no extension'} is not one of {allowed}.", "suffix"
        )
    return name


def check_article(name: str, data: bytes, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse (kind "unreadable") what the index would skip: empty, binary, broken, unsupported.
    Read from memory: a process killed during a long check leaves no copy behind (it used to leave
    one in /tmp)."""
    safe = safe_article_name(name)
    try:
        article_from_bytes(data, safe, Path(safe).stem, max_bytes)
    except ArticleError as exc:
        raise CorpusFileError(
            f"Refused: {name} is not a readable article: {exc}.", "unreadable"
        ) from None


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path`` resolves to somewhere inside ``folder`` (symlinks followed)."""
    return path.resolve().is_relative_to(folder.resolve())


def save_article(corpus_dir: Path, name: str, data: bytes, *, replace: bool) -> Path:
    """Write ``data`` to ``corpus_dir/name`` atomically; refuse to overwrite unless ``replace``."""
    target = corpus_dir / safe_article_name(name)
    if not inside(corpus_dir, target):
        raise CorpusFileError("Refused: that file name points outside the corpus folder.", "path")
    if target.exists() and not replace:
        raise CorpusFileError(f"`{name}` already exists in the corpus.", "exists")
    with writing(corpus_dir, "nothing was saved"):  # a read-only or full corpus disk
        return _write_atomically(corpus_dir, target, data)


def _write_atomically(corpus_dir: Path, target: Path, data: bytes) -> Path:
    corpus_dir.mkdir(parents=True, exist_ok=True)
    # The pid in the name lets the next build tell a part left by a killed process (removed) from
    # one still being written (index/corpus/batch.py).
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=f".upload-{os.getpid()}-", suffix=".part")
    try:
        os.fchmod(fd, file_mode(corpus_dir))  # mkstemp's 0600 would hide it from the bot's user
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink(missing_ok=True)
        raise
    return target


def file_mode(folder: Path) -> int:
    """The mode for a new file in ``folder``: the folder's own bits without execute (0755 -> 0644)."""
    return stat.S_IMODE(folder.stat().st_mode) & 0o666


def remove_article(corpus_dir: Path, relative_path: str) -> Path:
    """Delete one article file, only if it lies inside the corpus folder."""
    target = corpus_dir / relative_path
    if not inside(corpus_dir, target) or not target.is_file():
        raise CorpusFileError(f"`{relative_path}` is not a file in the corpus folder.", "missing")
    with writing(target, "the article was not removed"):  # a read-only disk: the file stays whole
        target.unlink()
    return target
