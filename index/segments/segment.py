"""One segment: an immutable folder holding some articles with their rows, vectors and indexes.

A generation lists segments and, per segment, the articles deleted since it was written (see
generation.py). A segment's files are written once and never changed; a later generation that still
uses the segment holds hard links to the same files.

Files of ``segments/<name>/``:
    meta.sqlite            the articles (id, title, ..., text): quotes are cut from this text
    chunks.npy             int32 (chunks, 5): article, start, end, first sentence, last sentence
    sentence_rows.npy      int32 (sentences, 4): article, start, end, paragraph
    sentence_vectors.npy   float16 (sentences, dim), unit rows
    dense.faiss            the chunk vectors (Flat or HNSW by size; FAISS id = chunk row)
    keys.npy               uint8 (chunks + sentences, 32): sha256 of each embedded text (cache pruning)
    terms.json, term_ptr.npy, term_docs.npy, term_tf.npy, doc_len.npy   BM25 term frequencies
    term_vocab*.npy, sentence_term_*.npy, title_term_*.npy   each sentence's and title's terms as ids
                           (index/segments/term_rows.py)
Rows (article, chunk, sentence) are numbered within the segment.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.segments.dense_index import build_dense, read_dense
from index.segments.postings import FILES as BM25_FILES
from index.segments.postings import Postings
from index.segments.read_ahead import read_ahead
from index.segments.term_rows import FILES as TERM_FILES
from index.segments.term_rows import StoredTerms
from index.types import Article

FILES = (
    "meta.sqlite",
    "chunks.npy",
    "sentence_rows.npy",
    "sentence_vectors.npy",
    "dense.faiss",
    "keys.npy",
    *BM25_FILES,
    *TERM_FILES,
)
KEY_BYTES = 32
_ARTICLE_COLUMNS = "id, title, url, date, author, path, sha256, source_offset, pages"


@dataclass(frozen=True)
class Tables:
    """The row tables of one segment (or of segments laid end to end)."""

    articles: list[Article]
    chunks: np.ndarray  # int32 (n, 5)
    sentences: np.ndarray  # int32 (m, 4)


@dataclass(frozen=True)
class SegmentData:
    """Everything a segment holds, in memory: what ``write_segment`` writes."""

    tables: Tables
    chunk_vectors: np.ndarray  # float32 (n, dim), unit rows
    sentence_vectors: np.ndarray  # float16 (m, dim)
    keys: np.ndarray  # uint8 (n + m, 32)
    postings: Postings
    terms: StoredTerms  # each sentence's and each title's terms

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.tables.articles), len(self.tables.chunks), len(self.tables.sentences)


@dataclass(frozen=True)
class Segment:
    """A segment read back for serving: its tables, sentence vectors, dense index and postings."""

    tables: Tables  # its ``articles`` empty when read for serving (see ``read_segment``)
    n_articles: int
    sentence_vectors: np.ndarray
    dense: faiss.Index
    postings: Postings
    terms: StoredTerms


def segment_entry(name: str, rows: Sequence[int]) -> dict[str, Any]:
    """A generation manifest's entry for a segment just written: its rows (articles, chunks,
    sentences), the live ones (all) and the deleted article rows (none)."""
    return {"name": name, "rows": list(rows), "live": list(rows), "deleted": []}


def write_segment(folder: Path, data: SegmentData) -> None:
    """Write ``data`` into the new folder ``folder`` (created here; fsync is publication's job)."""
    folder.mkdir(parents=True)
    faiss.write_index(build_dense(data.chunk_vectors), str(folder / "dense.faiss"))
    np.save(folder / "chunks.npy", data.tables.chunks.astype(np.int32), allow_pickle=False)
    np.save(
        folder / "sentence_rows.npy", data.tables.sentences.astype(np.int32), allow_pickle=False
    )
    vectors = data.sentence_vectors.astype(np.float16)
    np.save(folder / "sentence_vectors.npy", vectors, allow_pickle=False)
    np.save(folder / "keys.npy", data.keys.astype(np.uint8), allow_pickle=False)
    data.postings.save(folder)
    data.terms.save(folder)
    _write_articles(folder / "meta.sqlite", data.tables.articles)


def _write_articles(path: Path, articles: list[Article]) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "CREATE TABLE articles (row INTEGER PRIMARY KEY, id TEXT, title TEXT, url TEXT, "
            "date TEXT, author TEXT, path TEXT, sha256 TEXT, source_offset INTEGER, pages TEXT, "
            "text TEXT)"
        )
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                (i, a.id, a.title, a.url, a.date, a.author, a.path, a.sha256, a.source_offset,
                 json.dumps(a.pages), a.text)
                for i, a in enumerate(articles)
            ),
        )  # fmt: skip
    db.close()


def read_articles(folder: Path, *, text: bool = True) -> list[Article]:
    """The segment's articles in row order; ``text=False`` leaves each text empty (a light read)."""
    db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        columns = _ARTICLE_COLUMNS + (", text" if text else "")
        rows = db.execute(f"SELECT {columns} FROM articles ORDER BY row").fetchall()
    finally:
        db.close()
    return [
        Article(
            id=r[0], title=r[1], url=r[2], date=r[3], author=r[4], path=r[5], sha256=r[6],
            source_offset=r[7], pages=tuple(tuple(p) for p in json.loads(r[8])),
            text=r[9] if text else "",
        )
        for r in rows
    ]  # fmt: skip


def read_tables(folder: Path, *, text: bool = True) -> Tables:
    tables = Tables(
        read_articles(folder, text=text),
        _load(folder / "chunks.npy", 5),
        _load(folder / "sentence_rows.npy", 4),
    )
    _check_tables(tables, len(tables.articles))
    return tables


def read_segment(folder: Path, dim: int, *, articles: int | None = None) -> Segment:
    """The segment in ``folder``; ValueError (or the library's error) when a file is not what the
    rest of the segment says it should be.

    Arrays, vectors and the FAISS index are memory-mapped, not read: pages come from the file when
    a question touches them (issue 11). ``articles``: how many articles the manifest says the
    segment holds; the articles themselves are then not read (index/generations/article_table.py reads them on
    demand) and ``tables.articles`` is empty.
    """
    if articles is None:
        tables = read_tables(folder)
        articles = len(tables.articles)
    else:
        tables = Tables([], _load(folder / "chunks.npy", 5), _load(folder / "sentence_rows.npy", 4))
        _check_tables(tables, articles)
    vectors = mapped(folder / "sentence_vectors.npy")
    if vectors.shape != (len(tables.sentences), dim):
        raise ValueError(f"sentence_vectors.npy has shape {vectors.shape}")
    dense = read_dense(folder / "dense.faiss", len(tables.chunks), dim)
    if dense.ntotal != len(tables.chunks) or dense.d != dim:
        raise ValueError(f"dense.faiss holds {dense.ntotal} vectors of dim {dense.d}")
    postings = Postings.load(folder)
    if len(postings.doc_len) != len(tables.chunks):
        raise ValueError("doc_len.npy does not match the chunks")
    terms = StoredTerms.load(folder, len(tables.sentences), articles)
    return Segment(tables, articles, vectors, dense, postings, terms)


def mapped(path: Path) -> np.ndarray:
    """The .npy file at ``path`` as a read-only array backed by the file (memory-mapped)."""
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


def read_keys(folder: Path) -> np.ndarray:
    return _load(folder / "keys.npy", KEY_BYTES)


def _load(path: Path, width: int) -> np.ndarray:
    read_ahead(path, path.stat().st_size)  # read whole at open (index/generations/layout.py)
    array = mapped(path)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"{path.name} has shape {array.shape}, expected (n, {width})")
    return array


def _check_tables(tables: Tables, n_art: int) -> None:
    """Row references inside the segment stay inside it (a damaged file is refused, not followed)."""
    n_sent = len(tables.sentences)
    chunks, sents = tables.chunks, tables.sentences
    if len(chunks) and (chunks[:, 0].min() < 0 or chunks[:, 0].max() >= n_art):
        raise ValueError("chunks.npy names an article the segment does not hold")
    if len(sents) and (sents[:, 0].min() < 0 or sents[:, 0].max() >= n_art):
        raise ValueError("sentence_rows.npy names an article the segment does not hold")
    if len(chunks) and (chunks[:, 3:].min() < 0 or chunks[:, 3:].max() >= n_sent):
        raise ValueError("chunks.npy names a sentence the segment does not hold")
