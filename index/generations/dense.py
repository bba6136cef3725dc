"""Dense search over several segments' FAISS indexes as one index of the generation's live rows.

Each segment keeps its own index (Flat when small, HNSW above the size threshold: see dense_index.py)
under its own chunk numbers. A segment with deleted chunks is searched with a FAISS id selector, so a
deleted chunk is never returned and takes no place in a segment's top k. The segments' results are
merged by score (ties by row). ``ntotal``, ``search`` and ``reconstruct`` are what the query code used
of a single FAISS index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from index.segments.dense_index import HNSW_EF_SEARCH


@dataclass(frozen=True)
class _Part:
    index: faiss.Index
    rows: np.ndarray  # chunk -> row in the generation, -1 when deleted
    local: np.ndarray  # the segment's live chunks, in row order
    params: faiss.SearchParameters | None
    selector: faiss.IDSelector | None
    # The selector's bitmap: FAISS reads it in place, so it must live as long as the selector.
    bits: np.ndarray | None

    @property
    def live(self) -> int:
        return len(self.local)

    @property
    def hnsw(self) -> bool:
        return isinstance(self.index, faiss.IndexHNSW)


def _part(index: faiss.Index, rows: np.ndarray) -> _Part:
    live = rows >= 0
    local = np.flatnonzero(live)
    if len(local) == len(rows):
        return _Part(index, rows, local, None, None, None)
    bits = np.packbits(live, bitorder="little")
    selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))  # bitmap length in bytes
    return _Part(index, rows, local, _with_selector(selector, hnsw=index), selector, bits)


def _with_selector(
    selector: faiss.IDSelector, *, hnsw: faiss.Index | None
) -> faiss.SearchParameters:
    """Search parameters that skip the ids ``selector`` rejects (HNSW's keep our efSearch)."""
    params: faiss.SearchParameters
    if isinstance(hnsw, faiss.IndexHNSW):
        graph = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # missing in stubs
        graph.efSearch = HNSW_EF_SEARCH
        params = graph
    else:
        params = faiss.SearchParameters()
    params.sel = selector
    return params


MIN_EF_SEARCH = 64


def ef_search(graphs: int) -> int:
    """efSearch for each of ``graphs`` HNSW segments searched for one question: HNSW_EF_SEARCH for
    one, less for several, since each holds only its share of the overall top 10 (128 / sqrt(n), at
    least 64). Measured at 1M chunks in 5 graphs of 200,000 (docs/PERFORMANCE.md): recall@10
    against exact search 0.980 at 128 and 0.968 at 64, dense search 5.0 -> 2.9 ms a question."""
    return max(MIN_EF_SEARCH, round(HNSW_EF_SEARCH / math.sqrt(max(1, graphs))))


def _set_ef(part: _Part, ef: int) -> None:
    graph = part.index
    assert isinstance(graph, faiss.IndexHNSW)
    graph.hnsw.efSearch = ef
    if isinstance(part.params, faiss.SearchParametersHNSW):  # type: ignore[attr-defined]
        part.params.efSearch = ef


class SegmentedDense:
    """The live chunks of several segments, numbered as the generation numbers its rows."""

    def __init__(self, parts: Sequence[tuple[faiss.Index, np.ndarray]]) -> None:
        self._parts = [_part(index, rows) for index, rows in parts]
        self._parts = [p for p in self._parts if p.live]
        graphs = [p for p in self._parts if p.hnsw]
        for p in graphs:
            _set_ef(p, ef_search(len(graphs)))
        self._first = np.array([int(p.rows[p.local[0]]) for p in self._parts], dtype=np.int64)
        self.ntotal = sum(p.live for p in self._parts)
        self.d = parts[0][0].d if parts else 0

    @property
    def kind(self) -> str:
        """'hnsw' when any segment's index is a graph, else 'exact'."""
        return "hnsw" if any(p.hnsw for p in self._parts) else "exact"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the top ``k`` per query, padded with -1 rows as FAISS pads."""
        return self._search(queries, k, exact=False)

    def exact_search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """As ``search``, through every segment's flat storage (the recall oracle of the bench)."""
        return self._search(queries, k, exact=True)

    def reconstruct(self, row: int) -> np.ndarray:
        return self.reconstruct_rows([row])[0]

    def reconstruct_rows(self, rows: Sequence[int]) -> np.ndarray:
        """The stored vectors of ``rows`` (float32, one per row, in order): one FAISS call per
        segment, not one per row (77 calls a question at 100k chunks were 0.5 ms)."""
        out = np.zeros((len(rows), self.d), dtype=np.float32)
        at = np.asarray(rows, dtype=np.int64)
        seg = np.searchsorted(self._first, at, side="right") - 1
        for p in np.unique(seg).tolist():
            where = np.flatnonzero(seg == p)
            part = self._parts[p]
            local = part.local[at[where] - self._first[p]].astype(np.int64)
            out[where] = part.index.reconstruct_batch(local)
        return out

    def _search(self, queries: np.ndarray, k: int, *, exact: bool) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.d)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        found = [self._one_part(p, queries, k, exact) for p in self._parts]
        for q in range(len(queries)):
            got_s = np.concatenate([f[0][q] for f in found]) if found else np.zeros(0, np.float32)
            got_r = np.concatenate([f[1][q] for f in found]) if found else np.zeros(0, np.int64)
            keep = got_r >= 0
            got_s, got_r = got_s[keep], got_r[keep]
            order = np.lexsort((got_r, -got_s))[:k]
            scores[q, : len(order)] = got_s[order]
            rows[q, : len(order)] = got_r[order]
        return scores, rows

    @staticmethod
    def _one_part(
        part: _Part, queries: np.ndarray, k: int, exact: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        index, params = part.index, part.params
        if exact and isinstance(index, faiss.IndexHNSW):  # the graph's flat storage: exact
            index = faiss.downcast_index(index.storage)
            params = None if part.selector is None else _with_selector(part.selector, hnsw=None)
        kk = min(k, part.live)
        found_s, found_ids = index.search(queries, kk, params=params)
        rows = np.where(found_ids >= 0, part.rows[np.maximum(found_ids, 0)], -1)
        return found_s, rows
