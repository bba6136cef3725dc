"""The block-max BM25 top search (index/segments/bm25_topk.py) against full scoring: same rows, same float32
scores, ties broken by row; and the scores of given rows (``score_rows``) against full scoring."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.answer import retrieval as search
from index.embedding.embedder import HashEmbedder
from index.segments import bm25_topk
from index.segments.bm25 import SegmentedBm25
from index.segments.postings import Postings
from index.text.analysis import terms
from index.text.question import Query
from tests.conftest import generation_of

WORDS = ["ash", "tea", "lava", "rain", "sea", "rock", "salt", "moss", "fern", "dune"]


def reference_top(bm25: SegmentedBm25, tokens: list[str], depth: int) -> tuple[np.ndarray, ...]:
    """The definition: full scoring, positive scores, best first, ties by lower row."""
    full = bm25.get_scores(tokens)
    rows = np.flatnonzero(full > 0)
    best = np.lexsort((rows, -full[rows]))[:depth]
    return rows[best], full[rows[best]]


def segmented(
    docs: list[list[str]], cuts: list[int], deleted: set[int], block: int
) -> SegmentedBm25:
    """``docs`` split into segments at ``cuts``, chunks in ``deleted`` removed, live chunks numbered
    in order as a generation numbers its rows."""
    edges = [0, *sorted(set(c for c in cuts if 0 < c < len(docs))), len(docs)]
    parts, row = [], 0
    for lo, hi in itertools.pairwise(edges):
        rows = np.full(hi - lo, -1, dtype=np.int64)
        for d in range(lo, hi):
            if d not in deleted:
                rows[d - lo], row = row, row + 1
        parts.append((Postings.from_tokens(docs[lo:hi]), rows))
    return SegmentedBm25(parts, row, block=block)


# Few words with skewed frequencies and short documents, so that equal scores (ties) are common.
word = st.sampled_from(WORDS[:3] * 4 + WORDS)
corpora = st.lists(st.lists(word, max_size=6), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    docs=corpora,
    cuts=st.lists(st.integers(0, 60), max_size=4),
    deleted=st.sets(st.integers(0, 59), max_size=15),
    block=st.integers(1, 9),
    query=st.lists(st.sampled_from([*WORDS, "absent"]), min_size=1, max_size=5),
    depth=st.integers(1, 12),
)
def test_top_is_full_scoring_top_exactly(
    docs: list[list[str]],
    cuts: list[int],
    deleted: set[int],
    block: int,
    query: list[str],
    depth: int,
) -> None:
    bm25 = segmented(docs, cuts, deleted, block)
    if bm25.n_rows == 0:
        return
    rows, scores = bm25.top(query, depth)
    want_rows, want_scores = reference_top(bm25, query, depth)
    assert rows.tolist() == want_rows.tolist()
    assert scores.dtype == np.float32 and scores.tobytes() == want_scores.tobytes()


@settings(max_examples=150, deadline=None)
@given(
    docs=corpora,
    cuts=st.lists(st.integers(0, 60), max_size=4),
    deleted=st.sets(st.integers(0, 59), max_size=15),
    query=st.lists(st.sampled_from([*WORDS, "absent"]), min_size=1, max_size=5),
    data=st.data(),
)
def test_score_rows_is_full_scoring_of_those_rows(
    docs: list[list[str]],
    cuts: list[int],
    deleted: set[int],
    query: list[str],
    data: st.DataObject,
) -> None:
    bm25 = segmented(docs, cuts, deleted, block=4)
    if bm25.n_rows == 0:
        return
    rows = data.draw(st.lists(st.integers(0, bm25.n_rows - 1), max_size=20))
    got = bm25.score_rows(query, rows)
    assert got.tobytes() == bm25.get_scores(query)[rows].tobytes()


def test_equal_scores_at_the_cut_go_to_the_lower_rows() -> None:
    docs = [["fern"]] * 5 + [["ash", "tea"]] * 40 + [["ash"]] * 3
    bm25 = segmented(docs, [20, 30], {7, 21}, block=4)
    rows, scores = bm25.top(["ash", "tea"], 10)
    # Rows 0-4 are "fern"; rows 5-14 the first ten live "ash tea" chunks, all scored alike.
    assert rows.tolist() == list(range(5, 15))
    assert len(set(scores.tolist())) == 1


def test_blocks_that_cannot_reach_the_top_are_not_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [["sea", "salt"] if i % 97 == 0 else ["sea"] for i in range(2_000)]
    bm25 = segmented(docs, [700], set(), block=16)
    scored: list[int] = []
    real = bm25_topk.BlockIndex._score

    def counting(self: bm25_topk.BlockIndex, terms: list, take: np.ndarray) -> tuple:
        scored.append(len(take))
        return real(self, terms, take)

    monkeypatch.setattr(bm25_topk.BlockIndex, "_score", counting)
    rows, _ = bm25.top(["sea", "salt"], 5)
    assert rows.tolist() == [0, 97, 194, 291, 388]
    assert 0 < sum(scored) < 2_000 // 16 // 2  # blocks holding "salt" and few others


def test_the_term_cache_empties_when_full_and_answers_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bm25_topk, "CACHED_BLOCKS", 10)
    docs = [[WORDS[i % 10], WORDS[(i * 3) % 10]] for i in range(200)]
    bm25 = segmented(docs, [50, 120], {3, 60}, block=8)
    for query in (["ash", "tea"], ["lava", "moss", "dune"], ["ash", "rock"]):
        rows, scores = bm25.top(query, 7)
        want_rows, want_scores = reference_top(bm25, query, 7)
        assert rows.tolist() == want_rows.tolist()
        assert scores.tobytes() == want_scores.tobytes()
        assert bm25._blocks._held <= 10 or len(bm25._blocks._cache) == 1


def test_a_block_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="block size"):
        segmented([["ash"]], [], set(), block=0)


def test_candidates_carry_full_scoring_bm25_scores_and_ranks(tmp_path: Path) -> None:
    articles = {
        f"a{i}": f"# Volcano {i}\n\nThe volcano erupted ash and lava in year {1900 + i}. "
        f"Tea grows on the slopes near the sea. Salt and rock fill the dune number {i % 7}."
        for i in range(30)
    }
    gen = generation_of(tmp_path, articles)
    q = "When did the volcano erupt ash and lava near the sea?"
    hits = search.candidates(gen, HashEmbedder().encode([q])[0], Query.make(gen, q))
    full = gen.bm25.get_scores(terms(q))
    ranked, _ = reference_top(gen.bm25, terms(q), search.DEPTH)
    assert hits
    for h in hits:
        assert h.bm25 == float(full[h.row])
        expected = ranked.tolist().index(h.row) if h.row in ranked else search.DEPTH
        assert h.bm25_rank == expected


def test_each_row_adds_its_terms_in_query_order() -> None:
    # Float32 addition is not associative: the same terms in another order can give other scores.
    docs = [["ash"] * (1 + i % 3) + WORDS[1 : 1 + i % 5] for i in range(40)]
    docs += [["ash", "ash", "tea", "lava", "lava", "lava", "rain", "sea"]]
    bm25 = segmented(docs, [13, 29], {5}, block=4)
    seen = set()
    for query in itertools.permutations(["sea", "ash", "lava", "tea", "rain"]):
        rows, scores = bm25.top(list(query), 50)
        want_rows, want_scores = reference_top(bm25, list(query), 50)
        assert rows.tolist() == want_rows.tolist()
        assert scores.tobytes() == want_scores.tobytes()
        seen.add(np.sort(want_scores).tobytes())
    assert len(seen) > 1  # the order mattered, so adding in another order would have been caught
