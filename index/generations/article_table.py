"""A generation's live articles, read on demand from its segments' meta.sqlite (issue 11).

Holding every article's text in Python strings made a generation's open and memory grow with the
corpus (72 MB of text, 135 MB of RSS, at 100,000 chunks). Here an open reads no article: a question
reads the few it quotes from (by row, one indexed SQLite lookup each), and a bounded cache keeps the
most recent ones. The files were checked against the manifest when the generation was opened; each
segment's database is opened read-only and immutable (no locks, no journal), once, so a generation
pruned from disk while it serves keeps reading the files it opened.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from index.errors import CorruptIndex
from index.types import Article

META = "meta.sqlite"
MMAP_BYTES = 1 << 40
_COLUMNS = "id, title, url, date, author, path, sha256, source_offset, pages"


def _article(row: tuple, text: str) -> Article:
    return Article(
        id=row[0], title=row[1], url=row[2], date=row[3], author=row[4], path=row[5],
        sha256=row[6], source_offset=row[7], pages=_pages(row[8]),
        text=text,
    )  # fmt: skip


def _pages(stored: str) -> tuple[tuple[int, int], ...]:
    return () if stored == "[]" else tuple(tuple(p) for p in json.loads(stored))


def open_meta(folder: Path) -> sqlite3.Connection:
    """A segment's meta.sqlite, read-only and immutable, usable from any thread (callers lock)."""
    uri = f"file:{folder / META}?mode=ro&immutable=1"
    db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")  # pages read from the mapping, not by syscalls
    return db


def _checked(folder: Path, rows: np.ndarray) -> sqlite3.Connection:
    """The segment's database, once it holds every row its tables name (one index lookup)."""
    try:
        db = open_meta(folder)
        (top,) = db.execute("SELECT max(row) FROM articles").fetchone()
    except sqlite3.Error as exc:
        raise CorruptIndex(folder / META, f"{type(exc).__name__}: {exc}") from None
    if len(rows) and (top is None or int(rows.max()) > top):
        db.close()
        raise CorruptIndex(folder / META, f"it holds rows up to {top}, fewer than its tables")
    return db


class ArticleTable(Sequence[Article]):
    """Article row -> Article (text included), as a list of the generation's articles would give.

    ``parts``: per segment, its meta.sqlite folder and the segment row of each live article, in the
    generation's order. At most ``CACHE_ARTICLES`` articles and about ``CACHE_CHARS`` characters of
    text are kept; an article over a quarter of that is read again when asked for again.
    """

    CACHE_ARTICLES = 2_048
    CACHE_CHARS = 16_000_000

    def __init__(self, parts: Sequence[tuple[Path, np.ndarray]]) -> None:
        self._folders = [folder for folder, _ in parts]
        self._local = [np.asarray(rows, dtype=np.int64) for _, rows in parts]
        self._db = [_checked(f, rows) for f, rows in zip(self._folders, self._local, strict=True)]
        self._starts = np.cumsum([0] + [len(rows) for rows in self._local]).tolist()
        self._lock = threading.Lock()
        self._cache: dict[int, Article] = {}
        self._chars = 0

    def __len__(self) -> int:
        return self._starts[-1]

    def _place(self, row: int) -> tuple[int, int]:
        if not 0 <= row < len(self):
            raise IndexError(f"article row out of range 0..{len(self) - 1}")
        part = bisect.bisect_right(self._starts, row) - 1
        return part, int(self._local[part][row - self._starts[part]])

    def __getitem__(self, row: int) -> Article:  # type: ignore[override]  # no slices
        found = self._cache.get(row)  # one plain lookup per hit: a question asks hundreds of times
        if found is not None:
            return found
        row = int(row)
        if row < 0:  # as a list counts from the end
            row += len(self)
        with self._lock:
            part, local = self._place(row)
            article = self._read(part, local)
            self._keep(row, article)
            return article

    def _read(self, part: int, local: int) -> Article:
        try:
            got = (
                self._db[part]
                .execute(f"SELECT {_COLUMNS}, text FROM articles WHERE row = ?", (local,))
                .fetchone()
            )
            if got is None:
                raise ValueError(f"row {local} is missing")
            return _article(got, got[9])
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise CorruptIndex(self._folders[part] / META, f"{type(exc).__name__}: {exc}") from None

    def _keep(self, row: int, article: Article) -> None:
        """Cached, unless too long; the cache is emptied when full (no order to keep up, as
        scoring's term cache: a question's articles are asked for together)."""
        if len(article.text) > self.CACHE_CHARS // 4:
            return
        if len(self._cache) >= self.CACHE_ARTICLES or self._chars > self.CACHE_CHARS:
            self._cache = {}
            self._chars = 0
        self._cache[row] = article
        self._chars += len(article.text)

    def __iter__(self) -> Iterator[Article]:
        for row in range(len(self)):
            yield self[row]

    def listing(self) -> list[tuple[Article, int]]:
        """Every live article without its text, with its text's length in characters, in row order
        (for listings: one pass over each segment's database, nothing cached)."""
        out: list[tuple[Article, int]] = []
        for folder, db, rows in zip(self._folders, self._db, self._local, strict=True):
            with self._lock:
                try:
                    got = db.execute(
                        f"SELECT row, {_COLUMNS}, length(text) FROM articles ORDER BY row"
                    ).fetchall()
                except sqlite3.Error as exc:
                    raise CorruptIndex(folder / META, f"{type(exc).__name__}: {exc}") from None
            by_row = {r[0]: r for r in got}
            for local in rows.tolist():
                r = by_row[local]
                out.append((_article(r[1:], ""), int(r[10])))
        return out

    def close(self) -> None:
        for db in self._db:
            db.close()
