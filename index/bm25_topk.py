"""The best ``depth`` BM25 rows of a question without scoring every posting (issue 11).

Each segment's chunks are cut into blocks of ``block`` consecutive chunk numbers. For a query term,
its best tf / (norm + tf) in each block (computed when the term is first asked for, then kept in a
bounded cache) times its idf bounds what the term adds to any chunk of that block; a block's bound
is those added up over the query's terms. Blocks are scored exactly, best bound first, a few at a
time, until no block left can reach the ``depth``-th score found (block-max pruning, as in Ding and
Suel's block-max WAND, over fixed ranges of chunk numbers rather than runs of postings, so that
numpy scores many blocks at once).

Exactness: a chunk's score is its terms' float32 contributions added in query order
(index/bm25.py); a block's bound adds, in the same order, float32 values at least as large (the
contribution of the block's best tf / (norm + tf), computed by the same expression). Float32
rounding is monotone, so no chunk's score exceeds its block's bound, and a block whose bound is
below the ``depth``-th score found holds no row of the top ``depth``. The rows returned, and their
scores, are those of full scoring ordered by score, then row (lower first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from index.bm25 import _Part

BLOCK = 256  # chunk numbers per block
FIRST_BLOCKS = 8  # blocks scored in the first round; each later round up to 4 times more
CACHED_BLOCKS = 4_000_000  # blocks (20 bytes each) the term cache holds before it empties


def saturation(tf: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """tf / (norm + tf) in float64: the term-frequency part of BM25 ("lucene", as bm25s)."""
    tf = tf.astype(np.float64)
    return tf / (norm + tf)


def contribution(idf: float, saturated: np.ndarray) -> np.ndarray:
    """What a term adds to a chunk's float32 score (``idf`` already rounded to float32)."""
    return (idf * saturated).astype(np.float32)


@dataclass(frozen=True)
class TermBlocks:
    """One term's postings in one segment, by block: block ``ids[i]`` (numbered across the
    generation) holds the postings ``bounds[i]:bounds[i + 1]`` of the segment's arrays, whose best
    tf / (norm + tf) is ``best[i]``."""

    part: int
    ids: np.ndarray  # int64, ascending
    bounds: np.ndarray  # int64 (len(ids) + 1,)
    best: np.ndarray  # float64


class BlockIndex:
    """Block bounds of one generation's segments, and the exact top ``depth`` search over them."""

    def __init__(self, parts: Sequence[_Part], block: int = BLOCK) -> None:
        if block < 1:
            raise ValueError(f"BM25 block size must be at least 1, not {block}")
        self.parts = parts
        self.block = block
        sizes = [-(-len(p.post.doc_len) // block) for p in parts]
        self.first_block = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.n_blocks = int(self.first_block[-1])
        self._cache: dict[str, list[TermBlocks]] = {}
        self._held = 0

    def blocks_of(self, term: str) -> list[TermBlocks]:
        found = self._cache.get(term)
        if found is None:
            found = [
                self._term_blocks(p, col)
                for p, part in enumerate(self.parts)
                if (col := part.column.get(term)) is not None
            ]
            size = sum(len(b.ids) for b in found)
            if self._held + size > CACHED_BLOCKS:
                self._cache.clear()
                self._held = 0
            self._cache[term] = found
            self._held += size
        return found

    def _term_blocks(self, p: int, col: int) -> TermBlocks:
        post, norm = self.parts[p].post, self.parts[p].norm
        lo, hi = int(post.ptr[col]), int(post.ptr[col + 1])
        if hi == lo:
            return TermBlocks(p, np.zeros(0, np.int64), np.array([lo]), np.zeros(0))
        docs = post.docs[lo:hi]
        block = docs // self.block
        starts = np.concatenate([[0], np.flatnonzero(np.diff(block)) + 1])
        best = np.maximum.reduceat(saturation(post.tf[lo:hi], norm[docs]), starts)
        ids = self.first_block[p] + block[starts].astype(np.int64)
        return TermBlocks(p, ids, np.append(starts, hi - lo).astype(np.int64) + lo, best)

    def top(
        self, tokens: Sequence[str], idfs: Sequence[float], depth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``depth`` live rows of highest positive score (ties: lower row first) and their
        float32 scores, for ``tokens`` whose float32 idf is ``idfs``."""
        if depth <= 0 or not tokens or not self.n_blocks:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        terms = [(idf, self.blocks_of(t)) for t, idf in zip(tokens, idfs, strict=True)]
        bound = np.zeros(self.n_blocks, dtype=np.float32)
        for idf, blocks in terms:
            for b in blocks:
                bound[b.ids] += contribution(idf, b.best)
        order = np.flatnonzero(bound > 0)
        order = order[np.argsort(-bound[order], kind="stable")]
        falling = -bound[order]  # ascending
        rows: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        kth: np.float32 | None = None
        pos, batch = 0, FIRST_BLOCKS
        while pos < len(order):
            end = min(pos + batch, len(order))
            if kth is not None:  # only blocks whose bound reaches the depth-th score can matter
                end = min(end, int(np.searchsorted(falling, -kth, side="right")))
                if end <= pos:
                    break
            got_rows, got_scores = self._score(terms, order[pos:end])
            rows.append(got_rows)
            scores.append(got_scores)
            pos, batch = end, batch * 4
            found = sum(len(s) for s in scores)
            if found >= depth:
                every = np.concatenate(scores)
                kth = np.partition(every, found - depth)[found - depth]
        all_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        all_scores = np.concatenate(scores) if scores else np.zeros(0, dtype=np.float32)
        best = np.lexsort((all_rows, -all_scores))[:depth]
        return all_rows[best], all_scores[best]

    def _score(
        self, terms: list[tuple[float, list[TermBlocks]]], take: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores of the live rows with a positive score in blocks ``take``, added term by
        term in query order as full scoring adds them."""
        size = self.block
        slot_of = np.full(self.n_blocks, -1, dtype=np.int64)
        slot_of[take] = np.arange(len(take))
        acc = np.zeros(len(take) * size, dtype=np.float32)
        for idf, blocks in terms:
            for b in blocks:
                slots = slot_of[b.ids]
                sel = np.flatnonzero(slots >= 0)
                if not len(sel):
                    continue
                lo, hi = b.bounds[sel], b.bounds[sel + 1]
                at = _ranges(lo, hi)
                part = self.parts[b.part]
                docs = part.post.docs[at]
                value = contribution(idf, saturation(part.post.tf[at], part.norm[docs]))
                acc[np.repeat(slots[sel], hi - lo) * size + docs % size] += value
        hit = np.flatnonzero(acc > 0)
        block = take[hit // size]
        part_of = np.searchsorted(self.first_block, block, side="right") - 1
        docs = (block - self.first_block[part_of]) * size + hit % size
        rows = np.empty(len(hit), dtype=np.int64)
        for p in np.unique(part_of).tolist():
            mine = part_of == p
            rows[mine] = self.parts[p].rows[docs[mine]]
        live = rows >= 0
        return rows[live], acc[hit[live]]


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The positions lo[0]:hi[0], lo[1]:hi[1], ... as one array."""
    n = hi - lo
    return np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
