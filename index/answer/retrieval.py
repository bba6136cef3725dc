"""Hybrid retrieval: dense (FAISS inner product) and BM25 candidates, reranked, capped per article.

Candidates are the union of the dense and the BM25 top ``DEPTH``. They are ordered by a small learned
model (index/data/passage_ranker.json) over cheap features: the two retrievers' scores and ranks, the
question's rare words found in the chunk and its title, and the best sentence of the chunk (cosine from
sentence vectors stored at index time, rare-word and word-pair overlap). Without the model file the
order is reciprocal rank fusion.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from index.answer.lede import dateline_lede_chunks
from index.answer.scoring import load_model
from index.generations.generation import Generation
from index.segments.dense_index import search_one
from index.text.question import Query

RRF_K = 60.0
DEPTH = 50  # candidates taken from each retriever before fusion


def _search_thread() -> ThreadPoolExecutor:
    """The dense search runs here while the calling thread does BM25: FAISS releases the GIL while
    it searches, so the two overlap on 2 cores. One worker: concurrent questions queue their
    searches."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="articlebot-dense")


_DENSE = _search_thread()


def _new_search_thread() -> None:
    """In a forked child: the parent's worker thread is not there, and the copied executor would
    believe it idle and queue work for nobody, so the child gets an executor of its own."""
    global _DENSE
    _DENSE = _search_thread()


os.register_at_fork(after_in_child=_new_search_thread)
PASSAGE_MODEL = "passage_ranker"
PASSAGE_FEATURES = (
    "dense",
    "dense_gap",
    "bm25_norm",
    "bm25_mass",
    "rr_dense",
    "rr_bm25",
    "chunk_overlap",
    "title_overlap",
    "sent_cos",
    "sent_cos_gap",
    "sent_overlap",
    "sent_bigram",
    "lede_dateline",  # the chunk opens a wire story (index/answer/lede.py); 0 off news
)


@dataclass(frozen=True)
class Hit:
    row: int  # chunk row (= FAISS id)
    score: float  # fused score, higher is better
    dense: float  # cosine of question and chunk
    bm25: float
    dense_rank: int  # 0-based; DEPTH when not in the dense top DEPTH
    bm25_rank: int
    features: tuple[float, ...] = ()  # PASSAGE_FEATURES, for the answer's confidence and training
    logit: float = 0.0  # the ranker's raw score (score = its sigmoid); RRF score without a model


def dense_search(gen: Generation, qvec: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``depth`` chunk rows by inner product, FAISS's -1 padding removed."""
    n = gen.dense.ntotal
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = search_one(gen.dense, qvec, min(depth, n))
    keep = ids >= 0
    return ids[keep].astype(np.int64), scores[keep]


def bm25_of(
    gen: Generation, tokens: list[str], rows: list[int], top: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """The float32 BM25 score of each of ``rows``: as the BM25 top search ``top`` (rows, scores)
    found it, or, for rows only the dense search found, scored from their postings."""
    known = dict(zip(top[0].tolist(), top[1].tolist(), strict=True))
    rest = [r for r in rows if r not in known]
    known.update(zip(rest, gen.bm25.score_rows(tokens, rest).tolist(), strict=True))
    return np.array([known[r] for r in rows], dtype=np.float32)


def best_sentences(gen: Generation, qvec: np.ndarray, query: Query, rows: list[int]) -> np.ndarray:
    """Per chunk row: (best sentence cosine, best sentence overlap, best sentence bigram share,
    overlap of the whole chunk).

    Only the question's terms in each sentence matter to the lexical columns, so a sentence is reduced
    to that set (most are empty or repeat) before anything is added up (issue 11: this was half of a
    question's time at 100k chunks).
    """
    first = gen.chunk_first_sentence[rows].tolist()
    last = gen.chunk_last_sentence[rows].tolist()
    sent_rows = sorted({s for a, b in zip(first, last, strict=True) for s in range(a, b + 1)})
    if not sent_rows:
        return np.zeros((len(rows), 4))
    cos = (gen.sentence_vectors[sent_rows].astype(np.float32) @ qvec.astype(np.float32)).tolist()
    matches = gen.terms.sentences(query, sent_rows)  # terms stored at index time, as ids
    found, bigram = matches.found, matches.bigram
    overlap = [query.overlap_of(f) for f in found]
    # A chunk's sentences are consecutive rows, so they sit side by side in sent_rows.
    at = {s: i for i, s in enumerate(sent_rows)}
    out = np.zeros((len(rows), 4))
    for i, (a, b) in enumerate(zip(first, last, strict=True)):
        lo, hi = at[a], at[a] + b - a + 1
        out[i] = [
            max(cos[lo:hi]),
            max(overlap[lo:hi]),
            max(bigram[lo:hi]),
            query.overlap_of(frozenset().union(*found[lo:hi])),
        ]
    return out


def passage_features(
    gen: Generation,
    qvec: np.ndarray,
    query: Query,
    rows: list[int],
    cosines: np.ndarray,
    lexical: np.ndarray,
    ranks: tuple[list[int], list[int]],
) -> np.ndarray:
    """One row of PASSAGE_FEATURES per candidate chunk (``lexical``: each one's BM25 score)."""
    bm25 = lexical.astype(np.float64)
    best = best_sentences(gen, qvec, query, rows)
    articles = gen.chunk_article[rows].tolist()
    title_overlap = [query.overlap_of(f) for f in gen.terms.titles(query, articles)]
    return np.column_stack(
        [
            cosines,
            cosines - cosines.max(),
            bm25 / (bm25.max() or 1.0),
            bm25 / query.mass,
            1.0 / (1.0 + np.asarray(ranks[0], dtype=np.float64)),
            1.0 / (1.0 + np.asarray(ranks[1], dtype=np.float64)),
            best[:, 3],
            title_overlap,
            best[:, 0],
            best[:, 0] - best[:, 0].max(),
            best[:, 1],
            best[:, 2],
            dateline_lede_chunks(gen, rows),
        ]
    )


def candidates(gen: Generation, qvec: np.ndarray, query: Query) -> list[Hit]:
    """Every chunk in the dense or the BM25 top ``DEPTH``, scored and sorted best first."""
    dense = _DENSE.submit(dense_search, gen, qvec, DEPTH)
    tokens = list(query.terms)
    top = gen.bm25.top(tokens, DEPTH)
    dense_ids, _ = dense.result()
    bm25_ids = top[0]
    dense_rank = {int(r): i for i, r in enumerate(dense_ids)}
    bm25_rank = {int(r): i for i, r in enumerate(bm25_ids)}
    rows = sorted(set(dense_rank) | set(bm25_rank))
    if not rows:
        return []
    lexical = bm25_of(gen, tokens, rows, top)
    vecs = gen.dense.reconstruct_rows(rows)
    cosines = (vecs @ qvec.astype(np.float32)).astype(np.float64)
    d_ranks = [dense_rank.get(r, DEPTH) for r in rows]
    b_ranks = [bm25_rank.get(r, DEPTH) for r in rows]
    feats = passage_features(gen, qvec, query, rows, cosines, lexical, (d_ranks, b_ranks))
    model = load_model(PASSAGE_MODEL)
    if model is not None:
        logits = model.logit(model.columns(feats, PASSAGE_FEATURES))
        scores = 1.0 / (1.0 + np.exp(-logits))
    else:
        scores = 1.0 / (RRF_K + np.asarray(d_ranks) + 1) + 1.0 / (RRF_K + np.asarray(b_ranks) + 1)
        logits = scores
    hits = [
        Hit(row, float(s), float(c), float(w), d, b, tuple(f.tolist()), float(z))
        for row, s, c, w, d, b, f, z in zip(
            rows, scores, cosines, lexical, d_ranks, b_ranks, feats, logits, strict=True
        )
    ]
    hits.sort(key=lambda h: (-h.score, h.row))
    return hits


def retrieve(
    gen: Generation, qvec: np.ndarray, query: Query, *, k: int, per_article_cap: int
) -> list[Hit]:
    """The best ``k`` chunks for a question, at most ``per_article_cap`` from one article."""
    return cap_per_article(gen, candidates(gen, qvec, query), k, per_article_cap)


def retrieve_with_story(
    gen: Generation,
    qvec: np.ndarray,
    query: Query,
    *,
    k: int,
    per_article_cap: int,
    read: int,
    more: int,
) -> tuple[list[Hit], list[Hit]]:
    """``retrieve``'s hits, and the leading story's further chunks: the ``more`` best-ranked chunks
    of the first hit's article that are not among the first ``read`` hits (the per-article cap or
    the cut left them out), for a second look (index/answer/further.py)."""
    ranked = candidates(gen, qvec, query)
    hits = cap_per_article(gen, ranked, k, per_article_cap)
    return hits, story_further(gen, ranked, hits[:read], more)


def story_further(gen: Generation, ranked: list[Hit], taken: list[Hit], more: int) -> list[Hit]:
    """The best ``more`` chunks of ``taken[0]``'s article in ``ranked`` order, ``taken`` left out."""
    if not taken or more < 1:
        return []
    story = int(gen.chunk_article[taken[0].row])
    have = {h.row for h in taken}
    return [h for h in ranked if int(gen.chunk_article[h.row]) == story and h.row not in have][
        :more
    ]


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
