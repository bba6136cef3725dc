"""One index generation opened for serving: the live rows of its segments, laid end to end.

A generation on disk is a manifest listing segments (index/segments/segment.py) and, per segment, the rows of
the articles deleted since (changed or removed). Row i of each chunk array is dense id i and BM25 row
i; the query code sees one generation, not its segments.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from index.errors import CorruptIndex, IncompatibleIndex, IndexUnavailable, NoIndexError
from index.generations.article_table import ArticleTable
from index.generations.catalog import Catalog, build_catalog
from index.generations.dense import SegmentedDense
from index.generations.layout import RowMap, Rows, RowStack, lay_out_rows, stacked_rows
from index.generations.store import (
    MANIFEST,
    POINTER,
    SEGMENT_NAME,
    Manifest,
    check_compatible,
    current_generation,
    published_generations,
    verify_generation,
)
from index.generations.term_match import LexicalRows
from index.generations.vocabulary import Vocabulary
from index.segments.bm25 import DocFreq, SegmentedBm25
from index.segments.segment import read_articles as read_segment_articles
from index.segments.segment import read_segment
from index.text.analysis import terms
from index.types import Article

log = logging.getLogger(__name__)


@dataclass
class Generation:
    """Everything a question needs (files mapped, articles read on demand). Row i of each chunk
    array describes FAISS id i."""

    manifest: Manifest
    articles: Sequence[
        Article
    ]  # read on demand from the segments (index/generations/article_table.py)
    chunk_article: np.ndarray  # int32, index into articles
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    chunk_first_sentence: np.ndarray  # global sentence row
    chunk_last_sentence: np.ndarray  # inclusive
    sentence_article: np.ndarray
    sentence_start: np.ndarray
    sentence_end: np.ndarray
    sentence_paragraph: np.ndarray
    sentence_vectors: np.ndarray | RowStack  # float16 (n_sentences, dim), unit rows
    dense: SegmentedDense  # searched like a FAISS index: ntotal, search, reconstruct
    bm25: SegmentedBm25
    doc_freq: DocFreq | dict[str, int]  # chunk document frequency of each term
    n_docs: int
    terms: LexicalRows  # each sentence's and title's terms, stored at index time

    @property
    def name(self) -> str:
        return self.manifest.generation

    @cached_property
    def memo(self) -> dict[str, dict[int, bool]]:
        """Facts about rows worked out on first use and kept while the generation lives (immutable
        with it), by what they are: e.g. "dateline_lede" (index/answer/lede.py), by article row."""
        return {}

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """Every stored term, for correcting a misspelled question (made on first use)."""
        return Vocabulary(self.bm25.parts, self.chunk_text)

    @cached_property
    def catalog(self) -> Catalog:
        """The articles' listing by slug, made on first use (it lives and dies with the generation)."""
        return build_catalog(self.articles, self.chunk_article)

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


def segment_entries(folder: Path, manifest: Manifest) -> list[tuple[Path, list[int]]]:
    """(segment folder, deleted article rows) per segment of a generation, as its manifest lists
    them; CorruptIndex when the list is not one this code wrote."""
    out = []
    try:
        for entry in manifest.segments:
            name, deleted = entry["name"], entry["deleted"]
            if not isinstance(name, str) or not SEGMENT_NAME.match(name):
                raise ValueError(f"segment name {name!r}")
            if not isinstance(deleted, list) or not all(isinstance(d, int) for d in deleted):
                raise ValueError(f"deleted rows of segment {name}")
            out.append((folder / "segments" / name, deleted))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptIndex(folder / MANIFEST, f"its segment list is damaged ({exc})") from None
    if not out:
        raise CorruptIndex(folder / MANIFEST, "it lists no segments")
    return out


def live_articles(folder: Path, manifest: Manifest) -> list[tuple[int, int, Article]]:
    """(segment number, row in the segment, article without its text) of each live article."""
    out: list[tuple[int, int, Article]] = []
    for s, (seg, deleted) in enumerate(segment_entries(folder, manifest)):
        gone = set(deleted)
        with _reading(seg / "meta.sqlite"):
            articles = read_segment_articles(seg, text=False)
        out.extend((s, row, a) for row, a in enumerate(articles) if row not in gone)
    return out


def read_article_ids(folder: Path) -> list[str]:
    """The article ids of a generation, in row order, without reading any article's text."""
    return list(read_article_hashes(folder))


def read_article_hashes(folder: Path) -> dict[str, str]:
    """Article id -> sha256 of its file, in row order, without reading any article's text."""
    return {a.id: a.sha256 for _, _, a in live_articles(folder, Manifest.read(folder))}


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
    """Open a published generation after checking its files against the manifest (index/generations/store.py:
    a stat of each against the stamp of its last full check, else its sha256); CorruptIndex names a
    damaged file, IncompatibleIndex refuses another model or dimension.

    Nothing that grows with the corpus is read whole (issue 11): row tables, vectors, postings and
    the FAISS indexes are memory-mapped, articles are read when a question needs them.
    """
    manifest = Manifest.read(folder)
    check_compatible(manifest, model, dim)
    verify_generation(folder, manifest)
    entries = segment_entries(folder, manifest)
    counts = _segment_article_counts(folder, manifest)
    segments = []
    for (seg, _), n_articles in zip(entries, counts, strict=True):
        with _reading(seg):
            segments.append(read_segment(seg, dim, articles=n_articles))
    with _reading(folder / MANIFEST):
        chunks, sents, places = lay_out_rows(
            [
                Rows(s.n_articles, s.tables.chunks, s.tables.sentences, deleted)
                for s, (_, deleted) in zip(segments, entries, strict=True)
            ]
        )
    live_articles_n = sum(int((p.articles >= 0).sum()) for p in places)
    counts_found = (live_articles_n, len(chunks), len(sents))
    if counts_found != (manifest.articles, manifest.chunks, manifest.sentences):
        raise CorruptIndex(
            folder / MANIFEST, f"its counts do not match its segments {counts_found}"
        )
    bm25 = SegmentedBm25(
        [(s.postings, p.chunks) for s, p in zip(segments, places, strict=True)], len(chunks)
    )
    sentence_rows = RowMap([p.live_sentences for p in places])
    articles = ArticleTable(
        [
            (seg, np.flatnonzero(p.articles >= 0))
            for (seg, _), p in zip(entries, places, strict=True)
        ]
    )
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
        sentence_vectors=stacked_rows([s.sentence_vectors for s in segments], sentence_rows),
        dense=SegmentedDense([(s.dense, p.chunks) for s, p in zip(segments, places, strict=True)]),
        bm25=bm25,
        doc_freq=bm25.doc_freq,
        n_docs=len(chunks),
        terms=LexicalRows(
            [s.terms for s in segments],
            sentence_rows,
            RowMap([p.articles >= 0 for p in places]),
        ),
    )


def _segment_article_counts(folder: Path, manifest: Manifest) -> list[int]:
    """How many articles (deleted ones included) each segment holds, as the manifest lists them."""
    try:
        counts = [int(entry["rows"][0]) for entry in manifest.segments]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CorruptIndex(folder / MANIFEST, f"its segment list is damaged ({exc})") from None
    if any(n < 0 for n in counts):
        raise CorruptIndex(folder / MANIFEST, "its segment list is damaged (negative rows)")
    return counts


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
