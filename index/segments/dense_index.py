"""The FAISS index of a generation's chunk vectors, chosen by size, and single-threaded queries.

Below ``EXACT_MAX_VECTORS`` chunks an exact inner-product index (Flat) is both fast and exact (about
1 ms at 10k vectors). Above it, HNSW: about 0.3 ms per query at 20k vectors with recall@10 near 0.98
against exact search (`articlebot bench --scale` reports the recall it gets). One question is searched
on one thread: OpenMP's threads spin-wait, and beside another busy process they made one search
2-10x slower (issue 11).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from index.segments import read_ahead

EXACT_MAX_VECTORS = 50_000
HNSW_M = 32  # graph neighbours per node
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128  # candidates kept while searching: recall for the 50 the search asks for


def build_dense(vectors: np.ndarray) -> faiss.Index:
    """An index of ``vectors`` (unit rows) under ids 0..n-1: Flat up to EXACT_MAX_VECTORS, else HNSW."""
    dim = vectors.shape[1]
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    index: faiss.Index
    if len(data) <= EXACT_MAX_VECTORS:
        index = faiss.IndexFlatIP(dim)
    else:
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index = hnsw
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building may use every core
    if len(data):
        index.add(data)
    return prepare_for_search(index)


def read_dense(path: Path, ntotal: int, dim: int) -> faiss.Index:
    """The index file at ``path`` (``ntotal`` vectors of ``dim``), its vectors memory-mapped.

    FAISS copies everything but the vectors (the HNSW graph, some 52 MB for 200,000 chunks) out of
    the mapping one page fault at a time: 1.03 s a segment when the file is not in the page cache
    (a restart after the cache was reclaimed), 5.1 s of a 5.5 s open at the bench's million. Read
    sequentially first (the file's head, up to where the vectors start, which an HNSW or Flat file
    keeps last), the same takes 0.05 s, and ~1 ms when cached (docs/PERFORMANCE.md)."""
    read_ahead.read_ahead(path, os.path.getsize(path) - ntotal * dim * 4)
    return prepare_for_search(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC))


def prepare_for_search(index: faiss.Index) -> faiss.Index:
    """Search settings that the index file does not carry (HNSW's efSearch)."""
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


class Searchable(Protocol):
    """What a query needs of a dense index (a FAISS index, or a generation's segments)."""

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


def search_one(
    index: faiss.Index | Searchable, query: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of one query vector, searched on the calling thread alone.

    OpenMP's thread count is a per-thread setting, so this leaves a build running on another thread
    free to use every core.
    """
    faiss.omp_set_num_threads(1)
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k)
    return scores[0], ids[0]


def kind(index: object) -> str:
    """'exact' or 'hnsw', for info and the bench (a generation's segments: 'hnsw' if any is)."""
    named = getattr(index, "kind", None)
    if isinstance(named, str):
        return named
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "exact"
