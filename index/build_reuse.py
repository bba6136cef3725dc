"""Sentences and chunks of unchanged articles, taken from the serving generation instead of re-chunked.

Chunking every article again was a third of a one-article update (1.9 of 6 s at 1,000 articles).
An article whose file hash and title are the ones the serving generation recorded, built with the same
model and parameters, gets back the very spans it had (offsets into its text, which is the same text).
``articlebot index --full`` re-chunks everything.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunking import ChunkSpan, Sentence
from index.errors import IndexUnavailable
from index.store import SCHEMA_VERSION, Manifest, current_generation
from index.types import Article

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSplit:
    """One article's rows in a generation: sentences (start, end, paragraph) and chunks
    (start, end, first sentence, last sentence), sentence numbers counted within the article."""

    sha256: str
    title: str
    sentences: np.ndarray  # (n, 3) int64
    chunks: np.ndarray  # (m, 4) int64

    def rebuild(self, article: Article) -> tuple[list[Sentence], list[ChunkSpan]]:
        text = article.text
        sents = [Sentence(s, e, text[s:e], p) for s, e, p in self.sentences.tolist()]
        chunks = [ChunkSpan(s, e, text[s:e], f, last) for s, e, f, last in self.chunks.tolist()]
        return sents, chunks

    def fits(self, article: Article) -> bool:
        return self.sha256 == article.sha256 and self.title == article.title


def stored_splits(
    index_dir: Path, model: str, dim: int, params: Mapping[str, object]
) -> dict[str, StoredSplit]:
    """Article id -> its stored rows, from the serving generation when it was built the same way."""
    try:
        folder = current_generation(index_dir)
        manifest = Manifest.read(folder)
    except (IndexUnavailable, OSError) as exc:
        log.info("no generation to reuse chunks from: %s", exc)
        return {}
    if (manifest.schema_version, manifest.model, manifest.dim) != (SCHEMA_VERSION, model, dim):
        return {}
    if any(manifest.params.get(k) != v for k, v in params.items()):
        return {}
    try:
        return _read_splits(folder / "meta.sqlite")
    except (sqlite3.Error, ValueError) as exc:  # damaged: chunk everything again
        log.warning("cannot reuse chunks from %s: %s", folder, exc)
        return {}


def _read_splits(path: Path) -> dict[str, StoredSplit]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        articles = db.execute("SELECT id, sha256, title FROM articles ORDER BY row").fetchall()
        chunks = _array(
            db, 'SELECT article, start, "end", first_sentence, last_sentence FROM chunks'
        )
        sents = _array(db, 'SELECT article, start, "end", paragraph FROM sentences')
    finally:
        db.close()
    chunk_cut = np.searchsorted(chunks[:, 0], np.arange(len(articles) + 1))
    sent_cut = np.searchsorted(sents[:, 0], np.arange(len(articles) + 1))
    out = {}
    for a, (article_id, sha256, title) in enumerate(articles):
        own_sents = sents[sent_cut[a] : sent_cut[a + 1], 1:]
        own_chunks = chunks[chunk_cut[a] : chunk_cut[a + 1], 1:].copy()
        own_chunks[:, 2:] -= sent_cut[a]  # global sentence rows -> the article's own numbering
        out[article_id] = StoredSplit(sha256, title, own_sents, own_chunks)
    return out


def _array(db: sqlite3.Connection, sql: str) -> np.ndarray:
    rows = db.execute(sql + " ORDER BY row").fetchall()
    width = sql.count(",") + 1
    return np.array(rows, dtype=np.int64).reshape(-1, width)
