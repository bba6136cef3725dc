"""Which paths below the corpus folder may be read: never one that resolves outside the folder.

A symbolic link in the corpus to ``/etc/passwd`` was followed and quoted by ``ask``. Here the walk
reports every link it does not follow by name with the reason, and the read itself checks again (the
resolved path must lie inside the corpus, the file must be a regular file), so a path swapped for a
link or a FIFO between the walk and the read is refused too. Hidden files and folders are ignored.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from index.errors import ArticleError
from index.types import SkippedFile

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def walk_corpus(corpus_dir: Path) -> Iterator[Path | SkippedFile]:
    """Every readable file below ``corpus_dir`` in path order, and a SkippedFile for each entry
    that is not followed: a link outside the folder, a broken link, a link to a folder, a device,
    FIFO or socket. Links to files inside the folder are read like the files themselves."""
    root = corpus_dir.resolve()
    stack: list[Path] = [corpus_dir]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            rel = folder.relative_to(corpus_dir).as_posix()
            yield SkippedFile(rel or ".", f"folder cannot be listed ({exc.strerror})")
            continue
        subfolders: list[Path] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            rel = path.relative_to(corpus_dir).as_posix()
            unnamed = name_problem(rel)
            if unnamed is not None:  # a name the index cannot store (or a log line could forge)
                yield SkippedFile(printable(rel), unnamed)
                continue
            reason = _refusal(root, path, entry)
            if reason is not None:
                yield SkippedFile(rel, reason)
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(path)
            else:
                yield path
        # Depth first, in name order: the order sorted(rglob("*")) gave.
        stack.extend(reversed(subfolders))


MAX_NAME_BYTES = (
    1024  # a relative path longer than this is not stored (the system's own limit is 4096)
)


def name_problem(rel: str) -> str | None:
    """Why a relative path cannot name an article, or None: bytes that are not UTF-8 (the file
    system hands them over as lone surrogates, which the index cannot store), control characters
    (a newline would forge a line of the build report), or an overlong path."""
    try:
        encoded = rel.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8; rename it to index it"
    if any(ord(c) < 32 or ord(c) == 127 for c in rel):
        return "file name contains control characters (a newline, a tab...); rename it to index it"
    if len(encoded) > MAX_NAME_BYTES:
        return f"path is longer than {MAX_NAME_BYTES} bytes; move it higher or shorten its name"
    return None


def printable(rel: str) -> str:
    """``rel`` as a report may show it: undecodable bytes as \\xNN, control characters escaped,
    at most 200 characters."""
    raw = os.fsencode(rel)
    shown = raw.decode("utf-8", "backslashreplace")
    shown = "".join(c if 32 <= ord(c) != 127 else f"\\x{ord(c):02x}" for c in shown)
    return shown if len(shown) <= 200 else shown[:199] + "…"


def _refusal(root: Path, path: Path, entry: os.DirEntry[str]) -> str | None:
    """Why ``entry`` is not read, or None when it is a plain folder or a readable file."""
    try:
        if entry.is_symlink():
            return _link_refusal(root, path)
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return f"not a regular file ({kind_of(mode)}); not read"


def _link_refusal(root: Path, path: Path) -> str | None:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target or a loop of links
        return "symbolic link to nothing (broken or a loop); not read"
    if not target.is_relative_to(root):
        return "symbolic link to a path outside the corpus folder; not read"
    mode = target.stat().st_mode
    if stat.S_ISDIR(mode):
        return "symbolic link to a folder; not followed (its files are read where they are)"
    if not stat.S_ISREG(mode):
        return f"symbolic link to {kind_of(mode)}; not read"
    return None


def kind_of(mode: int) -> str:
    """'a FIFO', 'a character device'... for a file mode that is not a regular file's."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def stat_inside(corpus_dir: Path, path: Path) -> os.stat_result:
    """The status of ``path`` if it resolves inside ``corpus_dir`` to a regular file; else
    ArticleError. Nothing is opened, so a FIFO cannot block it."""
    real = _resolve_inside(corpus_dir, path)
    info = real.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ArticleError(f"not a regular file ({kind_of(info.st_mode)}); not read")
    return info


def read_inside(corpus_dir: Path, path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it resolves inside ``corpus_dir`` to a regular file of at most
    ``max_bytes`` bytes; else ArticleError. Opening never blocks (a FIFO is refused, not waited on)
    and the checks hold for what was opened, whatever the path pointed to a moment before."""
    real = _resolve_inside(corpus_dir, path)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise ArticleError(f"cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ArticleError(f"not a regular file ({kind_of(mode)}); not read")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ArticleError(f"file is over the {max_bytes:,}-byte limit (MAX_ARTICLE_BYTES)")
    return data


def _resolve_inside(corpus_dir: Path, path: Path) -> Path:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ArticleError("cannot be opened (missing, or a broken link)") from None
    if not real.is_relative_to(corpus_dir.resolve()):
        raise ArticleError("resolves outside the corpus folder (a symbolic link); not read")
    return real
