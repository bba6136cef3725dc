"""Retrieval: candidates, learned reranking, per-article cap, and the features it rests on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.answer import retrieval as search
from index.answer import scoring
from index.answer.scoring import LinearModel, signals, type_match
from index.embedding.embedder import HashEmbedder
from index.generations.generation import Generation
from index.text.analysis import terms
from index.text.question import Query, question_type
from tests.conftest import generation_of

ARTICLES = {
    "rivers": "# Rivers\n\nThe Rhine flows from the Swiss Alps to the North Sea. It is 1,230 km long.\n\n"
    "Barges carry coal and grain on the Rhine. Cologne and Basel are ports on the river.",
    "plague": "# Plague\n\nThe Black Death killed millions of people in Europe between 1347 and 1351.\n\n"
    "It was caused by the bacterium Yersinia pestis, spread by fleas on rats.",
    "engines": "# Steam engine\n\nJames Watt improved the steam engine in 1776 with a separate "
    "condenser.\n\nThe centrifugal governor regulated the speed of the engine.",
}


@pytest.fixture
def gen(tmp_path: Path) -> Generation:
    return generation_of(tmp_path, ARTICLES)


def qvec(text: str) -> np.ndarray:
    return HashEmbedder().encode([text])[0]


def test_retrieve_finds_the_article_and_never_returns_padding(gen: Generation) -> None:
    q = "Who improved the steam engine with a separate condenser?"
    hits = search.retrieve(gen, qvec(q), Query.make(gen, q), k=50, per_article_cap=5)
    assert hits and all(h.row >= 0 for h in hits)
    assert gen.articles[int(gen.chunk_article[hits[0].row])].id == "engines"
    assert len({h.row for h in hits}) == len(hits) <= gen.dense.ntotal


def test_retrieve_respects_k_and_the_per_article_cap(gen: Generation) -> None:
    q = "Rhine river ports coal Black Death steam"
    hits = search.retrieve(gen, qvec(q), Query.make(gen, q), k=3, per_article_cap=1)
    assert len(hits) <= 3
    articles = [int(gen.chunk_article[h.row]) for h in hits]
    assert len(articles) == len(set(articles))


def test_candidates_carry_one_feature_row_each_and_sort_best_first(gen: Generation) -> None:
    q = "How long is the Rhine?"
    hits = search.candidates(gen, qvec(q), Query.make(gen, q))
    assert all(len(h.features) == len(search.PASSAGE_FEATURES) for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_without_a_model_the_order_is_reciprocal_rank_fusion(gen: Generation) -> None:
    q = "Yersinia pestis fleas"
    scoring.override_model(search.PASSAGE_MODEL, None)
    try:
        hits = search.candidates(gen, qvec(q), Query.make(gen, q))
    finally:
        scoring._OVERRIDES.pop(search.PASSAGE_MODEL, None)
    for h in hits:
        expected = 1 / (search.RRF_K + h.dense_rank + 1) + 1 / (search.RRF_K + h.bm25_rank + 1)
        assert h.score == pytest.approx(expected)


def test_a_query_of_unknown_words_returns_dense_candidates_only(gen: Generation) -> None:
    q = "zzzz qqqq"
    hits = search.candidates(gen, qvec(q), Query.make(gen, q))
    assert all(h.bm25 == 0 for h in hits)


def test_the_shipped_passage_model_matches_the_features() -> None:
    model = scoring.load_model(search.PASSAGE_MODEL)
    assert model is not None, "index/data/passage_ranker.json is missing"
    assert model.names == search.PASSAGE_FEATURES
    assert len(model.weights) == len(model.mean) == len(model.scale) == len(model.names)


def test_linear_model_json_round_trip() -> None:
    m = LinearModel(("a", "b"), [1.0, -2.0], 0.5, [0.0, 1.0], [1.0, 2.0])
    back = LinearModel.from_json(m.to_json())
    x = np.array([[1.0, 3.0], [0.0, 0.0]])
    assert np.allclose(back.logit(x), [1.0 - 2.0 + 0.5, 0.5 + 1.0])
    assert np.all((back.prob(x) > 0) & (back.prob(x) < 1))


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many children did Luther have?", "quantity"),
        ("What percentage of people died?", "quantity"),
        ("When did the Black Death end?", "time"),
        ("In what year was the governor adopted?", "time"),
        ("Who improved the steam engine?", "person"),
        ("Where does the Rhine flow?", "place"),
        ("Which country is Basel in?", "place"),
        ("When the index is rebuilt, what does the bot keep answering from?", "other"),
        ("What distinguishes a chunk from a passage?", "other"),
    ],
)
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_type_match_wants_something_new() -> None:
    q_words = {"how", "many", "people", "died", "in", "1347"}
    assert type_match("quantity", signals("About 25 million people died."), q_words)[0] == 1.0
    assert type_match("quantity", signals("People died in 1347."), q_words)[0] == 0.0
    assert type_match("time", signals("It ended in 1351."), set())[1] == 1.0
    assert type_match("person", signals("The engine was improved by James Watt."), set())[2] == 1.0
    assert type_match("person", signals("the engine was improved."), set())[2] == 0.0


def test_query_overlap_weights_rare_words(gen: Generation) -> None:
    query = Query.make(gen, "Which bacterium caused the Black Death?")
    assert 0 < query.overlap(set(terms("bacterium"))) < 1
    assert query.overlap(set(query.terms)) == pytest.approx(1.0)
    assert query.bigram_overlap(terms("the black death")) > 0
    assert query.oov_mass == 0.0
    assert Query.make(gen, "Zanzibar quokka?").oov_mass == pytest.approx(1.0)


def test_a_ranker_file_from_before_a_feature_was_added_reads_its_own_columns() -> None:
    """index/data/passage_ranker.json names its features: a file written before lede_dateline existed
    (12 features) scores the same rows as before, the new column ignored."""
    old = scoring.LinearModel(["a", "c"], [1.0, 2.0], 0.5, [0.0, 0.0], [1.0, 1.0])
    x = np.array([[1.0, 9.0, 2.0], [0.0, 9.0, 1.0]])
    picked = old.columns(x, ("a", "b", "c"))
    assert picked.tolist() == [[1.0, 2.0], [0.0, 1.0]]
    assert old.logit(picked).tolist() == [5.5, 2.5]
    same = x[:, [0, 2]]
    assert old.columns(same, ("a", "c")) is same  # the shipped file's own order: nothing copied
