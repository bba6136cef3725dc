"""Hybrid retrieval: dense (FAISS inner product) and BM25, fused by reciprocal rank, capped per article."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.generation import Generation
from index.text import terms

RRF_K = 60.0
DEPTH = 50  # candidates taken from each retriever before fusion


@dataclass(frozen=True)
class Hit:
    row: int  # chunk row (= FAISS id)
    score: float  # fused score, higher is better
    dense: float  # cosine of question and chunk
    bm25: float
    dense_rank: int  # 0-based; DEPTH when not in the dense top DEPTH
    bm25_rank: int


def dense_search(gen: Generation, qvec: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``depth`` chunk rows by inner product, FAISS's -1 padding removed."""
    n = gen.dense.ntotal
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = gen.dense.search(qvec.reshape(1, -1).astype(np.float32), min(depth, n))
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep]


def bm25_scores(gen: Generation, query: str) -> np.ndarray:
    """BM25 score of every chunk (zeros when no query term is in the vocabulary)."""
    n = len(gen.chunk_article)
    tokens = [t for t in terms(query) if t in gen.bm25.vocab_dict]
    if not tokens or n == 0:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(gen.bm25.get_scores(tokens), dtype=np.float32)[:n]


def top_rows(scores: np.ndarray, depth: int) -> np.ndarray:
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    depth = min(depth, len(scores))
    part = np.argpartition(-scores, depth - 1)[:depth]
    part = part[scores[part] > 0]
    return part[np.argsort(-scores[part], kind="stable")]


def retrieve(
    gen: Generation, qvec: np.ndarray, query: str, *, k: int, per_article_cap: int
) -> list[Hit]:
    """The best ``k`` chunks for a question, at most ``per_article_cap`` from one article."""
    dense_ids, _ = dense_search(gen, qvec, DEPTH)
    lexical = bm25_scores(gen, query)
    bm25_ids = top_rows(lexical, DEPTH)
    dense_rank = {int(r): i for i, r in enumerate(dense_ids)}
    bm25_rank = {int(r): i for i, r in enumerate(bm25_ids)}
    rows = set(dense_rank) | set(bm25_rank)
    if not rows:
        return []
    row_list = np.fromiter(rows, dtype=np.int64)
    vecs = np.vstack([gen.dense.reconstruct(int(r)) for r in row_list])
    cosines = vecs @ qvec.astype(np.float32)
    hits = []
    for row, cos in zip(row_list.tolist(), cosines.tolist(), strict=True):
        d, b = dense_rank.get(row, DEPTH), bm25_rank.get(row, DEPTH)
        fused = 1.0 / (RRF_K + d + 1) + 1.0 / (RRF_K + b + 1)
        hits.append(Hit(row, fused, float(cos), float(lexical[row]), d, b))
    hits.sort(key=lambda h: (-h.score, h.row))
    return cap_per_article(gen, hits, k, per_article_cap)


def cap_per_article(gen: Generation, hits: list[Hit], k: int, cap: int) -> list[Hit]:
    taken: dict[int, int] = {}
    out: list[Hit] = []
    for hit in hits:
        article = int(gen.chunk_article[hit.row])
        if taken.get(article, 0) >= cap:
            continue
        taken[article] = taken.get(article, 0) + 1
        out.append(hit)
        if len(out) == k:
            break
    return out
