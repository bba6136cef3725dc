"""BM25 over segments: each segment stores term frequencies (a CSC matrix), the corpus-wide
statistics (document frequency, document count, average length) are computed over the live rows of
every segment when a generation is opened.

bm25s bakes idf into its stored matrix, so a segment written alone would score with its own idf; here
only term frequencies and lengths are stored and a query scores only its own terms' columns. The
arithmetic is bm25s's "lucene" variant step for step (idf rounded to float32, the term-frequency part
in float64, each term's scores added in float32), so one segment gives bm25s's scores exactly.
A question's best rows are found without scoring every posting (index/bm25_topk.py), and the rows
that other retrievers bring are scored one by one from the postings (``score_rows``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.bm25_topk import BLOCK, BlockIndex, contribution, saturation
from index.bounded import Bounded

BM25_K1 = 1.2
BM25_B = 0.75
FILES = ("terms.json", "term_ptr.npy", "term_docs.npy", "term_tf.npy", "doc_len.npy")


@dataclass(frozen=True)
class Postings:
    """Term frequencies of one segment's chunks: column ``c`` (term ``terms[c]``) holds the chunks
    ``docs[ptr[c]:ptr[c+1]]`` (ascending) with their counts ``tf``; ``doc_len`` is each chunk's
    number of terms."""

    terms: list[str]
    ptr: np.ndarray  # int64 (V + 1,)
    docs: np.ndarray  # int32
    tf: np.ndarray  # int32
    doc_len: np.ndarray  # int32 (n_docs,)

    @classmethod
    def from_tokens(cls, docs_tokens: Sequence[Sequence[str]]) -> Postings:
        vocab: dict[str, int] = {}
        ids = [vocab.setdefault(t, len(vocab)) for doc in docs_tokens for t in doc]
        lengths = np.array([len(doc) for doc in docs_tokens], dtype=np.int64)
        doc_of = np.repeat(np.arange(len(docs_tokens), dtype=np.int64), lengths)
        return cls._from_pairs(list(vocab), np.asarray(ids, dtype=np.int64), doc_of, None, lengths)

    @classmethod
    def _from_pairs(
        cls,
        terms: list[str],
        term: np.ndarray,
        doc: np.ndarray,
        tf: np.ndarray | None,
        doc_len: np.ndarray,
    ) -> Postings:
        """From (term id, doc) pairs (``tf`` None: one pair per occurrence); unused terms dropped."""
        n = max(len(doc_len), 1)
        keys, counts = np.unique(term * n + doc, return_counts=True)
        if tf is not None:  # pairs are unique already: carry their counts along in key order
            counts = tf[np.argsort(term * n + doc, kind="stable")]
        used, col = np.unique(keys // n, return_inverse=True)
        ptr = np.searchsorted(col, np.arange(len(used) + 1)).astype(np.int64)
        return cls(
            [terms[i] for i in used.tolist()],
            ptr,
            (keys % n).astype(np.int32),
            counts.astype(np.int32),
            np.asarray(doc_len, dtype=np.int32),
        )

    @classmethod
    def merged(cls, parts: Sequence[tuple[Postings, np.ndarray]]) -> Postings:
        """One segment's postings from several: ``(postings, new_row)`` where ``new_row[d]`` is
        chunk d's row in the merged segment, or -1 for a deleted chunk (its postings are dropped)."""
        vocab: dict[str, int] = {}
        terms, docs, tfs, lengths = [], [], [], []
        for post, new_row in parts:
            cols = np.array([vocab.setdefault(t, len(vocab)) for t in post.terms], dtype=np.int64)
            term = np.repeat(cols, np.diff(post.ptr))
            doc = new_row[post.docs].astype(np.int64)
            keep = doc >= 0
            terms.append(term[keep])
            docs.append(doc[keep])
            tfs.append(post.tf[keep])
            lengths.append(post.doc_len[new_row >= 0])
        return cls._from_pairs(
            list(vocab),
            np.concatenate(terms) if terms else np.zeros(0, np.int64),
            np.concatenate(docs) if docs else np.zeros(0, np.int64),
            np.concatenate(tfs) if tfs else np.zeros(0, np.int32),
            np.concatenate(lengths) if lengths else np.zeros(0, np.int32),
        )

    def save(self, folder: Path) -> None:
        (folder / "terms.json").write_text(json.dumps(self.terms), encoding="utf-8")
        for name, array in (
            ("term_ptr", self.ptr),
            ("term_docs", self.docs),
            ("term_tf", self.tf),
            ("doc_len", self.doc_len),
        ):
            np.save(folder / f"{name}.npy", array, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        # Memory-mapped: a question reads its terms' columns only (issue 11).
        arrays = [
            np.asarray(np.load(folder / n, mmap_mode="r", allow_pickle=False)) for n in FILES[1:]
        ]
        post = cls(terms, *arrays)
        if not isinstance(terms, list) or len(post.ptr) != len(terms) + 1:
            raise ValueError("terms.json and term_ptr.npy disagree")
        if post.ptr[-1] != len(post.docs) or len(post.docs) != len(post.tf):
            raise ValueError("term arrays of different lengths")
        return post


@dataclass
class _Part:
    column: dict[str, int]
    post: Postings
    rows: np.ndarray  # chunk -> row in the generation, -1 when deleted
    norm: np.ndarray  # float64 per chunk: k1 * (1 - b + b * length / average length)
    deleted: np.ndarray  # the deleted chunks, ascending
    first_row: int  # the generation row of its first live chunk (live chunks are numbered in order)

    live_docs: np.ndarray | None = None  # the live chunks in order, made on first use

    def docs_of(self, rows: np.ndarray) -> np.ndarray:
        """The chunks (numbers in this segment) of generation rows that belong to it."""
        live = rows - self.first_row
        if not len(self.deleted):
            return live
        if self.live_docs is None:  # once, not a pass over the segment's rows per question
            self.live_docs = np.flatnonzero(self.rows >= 0)
        return self.live_docs[live]

    def live_doc_freq(self, col: int) -> int:
        """How many live chunks hold column ``col``'s term: its postings, less the deleted chunks
        among them (found by binary search: the postings are ascending), or counted through the
        live mask when more than a few thousand chunks are deleted."""
        lo, hi = int(self.post.ptr[col]), int(self.post.ptr[col + 1])
        if not len(self.deleted):
            return hi - lo
        docs = self.post.docs[lo:hi]
        if len(self.deleted) > _SEARCH_DELETED_MAX:
            return int((self.rows[docs] >= 0).sum())
        at = np.searchsorted(docs, self.deleted)
        inside = at < len(docs)
        return hi - lo - int((docs[at[inside]] == self.deleted[inside]).sum())


_SEARCH_DELETED_MAX = 4_096
_DOC_FREQ_CACHE = 200_000


class DocFreq:
    """Term -> number of live chunks holding it, computed for a term when first asked for (bounded
    cache): summing every term at open read every posting of the generation (issue 11)."""

    def __init__(self, parts: Sequence[_Part]) -> None:
        self._parts = parts
        self._known: Bounded[str, int] = Bounded(_DOC_FREQ_CACHE)

    def get(self, term: str, default: int = 0) -> int:
        df = self._known.get(term)
        if df is None:
            df = self._known.keep(
                term,
                sum(
                    p.live_doc_freq(c) for p in self._parts if (c := p.column.get(term)) is not None
                ),
            )
        return df or default

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) > 0


class SegmentedBm25:
    """Corpus-wide BM25 over the live chunks of several segments (rows as the generation numbers
    them: each segment's live chunks in order, segments end to end, as index/segment_layout.py lays
    them out).

    ``vocab_dict`` and ``get_scores`` are what bm25s.BM25 offered the query code; a question uses
    ``top`` and ``score_rows``, which give the same float32 scores.
    """

    def __init__(
        self, parts: Sequence[tuple[Postings, np.ndarray]], n_rows: int, block: int = BLOCK
    ) -> None:
        self.n_rows = n_rows
        total_len = 0
        firsts = [0]
        for post, rows in parts:
            live = rows >= 0
            firsts.append(firsts[-1] + int(live.sum()))
            total_len += int(post.doc_len.sum() if live.all() else post.doc_len[live].sum())
        avg = total_len / n_rows if n_rows else 1.0
        self._parts = [
            _Part(
                {t: c for c, t in enumerate(post.terms)},
                post,
                rows,
                BM25_K1 * ((1 - BM25_B) + BM25_B * post.doc_len.astype(np.float64) / (avg or 1.0)),
                np.flatnonzero(rows < 0),
                first,
            )
            for (post, rows), first in zip(parts, firsts[:-1], strict=True)
        ]
        self._first_rows = np.asarray(firsts[:-1], dtype=np.int64)
        self.doc_freq = DocFreq(self._parts)
        self._blocks = BlockIndex(self._parts, block)

    @property
    def vocab_dict(self) -> DocFreq:
        return self.doc_freq

    def idf(self, term: str) -> float:
        df = self.doc_freq.get(term, 0)
        return math.log(1.0 + (self.n_rows - df + 0.5) / (df + 0.5))

    def _known(self, tokens: Sequence[str]) -> tuple[list[str], list[float]]:
        """The tokens in the vocabulary (repeats kept) and their idf rounded to float32."""
        known = [t for t in tokens if t in self.doc_freq]
        return known, [float(np.float32(self.idf(t))) for t in known]

    def get_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 of every row for ``tokens`` (a repeated token counts again, as in bm25s)."""
        scores = np.zeros(self.n_rows, dtype=np.float32)
        for token, idf in zip(*self._known(tokens), strict=True):
            for part in self._parts:
                col = part.column.get(token)
                if col is None:
                    continue
                lo, hi = int(part.post.ptr[col]), int(part.post.ptr[col + 1])
                docs = part.post.docs[lo:hi]
                value = contribution(idf, saturation(part.post.tf[lo:hi], part.norm[docs]))
                rows = part.rows[docs]
                keep = rows >= 0
                scores[rows[keep]] += value[keep]
        return scores

    def top(self, tokens: Sequence[str], depth: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``depth`` rows of highest positive score, best first (ties: lower row first), and
        their scores: those of ``get_scores``, found without scoring every posting."""
        return self._blocks.top(*self._known(tokens), depth)

    def score_rows(self, tokens: Sequence[str], rows: Sequence[int]) -> np.ndarray:
        """``get_scores(tokens)[rows]``, from the postings of ``rows`` alone (binary search in each
        term's ascending chunk numbers)."""
        asked = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(asked), dtype=np.float32)
        part_of = np.searchsorted(self._first_rows, asked, side="right") - 1
        groups = []
        for p in np.unique(part_of).tolist():
            at = np.flatnonzero(part_of == p)
            groups.append((self._parts[p], at, self._parts[p].docs_of(asked[at])))
        for token, idf in zip(*self._known(tokens), strict=True):
            for part, at, docs in groups:
                col = part.column.get(token)
                if col is None:
                    continue
                lo, hi = int(part.post.ptr[col]), int(part.post.ptr[col + 1])
                found = lo + np.searchsorted(part.post.docs[lo:hi], docs)
                hit = np.flatnonzero(found < hi)
                hit = hit[part.post.docs[found[hit]] == docs[hit]]
                tf = part.post.tf[found[hit]]
                out[at[hit]] += contribution(idf, saturation(tf, part.norm[docs[hit]]))
        return out
