"""`articlebot add` and `articlebot remove`: change the corpus from the command line, then reindex.

The same rules as the bot's /add-article and /remove-article (index.corpus.files); a running bot on the
same INDEX_DIR picks the new generation up by itself.
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

from index.config import Settings
from index.corpus.batch import write_batch
from index.corpus.files import (
    CorpusFileError,
    check_article,
    inside,
    remove_article,
    safe_article_name,
)
from index.corpus.folder import iter_corpus_files, slug_for
from index.corpus.paths import kind_of
from index.errors import CorpusError


class CorpusCommandError(CorpusError):
    """A file cannot be added or removed; the message names it and says why."""


def add_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", help="article files (.md .txt .html .pdf) or http(s) links to fetch"
    )
    parser.add_argument(
        "--replace", action="store_true", help="overwrite corpus files of the same name"
    )


def add_remove_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", help="the article's slug (e.g. notes/tea) or its file path")


def add_files(settings: Settings, files: list[Path], *, replace: bool) -> list[Path]:
    """Check every file first (name, type, readable, not already there), then copy them all in."""
    checked: list[tuple[str, bytes]] = []
    for src in files:
        try:
            checked.append(_checked(settings, src, replace=replace, taken={n for n, _ in checked}))
        except CorpusFileError as exc:
            hint = " Use --replace to overwrite it." if exc.kind == "exists" else ""
            raise CorpusCommandError(f"{src}: {exc}{hint}") from None
        except OSError as exc:
            raise CorpusCommandError(f"{src}: cannot read it ({exc.strerror})") from None
    # All or none of them, even if the process is killed midway (index/corpus/batch.py).
    return write_batch(settings.corpus_dir, checked)


def _checked(settings: Settings, src: Path, *, replace: bool, taken: set[str]) -> tuple[str, bytes]:
    if src.is_dir():
        raise CorpusFileError(
            f"Refused: {src} is a folder; name its files instead (e.g. {src}/*.md).", "folder"
        )
    name = safe_article_name(src.name)
    if name in taken:
        raise CorpusFileError(f"Refused: {name} is named twice.", "exists")
    if (settings.corpus_dir / name).exists() and not replace:
        raise CorpusFileError(f"`{name}` already exists in the corpus.", "exists")
    data = read_source(src, settings.max_article_bytes)
    check_article(name, data, max_bytes=settings.max_article_bytes)  # what the index would skip
    return name, data


def read_source(src: Path, max_bytes: int) -> bytes:
    """The bytes of a file to add, checked by type and size before anything is read: a FIFO (which
    would block), a device (/dev/zero grows without end) or a file over the limit is refused
    without reading it; the read itself never takes more than ``max_bytes`` + 1 bytes."""
    info = src.stat()  # follows links: what would be read
    if not stat.S_ISREG(info.st_mode):
        raise CorpusFileError(
            f"Refused: {src} is not a regular file ({kind_of(info.st_mode)}).", "type"
        )
    if info.st_size > max_bytes:
        raise CorpusFileError(
            f"Refused: {src} is {info.st_size:,} bytes; the limit is {max_bytes:,} "
            "(MAX_ARTICLE_BYTES).",
            "size",
        )
    fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the stat
            raise CorpusFileError(f"Refused: {src} is not a regular file.", "type")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise CorpusFileError(f"Refused: {src} grew past {max_bytes:,} bytes while read.", "size")
    return data


def remove_file(settings: Settings, article: str) -> Path:
    """Delete the article named by slug, by path below the corpus folder, or by its file's path."""
    corpus = settings.corpus_dir
    wanted = {article.strip().removeprefix("./")}
    given = Path(article.strip()).expanduser()
    if given.is_file() and inside(corpus, given):  # e.g. corpus/x.html or /srv/corpus/x.html
        wanted.add(given.resolve().relative_to(corpus.resolve()).as_posix())
    for path in iter_corpus_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        if wanted & {rel, slug_for(corpus, path)}:
            try:
                return remove_article(corpus, rel)
            except CorpusFileError as exc:
                raise CorpusCommandError(str(exc)) from None
    raise CorpusCommandError(
        f"no article {article!r} in {corpus} (give its slug, e.g. notes/tea, or its file's "
        "path); `articlebot info` lists them"
    )
