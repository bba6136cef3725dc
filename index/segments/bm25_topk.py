"""The best ``depth`` BM25 rows of a question without scoring every posting (issue 11).

Each segment's chunks are cut into blocks of ``block`` consecutive chunk numbers. For a query term,
its best tf / (norm + tf) in each block (computed when the term is first asked for, then kept in a
bounded cache) times its idf bounds what the term adds to any chunk of that block; a block's bound
is those added up over the query's terms. Blocks are scored exactly in rounds (the 16 best bounds,
then up to 8 times more of the best left each round), and after each round only the blocks whose
bound reaches the ``depth``-th score found so far stay in play (block-max pruning, as in Ding and
Suel's block-max WAND, over fixed ranges of chunk numbers rather than runs of postings, so that
numpy scores many blocks at once).

Exactness: a chunk's score is its terms' float32 contributions added in query order
(index/segments/bm25.py); a block's bound adds, in the same order, float32 values at least as large (the
same expression applied to the block's best tf / (norm + tf), rounded up to float32 when cached).
Rounding is monotone, so no chunk's score exceeds its block's bound, and a block whose bound is
below the ``depth``-th score found holds no row of the top ``depth``. The rows returned, and their
scores, are those of full scoring ordered by score, then row (lower first); tests/test_bm25_topk.py
checks this against full scoring on random corpora of several segments with deletions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from index.segments.postings import Part

MAX_BLOCK = 65_535  # postings a block may hold (uint16)
BLOCK = 64  # chunk numbers per block (at 1M bench chunks: ~2% of the blocks scored)
FIRST_BLOCKS = 16  # blocks scored in the first round; each later round up to 8 times more
CACHED_BLOCKS = 6_000_000  # blocks (14 bytes each: 84 MB) the term cache holds before it empties


def saturation(tf: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """tf / (norm + tf) in float64: the term-frequency part of BM25 ("lucene", as bm25s)."""
    tf = tf.astype(np.float64)
    return tf / (norm + tf)


def contribution(idf: float | np.ndarray, saturated: np.ndarray) -> np.ndarray:
    """What a term adds to a chunk's float32 score (``idf`` already rounded to float32)."""
    return (idf * saturated).astype(np.float32)


@dataclass(frozen=True)
class TermBlocks:
    """One term's postings by block, over every segment: block ``ids[i]`` (numbered across the
    generation, ascending) holds ``n[i]`` postings from ``first[s] + lo[i]`` in its segment ``s``'s
    arrays, whose best tf / (norm + tf) is at most ``best[i]`` (float32, rounded up; 14 bytes a
    block)."""

    ids: np.ndarray  # int32
    best: np.ndarray  # float32
    lo: np.ndarray  # int32, from the term's first posting in the segment
    n: np.ndarray  # uint16
    first: np.ndarray  # int64 per segment: where the term's postings start (0: none there)


class BlockIndex:
    """Block bounds of one generation's segments, and the exact top ``depth`` search over them."""

    def __init__(self, parts: Sequence[Part], block: int = BLOCK) -> None:
        if not 1 <= block <= MAX_BLOCK:
            raise ValueError(f"BM25 block size must be 1 to {MAX_BLOCK}, not {block}")
        self.parts = parts
        self.block = block
        sizes = [-(-len(p.post.doc_len) // block) for p in parts]
        self.first_block = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.n_blocks = int(self.first_block[-1])
        self._cache: dict[str, TermBlocks] = {}
        self._held = 0

    def blocks_of(self, term: str) -> TermBlocks:
        found = self._cache.get(term)
        if found is None:
            per_part = [
                self._part_blocks(p, col)
                for p, part in enumerate(self.parts)
                if (col := part.column.get(term)) is not None
            ]
            first = np.zeros(len(self.parts), dtype=np.int64)
            for p, part in enumerate(self.parts):
                if (col := part.column.get(term)) is not None:
                    first[p] = part.post.ptr[col]
            ids, best, lo, n = (
                np.concatenate(arrays) for arrays in zip(_NONE, *per_part, strict=True)
            )
            found = TermBlocks(ids, best, lo, n, first)
            if self._held + len(found.ids) > CACHED_BLOCKS:
                self._cache.clear()
                self._held = 0
            self._cache[term] = found
            self._held += len(found.ids)
        return found

    def _part_blocks(self, p: int, col: int) -> tuple[np.ndarray, ...]:
        """(ids, best, lo, n) of column ``col``'s blocks in segment ``p``."""
        post, norm = self.parts[p].post, self.parts[p].norm
        lo, hi = int(post.ptr[col]), int(post.ptr[col + 1])
        if hi == lo:
            return _NONE
        docs = post.docs[lo:hi]
        block = docs // self.block
        starts = np.concatenate([[0], np.flatnonzero(np.diff(block)) + 1]).astype(np.int64)
        best = np.maximum.reduceat(saturation(post.tf[lo:hi], norm[docs]), starts)
        near = best.astype(np.float32)
        return (
            (self.first_block[p] + block[starts]).astype(np.int32),
            np.where(near < best, np.nextafter(near, np.float32(np.inf)), near),
            starts.astype(np.int32),
            np.diff(np.append(starts, hi - lo)).astype(np.uint16),
        )

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
            bound[blocks.ids] += contribution(idf, blocks.best.astype(np.float64))
        left = np.flatnonzero(bound > 0)  # blocks not scored yet that may hold a positive score
        rows: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        kth: np.float32 | None = None
        batch = FIRST_BLOCKS
        while len(left):
            if len(left) > batch:  # the best ``batch`` bounds first
                pick = np.argpartition(-bound[left], batch - 1)[:batch]
                take, left = left[pick], np.delete(left, pick)
            else:
                take, left = left, left[:0]
            got_rows, got_scores = self._score(terms, take)
            rows.append(got_rows)
            scores.append(got_scores)
            batch *= 8
            found = sum(len(s) for s in scores)
            if found >= depth:
                every = np.concatenate(scores)
                kth = np.partition(every, found - depth)[found - depth]
                left = left[bound[left] >= kth]  # only these can reach the depth-th score
        all_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        all_scores = np.concatenate(scores) if scores else np.zeros(0, dtype=np.float32)
        if kth is not None:
            keep = all_scores >= kth
            all_rows, all_scores = all_rows[keep], all_scores[keep]
        best = np.lexsort((all_rows, -all_scores))[:depth]
        return all_rows[best], all_scores[best]

    def _score(
        self, terms: list[tuple[float, TermBlocks]], take: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores of the live rows with a positive score in blocks ``take``. Each row's
        terms are added in query order, as full scoring adds them: ``np.add.at`` adds in the
        order of its input, which is query order within each segment's postings (a row belongs
        to one segment)."""
        size = self.block
        take = np.sort(take)
        picked = []  # per term, its blocks among ``take``: (idf, lo, n, slot, segment)
        for idf, blocks in terms:
            at = np.minimum(np.searchsorted(blocks.ids, take), len(blocks.ids) - 1)
            slots = np.flatnonzero(blocks.ids[at] == take) if len(blocks.ids) else at[:0]
            sel = at[slots]
            part_of = np.searchsorted(self.first_block, blocks.ids[sel], side="right") - 1
            lo = blocks.first[part_of] + blocks.lo[sel]
            n = blocks.n[sel].astype(np.int64)
            picked.append((np.full(len(sel), idf), lo, n, slots, part_of))
        idfs, lo, n, slot, part_of = (np.concatenate(a) for a in zip(*picked, strict=True))
        by_part = np.argsort(part_of, kind="stable")  # query order kept within a segment
        edges = np.searchsorted(part_of[by_part], np.arange(len(self.parts) + 1))
        where, values = [], []
        for p, part in enumerate(self.parts):
            mine = by_part[edges[p] : edges[p + 1]]
            if not len(mine):
                continue
            at = _ranges(lo[mine], n[mine])
            docs = part.post.docs[at]
            tf = part.post.tf[at]
            values.append(
                contribution(np.repeat(idfs[mine], n[mine]), saturation(tf, part.norm[docs]))
            )
            where.append(np.repeat(slot[mine], n[mine]) * size + docs % size)
        acc = np.zeros(len(take) * size, dtype=np.float32)
        if where:
            np.add.at(acc, np.concatenate(where), np.concatenate(values))
        hit = np.flatnonzero(acc)
        block = take[hit // size]
        docs = block * size + hit % size  # before the segment's first block is taken off
        rows = np.empty(len(hit), dtype=np.int64)
        edges = np.searchsorted(block, self.first_block)
        for p, part in enumerate(self.parts):
            a, b = int(edges[p]), int(edges[p + 1])
            if b > a:
                rows[a:b] = part.rows[docs[a:b] - self.first_block[p] * size]
        live = rows >= 0
        return rows[live], acc[hit[live]]


_NONE = tuple(np.zeros(0, dtype=d) for d in (np.int32, np.float32, np.int32, np.uint16))


def _ranges(lo: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The positions lo[0]:lo[0] + n[0], lo[1]:lo[1] + n[1], ... as one array."""
    return np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
