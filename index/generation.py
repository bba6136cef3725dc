"""The contents of one index generation: write them to a folder, load them back into memory."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from index.dense_index import build_dense, prepare_for_search
from index.errors import CorruptIndex, IncompatibleIndex, IndexUnavailable, NoIndexError
from index.store import (
    POINTER,
    Manifest,
    check_compatible,
    current_generation,
    published_generations,
    verify_generation,
)
from index.text import terms
from index.types import Article

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG at import; put it back under the application's control.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

BM25_K1 = 1.2
BM25_B = 0.75


@dataclass
class Generation:
    """Everything a question needs, in memory. Row i of each chunk array describes FAISS id i."""

    manifest: Manifest
    articles: list[Article]
    chunk_article: np.ndarray  # int32, index into articles
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    chunk_first_sentence: np.ndarray  # global sentence row
    chunk_last_sentence: np.ndarray  # inclusive
    sentence_article: np.ndarray
    sentence_start: np.ndarray
    sentence_end: np.ndarray
    sentence_paragraph: np.ndarray
    sentence_vectors: np.ndarray  # float16 (n_sentences, dim), unit rows
    dense: faiss.Index
    bm25: bm25s.BM25
    doc_freq: dict[str, int]  # chunk document frequency of each term
    n_docs: int
    # Data derived from this generation on demand (e.g. scoring's term cache): it lives and dies
    # with the generation, so a swapped-out generation takes its caches with it.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.manifest.generation

    def chunk_text(self, row: int) -> str:
        article = self.articles[int(self.chunk_article[row])]
        return article.text[int(self.chunk_start[row]) : int(self.chunk_end[row])]

    def sentence_text(self, row: int) -> str:
        article = self.articles[int(self.sentence_article[row])]
        return article.text[int(self.sentence_start[row]) : int(self.sentence_end[row])]

    def idf(self, term: str) -> float:
        df = self.doc_freq.get(term, 0)
        return float(np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5)))


def bm25_text(title: str, chunk: str) -> list[str]:
    return terms(f"{title}\n{chunk}")


def write_generation(
    folder: Path,
    articles: list[Article],
    chunk_rows: list[tuple[int, int, int, int, int]],
    chunk_vectors: np.ndarray,
    sentence_rows: list[tuple[int, int, int, int]],
    sentence_vectors: np.ndarray,
) -> None:
    """chunk_rows: (article, start, end, first_sentence, last_sentence); sentence_rows: (article,
    start, end, paragraph). Vectors are unit float32 rows in the same order."""
    faiss.write_index(build_dense(chunk_vectors), str(folder / "dense.faiss"))
    np.save(folder / "sentences.npy", sentence_vectors.astype(np.float16), allow_pickle=False)
    tokens = [bm25_text(articles[a].title, articles[a].text[s:e]) for a, s, e, _, _ in chunk_rows]
    doc_freq = Counter(t for doc in tokens for t in set(doc))
    (folder / "doc_freq.json").write_text(
        json.dumps({"n_docs": len(tokens), "df": doc_freq}), encoding="utf-8"
    )
    retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    retriever.index(tokens or [["empty"]], show_progress=False)
    retriever.save(str(folder / "bm25"), show_progress=False)
    _write_meta(folder / "meta.sqlite", articles, chunk_rows, sentence_rows)


def _write_meta(
    path: Path,
    articles: list[Article],
    chunk_rows: list[tuple[int, int, int, int, int]],
    sentence_rows: list[tuple[int, int, int, int]],
) -> None:
    db = sqlite3.connect(path)
    with db:
        db.executescript(
            """
            CREATE TABLE articles (row INTEGER PRIMARY KEY, id TEXT UNIQUE, title TEXT, url TEXT,
                date TEXT, author TEXT, path TEXT, sha256 TEXT, source_offset INTEGER,
                pages TEXT, text TEXT);
            CREATE TABLE chunks (row INTEGER PRIMARY KEY, article INTEGER, start INTEGER,
                "end" INTEGER, first_sentence INTEGER, last_sentence INTEGER);
            CREATE TABLE sentences (row INTEGER PRIMARY KEY, article INTEGER, start INTEGER,
                "end" INTEGER, paragraph INTEGER);
            """
        )
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                (i, a.id, a.title, a.url, a.date, a.author, a.path, a.sha256, a.source_offset,
                 json.dumps(a.pages), a.text)
                for i, a in enumerate(articles)
            ),
        )  # fmt: skip
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?)", _numbered(chunk_rows))
        db.executemany("INSERT INTO sentences VALUES (?,?,?,?,?)", _numbered(sentence_rows))
    db.close()


def _numbered(rows: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    return [(i, *row) for i, row in enumerate(rows)]


def read_articles(folder: Path) -> list[Article]:
    """The articles of a generation (their text is what quotes are cut from)."""
    with _reading(folder / "meta.sqlite"):
        db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT id, title, url, date, author, path, sha256, source_offset, pages, text "
                "FROM articles ORDER BY row"
            ).fetchall()
        finally:
            db.close()
        return [
        Article(
            id=r[0], title=r[1], url=r[2], text=r[9], sha256=r[6], path=r[5], date=r[3],
                author=r[4], source_offset=r[7],
                pages=tuple(tuple(p) for p in json.loads(r[8])),
            )
            for r in rows
        ]  # fmt: skip


def read_article_ids(folder: Path) -> list[str]:
    """The article ids of a generation, in row order, without reading any article's text."""
    return list(read_article_hashes(folder))


def read_article_hashes(folder: Path) -> dict[str, str]:
    """Article id -> sha256 of its file, in row order, without reading any article's text."""
    with _reading(folder / "meta.sqlite"):
        db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True)
        try:
            return dict(db.execute("SELECT id, sha256 FROM articles ORDER BY row").fetchall())
        finally:
            db.close()


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any failure to parse ``path`` becomes one CorruptIndex naming it (never a library traceback)."""
    try:
        yield
    except CorruptIndex:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError,
            sqlite3.Error) as exc:  # fmt: skip
        raise CorruptIndex(path, f"{type(exc).__name__}: {exc}") from None


def load_generation(folder: Path, model: str, dim: int) -> Generation:
    """Load a published generation after checking every file against the manifest's checksums;
    CorruptIndex names a damaged file, IncompatibleIndex refuses another model or dimension."""
    manifest = Manifest.read(folder)
    check_compatible(manifest, model, dim)
    verify_generation(folder, manifest)
    articles = read_articles(folder)
    with _reading(folder / "meta.sqlite"):
        chunks, sents = _read_rows(folder)
    with _reading(folder / "doc_freq.json"):
        stats = json.loads((folder / "doc_freq.json").read_text(encoding="utf-8"))
        doc_freq, n_docs = stats["df"], int(stats["n_docs"])
    with _reading(folder / "sentences.npy"):
        sentence_vectors = np.load(folder / "sentences.npy", allow_pickle=False)
    with _reading(folder / "dense.faiss"):
        dense = prepare_for_search(faiss.read_index(str(folder / "dense.faiss")))
    with _reading(folder / "bm25"):
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
    return Generation(
        manifest=manifest,
        articles=articles,
        chunk_article=chunks[:, 0],
        chunk_start=chunks[:, 1],
        chunk_end=chunks[:, 2],
        chunk_first_sentence=chunks[:, 3],
        chunk_last_sentence=chunks[:, 4],
        sentence_article=sents[:, 0],
        sentence_start=sents[:, 1],
        sentence_end=sents[:, 2],
        sentence_paragraph=sents[:, 3],
        sentence_vectors=sentence_vectors,
        dense=dense,
        bm25=bm25,
        doc_freq=doc_freq,
        n_docs=n_docs,
    )


def _read_rows(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        chunks = np.array(
            db.execute(
                'SELECT article, start, "end", first_sentence, last_sentence FROM chunks '
                "ORDER BY row"
            ).fetchall(),
            dtype=np.int64,
        ).reshape(-1, 5)
        sents = np.array(
            db.execute(
                'SELECT article, start, "end", paragraph FROM sentences ORDER BY row'
            ).fetchall(),
            dtype=np.int64,
        ).reshape(-1, 4)
    finally:
        db.close()
    return chunks, sents


def load_serving(index_dir: Path, model: str, dim: int) -> Generation:
    """The generation CURRENT names or, when it is damaged, the newest intact older one.

    Falling back logs a warning that names the damaged file and the generation served instead; when
    no generation is intact, the first damage found is raised (its line says how to repair it).
    """
    current: Path | None = None
    damage: CorruptIndex | None = None
    try:
        current = current_generation(index_dir)
    except NoIndexError:
        if not published_generations(index_dir):
            raise
        damage = CorruptIndex(index_dir / POINTER, "missing")
    except CorruptIndex as exc:
        damage = exc
    candidates = ([current] if current else []) + [
        p for p in published_generations(index_dir) if p != current
    ]
    for folder in candidates:
        try:
            gen = load_generation(folder, model, dim)
        except IncompatibleIndex:
            if folder == current:
                raise
            continue
        except CorruptIndex as exc:
            damage = damage or exc
            continue
        if damage is not None:
            log.warning("%s; meanwhile serving the older generation %s", damage, gen.name)
        return gen
    if damage is None:  # e.g. CURRENT missing and no generation folder left to read
        raise IndexUnavailable(f"no usable index in {index_dir}; build one with `articlebot index`")
    raise damage
