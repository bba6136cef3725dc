"""BM25 over segments: each segment stores term frequencies (a CSC matrix), the corpus-wide
statistics (document frequency, document count, average length) are computed over the live rows of
every segment when a generation is opened.

bm25s bakes idf into its stored matrix, so a segment written alone would score with its own idf; here
only term frequencies and lengths are stored and a query scores only its own terms' columns. The
arithmetic is bm25s's "lucene" variant step for step (idf rounded to float32, the term-frequency part
in float64, each term's scores added in float32), so one segment gives bm25s's scores exactly.
A question's best rows are found without scoring every posting (index/segments/bm25_topk.py), and the rows
that other retrievers bring are scored one by one from the postings (``score_rows``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from index.segments.bm25_topk import BLOCK, BlockIndex, contribution, saturation
from index.segments.bounded import Bounded
from index.segments.postings import Part, Postings

BM25_K1 = 1.2
BM25_B = 0.75


_DOC_FREQ_CACHE = 200_000


class DocFreq:
    """Term -> number of live chunks holding it, computed for a term when first asked for (bounded
    cache): summing every term at open read every posting of the generation (issue 11)."""

    def __init__(self, parts: Sequence[Part]) -> None:
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
    them: each segment's live chunks in order, segments end to end, as index/generations/layout.py lays
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
            Part(
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
    def parts(self) -> Sequence[Part]:
        """Each segment's postings, live rows and norms (read-only)."""
        return self._parts

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
